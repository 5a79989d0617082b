"""Proxy mode on loopback: client -> proxy -> pool, extranonce sub-ranges, routing, failover."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hashwatt.chain import validate_block
from hashwatt.miner.client import MiningClient, PoolUrl
from hashwatt.miner.engine import SearchEngine
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, Upstream, UpstreamSource, sqlite_url
from tests.stratum._helpers import RawClient, demo_pool, find_nonce, handshake, job_of


async def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def _proxy(tmp_path: Path, upstreams: list[Upstream], name: str = "proxy.db") -> PoolServer:
    source = UpstreamSource(upstreams, user="farm.proxy", backoff_initial_s=0.05)
    config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
    server = PoolServer(source, ShareLog(sqlite_url(tmp_path / name)), config, share_sink=source)
    await server.start()
    return server


async def _close(server: PoolServer) -> None:
    await server.close()
    server.share_log.close()


def test_client_proxy_pool_end_to_end_with_block(tmp_path: Path) -> None:
    async def main() -> None:
        # Upstream shares a bit harder than downstream: only some shares get forwarded.
        async with demo_pool(
            tmp_path, db_name="up.db", block_expected_hashes=2.0**16, start_difficulty=2.0**-22
        ) as pool:
            proxy = await _proxy(tmp_path, [Upstream("127.0.0.1", pool.port)])
            try:
                engine = SearchEngine(backend="auto", threads=1, batch_nonces=1 << 14)
                client = MiningClient([PoolUrl("127.0.0.1", proxy.port)], user="gina.rig", engine=engine)
                task = asyncio.create_task(client.run())
                await _until(lambda: bool(pool.blocks) and client.stats.accepted >= 10)
                client.stop()
                await asyncio.wait_for(task, 10)
                link = proxy.source.links[0]  # type: ignore[attr-defined]
                # Downstream en1 = upstream en1 + 2 bytes; forwarded shares accepted upstream.
                group = proxy.groups["up0"]
                assert len(group.prefix) == 4 and group.sub_size == 2 and group.extranonce2_size == 2
                assert 0 < link.forwarded < proxy.stats().accepted
                await _until(lambda: link.accepted + link.rejected >= link.forwarded)
                assert link.accepted >= 1
                (upstream_worker,) = {(u, w) for u, w, *_ in pool.stats().workers}
                assert upstream_worker == ("farm", "farm.proxy")
                assert pool.blocks[0].accepted
                block = pool.source.chain.blocks[0]  # type: ignore[attr-defined]
                assert validate_block(block, height=924634, bip34_height=0) == []
            finally:
                await _close(proxy)

    asyncio.run(main())


def test_weighted_routing_and_failover(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            demo_pool(tmp_path, db_name="a.db") as pool_a,
            demo_pool(tmp_path, db_name="b.db") as pool_b,
        ):
            proxy = await _proxy(
                tmp_path, [Upstream("127.0.0.1", pool_a.port, 3.0), Upstream("127.0.0.1", pool_b.port, 1.0)]
            )
            try:
                source = proxy.source
                await _until(lambda: all(link.live for link in source.links))  # type: ignore[attr-defined]
                miners = []
                for i in range(8):
                    c = await RawClient.connect(proxy.port)
                    await c.call("mining.extranonce.subscribe", [])
                    en1, size, diff, notify = await handshake(c, f"m{i}")
                    miners.append((c, en1, size, diff, notify))
                groups = Counter(conn.group.name for conn in proxy.connections)
                assert groups == {"up0": 6, "up1": 2}
                # Pool A goes away: its miners are moved to B with fresh extranonces.
                for conn in list(pool_a.connections):
                    assert conn.transport is not None
                    conn.transport.abort()
                await pool_a.close()
                await _until(lambda: Counter(c.group.name for c in proxy.connections) == {"up1": 8})
                b_prefix = proxy.groups["up1"].prefix
                c0 = miners[0][0]
                moved = await c0.wait_note("mining.set_extranonce")
                en1 = bytes.fromhex(moved["params"][0])
                assert en1.startswith(b_prefix) and moved["params"][1] == 2
                notify = await c0.wait_note("mining.notify")
                job = job_of(notify, en1, 2, miners[0][3])
                nonce = find_nonce(job, b"\x00\x01", target=job.share_target)
                ack = await c0.call(
                    "mining.submit", ["m0", job.job_id, "0001", f"{job.ntime:08x}", f"{nonce:08x}"]
                )
                assert ack["result"] is True
                for c, *_ in miners:
                    await c.close()
            finally:
                await _close(proxy)

    asyncio.run(main())


def test_share_not_stored_by_the_proxy_is_not_forwarded_until_its_resend_is(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, db_name="up.db") as pool:
            source = UpstreamSource(
                [Upstream("127.0.0.1", pool.port)], user="farm.proxy", backoff_initial_s=0.05
            )
            config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
            db = tmp_path / "proxy.db"
            proxy = PoolServer(
                source, ShareLog(sqlite_url(db), busy_timeout_ms=50), config, share_sink=source
            )
            await proxy.start()
            locker = sqlite3.connect(db, isolation_level=None, timeout=0.05)
            try:
                await _until(lambda: source.links[0].live)
                c = await RawClient.connect(proxy.port)
                en1, size, diff, notify = await handshake(c, "m0")
                job = job_of(notify, en1, size, diff)
                nonce = find_nonce(job, b"\x00\x03", target=job.share_target)
                share = ["m0", job.job_id, "0003", f"{job.ntime:08x}", f"{nonce:08x}"]
                locker.execute("BEGIN EXCLUSIVE")
                assert (await c.call("mining.submit", share))["error"][0] == 20
                await asyncio.sleep(0.2)
                assert source.links[0].forwarded == 0 and pool.stats().accepted == 0
                locker.execute("COMMIT")
                assert (await c.call("mining.submit", share))["result"] is True
                await _until(lambda: pool.stats().accepted == 1)
                assert source.links[0].forwarded == 1
                await c.close()
            finally:
                locker.close()
                await _close(proxy)

    asyncio.run(main())
