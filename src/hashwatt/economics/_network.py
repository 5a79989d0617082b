"""Network forecasts: block time under hashrate growth, heights, halving dates, fitted growth.

Notes
-----
Block-time drift (steady exponential hashrate growth ``r`` per day, difficulty retargeted
every 2,016 blocks to a 14-day span): an epoch of ``T`` days ends with difficulty raised by
``14 / T``; in steady state that equals the growth over the epoch, ``exp(r T)``. So
``T exp(r T) = 14``, i.e. ``T = W(14 r) / r`` (Lambert W), and the mean block time is
``600 s * T / 14``. Growing hashrate gives blocks faster than 600 s and halvings earlier
than the 600-s forecast. (Satoshi's off-by-one, 2,015 measured intervals, is ignored: 0.05 %.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
from scipy.special import lambertw

from hashwatt.chain import (
    COIN,
    HALVING_INTERVAL,
    SECONDS_PER_DAY,
    TARGET_BLOCK_INTERVAL_S,
    block_subsidy_sat,
)
from hashwatt.data import daily_history
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "HalvingForecast",
    "block_time_with_growth_s",
    "fit_difficulty_growth_per_day",
    "halving_schedule",
    "height_at",
    "observed_block_time_s",
]

_EPOCH_DAYS = 14.0


def block_time_with_growth_s(difficulty_growth_per_day: float) -> float:
    """Mean block time [s] in steady state under a daily hashrate growth rate [fraction/day].

    ``600 * W(14 r) / (14 r)`` with ``r = ln(1 + growth)``; exactly 600 s at zero growth.
    """
    if not difficulty_growth_per_day > -1.0:
        raise EconomicsInputError(f"daily growth must be > -100 %, got {difficulty_growth_per_day}")
    r = math.log1p(difficulty_growth_per_day)
    x = _EPOCH_DAYS * r
    if abs(x) < 1e-12:
        return float(TARGET_BLOCK_INTERVAL_S)
    if x <= -1.0 / math.e:
        raise EconomicsInputError("hashrate decline too fast for a steady retarget state")
    w = float(lambertw(x).real)
    return float(TARGET_BLOCK_INTERVAL_S) * w / x


def observed_block_time_s(days: int = 365, end: dt.date | None = None) -> float:
    """Mean block time [s] over the last ``days`` of the shipped history (to ``end``)."""
    hist = daily_history()
    if end is not None:
        hist = hist.loc[: pd.Timestamp(end)]
    window = hist.iloc[-days:]
    return float(len(window) * SECONDS_PER_DAY / window["block_count"].sum())


def fit_difficulty_growth_per_day(days: int = 365, end: dt.date | None = None) -> float:
    """Daily difficulty growth [fraction/day] from a log-linear fit over the last ``days``."""
    if days < 28:
        raise EconomicsInputError("fit difficulty growth over at least 28 days")
    hist = daily_history()
    if end is not None:
        hist = hist.loc[: pd.Timestamp(end)]
    window = hist.iloc[-days:]
    t = np.arange(len(window), dtype=float)
    slope = float(np.polyfit(t, np.log(window["difficulty"].to_numpy()), 1)[0])
    return math.expm1(slope)


def height_at(height0: int, days: float, block_time_s: float) -> int:
    """Expected height ``days`` after a block at ``height0`` with a mean block time [s]."""
    if block_time_s <= 0:
        raise EconomicsInputError("block time must be positive")
    return height0 + int(days * SECONDS_PER_DAY / block_time_s)


@dataclasses.dataclass(frozen=True, slots=True)
class HalvingForecast:
    """One future halving: its height, forecast date and the subsidy from then on."""

    halving: int
    height: int
    date: dt.date
    days_ahead: float
    subsidy_btc: float


def halving_schedule(
    height: int, day: dt.date, *, block_time_s: float = TARGET_BLOCK_INTERVAL_S, count: int = 3
) -> list[HalvingForecast]:
    """The next ``count`` halvings after ``height`` (mined on ``day``) at a mean block time [s]."""
    if height < 0:
        raise EconomicsInputError("height must be >= 0")
    if block_time_s <= 0:
        raise EconomicsInputError("block time must be positive")
    out = []
    for k in range(1, count + 1):
        h = (height // HALVING_INTERVAL + k) * HALVING_INTERVAL
        days = (h - height) * block_time_s / SECONDS_PER_DAY
        out.append(
            HalvingForecast(
                halving=h // HALVING_INTERVAL,
                height=h,
                date=day + dt.timedelta(days=days),
                days_ahead=days,
                subsidy_btc=block_subsidy_sat(h) / COIN,
            )
        )
    return out
