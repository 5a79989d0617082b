"""What the Pool page reads: workers, their hashrate, shares and blocks from the share log,
plus the counters only the running server knows (rejected shares, live connections, whether
a block candidate was accepted) when the pool runs in this process.

The share log stores accepted shares only; a worker's hashrate is its accepted share
difficulty over the window, through the one formula
:func:`hashwatt.chain.hashrate_from_difficulty` (work x 2**32 / seconds).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from hashwatt._redact import redact_url
from hashwatt.chain import hashrate_from_difficulty
from hashwatt.stratum import PoolServer, shares_table

__all__ = ["PoolView", "pool_blocks", "pool_report"]

#: The hashrate window [s] and the share-count window [s] of the page.
HASHRATE_WINDOW_S = 600.0
COUNT_WINDOW_S = 86_400.0
MAX_WORKERS_SHOWN = 500
MAX_BLOCKS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool the dashboard shows: its share log, its URL, and the server when it runs here.

    ``work_scale`` is the demo's credited hashes per modelled hash (None for a real pool): the
    page then also shows the hashrate each worker stands for [TH/s].
    """

    engine: Engine
    url: str
    server: PoolServer | None = None
    work_scale: float | None = None
    started_unix_s: float | None = None


def pool_report(view: PoolView, *, now_s: float | None = None) -> dict[str, Any]:
    """Workers with accepted shares in the last day (newest hashrate first) and pool totals."""
    now = time.time() if now_s is None else now_s
    # A pool younger than the window is measured over its own life, not diluted by the window.
    window = HASHRATE_WINDOW_S
    if view.started_unix_s is not None:
        window = min(window, max(now - view.started_unix_s, 1.0))
    recent = shares_table.c.time_unix_s >= now - window
    stmt = (
        select(
            shares_table.c.worker,
            shares_table.c.user,
            func.count().label("accepted"),
            func.sum(case((recent, shares_table.c.difficulty), else_=0.0)).label("work"),
            func.sum(case((shares_table.c.is_block, 1), else_=0)).label("blocks"),
            func.max(shares_table.c.time_unix_s).label("last_share"),
        )
        .where(shares_table.c.time_unix_s >= now - COUNT_WINDOW_S)
        .group_by(shares_table.c.worker, shares_table.c.user)
    )
    with view.engine.connect() as c:
        rows = list(c.execute(stmt))
    live = _live_workers(view.server)
    workers = []
    for r in rows:
        hashrate_hs = hashrate_from_difficulty(float(r.work or 0.0), window)
        workers.append(
            {
                "worker": r.worker,
                "user": r.user,
                "accepted": int(r.accepted),
                "rejected": live.get(r.worker),
                "blocks": int(r.blocks or 0),
                "hashrate_hs": hashrate_hs,
                "hashrate_ths_equivalent": _equivalent_ths(hashrate_hs, view.work_scale),
                "last_share_utc": _iso(float(r.last_share)),
            }
        )
    workers.sort(key=lambda w: (-w["hashrate_hs"], w["worker"]))
    total_hs = sum(w["hashrate_hs"] for w in workers)
    server = view.server
    return {
        "url": redact_url(view.url),
        "running": server is not None,
        "work_scale": view.work_scale,
        "window_s": window,
        "workers": workers[:MAX_WORKERS_SHOWN],
        "workers_total": len(workers),
        "hashrate_hs": total_hs,
        "hashrate_ths_equivalent": _equivalent_ths(total_hs, view.work_scale),
        "accepted": sum(w["accepted"] for w in workers),
        "rejected": None if server is None else server.counters["rejected"],
        "connections": None if server is None else len(server.connections),
        "blocks": sum(w["blocks"] for w in workers),
    }


def pool_blocks(view: PoolView, *, limit: int = MAX_BLOCKS_SHOWN) -> list[dict[str, Any]]:
    """Block candidates from the share log, newest first, with the chain's verdict when known."""
    stmt = (
        select(shares_table)
        .where(shares_table.c.is_block.is_(True))
        .order_by(shares_table.c.id.desc())
        .limit(max(1, min(limit, MAX_BLOCKS_SHOWN)))
    )
    with view.engine.connect() as c:
        rows = list(c.execute(stmt).mappings())
    verdicts = {b.block_hash_hex: b for b in (view.server.blocks if view.server is not None else ())}
    out = []
    for r in rows:
        verdict = verdicts.get(str(r["share_hash_hex"]))
        out.append(
            {
                "time_utc": _iso(float(r["time_unix_s"])),
                "height": r["height"],
                "hash": str(r["share_hash_hex"]),
                "worker": str(r["worker"]),
                "accepted": None if verdict is None else verdict.accepted,
                "message": None if verdict is None else verdict.message,
            }
        )
    return out


def _live_workers(server: PoolServer | None) -> dict[str, int]:
    """Rejected shares per worker since the server started (the share log keeps only accepted)."""
    if server is None:
        return {}
    return {stats.worker: stats.rejected for stats in server.workers.values()}


def _equivalent_ths(hashrate_hs: float, work_scale: float | None) -> float | None:
    return None if not work_scale else hashrate_hs / work_scale / 1e12


def _iso(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s, dt.UTC).isoformat()
