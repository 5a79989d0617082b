"""Benchmark: a site of 10,000 device twins in one process.

Measures start-up time (building the twins, opening the listeners), memory per twin (RSS
growth / twins), open files, and cgminer API replies per server CPU-second with a client in
another process. The same figures for a 10-twin site, measured in the same run, are the
baseline: the ratio shows what serving 10,000 addresses costs per reply.

Run: .venv/bin/python bench/bench_twin.py [--twins 10000] [--seconds 10]
(shared listeners on 0.0.0.0 pinned to `lo`, ports 80/4028/4433 + an offset, so it needs no root.)
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import random
import resource
import time

from hashwatt.minerapi import decode_reply, encode_request
from hashwatt.twin import Clock, GroupSpec, Ports, SiteServer, SiteSpec, build_twins

PORT_OFFSET = 31000 + os.getpid() % 1000


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _client(hosts: list[str], port: int, seconds: float, concurrency: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    async def worker(deadline: float, counts: list[int]) -> None:
        rng = random.Random()
        payload = encode_request("summary")
        while time.monotonic() < deadline:
            reader, writer = await asyncio.open_connection(rng.choice(hosts), port)
            writer.write(payload)
            await writer.drain()
            reply = await reader.read(1 << 20)
            writer.close()
            decode_reply(reply)
            counts[0] += 1

    async def main() -> int:
        counts = [0]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(worker(deadline, counts) for _ in range(concurrency)))
        return counts[0]

    out.put(asyncio.run(main()))


async def measure(n: int, seconds: float, concurrency: int, subnet: str) -> dict[str, float]:
    rss0, fds0 = _rss_kib(), _open_files()
    t0 = time.perf_counter()
    group = GroupSpec(model="S19 Pro", firmware="stock", count=n, range=f"{subnet}.0.1-{subnet}.255.254")
    spec = SiteSpec(seed=1, ramp_seconds=0, group=[group])
    clock = Clock()
    twins = build_twins(spec, now_s=clock.now())
    built = time.perf_counter()
    server = SiteServer(twins, ports=Ports.offset(PORT_OFFSET), clock=clock, mode="shared")
    await server.start()
    started = time.perf_counter()
    rss1, fds1 = _rss_kib(), _open_files()
    queue: mp.Queue[int] = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(
        target=_client, args=([t.host for t in twins], server.ports.rpc, seconds, concurrency, queue)
    )
    cpu0 = time.process_time()
    proc.start()
    loop = asyncio.get_running_loop()
    replies = await loop.run_in_executor(None, queue.get)
    await loop.run_in_executor(None, proc.join)
    cpu = time.process_time() - cpu0
    await server.close()
    return {
        "twins": n,
        "build_s": built - t0,
        "listen_s": started - built,
        "rss_per_twin_kib": (rss1 - rss0) / n,
        "open_files": fds1 - fds0,
        "replies": replies,
        "replies_per_s": replies / seconds,
        "replies_per_server_cpu_s": replies / cpu if cpu else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--twins", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, open-file limit {soft}/{hard}"
    )
    base = asyncio.run(measure(10, args.seconds, args.concurrency, "127.61"))
    big = asyncio.run(measure(args.twins, args.seconds, args.concurrency, "127.62"))
    for r in (base, big):
        print(
            f"{r['twins']:>6} twins: build {r['build_s']:.2f} s, listen {r['listen_s'] * 1000:.0f} ms, "
            f"{r['rss_per_twin_kib']:.1f} KiB/twin, +{r['open_files']:.0f} open files, "
            f"{r['replies_per_s']:.0f} replies/s, {r['replies_per_server_cpu_s']:.0f} replies per server CPU-s"
        )
    ratio = big["replies_per_server_cpu_s"] / base["replies_per_server_cpu_s"]
    print(f"ratio replies per server CPU-s, {args.twins} twins / 10 twins: {ratio:.2f}")


if __name__ == "__main__":
    main()
