"""Processes for the adversarial suite: the pool server, and an honest miner that measures.

``python -m tests.stratum._adversary server DB``: a demo pool on 127.0.0.1 with the default
limits (difficulty floor lowered for a CPU), printing ``{"port", "pid"}``; it stops when
stdin closes; each stdin line gets ``{"counters", "workers"}`` back.

``python -m tests.stratum._adversary miner PORT SHARES``: an honest miner from another source
address (127.0.0.2) that first finds SHARES valid shares, then for each stdin line
``SECONDS RATE`` submits them paced at RATE per second for SECONDS and prints ``{"sent",
"accepted", "p99_ms"}`` (answers counted only if they arrive within 0.3 s of the window's end).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import struct
import sys
import time
from typing import Any

#: Share difficulty of the suite: 2**8 hashes per share (an honest share costs under a
#: millisecond of Python hashing; a random nonce is valid with p = 2**-8).
DIFFICULTY = 2.0**-24


def serve(db: str) -> None:
    from hashwatt.miner.demo import DemoJobSource
    from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url

    async def main() -> None:
        config = PoolConfig(
            start_difficulty=DIFFICULTY,
            min_difficulty=DIFFICULTY,
            vardiff=False,
            max_connections_per_ip=256,
            sweep_interval_s=0.5,
            idle_timeout_s=60.0,
            handshake_timeout_s=5.0,
            flood_grace_s=3.0,
        )
        source = DemoJobSource(refresh_s=3600, block_expected_hashes=2.0**64)
        server = PoolServer(source, ShareLog(sqlite_url(db), synchronous="NORMAL"), config)
        await server.start("127.0.0.1", 0)
        job = server.book.latest
        assert job is not None
        print(
            json.dumps({"port": server.port, "pid": os.getpid(), "job_id": job.job_id, "ntime": job.ntime}),
            flush=True,
        )
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, sys.stdin.readline):
            print(json.dumps({"counters": server.counters, "workers": len(server.workers)}), flush=True)
        await server.close()

    asyncio.run(main())


def _shares(notify: dict[str, Any], en1: bytes, size: int, count: int, start: int) -> list[bytes]:
    """``count`` valid submits, found by brute force (the honest miner's real work)."""
    from hashwatt.stratum import job_from_notify, target_from_difficulty
    from hashwatt.work import header_prefix

    target = target_from_difficulty(DIFFICULTY)
    job = job_from_notify(notify["params"], extranonce1=en1, extranonce2_size=size, share_target=target)
    out: list[bytes] = []
    sha = hashlib.sha256
    for k in range(start, start + count):
        en2 = k.to_bytes(size, "big")
        prefix = header_prefix(job, en2)
        nonce = 0
        while (
            int.from_bytes(sha(sha(prefix + struct.pack("<I", nonce)).digest()).digest(), "little") > target
        ):
            nonce += 1
        params = ["honest.rig", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
        out.append(json.dumps({"id": k + 100, "method": "mining.submit", "params": params}).encode() + b"\n")
    return out


def mine(port: int, total: int) -> None:
    async def main() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))

        async def call(msg_id: int, method: str, params: list[Any]) -> dict[str, Any]:
            writer.write(json.dumps({"id": msg_id, "method": method, "params": params}).encode() + b"\n")
            while True:
                msg: dict[str, Any] = json.loads(await reader.readline())
                if msg.get("id") == msg_id and msg.get("method") is None:
                    return msg
                notes.append(msg)

        notes: list[dict[str, Any]] = []
        sub = await call(1, "mining.subscribe", ["honest/1"])
        en1, size = bytes.fromhex(sub["result"][1]), int(sub["result"][2])
        await call(2, "mining.authorize", ["honest.rig", "x"])
        while not any(n.get("method") == "mining.notify" for n in notes):
            notes.append(json.loads(await reader.readline()))
        notify = next(n for n in notes if n.get("method") == "mining.notify")
        found = _shares(notify, en1, size, total, 0)
        loop = asyncio.get_running_loop()
        print(json.dumps({"ready": True}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            seconds, rate = (float(x) for x in line.split())
            shares, found = found[: int(seconds * rate)], found[int(seconds * rate) :]
            sent_at: dict[int, float] = {}
            latencies: list[float] = []
            start = loop.time()
            end = start + seconds

            async def read_answers(sent_at: dict[int, float], latencies: list[float]) -> None:
                while True:
                    msg = json.loads(await reader.readline())
                    if msg.get("method") is None and msg.get("id") in sent_at and msg.get("result") is True:
                        latencies.append(time.perf_counter() - sent_at.pop(msg["id"]))

            answers = loop.create_task(read_answers(sent_at, latencies))
            for i, share in enumerate(shares):
                await asyncio.sleep(max(start + i / rate - loop.time(), 0))
                sent_at[json.loads(share)["id"]] = time.perf_counter()
                writer.write(share)
            await asyncio.sleep(max(end - loop.time(), 0) + 0.3)  # the last answers' grace
            answers.cancel()
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("inf")
            print(json.dumps({"sent": len(shares), "accepted": len(latencies), "p99_ms": p99}), flush=True)

    asyncio.run(main())


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2])
    else:
        mine(int(sys.argv[2]), int(sys.argv[3]))
