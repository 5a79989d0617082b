"""Pool server load: idle connections held, valid shares/s, submit latency, memory per connection.

Three processes on loopback: the server (its own core), an idle-miner holder (N subscribed and
authorized connections that then sit idle, receiving work), and this load generator. Phase 1
measures the server's RSS with N idle miners; phase 2 has 64 miners pipeline valid shares as
fast as the server answers (share difficulty 2**-40, so the target is 2**256-1 and every
unique header is a valid share); phase 3 offers a steady 5,000 shares/s from 50 miners and measures submit -> answer latency.
Every accepted share is committed to SQLite (WAL, synchronous=FULL) before its answer.

Baseline, same run: the same server committing one share per transaction (no group commit).

    python bench/bench_stratum_server.py [--idle 10000] [--seconds 10]

A/B against another checkout (its own interpreter, e.g. an older commit's venv): the same load,
old and new servers alternating, reporting the server process's CPU seconds per accepted share
(from /proc, so a shared machine's load does not count) beside shares/s:

    python bench/bench_stratum_server.py --ab /work/wt-old/.venv/bin/python --pairs 4 --seconds 4
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import dataclasses
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

WORKERS = 64
PIPELINE = 32
PACED_WORKERS = 50
PACED_RATE_PER_S = 5000.0


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (fields 14 and 15 of /proc/PID/stat) [s]."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(int(len(ordered) * q), len(ordered) - 1)] if ordered else float("nan")


# -- server process ------------------------------------------------------------------------------


def serve(db: str, max_batch: int) -> None:
    """Demo pool on an ephemeral port; a stdin line resets the latency record, EOF stops it."""
    _raise_fd_limit()
    from hashwatt.miner.demo import DemoJobSource
    from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url

    async def main() -> None:
        wanted: dict[str, Any] = dict(
            start_difficulty=2.0**-40,  # target capped at 2**256-1: every unique header is a share
            min_difficulty=2.0**-40,
            vardiff=False,
            max_rejects_in_row=10**9,
            share_log_max_batch=max_batch,
            handshake_timeout_s=600,
            # One load generator stands for many miners on loopback: lift the per-address and
            # per-connection budgets that protect a public pool from one source.
            max_connections_per_ip=1_000_000,
            message_rate_per_s=1e9,
            message_burst=1e9,
            address_message_rate_per_s=1e9,
            address_message_burst=1e9,
        )
        # An older checkout (--ab) may lack some limits: pass only the fields it knows.
        known = {f.name for f in dataclasses.fields(PoolConfig)}
        config = PoolConfig(**{k: v for k, v in wanted.items() if k in known})
        # No block in the run (a block makes a clean job and every later submit stale).
        source = DemoJobSource(refresh_s=3600, block_expected_hashes=2.0**64)
        server = PoolServer(source, ShareLog(sqlite_url(db)), config)
        await server.start("127.0.0.1", 0, backlog=4096)
        print(json.dumps({"port": server.port, "pid": os.getpid()}), flush=True)
        loop = asyncio.get_running_loop()
        # BENCH_PROFILE_DIR: cProfile the server from start-up to the end of the saturated phase.
        profile_dir = os.environ.get("BENCH_PROFILE_DIR")
        profiler = cProfile.Profile() if profile_dir else None
        if profiler is not None:
            profiler.enable()
        while await loop.run_in_executor(None, sys.stdin.readline):
            server.ack_latency_s.clear()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{profile_dir}/server-{os.getpid()}.prof")
                profiler = None
        lat = list(server.ack_latency_s)
        final = {
            "accepted": server.counters["accepted"],
            "rejected": server.counters["rejected"],
            "rejected_by_code": json.dumps(server.rejected_by_code),
            "commits": server.writer.batches,
            "paced_ack_p50_ms": _percentile_ms(lat, 0.5),
            "paced_ack_p99_ms": _percentile_ms(lat, 0.99),
        }
        print(json.dumps(final), flush=True)
        await server.close()

    asyncio.run(main())


# -- idle miners ----------------------------------------------------------------------------------


async def _open_idle(port: int, n: int) -> list[asyncio.StreamWriter]:
    writers: list[asyncio.StreamWriter] = []
    sem = asyncio.Semaphore(500)

    async def one(i: int) -> None:
        async with sem:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b'{"id":1,"method":"mining.subscribe","params":["bench"]}\n'
                + f'{{"id":2,"method":"mining.authorize","params":["idle.{i}","x"]}}\n'.encode()
            )
            for _ in range(4):  # subscribe, authorize, set_difficulty, notify
                await reader.readline()
            writers.append(writer)

    await asyncio.gather(*(one(i) for i in range(n)))
    return writers


def hold_idle(port: int, n: int) -> None:
    """Idle-miner process: opens ``n`` connections, reports, holds them until stdin closes."""
    _raise_fd_limit()

    async def main() -> None:
        writers = await _open_idle(port, n)
        print(json.dumps({"idle_connections": len(writers)}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for w in writers:
            w.close()

    asyncio.run(main())


# -- load generator -------------------------------------------------------------------------------


async def _miner(port: int, name: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str, str, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(
        b'{"id":1,"method":"mining.subscribe","params":["bench"]}\n'
        + f'{{"id":2,"method":"mining.authorize","params":["{name}","x"]}}\n'.encode()
    )
    size = int(json.loads(await reader.readline())["result"][2])
    await reader.readline()  # authorize
    await reader.readline()  # set_difficulty
    notify = json.loads(await reader.readline())
    return reader, writer, notify["params"][0], notify["params"][7], size


async def _saturating(port: int, wid: int, stop_at: float) -> int:
    reader, writer, job_id, ntime, size = await _miner(port, f"load.{wid}")
    prefix = f'{{"id":3,"method":"mining.submit","params":["load.{wid}","{job_id}","'
    prefix += wid.to_bytes(size, "big").hex() + f'","{ntime}","'
    accepted = 0
    nonce = 0
    loop = asyncio.get_running_loop()
    while loop.time() < stop_at:
        writer.write("".join(f'{prefix}{nonce + i:08x}"]}}\n' for i in range(PIPELINE)).encode())
        nonce += PIPELINE
        for _ in range(PIPELINE):
            accepted += b'"result":true' in await reader.readline()
    writer.close()
    return accepted


async def _paced(port: int, wid: int, rate_per_s: float, stop_at: float, latencies: list[float]) -> int:
    """Open loop: one submit every 1/rate seconds; latency = send -> answer, seen by the miner."""
    reader, writer, job_id, ntime, size = await _miner(port, f"paced.{wid}")
    prefix = f'{{"id":3,"method":"mining.submit","params":["paced.{wid}","{job_id}","'
    prefix += (wid + 1000).to_bytes(size, "big").hex() + f'","{ntime}","'
    sent: collections.deque[float] = collections.deque()
    accepted = 0

    async def answers() -> None:
        nonlocal accepted
        while line := await reader.readline():
            latencies.append(time.perf_counter() - sent.popleft())
            accepted += b'"result":true' in line

    task = asyncio.create_task(answers())
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate_per_s
    next_t = loop.time() + (wid / PACED_WORKERS) * interval
    nonce = 0
    while next_t < stop_at:
        await asyncio.sleep(max(next_t - loop.time(), 0.0))
        sent.append(time.perf_counter())
        writer.write(f'{prefix}{nonce:08x}"]}}\n'.encode())
        nonce += 1
        next_t += interval
    await asyncio.sleep(1.0)
    task.cancel()
    writer.close()
    return accepted


async def _phases(
    info: dict[str, int], seconds: float, idle: int, server_stdin: IO[str], *, paced_phase: bool = True
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    rss0 = _rss_kib(info["pid"])
    result["server_rss_start_mib"] = rss0 / 1024
    holder = None
    if idle:
        holder = subprocess.Popen(
            [sys.executable, __file__, "--hold", str(info["port"]), str(idle)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        t0 = time.perf_counter()
        ready = json.loads(await asyncio.to_thread(holder.stdout.readline))
        rss1 = _rss_kib(info["pid"])
        result["idle_connections"] = ready["idle_connections"]
        result["idle_open_s"] = time.perf_counter() - t0
        result["server_rss_idle_mib"] = rss1 / 1024
        result["memory_per_connection_kib"] = (rss1 - rss0) / max(ready["idle_connections"], 1)
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    cpu0 = _cpu_s(info["pid"])
    own0 = time.process_time()
    stop_at = loop.time() + seconds
    counts = await asyncio.gather(*(_saturating(info["port"], w, stop_at) for w in range(WORKERS)))
    wall_s = time.perf_counter() - t0
    result["saturated_shares_per_s"] = sum(counts) / wall_s
    server_cpu_s = _cpu_s(info["pid"]) - cpu0
    result["saturated_server_cpu_us_per_share"] = 1e6 * server_cpu_s / max(sum(counts), 1)
    result["saturated_server_cpu_busy"] = server_cpu_s / wall_s
    result["saturated_loadgen_cpu_us_per_share"] = 1e6 * (time.process_time() - own0) / max(sum(counts), 1)
    server_stdin.write("reset\n")  # (ends a BENCH_PROFILE_DIR profile)
    server_stdin.flush()
    if paced_phase:
        await asyncio.sleep(0.3)
        latencies: list[float] = []
        paced_s = seconds / 2
        stop_at = loop.time() + paced_s
        paced = await asyncio.gather(
            *(
                _paced(info["port"], w, PACED_RATE_PER_S / PACED_WORKERS, stop_at, latencies)
                for w in range(PACED_WORKERS)
            )
        )
        result["paced_offered_shares_per_s"] = PACED_RATE_PER_S
        result["paced_accepted_shares_per_s"] = sum(paced) / paced_s
        result["paced_miner_p50_ms"] = _percentile_ms(latencies, 0.5)
        result["paced_miner_p99_ms"] = _percentile_ms(latencies, 0.99)
    result["server_rss_end_mib"] = _rss_kib(info["pid"]) / 1024
    if holder is not None:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(60)
    return result


def run_case(
    max_batch: int, seconds: float, idle: int, *, python: str = sys.executable, paced_phase: bool = True
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "shares.db")
        proc = subprocess.Popen(
            [python, __file__, "--serve", db, str(max_batch)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdin is not None
        info = json.loads(proc.stdout.readline())
        result = asyncio.run(_phases(info, seconds, idle, proc.stdin, paced_phase=paced_phase))
        proc.stdin.close()
        final = json.loads(proc.stdout.readline())
        proc.wait(60)
        result.update({f"server_{k}": v for k, v in final.items()})
        with sqlite3.connect(db) as conn:
            result["shares_in_log"] = conn.execute("select count(*) from shares").fetchone()[0]
        return result


def _show(title: str, result: dict[str, Any]) -> None:
    print(title)
    for key, value in result.items():
        if isinstance(value, float):
            print(f"  {key}: {value:,.2f}")
        elif isinstance(value, int):
            print(f"  {key}: {value:,}")
        else:
            print(f"  {key}: {value}")


def ab(old_python: str, pairs: int, seconds: float, idle: int) -> None:
    """Old and new servers alternating (order flipped each pair); CPU per share is the figure."""
    rows: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for i in range(pairs):
        order = [("old", old_python), ("new", sys.executable)]
        for name, python in order if i % 2 == 0 else order[::-1]:
            load1 = os.getloadavg()[0]
            r = run_case(2048, seconds, idle, python=python, paced_phase=False)
            cpu, rate = r["saturated_server_cpu_us_per_share"], r["saturated_shares_per_s"]
            rows[name].append((cpu, rate))
            print(
                f"pair {i + 1} {name}: server {cpu:6.1f} us CPU/share (busy {r['saturated_server_cpu_busy']:.0%}),"
                f" load generator {r['saturated_loadgen_cpu_us_per_share']:6.1f} us/share,"
                f" {rate:7,.0f} shares/s, load average {load1:.2f}",
                flush=True,
            )
    for name, values in rows.items():
        cpus = sorted(c for c, _ in values)
        print(
            f"{name}: median {cpus[len(cpus) // 2]:.1f} us CPU/share (min {cpus[0]:.1f}, max {cpus[-1]:.1f})"
        )
    ratios = sorted(n[0] / o[0] for o, n in zip(rows["old"], rows["new"], strict=True))
    print(
        f"new/old CPU per share, per pair: {', '.join(f'{r:.2f}' for r in ratios)}; median {ratios[len(ratios) // 2]:.2f}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--hold":
        hold_idle(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ab", metavar="PYTHON", help="interleave with the server run by this interpreter")
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args()
    _raise_fd_limit()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    if args.ab:
        ab(args.ab, args.pairs, args.seconds, args.idle)
        return
    main_case = run_case(2048, args.seconds, args.idle)
    _show("hashwatt pool server (group commit):", main_case)
    base = run_case(1, min(args.seconds, 5.0), 0)
    _show("baseline: same server, one share-log transaction per share:", base)
    ratio = main_case["saturated_shares_per_s"] / base["saturated_shares_per_s"]
    print(f"ratio saturated shares/s vs baseline: {ratio:.2f}x")


if __name__ == "__main__":
    main()
