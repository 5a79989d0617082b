"""Backtest: what a machine bought on a date earned day by day, versus the forecast made then.

Notes
-----
Actual: each day's expected revenue at that day's mean difficulty, subsidy, average fees per
block and price (the hashprice history) x hashrate x uptime x (1 - pool fee). Forecast at
purchase: difficulty, price and fees per block frozen at the purchase day, halvings by
height at 600-s blocks (the "flat-difficulty" calculator view).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from hashwatt.chain import SECONDS_PER_DAY, TARGET_BLOCK_INTERVAL_S
from hashwatt.data import MinerModel, daily_history
from hashwatt.data.history import check_in_history
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import Capex, InvestmentMetrics, investment_metrics
from hashwatt.economics._projection import daily_revenue_btc, hashprice_from_frame, subsidy_btc_at
from hashwatt.economics._revenue import expected_blocks_per_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["BacktestResult", "backtest"]


@dataclasses.dataclass(frozen=True, slots=True)
class BacktestResult:
    """Daily frame (actual and forecast columns) and the two outcomes side by side."""

    frame: pd.DataFrame = dataclasses.field(compare=False)
    model: str
    count: int
    bought: dt.date
    end: dt.date
    capex_usd: float
    actual_total_profit_usd: float
    forecast_total_profit_usd: float
    actual_payback_date: dt.date | None
    forecast_payback_date: dt.date | None
    actual: InvestmentMetrics
    forecast: InvestmentMetrics
    #: The fleet's largest share of the network hashrate on any day of the backtest [fraction].
    network_share_max: float = float("nan")


def _hashrate_text(ths: float) -> str:
    """A hashrate in the unit that keeps it readable (TH/s, PH/s or EH/s) [TH/s in]."""
    for unit, scale in (("EH/s", 1e6), ("PH/s", 1e3)):
        if ths >= scale:
            return f"{ths / scale:,.3g} {unit}"
    return f"{ths:,.3g} TH/s"


def backtest(
    miner: MinerModel,
    bought: dt.date | str,
    *,
    count: int = 1,
    costs: CostModel | None = None,
    capex: Capex | None = None,
    end: dt.date | str | None = None,
    discount_rate: float = 0.10,
) -> BacktestResult:
    """Run the history from ``bought`` (inclusive) to ``end`` (default: last day of data)."""
    start = check_in_history(bought)
    stop = check_in_history(end) if end is not None else None
    hist = daily_history()
    frame = hist.loc[pd.Timestamp(start) : (pd.Timestamp(stop) if stop else None)]
    if len(frame) < 2:
        raise EconomicsInputError(
            f"need at least two days of history after {start}", field="bought", value=start
        )
    costs = costs or CostModel()
    capex = capex or Capex()
    keep = costs.kept_fraction
    h = miner.hashrate_ths * count
    out = pd.DataFrame(index=frame.index)
    for col in (
        "difficulty",
        "subsidy_btc_per_block",
        "fees_btc_per_block",
        "price_usd",
        "fees_interpolated",
    ):
        out[col] = frame[col]
    out["hashprice_usd_per_ph_day"] = hashprice_from_frame(frame)
    # A fleet above the whole network would earn more than was issued (a 2023 machine in 2012).
    blocks_per_day = SECONDS_PER_DAY / TARGET_BLOCK_INTERVAL_S
    share = np.asarray(expected_blocks_per_day(h, frame["difficulty"].to_numpy(dtype=float))) / blocks_per_day
    worst = int(np.argmax(share))
    if share[worst] > 1.0:
        raise EconomicsInputError(
            f"{count:,} x {miner.model} = {_hashrate_text(h)} is {share[worst]:,.3g} times the whole "
            f"network on {frame.index[worst].date()} ({_hashrate_text(h / share[worst])}): it would earn "
            "more than was issued; start the backtest later or lower --count",
            field="count",
            value=count,
        )
    rev_btc = daily_revenue_btc(
        h,
        frame["difficulty"].to_numpy(),
        frame["subsidy_btc_per_block"].to_numpy(),
        frame["fees_btc_per_block"].to_numpy(),
        keep=keep,
        fee_share=costs.fee_share,
    )
    energy = costs.daily_energy_cost_usd_per_day(miner.power_w, pd.DatetimeIndex(frame.index)) * count
    fixed = costs.fixed_cost_usd_per_day(miner.power_w, count)
    out["revenue_btc"] = rev_btc
    out["revenue_usd"] = rev_btc * frame["price_usd"].to_numpy()
    out["energy_cost_usd"] = energy
    out["profit_usd"] = out["revenue_usd"] - energy - fixed
    out["cumulative_profit_usd"] = out["profit_usd"].cumsum()

    first = frame.iloc[0]
    days = np.arange(len(frame), dtype=float)
    heights = int(first["height_first"]) + np.floor(days * SECONDS_PER_DAY / TARGET_BLOCK_INTERVAL_S).astype(
        np.int64
    )
    f_subsidy = subsidy_btc_at(heights)
    f_rev_btc = daily_revenue_btc(
        h,
        np.full(len(frame), float(first["difficulty"])),
        f_subsidy,
        np.full(len(frame), float(first["fees_btc_per_block"])),
        keep=keep,
        fee_share=costs.fee_share,
    )
    out["forecast_revenue_usd"] = f_rev_btc * float(first["price_usd"])
    out["forecast_profit_usd"] = out["forecast_revenue_usd"] - energy - fixed
    out["forecast_cumulative_profit_usd"] = out["forecast_profit_usd"].cumsum()

    capex_usd = capex.total_usd(count=count, power_w=miner.power_w)
    salvage = capex.salvage_usd(count=count)
    actual = investment_metrics(
        out["profit_usd"].to_numpy(), capex_usd=capex_usd, salvage_usd=salvage, discount_rate=discount_rate
    )
    forecast = investment_metrics(
        out["forecast_profit_usd"].to_numpy(),
        capex_usd=capex_usd,
        salvage_usd=salvage,
        discount_rate=discount_rate,
    )

    def _date(pb: int | None) -> dt.date | None:
        return out.index[pb - 1].date() if pb else None

    return BacktestResult(
        frame=out,
        model=miner.model,
        count=count,
        bought=start,
        end=out.index[-1].date(),
        capex_usd=capex_usd,
        actual_total_profit_usd=float(out["profit_usd"].sum()),
        forecast_total_profit_usd=float(out["forecast_profit_usd"].sum()),
        actual_payback_date=_date(actual.payback_days) if capex_usd > 0 else None,
        forecast_payback_date=_date(forecast.payback_days) if capex_usd > 0 else None,
        actual=actual,
        forecast=forecast,
        network_share_max=float(share[worst]),
    )
