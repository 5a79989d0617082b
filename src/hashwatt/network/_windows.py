"""Trailing pool windows and the next difficulty adjustment, as mempool.space shows them.

Calendar windows (a month, a week) answer "what happened in March"; trailing windows (the
last 24 h, 7 d, 30 d, 1 y before the newest block) answer "who mines now". A window the shipped
blocks do not fully cover is flagged partial, never silently shorter.

Next adjustment: the current epoch starts at the last multiple of 2,016. With ``n`` blocks of
it mined over ``t`` seconds (header time of the newest block minus the epoch's first), the
mean block time so far is ``t / (n - 1)`` (``n - 1`` intervals); if it holds, the epoch spans
``2,015`` such intervals and the retarget multiplies difficulty by
``1,209,600 / span`` (clamped to [1/4, 4], Bitcoin Core's off-by-one included); the
retarget block is expected ``(2,016 - n)`` mean block times after the newest block.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from hashwatt.chain import (
    MAX_TIMESPAN_S,
    MIN_TIMESPAN_S,
    RETARGET_INTERVAL,
    TARGET_BLOCK_INTERVAL_S,
    TARGET_TIMESPAN_S,
)
from hashwatt.data.pools import UNKNOWN_POOL
from hashwatt.network.errors import NetworkInputError

__all__ = ["TRAILING_WINDOWS", "NextAdjustment", "TrailingWindow", "next_adjustment", "trailing_windows"]

#: Trailing windows before the newest block [name -> length].
TRAILING_WINDOWS: dict[str, pd.Timedelta] = {
    "24h": pd.Timedelta(hours=24),
    "7d": pd.Timedelta(days=7),
    "30d": pd.Timedelta(days=30),
    "1y": pd.Timedelta(days=365),
}


@dataclasses.dataclass(frozen=True, slots=True)
class TrailingWindow:
    """Blocks per pool in one trailing window; ``partial`` when the data start inside it."""

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    blocks: int
    partial: bool
    counts: pd.Series = dataclasses.field(compare=False)

    def shares(self) -> pd.Series:
        """Share of the window's blocks per pool [fraction], largest first."""
        return (self.counts / self.blocks).sort_values(ascending=False)


def trailing_windows(blocks: pd.DataFrame, *, label: str = "pool_slug") -> list[TrailingWindow]:
    """The :data:`TRAILING_WINDOWS` ending at the newest block's header time.

    ``blocks`` needs ``time_utc`` (tz-aware) and the ``label`` column (e.g. ``pool_slug`` or
    ``pool_name``); unknown blocks keep their label and count in the total.
    """
    if blocks.empty:
        raise NetworkInputError("no blocks to count")
    times = pd.to_datetime(blocks["time_utc"], utc=True)
    end = times.max()
    first = times.min()
    out = []
    for name, length in TRAILING_WINDOWS.items():
        start = end - length
        inside = blocks[(times > start) & (times <= end)]
        counts = inside[label].fillna(UNKNOWN_POOL).value_counts()
        out.append(
            TrailingWindow(
                name=name,
                start=start,
                end=end,
                blocks=len(inside),
                partial=bool(first > start),
                counts=counts,
            )
        )
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class NextAdjustment:
    """Progress of the current difficulty epoch and the retarget it is heading for."""

    epoch_start_height: int
    retarget_height: int
    blocks_mined: int
    blocks_remaining: int
    progress: float
    mean_block_time_s: float
    estimated_change_pct: float
    estimated_retarget_time: dt.datetime
    newest_block_time: dt.datetime


def next_adjustment(blocks: pd.DataFrame) -> NextAdjustment:
    """Estimate the next retarget from the blocks of the current epoch (see module notes).

    ``blocks`` needs ``height`` and ``timestamp_unix``; it must hold the epoch's first block.
    """
    if blocks.empty:
        raise NetworkInputError("no blocks to estimate from")
    tip = int(blocks["height"].max())
    start = tip - tip % RETARGET_INTERVAL
    by_height = blocks.set_index("height")["timestamp_unix"]
    if start not in by_height.index:
        raise NetworkInputError(f"the blocks do not include the epoch's first block {start:,}")
    mined = tip - start + 1
    t0, t1 = int(by_height[start]), int(by_height[tip])
    mean = float(TARGET_BLOCK_INTERVAL_S) if mined < 2 or t1 <= t0 else (t1 - t0) / (mined - 1)
    span = min(max(mean * (RETARGET_INTERVAL - 1), MIN_TIMESPAN_S), MAX_TIMESPAN_S)
    change = TARGET_TIMESPAN_S / span - 1.0
    remaining = RETARGET_INTERVAL - mined
    newest = dt.datetime.fromtimestamp(t1, dt.UTC)
    return NextAdjustment(
        epoch_start_height=start,
        retarget_height=start + RETARGET_INTERVAL,
        blocks_mined=mined,
        blocks_remaining=remaining,
        progress=mined / RETARGET_INTERVAL,
        mean_block_time_s=mean,
        estimated_change_pct=100.0 * change,
        estimated_retarget_time=newest + dt.timedelta(seconds=mean * remaining),
        newest_block_time=newest,
    )
