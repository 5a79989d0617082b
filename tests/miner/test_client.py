"""The mining client: sans-IO session shapes, failover, reconnect and the share queue."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hashwatt.errors import InputError
from hashwatt.miner.client import MiningClient, PoolUrl
from hashwatt.stratum import target_from_difficulty
from hashwatt.stratum._session import (
    Authorized,
    ClientSession,
    DifficultyChanged,
    NewJob,
    ReconnectRequested,
    ServerMessage,
    ShareResult,
    Subscribed,
)
from hashwatt.work import Job, Solution
from tests.stratum._helpers import demo_pool, find_nonce
from tests.stratum._real import notify_from_block, real_block


def _lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def test_session_handshake_and_server_messages() -> None:
    s = ClientSession(user="u.w", password="p", resume_session_id="abcd")
    s.start()
    sent = _lines(s.take_outbox())
    assert [m["method"] for m in sent] == ["mining.configure", "mining.subscribe", "mining.authorize"]
    assert sent[0]["params"][1]["version-rolling.mask"] == "1fffe000"
    assert sent[1]["params"] == ["hashwatt/0.1", "abcd"]
    assert sent[2]["params"] == ["u.w", "p"]
    vec = notify_from_block(real_block("170"), 42)
    notify = json.dumps({"id": None, "method": "mining.notify", "params": vec["params"]}) + "\n"
    replies = (
        json.dumps(
            {"id": 1, "result": {"version-rolling": True, "version-rolling.mask": "00ffe000"}, "error": None}
        )
        + "\n"
        + json.dumps({"id": 2, "result": [[["mining.notify", "s1"]], vec["en1"].hex(), 4], "error": None})
        + "\n"
        + json.dumps({"id": None, "method": "mining.set_difficulty", "params": [2]})
        + "\n"
        + notify
        + json.dumps({"id": 3, "result": True, "error": None})
        + "\n"
    )
    events = s.receive(replies.encode())
    kinds = [type(e) for e in events]
    assert kinds == [Subscribed, DifficultyChanged, NewJob, Authorized]
    assert s.version_mask == 0x00FFE000
    job = next(e for e in events if isinstance(e, NewJob)).job
    assert job.share_target == target_from_difficulty(2) and job.version_mask == 0x00FFE000
    assert job.extranonce1 == vec["en1"] and job.clean_jobs
    assert _lines(s.take_outbox())[0]["method"] == "mining.extranonce.subscribe"
    # Difficulty change re-issues the current job at the new target.
    (diff_event, j) = s.receive(b'{"id":null,"method":"mining.set_difficulty","params":[4]}\n')
    assert diff_event == DifficultyChanged(4.0)
    assert isinstance(j, NewJob) and j.job.share_target == target_from_difficulty(4)
    # A tiny difficulty (demo pools) gives a capped target, not a crash.
    (_, tiny) = s.receive(b'{"id":null,"method":"mining.set_difficulty","params":[1e-12]}\n')
    assert isinstance(tiny, NewJob) and tiny.job.share_target == (1 << 256) - 1
    s.receive(b'{"id":null,"method":"mining.set_difficulty","params":[4]}\n')
    # set_extranonce: the current job restarts with the new extranonce1.
    (j2,) = s.receive(b'{"id":null,"method":"mining.set_extranonce","params":["aabbccdd", 2]}\n')
    assert isinstance(j2, NewJob) and j2.job.extranonce1 == bytes.fromhex("aabbccdd")
    assert j2.job.extranonce2_size == 2 and j2.clean
    # Submit and its answer; server requests get answered.
    sol = Solution(job.job_id, b"\x00\x01", job.ntime, 7, job.version | 0x2000)
    sid = s.submit(sol)
    sub = _lines(s.take_outbox())[0]
    assert sub["params"] == ["u.w", job.job_id, "0001", f"{job.ntime:08x}", "00000007", "00002000"]
    (res,) = s.receive(
        json.dumps({"id": sid, "result": None, "error": [23, "Low difficulty", None]}).encode() + b"\n"
    )
    assert isinstance(res, ShareResult) and not res.accepted and res.error == (23, "Low difficulty")
    events = s.receive(
        b'{"id":null,"method":"client.show_message","params":["maintenance at 12:00"]}\n'
        b'{"id":9,"method":"client.get_version","params":[]}\n'
        b'{"id":10,"method":"mining.ping","params":[]}\n'
        b'{"id":null,"method":"client.reconnect","params":["pool2.example", 3334, 5]}\n'
    )
    assert events == [ServerMessage("maintenance at 12:00"), ReconnectRequested("pool2.example", 3334, 5.0)]
    answers = _lines(s.take_outbox())
    assert answers == [
        {"id": 9, "result": "hashwatt/0.1", "error": None},
        {"id": 10, "result": "pong", "error": None},
    ]


def test_pool_url_parsing() -> None:
    assert PoolUrl.parse("stratum+tcp://pool.example:3333") == PoolUrl("pool.example", 3333)
    assert PoolUrl.parse("127.0.0.1:3333") == PoolUrl("127.0.0.1", 3333)
    for bad in ["http://x:1", "stratum+tcp://nohost", "stratum+tcp://h:99999"]:
        with pytest.raises(InputError):
            PoolUrl.parse(bad)


class ScriptedSearcher:
    """Engine stand-in whose solutions the test releases by hand (to control timing)."""

    def __init__(self) -> None:
        self.job: Job | None = None
        self.jobs: list[Job] = []
        self.emit: Callable[[Solution], None] | None = None

    def set_job(self, job: Job) -> None:
        self.job = job
        self.jobs.append(job)

    def start(self, on_solution: Callable[[Solution], None]) -> None:
        self.emit = on_solution

    def stop(self, timeout_s: float = 1.0) -> None:
        self.emit = None

    def solve(self, en2: bytes) -> Solution:
        assert self.job is not None
        nonce = find_nonce(self.job, en2, target=self.job.share_target)
        return Solution(self.job.job_id, en2, self.job.ntime, nonce, self.job.version)


async def _until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_failover_with_backoff_then_share_queue_across_reconnect(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            searcher = ScriptedSearcher()
            client = MiningClient(
                [PoolUrl("127.0.0.1", _closed_port()), PoolUrl("127.0.0.1", server.port)],
                user="erin.rig",
                engine=searcher,
                on_event=lambda kind, data: events.append(data),
                backoff_initial_s=0.05,
            )
            task = asyncio.create_task(client.run())
            await _until(lambda: searcher.job is not None and client.stats.connected)
            assert events[0]["event"] == "connect_failed" and events[0]["retry_in_s"] == 0.05
            assert client.stats.pool == f"stratum+tcp://127.0.0.1:{server.port}"
            # A share while connected: accepted.
            assert searcher.emit is not None
            first = searcher.solve(b"\x00\x00\x00\x01")
            searcher.emit(first)
            await _until(lambda: client.stats.accepted == 1)
            # The same hit again (an engine restarted on a re-issued job) is not resent.
            searcher.emit(first)
            await _until(lambda: client.stats.duplicates_suppressed == 1)
            assert server.stats().rejected == 0
            # The link drops; a share found while offline is queued, not lost.
            for conn in list(server.connections):
                assert conn.transport is not None
                conn.transport.abort()
            await _until(lambda: not client.stats.connected)
            offline = searcher.solve(b"\x00\x00\x00\x02")
            searcher.emit(offline)
            searcher.emit(Solution("no-such-job", b"\x00" * 4, 0, 0, 0))
            # Reconnect (failover walks on, fails on the dead pool, comes back), resubmit.
            await _until(lambda: client.stats.accepted == 2)
            assert client.stats.resubmitted == 1 and client.stats.stale_discarded == 1
            assert client.stats.connects == 2
            assert server.share_log.count() == 2
            # client.show_message and client.reconnect from the pool.
            server.broadcast_message("maintenance soon")
            await _until(lambda: client.stats.last_message == "maintenance soon")
            server.broadcast_reconnect("127.0.0.1", server.port, 0)
            await _until(lambda: client.stats.connects == 3)
            client.stop()
            await asyncio.wait_for(task, 5)
        kinds = [e["event"] for e in events]
        assert "reconnect" in kinds and "disconnected" in kinds and "requeued" in kinds

    asyncio.run(main())


def test_backoff_grows_and_is_capped() -> None:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        client = MiningClient(
            [PoolUrl("127.0.0.1", _closed_port()), PoolUrl("127.0.0.1", _closed_port())],
            user="x",
            engine=ScriptedSearcher(),
            on_event=lambda kind, data: events.append(data),
            backoff_initial_s=0.01,
            backoff_max_s=0.04,
        )
        task = asyncio.create_task(client.run())
        await _until(lambda: len(events) >= 5)
        client.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    delays = [e["retry_in_s"] for e in events if e["event"] == "connect_failed"][:5]
    assert delays == [0.01, 0.02, 0.04, 0.04, 0.04]
    pools = [e["pool"] for e in events if e["event"] == "connect_failed"][:2]
    assert pools[0] != pools[1]  # walks the pool list


def test_refused_authorization_fails_over_to_the_next_pool(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        async with (
            demo_pool(tmp_path, db_name="a.db", require_password="letmein") as strict,
            demo_pool(tmp_path, db_name="b.db") as open_pool,
        ):
            searcher = ScriptedSearcher()
            client = MiningClient(
                [PoolUrl("127.0.0.1", strict.port), PoolUrl("127.0.0.1", open_pool.port)],
                user="ivan",
                password="wrong",
                engine=searcher,
                on_event=lambda kind, data: events.append(data),
                backoff_initial_s=0.05,
            )
            task = asyncio.create_task(client.run())
            await _until(
                lambda: (
                    client.stats.pool == f"stratum+tcp://127.0.0.1:{open_pool.port}"
                    and searcher.job is not None
                )
            )
            client.stop()
            await asyncio.wait_for(task, 5)
        refused = [e for e in events if e["event"] == "disconnected"]
        assert refused and "authorization refused" in refused[0]["reason"]
        assert any(e["event"] == "authorized" and e["ok"] is False for e in events)

    asyncio.run(main())
