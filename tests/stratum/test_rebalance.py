"""Hashrate rebalancing between upstreams for miners already connected: planner and loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import (
    PoolConfig,
    PoolServer,
    ShareLog,
    Upstream,
    UpstreamSource,
    plan_rebalance,
    sqlite_url,
    weight_drift,
)
from tests.stratum._helpers import EASY_DIFFICULTY, RawClient, find_nonce, handshake, job_of


def test_planner_moves_toward_weights_and_stops_inside_the_band() -> None:
    weights = {"a": 2.0, "b": 1.0}
    # 1 miner on a, 5 on b (all 10 H/s): a holds 1/6 of the work for a weight of 2/3.
    members = {"a": [("a0", 10.0, True)], "b": [(f"b{i}", 10.0, True) for i in range(5)]}
    moves = plan_rebalance(members, weights, threshold=0.15)
    assert [(m.src, m.dst) for m in moves] == [("b", "a")] * 3 and [m.key for m in moves] == [
        "b0",
        "b1",
        "b2",
    ]
    after = {"a": 40.0, "b": 20.0}
    assert weight_drift(after, weights) == pytest.approx(0.0)
    # 3 + 3 for weights 2:1 drifts by 1/6: over a 0.15 threshold one miner moves (-> 4 + 2),
    # under a 0.2 threshold nothing does (the band where small drifts are left alone).
    even = {"a": [("x", 10.0, True)] * 3, "b": [("y", 10.0, True)] * 3}
    assert weight_drift({"a": 30.0, "b": 30.0}, weights) == pytest.approx(1 / 6)
    assert [(m.key, m.dst) for m in plan_rebalance(even, weights)] == [("y", "a")]
    assert (
        plan_rebalance({"a": [("x", 10.0, True)] * 3, "b": [("y", 10.0, True)] * 3}, weights, threshold=0.2)
        == []
    )
    # A miner bigger than twice the gap is never moved (it would overshoot): no flapping.
    big = {"a": [("big", 100.0, True)], "b": [("s", 80.0, True)]}
    assert plan_rebalance(big, {"a": 1.0, "b": 1.0}, threshold=0.05) == []
    # Miners that may not move (cooldown, too young) stay; the smaller movable one goes instead.
    mixed = {"a": [], "b": [("young", 10.0, False), ("old", 10.0, True), ("old2", 10.0, True)]}
    assert [m.key for m in plan_rebalance(mixed, {"a": 1.0, "b": 1.0})] == ["old"]
    # One live upstream, or no hashrate at all: nothing to balance.
    assert plan_rebalance({"a": [("x", 1.0, True)]}, {"a": 1.0}) == []
    assert plan_rebalance({"a": [], "b": []}, {"a": 1.0, "b": 1.0}) == []


async def _until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def _drain(client: RawClient, quiet_s: float = 0.3) -> None:
    """Read everything the server has sent until it has been quiet for ``quiet_s``."""
    with contextlib.suppress(TimeoutError):
        while True:
            await client.read_one(quiet_s)


def _config() -> PoolConfig:
    return PoolConfig(start_difficulty=EASY_DIFFICULTY, min_difficulty=2.0**-30, vardiff=False)


async def _pool(tmp_path: Path, name: str, port: int = 0) -> PoolServer:
    server = PoolServer(DemoJobSource(), ShareLog(sqlite_url(tmp_path / name)), _config())
    await server.start("127.0.0.1", port)
    return server


async def _close(server: PoolServer) -> None:
    for conn in list(server.connections):
        if conn.transport is not None:
            conn.transport.abort()
    await server.close()
    server.share_log.close()


def test_existing_miners_follow_the_weights_after_failover_and_disconnects(tmp_path: Path) -> None:
    async def main() -> None:
        pool_a = await _pool(tmp_path, "a.db")
        pool_b = await _pool(tmp_path, "b.db")
        port_a = pool_a.port
        source = UpstreamSource(
            [Upstream("127.0.0.1", port_a, 2.0), Upstream("127.0.0.1", pool_b.port, 1.0)],
            user="farm.proxy",
            backoff_initial_s=0.05,
            rebalance_interval_s=0.1,
            rebalance_threshold=0.15,
            rebalance_cooldown_s=0.0,
            rebalance_min_age_s=0.0,
        )
        proxy = PoolServer(source, ShareLog(sqlite_url(tmp_path / "p.db")), _config(), share_sink=source)
        await proxy.start()
        clients: dict[str, RawClient] = {}
        try:
            await _until(lambda: all(link.live for link in source.links))
            # Routing of newcomers 2:1; miners 1 and 4 (landing on up1) never ask for set_extranonce.
            for i in range(6):
                c = await RawClient.connect(proxy.port)
                if i not in (1, 4):
                    await c.call("mining.extranonce.subscribe", [])
                await handshake(c, f"m{i}")
                clients[f"m{i}"] = c

            def split() -> Counter[str]:
                return Counter(conn.group.name for conn in proxy.connections if conn.working)

            def group_of(name: str) -> str:
                (conn,) = [c for c in proxy.connections if f"{name}" in c.authorized and not c.closed]
                return conn.group.name

            assert split() == {"up0": 4, "up1": 2}
            assert {group_of(f"m{i}") for i in (1, 4)} == {"up1"}
            checks = source.rebalance_checks
            await _until(lambda: source.rebalance_checks >= checks + 3)  # rounds were evaluated...
            assert source.rebalanced["rounds"] == 0  # ...and on the weights already: none moved anyone

            # Upstream A fails: failover puts everyone on B.
            await _close(pool_a)
            await _until(lambda: split() == {"up1": 6})
            # A comes back on the same port: rebalancing moves 4 subscribers back, seamlessly.
            pool_a = await _pool(tmp_path, "a2.db", port_a)
            await _until(lambda: split() == {"up0": 4, "up1": 2})
            assert source.rebalanced["extranonce"] == 4 and source.rebalanced["reconnect"] == 0
            assert {group_of(f"m{i}") for i in (1, 4)} == {"up1"}
            assert weight_drift(source.hashrate_split(), {"up0": 2.0, "up1": 1.0}) == pytest.approx(0.0)

            # A moved miner has A's new extranonce1 prefix and a clean job; its share reaches A.
            m0 = clients["m0"]
            a_prefix = proxy.groups["up0"].prefix
            await _drain(m0)
            last = max(i for i, n in enumerate(m0.notes) if n["method"] == "mining.set_extranonce")
            note = m0.notes[last]
            en1, size = bytes.fromhex(note["params"][0]), int(note["params"][1])
            assert en1.startswith(a_prefix) and size == 2
            notify = [n for n in m0.notes[last:] if n["method"] == "mining.notify"][-1]
            assert m0.notes[last + 1]["method"] == "mining.notify" and m0.notes[last + 1]["params"][8] is True
            job = job_of(notify, en1, size, EASY_DIFFICULTY)
            nonce = find_nonce(job, b"\x00\x07", target=job.share_target)
            ack = await m0.call(
                "mining.submit", ["m0", job.job_id, "0007", f"{job.ntime:08x}", f"{nonce:08x}"]
            )
            assert ack["result"] is True
            await _until(lambda: pool_a.stats().accepted == 1)
            rounds, checks = source.rebalanced["rounds"], source.rebalance_checks
            await _until(lambda: source.rebalance_checks >= checks + 3)
            assert source.rebalanced["rounds"] == rounds  # settled: no flapping

            # Three of A's miners leave: A is under-served (1 vs 2 on B for weights 2:1). The
            # only miners on B cannot take set_extranonce, so one is asked to reconnect.
            leaving = [n for n in ("m0", "m2", "m3", "m5") if group_of(n) == "up0"][:3]
            for name in leaving:
                await clients.pop(name).close()
            await _until(lambda: source.rebalanced["reconnect"] == 1)
            asked = None
            for name in ("m1", "m4"):
                c = clients[name]
                try:
                    note = await c.wait_note("client.reconnect", timeout=0.5)
                except TimeoutError:
                    continue
                assert note["params"] == ["", "", 0]
                asked = name
            assert asked is not None
            # The miner does what real ones do: reconnects to the same proxy, routed afresh to A.
            await clients[asked].close()
            again = await RawClient.connect(proxy.port)
            await handshake(again, asked)
            clients[asked] = again
            await _until(lambda: split() == {"up0": 2, "up1": 1})
            assert group_of(asked) == "up0"
            rounds, checks = source.rebalanced["rounds"], source.rebalance_checks
            await _until(lambda: source.rebalance_checks >= checks + 3)
            assert source.rebalanced["rounds"] == rounds and split() == {"up0": 2, "up1": 1}
        finally:
            for c in clients.values():
                await c.close()
            await _close(proxy)
            await _close(pool_a)
            await _close(pool_b)

    asyncio.run(main())
