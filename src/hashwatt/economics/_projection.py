"""Deterministic scenarios: difficulty, price and fees day by day, halvings by height.

Notes
-----
Day ``t`` = 1..T after the snapshot: difficulty ``D_t = D_0 (1 + g_d)^t`` (or a given path),
price ``P_t = P_0 (1 + g_p)^t`` (or a path), height ``h_t = h_0 + t x 86,400 / block_time``
with the block time from :func:`block_time_with_growth_s` (growth drift) unless given;
subsidy ``50 BTC >> (h_t // 210,000)``; fees per block fixed at the snapshot, or a share
``s`` of the reward (``fees = subsidy x s / (1 - s)``) so that they halve with the subsidy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.chain import COIN, HALVING_INTERVAL, INITIAL_SUBSIDY_SAT, SECONDS_PER_DAY
from hashwatt.data import MinerModel
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import DAYS_PER_YEAR, Capex, InvestmentMetrics, investment_metrics
from hashwatt.economics._network import (
    block_time_with_growth_s,
    fit_difficulty_growth_per_day,
)
from hashwatt.economics._profit import NetworkState
from hashwatt.economics._revenue import btc_per_day, hashprice_usd_per_ph_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "Projection",
    "Scenario",
    "annual_to_daily",
    "project",
    "subsidy_btc_at",
]

FloatArray = npt.NDArray[np.float64]


def annual_to_daily(rate_per_year: float) -> float:
    """Compound annual rate -> daily rate: (1 + r)^(1/365.25) - 1."""
    if rate_per_year <= -1:
        raise EconomicsInputError(
            "an annual rate must be > -100 %", field="rate_per_year", value=rate_per_year
        )
    return float((1.0 + rate_per_year) ** (1.0 / DAYS_PER_YEAR) - 1.0)


def subsidy_btc_at(heights: npt.ArrayLike) -> FloatArray:
    """Block subsidy [BTC] at each height (vectorised ``block_subsidy_sat``)."""
    h = np.asarray(heights, dtype=np.int64)
    halvings = np.minimum(h // HALVING_INTERVAL, 63)
    sat = np.right_shift(np.int64(INITIAL_SUBSIDY_SAT), halvings)
    return np.where(h // HALVING_INTERVAL >= 64, 0, sat).astype(float) / COIN


@dataclasses.dataclass(frozen=True, slots=True)
class Scenario:
    """How the network evolves. Growth rates are compound per year [-/year].

    ``difficulty_path`` / ``price_path`` (one value per day) override the growth rates;
    ``fee_share`` [-] in [0, 1) makes fees a share of the reward (None: fees per block fixed);
    ``block_time_s`` [s] overrides the growth-drift block time; ``curtail`` switches the
    machines off (no revenue, no energy bill; fixed costs remain) on days revenue < energy cost.
    """

    days: int = 3 * 365
    difficulty_growth_per_year: float = 0.0
    price_growth_per_year: float = 0.0
    fee_share: float | None = None
    block_time_s: float | None = None
    difficulty_path: tuple[float, ...] | None = None
    price_path: tuple[float, ...] | None = None
    discount_rate: float = 0.10
    curtail: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.days <= 50 * 366:
            raise EconomicsInputError(
                f"horizon must be 1 day to 50 years, got {self.days} days", field="days", value=self.days
            )
        if self.difficulty_growth_per_year <= -1 or self.price_growth_per_year <= -1:
            raise EconomicsInputError("growth rates must be > -100 % per year")
        if self.fee_share is not None and not 0 <= self.fee_share < 1:
            raise EconomicsInputError("fee share must be in [0, 1)", field="fee_share", value=self.fee_share)
        if self.block_time_s is not None and self.block_time_s <= 0:
            raise EconomicsInputError(
                "block time must be positive", field="block_time_s", value=self.block_time_s
            )
        for name, path in (("difficulty", self.difficulty_path), ("price", self.price_path)):
            if path is not None and len(path) != self.days:
                raise EconomicsInputError(
                    f"{name} path has {len(path)} values for {self.days} days",
                    field=f"{name}_path",
                    value=len(path),
                )
        if self.difficulty_path is not None and min(self.difficulty_path) <= 0:
            raise EconomicsInputError(
                "difficulty path must be positive", field="difficulty_path", value=min(self.difficulty_path)
            )

    @classmethod
    def fitted(cls, *, days: int = 3 * 365, fit_days: int = 365, **kw: float | None) -> Scenario:
        """Difficulty growth fitted (log-linear) on the last ``fit_days`` of the history."""
        g_day = fit_difficulty_growth_per_day(fit_days)
        return cls(days=days, difficulty_growth_per_year=(1 + g_day) ** DAYS_PER_YEAR - 1, **kw)  # type: ignore[arg-type]

    @property
    def difficulty_growth_per_day(self) -> float:
        return annual_to_daily(self.difficulty_growth_per_year)

    def effective_block_time_s(self) -> float:
        if self.block_time_s is not None:
            return self.block_time_s
        return block_time_with_growth_s(self.difficulty_growth_per_day)


def network_paths(net: NetworkState, scenario: Scenario) -> pd.DataFrame:
    """Daily height, subsidy, fees, difficulty and price for days 1..T after ``net``."""
    t = np.arange(1, scenario.days + 1, dtype=float)
    start = net.date or dt.date.today()
    dates = pd.date_range(pd.Timestamp(start) + pd.Timedelta(days=1), periods=scenario.days, freq="D")
    block_time = scenario.effective_block_time_s()
    heights = net.height + np.floor(t * SECONDS_PER_DAY / block_time).astype(np.int64)
    subsidy = subsidy_btc_at(heights)
    if scenario.fee_share is None:
        fees = np.full(scenario.days, net.fees_btc_per_block)
    else:
        fees = subsidy * scenario.fee_share / (1.0 - scenario.fee_share)
    if scenario.difficulty_path is not None:
        diff = np.asarray(scenario.difficulty_path, dtype=float)
    else:
        diff = net.difficulty * (1.0 + scenario.difficulty_growth_per_day) ** t
    if scenario.price_path is not None:
        price = np.asarray(scenario.price_path, dtype=float)
    else:
        price = net.price_usd * (1.0 + annual_to_daily(scenario.price_growth_per_year)) ** t
    return pd.DataFrame(
        {
            "day": t.astype(int),
            "height": heights,
            "subsidy_btc_per_block": subsidy,
            "fees_btc_per_block": fees,
            "difficulty": diff,
            "price_usd": price,
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Projection:
    """A deterministic projection: the daily frame plus summary metrics."""

    frame: pd.DataFrame = dataclasses.field(compare=False)
    metrics: InvestmentMetrics
    block_time_s: float
    shutdown_date: dt.date | None
    halving_dates: tuple[dt.date, ...]


def daily_revenue_btc(
    hashrate_ths: float,
    difficulty: FloatArray,
    subsidy: FloatArray,
    fees: FloatArray,
    *,
    keep: float,
    fee_share: float,
) -> FloatArray:
    """Revenue per day [BTC] for arrays of inputs (broadcasting), after uptime and pool fee."""
    return btc_per_day(hashrate_ths, difficulty, subsidy + fee_share * fees) * keep  # type: ignore[return-value]


def hashprice_from_frame(frame: pd.DataFrame) -> FloatArray:
    """Hashprice [USD/PH/day] of each row's difficulty, subsidy and fees per block, and price."""
    return np.asarray(
        hashprice_usd_per_ph_day(
            frame["difficulty"].to_numpy(dtype=np.float64),
            frame["subsidy_btc_per_block"].to_numpy(dtype=np.float64),
            frame["fees_btc_per_block"].to_numpy(dtype=np.float64),
            frame["price_usd"].to_numpy(dtype=np.float64),
        ),
        dtype=np.float64,
    )


def project(
    miner: MinerModel,
    *,
    count: int = 1,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    scenario: Scenario | None = None,
    capex: Capex | None = None,
) -> Projection:
    """Day-by-day revenue, cost and profit under a deterministic scenario."""
    if count < 1:
        raise EconomicsInputError("count must be >= 1", field="count", value=count)
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    scenario = scenario or Scenario()
    capex = capex or Capex()
    paths = network_paths(net, scenario)
    keep = costs.kept_fraction
    rev_btc = daily_revenue_btc(
        miner.hashrate_ths * count,
        paths["difficulty"].to_numpy(),
        paths["subsidy_btc_per_block"].to_numpy(),
        paths["fees_btc_per_block"].to_numpy(),
        keep=keep,
        fee_share=costs.fee_share,
    )
    frame = paths.copy()
    frame["hashprice_usd_per_ph_day"] = hashprice_from_frame(frame)
    frame["revenue_btc"] = rev_btc
    frame["revenue_usd"] = rev_btc * frame["price_usd"].to_numpy()
    frame["energy_cost_usd"] = (
        costs.daily_energy_cost_usd_per_day(miner.power_w, pd.DatetimeIndex(frame.index)) * count
    )
    frame["fixed_cost_usd"] = costs.fixed_cost_usd_per_day(miner.power_w, count)
    frame["covers_power"] = frame["revenue_usd"] >= frame["energy_cost_usd"]
    frame["profit_usd"] = frame["revenue_usd"] - frame["energy_cost_usd"] - frame["fixed_cost_usd"]
    if scenario.curtail:
        off = ~frame["covers_power"]
        frame.loc[off, "profit_usd"] = -frame.loc[off, "fixed_cost_usd"]
    frame["cumulative_profit_usd"] = frame["profit_usd"].cumsum()
    capex_usd = capex.total_usd(count=count, power_w=miner.power_w)
    salvage = capex.salvage_usd(count=count)
    metrics = investment_metrics(
        frame["profit_usd"].to_numpy(),
        capex_usd=capex_usd,
        salvage_usd=salvage,
        discount_rate=scenario.discount_rate,
    )
    short = np.flatnonzero(~frame["covers_power"].to_numpy())
    shutdown = frame.index[short[0]].date() if len(short) else None
    h = frame["height"].to_numpy()
    crossings = np.flatnonzero(np.diff(h // HALVING_INTERVAL) > 0) + 1
    halvings = tuple(frame.index[i].date() for i in crossings.tolist())
    return Projection(
        frame=frame,
        metrics=metrics,
        block_time_s=scenario.effective_block_time_s(),
        shutdown_date=shutdown,
        halving_dates=halvings,
    )
