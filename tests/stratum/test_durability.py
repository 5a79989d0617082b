"""kill -9 while shares are being acknowledged: not one acknowledged share missing afterwards.

The pool (``hashwatt pool serve`` in its own process) gets a pipeline of valid shares and is
killed with SIGKILL in the middle of answering them; every share whose ``true`` reached the
miner must be in the share log. SQLite, PostgreSQL (when ``HASHWATT_TEST_POSTGRES_URL`` is
set) and the farm proxy (upstream in this process, proxy killed). ``DURABILITY_RUNS`` runs
each (2 by default; ``HASHWATT_DURABILITY_RUNS=5`` for the record in docs/STRATUM.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hashwatt.stratum import ShareLog, shares_table, sqlite_url, target_from_difficulty
from tests.stratum._helpers import RawClient, demo_pool, find_nonce, handshake, job_of

ROOT = Path(__file__).resolve().parents[2]
DURABILITY_RUNS = int(os.environ.get("HASHWATT_DURABILITY_RUNS", "2"))
DIFFICULTY = 2.0**-24
SHARES = 200


def _serve(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hashwatt",
            "pool",
            "serve",
            "--port",
            "0",
            "--json",
            "--difficulty",
            str(DIFFICULTY),
            "--min-difficulty",
            str(DIFFICULTY),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    listening = json.loads(proc.stdout.readline())
    assert listening["event"] == "listening"
    return proc, int(listening["port"])


async def _mine_and_kill(port: int, proc: subprocess.Popen[bytes], user: str, rng: random.Random) -> set[str]:
    """Pipeline SHARES valid shares, SIGKILL the pool after a random number of acks; the acked en2s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:  # a proxy has no work until its upstream is live: ask again until it has
        client = await RawClient.connect(port)
        try:
            en1, size, diff, notify = await handshake(client, f"{user}.rig")
            break
        except (TimeoutError, ConnectionError):
            await client.close()
            if loop.time() > deadline:
                raise
    job = job_of(notify, en1, size, diff)
    target = target_from_difficulty(diff)
    by_id: dict[int, str] = {}
    lines = []
    for i in range(SHARES):
        en2 = i.to_bytes(size, "big")
        nonce = find_nonce(job, en2, target=target)
        params = [f"{user}.rig", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
        by_id[1000 + i] = en2.hex()
        lines.append(
            json.dumps({"id": 1000 + i, "method": "mining.submit", "params": params}).encode() + b"\n"
        )
    kill_after = rng.randint(SHARES // 10, SHARES // 2)
    await client.send_raw(b"".join(lines))
    acked: set[str] = set()
    killed = False
    while True:
        try:
            msg: dict[str, Any] = await client.read_one(10.0)
        except (ConnectionError, TimeoutError, OSError):
            break  # the kill closed the socket: every ack before that was read
        if msg.get("method") is None and msg.get("result") is True and msg.get("id") in by_id:
            acked.add(by_id[msg["id"]])
            if len(acked) >= kill_after and not killed:
                os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown, no flush
                killed = True
    await client.close()
    assert killed, f"only {len(acked)} acks before the pool stopped answering"
    return acked


def _stored(url: str, user: str) -> set[str]:
    log = ShareLog(url)
    try:
        with log.engine.connect() as conn:
            rows = conn.execute(select(shares_table.c.extranonce2).where(shares_table.c.user == user))
            return {bytes(r[0]).hex() for r in rows}
    finally:
        log.close()


def _check_runs(url_for_run: Any, extra_args: list[str], tmp_path: Path, label: str) -> None:
    rng = random.Random(0xD00D)
    total = 0
    for run in range(DURABILITY_RUNS):
        user = f"k{os.getpid()}r{run}t{int(time.time() * 1000) % 10**8}"
        url = url_for_run(run)
        proc, port = _serve(["--share-log", url, *extra_args], tmp_path)
        try:
            acked = asyncio.run(_mine_and_kill(port, proc, user, rng))
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        missing = acked - _stored(url, user)
        assert not missing, f"{label} run {run}: {len(missing)} acknowledged shares missing"
        total += len(acked)
    print(json.dumps({"durability": label, "runs": DURABILITY_RUNS, "acknowledged": total, "missing": 0}))


def test_sigkill_loses_no_acknowledged_share_sqlite(tmp_path: Path) -> None:
    _check_runs(lambda run: sqlite_url(tmp_path / f"shares{run}.db"), ["--demo"], tmp_path, "sqlite")


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("HASHWATT_TEST_POSTGRES_URL"), reason="HASHWATT_TEST_POSTGRES_URL not set"
)
def test_sigkill_loses_no_acknowledged_share_postgres(tmp_path: Path) -> None:
    url = os.environ["HASHWATT_TEST_POSTGRES_URL"]
    _check_runs(lambda run: url, ["--demo"], tmp_path, "postgresql")


def test_sigkill_of_the_proxy_loses_no_acknowledged_share(tmp_path: Path) -> None:
    async def upstream_port() -> None:
        async with demo_pool(tmp_path, db_name="upstream.db") as pool:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(
                None,
                _check_runs,
                lambda run: sqlite_url(tmp_path / f"proxy{run}.db"),
                ["--upstream", f"stratum+tcp://127.0.0.1:{pool.port}", "--rebalance-interval", "0"],
                tmp_path,
                "proxy",
            )

    asyncio.run(upstream_port())
