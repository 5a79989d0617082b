"""The stats line of ``pool serve --json``: the top workers and totals, never every worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hashwatt.cli.pool import _stats_json
from hashwatt.stratum import ErrorCode
from tests.stratum._helpers import demo_pool


def test_json_stats_line_summarises_workers(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, stats_top_workers=3) as server:
            for i in range(10):
                server._count_reject(ErrorCode.OTHER, "u", f"u.{i}")
            line = _stats_json(server)
            assert line["workers_total"] == 10 and len(line["top_workers"]) == 3
            assert set(line["top_workers"][0]) == {"user", "worker", "accepted", "rejected", "hashrate_hs"}
            assert "workers" not in line

    asyncio.run(main())
