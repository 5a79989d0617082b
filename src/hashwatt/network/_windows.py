"""Trailing pool windows and the next difficulty adjustment, as mempool.space shows them.

Calendar windows (a month, a week) answer "what happened in March"; trailing windows (the
last 24 h, 7 d, 30 d, 1 y before the newest block) answer "who mines now". A window the shipped
blocks do not fully cover is flagged partial, never silently shorter.

Per-pool block lists: which blocks one pool found in a window (trailing, or UTC days), as
mempool.space's pool page lists them; the pool is named by its display name or its slug.

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
import difflib
import re

import pandas as pd

from hashwatt.chain import (
    MAX_TIMESPAN_S,
    MIN_TIMESPAN_S,
    RETARGET_INTERVAL,
    TARGET_BLOCK_INTERVAL_S,
    TARGET_TIMESPAN_S,
    block_subsidy_sat,
)
from hashwatt.data.pools import UNKNOWN_POOL
from hashwatt.network.errors import NetworkInputError

__all__ = [
    "TRAILING_WINDOWS",
    "NextAdjustment",
    "PoolBlocks",
    "TrailingWindow",
    "next_adjustment",
    "pool_blocks",
    "trailing_windows",
]

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
class PoolBlocks:
    """The blocks one pool found in a window, oldest first.

    ``blocks`` has height, time_utc (header time, tz-aware) and subsidy_btc [BTC] per block;
    ``window_blocks`` counts every pool's blocks in the same window, so ``share`` is the pool's
    fraction of them. ``partial`` when the shipped blocks cover only part of the window.
    """

    pool: str
    slug: str
    start: pd.Timestamp
    end: pd.Timestamp
    partial: bool
    window_blocks: int
    blocks: pd.DataFrame = dataclasses.field(compare=False)

    @property
    def count(self) -> int:
        """Blocks the pool found in the window [blocks]."""
        return len(self.blocks)

    @property
    def share(self) -> float:
        """The pool's share of the window's blocks [fraction]; NaN for an empty window."""
        return self.count / self.window_blocks if self.window_blocks else float("nan")


def _norm_pool(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _resolve_pool(blocks: pd.DataFrame, query: str) -> tuple[str, str]:
    """(display name, slug) of the pool a user named: exact name or slug first, then a unique substring."""
    q = _norm_pool(query)
    if not q:
        raise NetworkInputError("pool name is empty")
    pairs = blocks[["pool_name", "pool_slug"]].astype(str).drop_duplicates()
    labels = sorted({(str(n), str(s)) for n, s in zip(pairs["pool_name"], pairs["pool_slug"], strict=True)})
    exact = [p for p in labels if q in (_norm_pool(p[0]), _norm_pool(p[1]))]
    names = sorted({p[0] for p in exact})
    if len(names) == 1:
        return exact[0]
    partial = sorted({p[0] for p in labels if q in _norm_pool(p[0]) or q in _norm_pool(p[1])})
    if len(partial) == 1:
        return next(p for p in labels if p[0] == partial[0])
    if len(partial) > 1:
        raise NetworkInputError(
            f"{query!r} matches several pools: {', '.join(partial)}; name one of them",
            field="pool",
            value=query,
        )
    by_norm = {_norm_pool(p[0]): p[0] for p in labels}
    close = [by_norm[k] for k in difflib.get_close_matches(q, list(by_norm), n=5, cutoff=0.5)]
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise NetworkInputError(f"no pool named {query!r} in the shipped blocks{hint}", field="pool", value=query)


def pool_blocks(
    blocks: pd.DataFrame,
    pool: str,
    *,
    window: str | None = "7d",
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> PoolBlocks:
    """The blocks ``pool`` found in a trailing ``window`` (a :data:`TRAILING_WINDOWS` name)
    ending at the newest block, or between ``start`` (inclusive) and ``end`` (exclusive) when
    either is given (then ``window`` is ignored).

    ``blocks`` needs height, time_utc (tz-aware), pool_name and pool_slug (as
    :func:`hashwatt.data.pools.load_pool_blocks` gives). Header times are not monotonic, so a
    block belongs to the window its own header time falls in, as in every other window here.
    """
    if blocks.empty:
        raise NetworkInputError("no blocks to list")
    name, slug = _resolve_pool(blocks, pool)
    times = pd.to_datetime(blocks["time_utc"], utc=True)
    first, last = times.min(), times.max()
    if start is None and end is None:
        if window not in TRAILING_WINDOWS:
            raise NetworkInputError(
                f"window must be one of {', '.join(TRAILING_WINDOWS)}, got {window!r}",
                field="window",
                value=window,
            )
        hi = last
        lo = hi - TRAILING_WINDOWS[window]
        inside = (times > lo) & (times <= hi)
        partial = bool(first > lo)
    else:
        lo = first if start is None else pd.Timestamp(start)
        hi = last + pd.Timedelta(seconds=1) if end is None else pd.Timestamp(end)
        if hi <= lo:
            raise NetworkInputError(
                f"the window is empty: it ends ({hi}) before it starts ({lo})",
                field="start,end",
                value=(start, end),
            )
        inside = (times >= lo) & (times < hi)
        partial = bool(first > lo or last < hi - pd.Timedelta(minutes=60))
    mine = blocks[inside & (blocks["pool_name"].astype(str) == name)].sort_values("height")
    heights = mine["height"].astype(int).tolist()
    listed = pd.DataFrame(
        {
            "height": heights,
            "time_utc": pd.to_datetime(mine["time_utc"], utc=True).tolist(),
            "subsidy_btc": [block_subsidy_sat(h) / 1e8 for h in heights],
        }
    )
    return PoolBlocks(
        pool=name,
        slug=slug,
        start=lo,
        end=hi,
        partial=partial,
        window_blocks=int(inside.sum()),
        blocks=listed,
    )


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
        raise NetworkInputError(
            f"the blocks do not include the epoch's first block {start:,}", field="blocks", value=start
        )
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
