"""End to end on loopback: our client, our search engine, our pool in demo mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hashwatt.chain import validate_block
from hashwatt.miner.client import MiningClient, PoolUrl
from hashwatt.miner.engine import SearchEngine
from tests.stratum._helpers import demo_pool


def test_client_mines_demo_pool_and_finds_a_validated_block(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        async with demo_pool(tmp_path, block_expected_hashes=2.0**16) as server:
            engine = SearchEngine(backend="auto", threads=1, batch_nonces=1 << 14)
            client = MiningClient(
                [PoolUrl("127.0.0.1", server.port)],
                user="dave.cpu0",
                engine=engine,
                on_event=lambda kind, data: events.append(data),
            )
            task = asyncio.create_task(client.run())
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline and not (
                server.blocks and client.stats.accepted >= 5 and client.stats.block_candidates
            ):
                await asyncio.sleep(0.05)
            client.stop()
            stats = await asyncio.wait_for(task, 10)
            assert stats.accepted >= 5, stats
            # Only shares that raced the block's clean_jobs may be refused, as stale (21).
            assert set(stats.rejected_by_code) <= {21}, stats
            assert server.blocks and server.blocks[0].accepted, server.blocks
            (block, *_) = server.source.chain.blocks  # type: ignore[attr-defined]
            assert validate_block(block, height=924634, bip34_height=0) == []
            assert server.share_log.count() >= stats.accepted
            assert stats.block_candidates >= 1
            # Version rolling was negotiated and the pool saw the worker's hashrate.
            subscribed = next(e for e in events if e["event"] == "subscribed")
            assert subscribed["version_mask"] == "1fffe000"
            assert server.stats().hashrate_hs > 0
            assert server.user_hashrate_hs()["dave"] == pytest.approx(server.stats().hashrate_hs)

    asyncio.run(main())
