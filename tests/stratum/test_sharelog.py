"""The share log: SQLite WAL and PostgreSQL, group commit, schema upgrades (kill -9 durability: test_durability.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sqlite3
import time
from pathlib import Path

import pytest

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, ShareRecord, sqlite_url
from tests.stratum._helpers import RawClient, find_nonce, handshake, job_of


def _record(i: int, user: str = "u") -> ShareRecord:
    return ShareRecord(
        time_unix_s=1_700_000_000.0 + i,
        user=user,
        worker=f"{user}.w",
        job_id="1",
        extranonce1=b"\x00\x00\x00\x01",
        extranonce2=i.to_bytes(4, "big"),
        ntime=1,
        nonce=i,
        version=0x20000000,
        difficulty=0.5,
        share_hash_hex="00" * 32,
    )


def test_sqlite_share_log_is_wal_and_round_trips(tmp_path: Path) -> None:
    log = ShareLog(sqlite_url(tmp_path / "s.db"))
    assert log.journal_mode == "wal"
    log.write([_record(i) for i in range(5)] + [_record(9, "v")])
    assert log.count() == 6
    assert log.records()[0] == _record(0)
    assert log.work_by_user() == {"u": 2.5, "v": 0.5}
    log.close()


def _line_client(port: int) -> tuple[socket.socket, object]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock, sock.makefile("rb")


@pytest.mark.skipif(
    not os.environ.get("HASHWATT_TEST_POSTGRES_URL"), reason="HASHWATT_TEST_POSTGRES_URL not set"
)
def test_postgres_share_log_end_to_end(tmp_path: Path) -> None:
    url = os.environ["HASHWATT_TEST_POSTGRES_URL"]
    user = f"pg{os.getpid()}x{int(time.time() * 1000) % 10**9}"

    async def main() -> None:
        config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
        server = PoolServer(DemoJobSource(), ShareLog(url), config)
        await server.start()
        try:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client, f"{user}.rig")
            job = job_of(notify, en1, size, diff)
            for i in range(3):
                en2 = i.to_bytes(4, "big")
                nonce = find_nonce(job, en2, target=job.share_target)
                reply = await client.call(
                    "mining.submit",
                    [f"{user}.rig", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"],
                )
                assert reply["result"] is True
            await client.close()
        finally:
            await server.close()
            server.share_log.close()

    asyncio.run(main())
    log = ShareLog(url)
    try:
        assert log.journal_mode is None
        assert log.work_by_user()[user] == pytest.approx(3 * 2.0**-24)
    finally:
        log.close()


def test_share_whose_write_failed_is_refused_and_accepted_on_resend(tmp_path: Path) -> None:
    """Another writer holds the SQLite lock: the share gets code 20 (not true, not remembered);
    once the lock is released the miner's resend of the very same share is accepted."""
    db = tmp_path / "shares.db"

    async def main() -> None:
        config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
        server = PoolServer(DemoJobSource(), ShareLog(sqlite_url(db), busy_timeout_ms=50), config)
        await server.start()
        locker = sqlite3.connect(db, isolation_level=None, timeout=0.05)
        try:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            en2 = (7).to_bytes(4, "big")
            nonce = find_nonce(job, en2, target=job.share_target)
            share = ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]

            locker.execute("BEGIN EXCLUSIVE")  # a real writer lock the share log cannot get
            failed = await client.call("mining.submit", share)
            assert failed["result"] is not True
            assert failed["error"][0] == 20 and "share log" in failed["error"][1].lower()
            again = await client.call("mining.submit", share)  # still locked: still 20, not 22
            assert again["error"][0] == 20
            locker.execute("COMMIT")
            assert server.share_log.count() == 0

            ok = await client.call("mining.submit", share)
            assert ok["result"] is True and ok["error"] is None
            assert [r.nonce for r in server.share_log.records()] == [nonce]
            dup = await client.call("mining.submit", share)  # now it is stored: a real duplicate
            assert dup["error"][0] == 22
            stats = server.stats()
            assert stats.accepted == 1
            assert stats.rejected_by_code == {20: 2, 22: 1}
            assert server.counters["share_log_failures"] == 2
            await client.close()
        finally:
            locker.close()
            await server.close()
            server.share_log.close()

    asyncio.run(main())


def test_a_share_log_from_before_coinbase_values_gains_the_column(tmp_path: Path) -> None:
    """An existing table without ``coinbase_value_sat``: opened, it gains the column; old rows
    read back as None and new rows keep their value."""
    path = tmp_path / "old.db"
    old = ShareLog(sqlite_url(path))
    old.write([_record(0)])
    old.close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE shares DROP COLUMN coinbase_value_sat")
        assert "coinbase_value_sat" not in {row[1] for row in conn.execute("PRAGMA table_info(shares)")}
    log = ShareLog(sqlite_url(path))
    try:
        log.write([dataclasses.replace(_record(1), coinbase_value_sat=312_500_000)])
        assert [r.coinbase_value_sat for r in log.records()] == [None, 312_500_000]
    finally:
        log.close()
