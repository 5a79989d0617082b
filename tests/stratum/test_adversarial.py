"""A hostile internet on loopback: floods against the pool while an honest miner measures its rate.

The server and the honest miner are separate processes; the honest miner connects from
127.0.0.2, the floods come from 127.0.0.1 (another address, as on the internet). Before each
flood the miner's unloaded accepted rate is known; during every flood it must keep at least
90 % of it, and the server's resident memory must stay under ``RSS_BOUND_KIB``.

Bounded: every phase lasts ``PHASE_S``; about 35 s in all on a shared 2-core machine.
The figures (accepted shares before/during, p99 latency) are printed for docs/STRATUM.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHASE_S = 1.5
RATE_PER_S = 20.0
#: The server's resident memory must stay under this through every flood [KiB]
#: (the unbounded server of issue 14 reached 1.17 GB).
RSS_BOUND_KIB = 250 * 1024

Flood = Callable[[int, asyncio.Event], Coroutine[Any, Any, None]]
#: The server's current job (id, ntime), so that no-work submits reach the hashing check.
JOB: dict[str, Any] = {}


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _json_line(stream: IO[str]) -> dict[str, Any]:
    line = stream.readline()
    if not line:
        raise AssertionError("process ended early")
    result: dict[str, Any] = json.loads(line)
    return result


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    try:
        return await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None


async def _drain_forever(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(Exception):
        while await reader.read(65536):
            pass


async def _blast(
    port: int, stop: asyncio.Event, blob: bytes, *, connections: int = 1, handshake: bool = False
) -> None:
    """Write ``blob`` as fast as the server reads, reconnecting whenever it is dropped."""

    async def one() -> None:
        while not stop.is_set():
            pair = await _open(port)
            if pair is None:
                await asyncio.sleep(0.05)
                continue
            reader, writer = pair
            drain = asyncio.create_task(_drain_forever(reader))
            try:
                if handshake:
                    writer.write(
                        b'{"id":1,"method":"mining.subscribe","params":[]}\n'
                        b'{"id":2,"method":"mining.authorize","params":["flood.0","x"]}\n'
                    )
                while not stop.is_set() and not writer.is_closing() and not reader.at_eof():
                    writer.write(blob)
                    await asyncio.wait_for(writer.drain(), 1.0)
            except (OSError, TimeoutError):
                pass
            finally:
                drain.cancel()
                writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))


async def ping_flood(port: int, stop: asyncio.Event) -> None:
    await _blast(port, stop, b'{"id":7,"method":"mining.ping","params":[]}\n' * 2000)


async def null_notification_flood(port: int, stop: asyncio.Event) -> None:
    await _blast(port, stop, b'{"id":null,"method":"mining.frobnicate","params":[1]}\n' * 2000)


async def response_flood(port: int, stop: asyncio.Event) -> None:
    await _blast(port, stop, b'{"id":1,"result":true,"error":null}\n' * 2000)


async def no_work_submit_flood(port: int, stop: asyncio.Event) -> None:
    rng = random.Random(5)
    job_id, ntime = JOB["job_id"], int(JOB["ntime"])
    lines = b"".join(
        (
            f'{{"id":{i},"method":"mining.submit","params":["flood.0","{job_id}",'
            f'"{rng.getrandbits(32):08x}","{ntime:08x}","{rng.getrandbits(32):08x}"]}}\n'
        ).encode()
        for i in range(2000)
    )
    await _blast(port, stop, lines, connections=4, handshake=True)


async def worker_name_flood(port: int, stop: asyncio.Event) -> None:
    counter = iter(range(10**9))

    async def one() -> None:
        while not stop.is_set():
            pair = await _open(port)
            if pair is None:
                await asyncio.sleep(0.05)
                continue
            reader, writer = pair
            drain = asyncio.create_task(_drain_forever(reader))
            try:
                writer.write(b'{"id":1,"method":"mining.subscribe","params":[]}\n')
                for _ in range(64):
                    name = f"w{next(counter)}.x{'y' * 100}"
                    writer.write(
                        (
                            f'{{"id":2,"method":"mining.authorize","params":["{name}","x"]}}\n'
                            f'{{"id":3,"method":"mining.submit","params":["{name}","j","00000000",'
                            '"00000000","00000000"]}\n'
                        ).encode()
                    )
                await asyncio.wait_for(writer.drain(), 1.0)
                await asyncio.sleep(0.05)
            except (OSError, TimeoutError):
                pass
            finally:
                drain.cancel()
                writer.close()

    await asyncio.gather(*(one() for _ in range(8)))


async def connection_flood(port: int, stop: asyncio.Event) -> None:
    held: list[asyncio.StreamWriter] = []
    while not stop.is_set() and len(held) < 600:
        pair = await _open(port)
        if pair is not None:
            held.append(pair[1])
    await stop.wait()
    for writer in held:
        writer.close()


async def slowloris_flood(port: int, stop: asyncio.Event) -> None:
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    drains = []
    for _ in range(150):
        pair = await _open(port)
        if pair is not None:
            pair[1].write(b'{"id":1,"method":"mining.subscribe","params":[]}\n{"id":2,"method"')
            held.append(pair)
            drains.append(asyncio.create_task(_drain_forever(pair[0])))
    while not stop.is_set():
        for reader, writer in held:
            if not writer.is_closing() and not reader.at_eof():
                writer.write(b" ")  # a byte at a time, never a whole message
        await asyncio.sleep(0.2)
    for drain in drains:
        drain.cancel()
    for _, writer in held:
        writer.close()


FLOODS: dict[str, Flood] = {
    "ping": ping_flood,
    "null_notifications": null_notification_flood,
    "responses": response_flood,
    "no_work_submits": no_work_submit_flood,
    "worker_names": worker_name_flood,
    "connections": connection_flood,
    "slowloris": slowloris_flood,
}


@pytest.mark.skipif(sys.platform != "linux", reason="needs 127.0.0.2 on loopback and /proc")
def test_honest_miner_keeps_90_percent_of_its_rate_under_every_flood(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.stratum._adversary", "server", str(tmp_path / "s.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    miner: subprocess.Popen[str] | None = None
    try:
        assert server.stdin is not None and server.stdout is not None
        info = _json_line(server.stdout)
        port, pid = int(info["port"]), int(info["pid"])
        JOB.update(job_id=info["job_id"], ntime=info["ntime"])
        shares = int(PHASE_S * RATE_PER_S) * (2 * len(FLOODS) + 1)
        miner = subprocess.Popen(
            [sys.executable, "-m", "tests.stratum._adversary", "miner", str(port), str(shares)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert miner.stdin is not None and miner.stdout is not None
        assert _json_line(miner.stdout)["ready"]

        def measure() -> dict[str, Any]:
            assert miner is not None and miner.stdin is not None and miner.stdout is not None
            miner.stdin.write(f"{PHASE_S} {RATE_PER_S}\n")
            miner.stdin.flush()
            return _json_line(miner.stdout)

        async def under(flood: Flood) -> dict[str, Any]:
            stop = asyncio.Event()
            task = asyncio.create_task(flood(port, stop))
            await asyncio.sleep(0.3)  # the flood is running before the measurement starts
            result = await asyncio.get_running_loop().run_in_executor(None, measure)
            stop.set()
            await asyncio.wait_for(task, 10)
            return result

        results: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        peak_rss_kib = 0
        for name, flood in FLOODS.items():
            before = measure()  # the rate just before this flood starts
            during = asyncio.run(under(flood))
            peak_rss_kib = max(peak_rss_kib, _rss_kib(pid))
            results[name] = (before, during)
        server.stdin.write("counters\n")
        server.stdin.flush()
        counters = _json_line(server.stdout)
        report = {n: (b["accepted"], d["accepted"], round(d["p99_ms"], 1)) for n, (b, d) in results.items()}
        print(json.dumps({"results": report, "peak_rss_kib": peak_rss_kib, **counters}))
        for name, (before, during) in results.items():
            assert before["accepted"] >= 0.9 * before["sent"], (name, report)
            assert during["accepted"] >= 0.9 * before["accepted"], (name, report)
        assert peak_rss_kib < RSS_BOUND_KIB, peak_rss_kib
        assert counters["workers"] <= 50_000
    finally:
        for proc in (miner, server):
            if proc is not None:
                if proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        proc.stdin.close()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
