"""Loopback helpers: a raw line-level test client, a demo pool, and a brute-force share finder."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, job_from_notify, sqlite_url
from hashwatt.work import Job, header_prefix

#: Share difficulty used by tests: about 2**32 * 2**-24 = 256 hashes per share.
EASY_DIFFICULTY = 2.0**-24


class RawClient:
    """Speaks Stratum lines over a real socket; keeps notifications apart from answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.notes: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self._next = 0

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_one(self, timeout: float = 5.0) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise ConnectionError("closed by server")
        msg: dict[str, Any] = json.loads(line)
        if msg.get("method") is not None:
            self.notes.append(msg)
        else:
            self.answers.append(msg)
        return msg

    async def call(self, method: str, params: list[Any], *, msg_id: Any = None) -> dict[str, Any]:
        if msg_id is None:
            self._next += 1
            msg_id = self._next
        await self.send_raw((json.dumps({"id": msg_id, "method": method, "params": params}) + "\n").encode())
        while True:
            msg = await self.read_one()
            if msg.get("method") is None and msg.get("id") == msg_id:
                return msg

    async def wait_note(self, method: str, timeout: float = 5.0) -> dict[str, Any]:
        for i, note in enumerate(self.notes):
            if note["method"] == method:
                return self.notes.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            msg = await self.read_one(max(deadline - loop.time(), 0.01))
            if msg.get("method") == method:
                self.notes.remove(msg)
                return msg

    async def is_closed(self, timeout: float = 3.0) -> bool:
        try:
            while True:
                line = await asyncio.wait_for(self.reader.readline(), timeout)
                if not line:
                    return True
        except (TimeoutError, ConnectionError):
            return False

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


async def handshake(client: RawClient, user: str = "alice.rig1") -> tuple[bytes, int, float, dict[str, Any]]:
    """subscribe + authorize; returns (extranonce1, extranonce2_size, difficulty, notify)."""
    sub = await client.call("mining.subscribe", ["test/1.0"])
    en1 = bytes.fromhex(sub["result"][1])
    size = int(sub["result"][2])
    auth = await client.call("mining.authorize", [user, "x"])
    assert auth["result"] is True
    diff = await client.wait_note("mining.set_difficulty")
    notify = await client.wait_note("mining.notify")
    return en1, size, float(diff["params"][0]), notify


def job_of(notify: dict[str, Any], en1: bytes, size: int, difficulty: float, mask: int = 0) -> Job:
    from hashwatt.stratum import target_from_difficulty

    return job_from_notify(
        notify["params"],
        extranonce1=en1,
        extranonce2_size=size,
        share_target=target_from_difficulty(difficulty),
        version_mask=mask,
    )


def find_nonce(
    job: Job, en2: bytes, *, target: int, start: int = 0, want_below: bool = True, version: int | None = None
) -> int:
    """First nonce from ``start`` whose hash is <= target (or > target when ``want_below`` is False)."""
    prefix = header_prefix(job, en2, version=version)
    sha = hashlib.sha256
    for nonce in range(start, start + (1 << 24)):
        value = int.from_bytes(sha(sha(prefix + struct.pack("<I", nonce)).digest()).digest(), "little")
        if (value <= target) == want_below:
            return nonce
    raise AssertionError("no nonce found")


async def until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for ``cond`` to hold (polling), instead of a fixed sleep before an exact count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def demo_pool(
    tmp_path: Path,
    *,
    block_expected_hashes: float = 2.0**40,
    db_name: str = "shares.db",
    **config: Any,
) -> AsyncIterator[PoolServer]:
    base = PoolConfig(start_difficulty=EASY_DIFFICULTY, min_difficulty=2.0**-30, vardiff=False)
    cfg = replace(base, **config)
    source = DemoJobSource(block_expected_hashes=block_expected_hashes, extranonce2_size=cfg.extranonce2_size)
    server = PoolServer(source, ShareLog(sqlite_url(tmp_path / db_name)), cfg)
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.close()
        server.share_log.close()
