"""Monte Carlo of a machine's economics: vectorised over paths, streamed over time.

Notes
-----
Price: geometric Brownian motion, daily log-return ``N(m, s)``, with ``m`` and ``s`` fitted
from the shipped history (or ``m = ln(1 + mu)/365.25 - s^2/2`` and ``s = sigma /
sqrt(365.25)`` from an annual drift ``mu`` and volatility ``sigma``); or a block bootstrap of
historical daily log-returns (blocks of ``bootstrap_block_days`` consecutive days).
Difficulty: ``ln D_t = ln D_{t-1} + ln(1 + g_d) + N(0, s_d)``. Heights, subsidy and fees are
deterministic (as in :mod:`hashwatt.economics._projection`).

Payback: a path pays back on the first day its cumulative profit reaches the capex. The
median payback is taken over **all** paths, counting a path that never pays back within the
horizon as paying back after it; it is therefore None whenever half the paths or more do not
pay back (the median path never recovers its capex). The median over the paying paths alone
is reported separately and labelled as conditional. Without a capex, payback does not apply
(``probability_payback`` is None).

Memory is bounded: all paths advance together one chunk of days at a time; only per-path
state (price, difficulty, cumulative and discounted cash, payback day) and the per-day
P5/P50/P95 of each reported metric are kept, never a paths x days x metrics cube.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.data import MinerModel, daily_history
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import DAYS_PER_YEAR, Capex
from hashwatt.economics._profit import NetworkState
from hashwatt.economics._projection import Scenario, annual_to_daily, network_paths
from hashwatt.economics._revenue import expected_blocks_per_day, hashprice_btc_per_ph_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "BAND_METRICS",
    "MonteCarloConfig",
    "MonteCarloResult",
    "fit_price_model",
    "historical_log_returns",
    "monte_carlo",
    "payback_medians",
]

FloatArray = npt.NDArray[np.float64]
PERCENTILES = (5.0, 50.0, 95.0)
#: Metrics with daily P5/P50/P95 bands in the result.
BAND_METRICS = ("price_usd", "difficulty", "hashprice_usd_per_ph_day", "profit_usd", "cumulative_profit_usd")


def historical_log_returns(days: int = 4 * 365, end: str | None = None) -> FloatArray:
    """Daily log-returns of the shipped price history over the last ``days``."""
    hist = daily_history()
    if end is not None:
        hist = hist.loc[:end]
    price = hist["price_usd"].to_numpy()[-(days + 1) :]
    return np.diff(np.log(price))


def fit_price_model(days: int = 4 * 365) -> tuple[float, float]:
    """(mean, std) of daily log-returns over the last ``days`` of the history."""
    r = historical_log_returns(days)
    return float(r.mean()), float(r.std(ddof=1))


@dataclasses.dataclass(frozen=True, slots=True)
class MonteCarloConfig:
    """Simulation settings. Annual rates are compound [-/year]; None means fitted from history.

    price_model: "gbm" or "bootstrap"; price_drift_per_year / price_vol_per_year: GBM
    parameters; difficulty_growth_per_year: [-/year]; difficulty_vol_per_year: [-/sqrt(year)];
    fee_share: as in :class:`Scenario`; fit_days: history window for fitting [days];
    chunk_days: days simulated per step (memory ~ paths x chunk_days x 8 bytes x a few);
    keep_paths: also return every path's daily cumulative profit (days x paths; for checks on
    small runs, it defeats the bounded memory).
    """

    paths: int = 10_000
    days: int = 5 * 365
    price_model: Literal["gbm", "bootstrap"] = "gbm"
    price_drift_per_year: float | None = None
    price_vol_per_year: float | None = None
    bootstrap_block_days: int = 30
    difficulty_growth_per_year: float = 0.0
    difficulty_vol_per_year: float = 0.0
    fee_share: float | None = None
    discount_rate: float = 0.10
    curtail: bool = False
    fit_days: int = 4 * 365
    chunk_days: int = 64
    seed: int | None = 0
    keep_paths: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.paths <= 10_000_000:
            raise EconomicsInputError(
                f"paths must be 1..10,000,000, got {self.paths}", field="paths", value=self.paths
            )
        if not 1 <= self.days <= 50 * 366:
            raise EconomicsInputError(
                f"days must be 1..18,300, got {self.days}", field="days", value=self.days
            )
        if self.price_model not in ("gbm", "bootstrap"):
            raise EconomicsInputError(
                f"price model must be gbm or bootstrap, got {self.price_model!r}",
                field="price_model",
                value=self.price_model,
            )
        if self.price_vol_per_year is not None and self.price_vol_per_year < 0:
            raise EconomicsInputError(
                "price volatility cannot be negative",
                field="price_vol_per_year",
                value=self.price_vol_per_year,
            )
        if self.difficulty_vol_per_year < 0:
            raise EconomicsInputError(
                "difficulty volatility cannot be negative",
                field="difficulty_vol_per_year",
                value=self.difficulty_vol_per_year,
            )
        if self.chunk_days < 1 or self.bootstrap_block_days < 1:
            raise EconomicsInputError("chunk and bootstrap block must be >= 1 day")
        if self.fit_days < 30:
            raise EconomicsInputError(
                "fit over at least 30 days of history", field="fit_days", value=self.fit_days
            )


@dataclasses.dataclass(frozen=True, slots=True)
class MonteCarloResult:
    """Daily bands (index: date; columns ``<metric>_p5/_p50/_p95``) and end-of-horizon stats."""

    bands: pd.DataFrame = dataclasses.field(compare=False)
    paths: int
    days: int
    capex_usd: float
    total_profit_usd_p5: float
    total_profit_usd_p50: float
    total_profit_usd_p95: float
    npv_usd_p5: float
    npv_usd_p50: float
    npv_usd_p95: float
    probability_payback: float | None
    payback_days_median: float | None
    payback_days_median_if_paid: float | None
    price_log_drift_per_day: float
    price_log_vol_per_day: float
    price_model: str = "gbm"
    bootstrap_block_days: int | None = None
    bootstrap_window: tuple[str, str] | None = None
    payback_day_by_path: npt.NDArray[np.int64] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )
    cumulative_profit_paths: FloatArray | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def payback_days_p50(self) -> float | None:
        """Old name of :attr:`payback_days_median` (the median over all paths)."""
        return self.payback_days_median


def _bands(x: FloatArray) -> FloatArray:
    """P5/P50/P95 over paths of a (days, paths) array -> shape (3, days).

    Same values as ``np.percentile(x, PERCENTILES, axis=1)`` (linear interpolation between
    order statistics), but via a full row sort: numpy's SIMD sort beats its multi-kth
    partition here by about 2x.
    """
    xs = np.sort(x, axis=1)
    n = xs.shape[1]
    out = np.empty((len(PERCENTILES), xs.shape[0]))
    for k, q in enumerate(PERCENTILES):
        pos = q / 100.0 * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        frac = pos - lo
        out[k] = xs[:, lo] + (xs[:, hi] - xs[:, lo]) * frac
    return out


def monte_carlo(
    miner: MinerModel,
    *,
    count: int = 1,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    config: MonteCarloConfig | None = None,
    capex: Capex | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MonteCarloResult:
    """Simulate ``config.paths`` futures of ``count`` machines; see module notes.

    ``progress(done_days, total_days)`` is called after each chunk.
    """
    if count < 1:
        raise EconomicsInputError("count must be >= 1", field="count", value=count)
    cfg = config or MonteCarloConfig()
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    capex = capex or Capex()
    # Independent streams for price shocks, difficulty shocks and bootstrap blocks, so that
    # results do not depend on how the days are chunked.
    rng_price, rng_diff, rng_boot = (
        np.random.default_rng(seq) for seq in np.random.SeedSequence(cfg.seed).spawn(3)
    )
    n, T = cfg.paths, cfg.days

    # Deterministic parts (height, subsidy, fees, the difficulty trend).
    scen = Scenario(
        days=T, difficulty_growth_per_year=cfg.difficulty_growth_per_year, fee_share=cfg.fee_share
    )
    det = network_paths(net, scen)
    subsidy = det["subsidy_btc_per_block"].to_numpy()
    fees = det["fees_btc_per_block"].to_numpy()
    dates = pd.DatetimeIndex(det.index)
    energy = costs.daily_energy_cost_usd_per_day(miner.power_w, dates) * count
    fixed = costs.fixed_cost_usd_per_day(miner.power_w, count)
    keep = costs.kept_fraction
    reward_miner = (subsidy + costs.fee_share * fees) * keep  # BTC per block credited to the miner
    reward_full = subsidy + fees
    # Blocks per day at difficulty 1 (the miner's, and one PH/s's): divided by each path's
    # difficulty inside the loop, so the formula runs once, not once per path and day.
    blocks_coeff = float(expected_blocks_per_day(miner.hashrate_ths * count, 1.0))
    hp_coeff = float(hashprice_btc_per_ph_day(1.0, 1.0, 0.0))

    # Price model.
    returns = historical_log_returns(cfg.fit_days)
    m_hist, s_hist = float(returns.mean()), float(returns.std(ddof=1))
    s = s_hist if cfg.price_vol_per_year is None else cfg.price_vol_per_year / math.sqrt(DAYS_PER_YEAR)
    if cfg.price_drift_per_year is not None:
        m = math.log1p(cfg.price_drift_per_year) / DAYS_PER_YEAR - 0.5 * s * s
    else:
        m = m_hist
    if cfg.price_model == "bootstrap":
        L = cfg.bootstrap_block_days
        if len(returns) <= L:
            raise EconomicsInputError(
                "bootstrap block longer than the fitted history", field="bootstrap_block_days", value=L
            )
        n_blocks = -(-T // L)
        starts = rng_boot.integers(0, len(returns) - L + 1, size=(n, n_blocks))

    g_d = math.log1p(annual_to_daily(cfg.difficulty_growth_per_year))
    s_d = cfg.difficulty_vol_per_year / math.sqrt(DAYS_PER_YEAR)

    log_p = np.full(n, math.log(net.price_usd)) if net.price_usd > 0 else np.full(n, -np.inf)
    # One shared difficulty path when it is deterministic (broadcast against the paths).
    log_d = np.full(n if s_d > 0 else 1, math.log(net.difficulty))
    cum = np.zeros(n)
    disc_sum = np.zeros(n)
    payback = np.full(n, -1, dtype=np.int64)
    capex_usd = capex.total_usd(count=count, power_w=miner.power_w)
    daily_disc = (1.0 + cfg.discount_rate) ** (-1.0 / DAYS_PER_YEAR)

    # Per-day affine maps from price to hashprice and profit hold when difficulty is
    # deterministic and nothing is curtailed: then their bands follow from the price band
    # (an increasing affine map commutes with interpolated percentiles), saving two sorts.
    affine = s_d == 0 and not cfg.curtail
    out = {name: np.empty((3, T)) for name in BAND_METRICS}
    kept = np.empty((T, n)) if cfg.keep_paths else None
    day0 = 0
    while day0 < T:
        c = min(cfg.chunk_days, T - day0)
        sl = slice(day0, day0 + c)
        steps = np.arange(1, c + 1, dtype=float)[:, None]
        # Arrays are (days, paths): day-major draws keep the random stream independent of
        # chunk_days, and the per-day percentiles read contiguous rows.
        if cfg.price_model == "gbm":
            incr_p = m + s * rng_price.standard_normal((c, n))
        else:
            d_idx = np.arange(day0, day0 + c)[:, None]
            incr_p = returns[starts[:, d_idx[:, 0] // L].T + d_idx % L]
        lp = log_p[None, :] + np.cumsum(incr_p, axis=0)
        if s_d > 0:
            ld = log_d[None, :] + np.cumsum(g_d + s_d * rng_diff.standard_normal((c, n)), axis=0)
        else:
            ld = log_d[None, :] + g_d * steps
        price = np.exp(lp)
        inv_d = np.exp(-ld)
        rev_per_price = blocks_coeff * inv_d * reward_miner[sl, None]  # USD revenue per USD/BTC
        e = energy[sl, None]
        rev_usd = rev_per_price * price
        prof = rev_usd - e - fixed
        if cfg.curtail:
            prof = np.where(rev_usd < e, -fixed, prof)
        cum_chunk = cum[None, :] + np.cumsum(prof, axis=0)
        if kept is not None:
            kept[sl] = cum_chunk
        disc = daily_disc ** np.arange(day0 + 1, day0 + c + 1)
        disc_sum += disc @ prof
        if capex_usd > 0:
            reached = cum_chunk >= capex_usd
            first = np.where(reached.any(axis=0), reached.argmax(axis=0) + day0 + 1, -1)
            payback = np.where((payback < 0) & (first > 0), first, payback)
        price_b = _bands(price)
        out["price_usd"][:, sl] = price_b
        out["cumulative_profit_usd"][:, sl] = _bands(cum_chunk)
        if affine:
            d_row = np.exp(ld[:, 0])
            out["difficulty"][:, sl] = d_row[None, :]
            out["hashprice_usd_per_ph_day"][:, sl] = price_b * (hp_coeff / d_row * reward_full[sl])[None, :]
            out["profit_usd"][:, sl] = price_b * rev_per_price[:, 0][None, :] - (e[:, 0] + fixed)[None, :]
        else:
            out["difficulty"][:, sl] = _bands(np.exp(ld))
            out["hashprice_usd_per_ph_day"][:, sl] = _bands(hp_coeff * inv_d * reward_full[sl, None] * price)
            out["profit_usd"][:, sl] = _bands(prof)
        log_p, log_d, cum = lp[-1].copy(), ld[-1].copy(), cum_chunk[-1].copy()
        day0 += c
        if progress is not None:
            progress(day0, T)

    bands = pd.DataFrame(index=pd.DatetimeIndex(dates, name="date"))
    for name, arr in out.items():
        for k, p in enumerate(PERCENTILES):
            bands[f"{name}_p{p:g}"] = arr[k]
    end_disc = daily_disc**T
    salvage = capex.salvage_usd(count=count)
    npv = -capex_usd + disc_sum + salvage * end_disc
    tot = np.percentile(cum, PERCENTILES)
    npv_p = np.percentile(npv, PERCENTILES)
    paid = payback > 0
    median_all, median_paid = payback_medians(payback, horizon_days=T) if capex_usd > 0 else (None, None)
    window = (
        (str(_fit_window(cfg.fit_days)[0]), str(_fit_window(cfg.fit_days)[1]))
        if cfg.price_model == "bootstrap"
        else None
    )
    return MonteCarloResult(
        bands=bands,
        paths=n,
        days=T,
        capex_usd=capex_usd,
        total_profit_usd_p5=float(tot[0]),
        total_profit_usd_p50=float(tot[1]),
        total_profit_usd_p95=float(tot[2]),
        npv_usd_p5=float(npv_p[0]),
        npv_usd_p50=float(npv_p[1]),
        npv_usd_p95=float(npv_p[2]),
        probability_payback=float(paid.mean()) if capex_usd > 0 else None,
        payback_days_median=median_all,
        payback_days_median_if_paid=median_paid,
        price_log_drift_per_day=m,
        price_log_vol_per_day=s,
        price_model=cfg.price_model,
        bootstrap_block_days=cfg.bootstrap_block_days if cfg.price_model == "bootstrap" else None,
        bootstrap_window=window,
        payback_day_by_path=payback,
        cumulative_profit_paths=kept,
    )


def payback_medians(
    payback_day: npt.NDArray[np.int64], *, horizon_days: int
) -> tuple[float | None, float | None]:
    """(median over all paths, median over the paths that pay back) of first payback days.

    ``payback_day`` is -1 for a path that does not pay back within ``horizon_days``; such a
    path counts as paying back after the horizon, so the all-path median is None when it
    falls there (half the paths or more never pay back).
    """
    if payback_day.size == 0:
        return None, None
    days = np.where(payback_day > 0, payback_day.astype(float), np.inf)
    median_all = float(np.median(days))
    paid = days[np.isfinite(days)]
    median_paid = float(np.median(paid)) if paid.size else None
    return (median_all if median_all <= horizon_days else None), median_paid


def _fit_window(days: int) -> tuple[object, object]:
    """First and last day of the history window the price model is fitted on."""
    idx = daily_history().index[-(days + 1) :]
    return idx[0].date(), idx[-1].date()
