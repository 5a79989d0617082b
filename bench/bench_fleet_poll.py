"""Fleet poller and scanner load: N device twins in another process, one poller keeping them on a cycle.

Phase 1 (scan): a /22 (1,022 addresses) of which 25 % have no twin; reports addresses/s.
Phase 2 (poll): the poller keeps N twins (a mix of stock, LuxOS, Whatsminer 2.x and 3.x) on an
``--interval`` cycle for ``--cycles`` cycles; reports each cycle's duration, CPU-ms per device poll
(this process only) and missed cycles. The sink receives every result (it counts them).

Baseline, same run: a naive reader of the same devices that opens one connection per command
(no multi-command batching), as clients without a metric -> command map do; the ratio is polls
per CPU-second of this process, hashwatt's adapters over the naive reader.

The twins run in a child process (``hashwatt.twin`` SiteServer, one shared listener per port on
``lo``, offset ports), so this process's CPU time is the poller's alone.

    python bench/bench_fleet_poll.py [--count 10000] [--interval 60] [--cycles 2] [--sample 500] [--concurrency 128]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Sequence

from hashwatt.fleet import (
    Device,
    Endpoint,
    Firmware,
    Poller,
    PollResult,
    adapter_for,
    parse_range,
    scan,
)
from hashwatt.fleet._discovery import catalog_efficiency_j_per_th
from hashwatt.fleet._transport import cgminer_request

OFFSET = 41000
MIX = (
    ("Antminer S19 Pro", "stock"),
    ("Antminer S19j Pro", "luxos"),
    ("Whatsminer M30S+", "whatsminer"),
    ("Whatsminer M60S", "whatsminer-v3"),
)

SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from hashwatt.twin import Clock, GroupSpec, Ports, SiteServer, SiteSpec, build_twins
    from hashwatt.twin import Firmware
    groups = json.loads(sys.argv[1]); offset = int(sys.argv[2])
    spec = SiteSpec(seed=1, ramp_seconds=0, group=[GroupSpec(model=m, firmware=Firmware(f), count=n, range=r)
                                                  for m, f, n, r in groups])
    async def main():
        clock = Clock()
        server = SiteServer(build_twins(spec, now_s=clock.now()), ports=Ports.offset(offset), clock=clock)
        await server.start()
        print("ready", flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _groups(hosts: Sequence[str]) -> list[tuple[str, str, int, str]]:
    """Split ``hosts`` (consecutive) into one group per firmware of MIX."""
    out = []
    per = len(hosts) // len(MIX)
    for i, (model, fw) in enumerate(MIX):
        chunk = hosts[i * per : (i + 1) * per] if i < len(MIX) - 1 else hosts[i * per :]
        if chunk:
            out.append((model, fw, len(chunk), f"{chunk[0]}-{chunk[-1]}"))
    return out


def _start_twins(groups: list[tuple[str, str, int, str]]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps(groups), str(OFFSET)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise SystemExit("error: the twin process did not start")
    return proc


def _cpu_s(pid: int) -> float:
    """User + system CPU time of a process [s] (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _endpoint(host: str) -> Endpoint:
    return Endpoint(host, api_port=4028 + OFFSET, http_port=80 + OFFSET, v3_port=4433 + OFFSET)


async def _scan_phase() -> dict[str, float]:
    block = parse_range("127.88.0.0/22")
    live = block[: int(len(block) * 0.75)]
    proc = _start_twins(_groups(live))
    try:
        t0, cpu0 = time.monotonic(), time.process_time()
        result = await scan(block, endpoint_for=_endpoint, timeout_s=5.0, concurrency=128)
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    finally:
        proc.kill()
        proc.wait()
    return {
        "addresses": len(block),
        "found": len(result.found),
        "dead": len(result.failed),
        "wall_s": round(wall, 2),
        "addresses_per_s": round(len(block) / wall, 1),
        "cpu_ms_per_address": round(cpu * 1e3 / len(block), 2),
    }


async def _naive_read(device: Device) -> None:
    """One connection per command, the commands of the device's metric map, in sequence."""
    for command in device.commands_for(device.METRICS):
        await cgminer_request(device.endpoint.host, device.endpoint.api_port, command, timeout_s=5.0)


async def _poll_phase(
    count: int, interval_s: float, cycles: int, sample: int, concurrency: int
) -> dict[str, object]:
    hosts = parse_range(f"127.89.0.1-127.89.{(count - 1) // 256}.{(count - 1) % 256 + 1}")[:count]
    proc = _start_twins(_groups(hosts))
    try:
        # The inventory is known (the site file): adapters straight from it, as an agent does
        # after discovery; efficiency for stock power estimates from the catalog.
        devices: list[Device] = []
        for model, fw, _n, rng in _groups(hosts):
            eff = catalog_efficiency_j_per_th(model)
            for host in parse_range(rng):
                devices.append(
                    adapter_for(Firmware(fw), _endpoint(host), efficiency_j_per_th=eff, timeout_s=5.0)
                )
        counts: Counter[str] = Counter()

        def sink(batch: Sequence[PollResult]) -> None:
            for r in batch:
                counts[r.outcome.value] += 1

        twin_cpu0, load0 = _cpu_s(proc.pid), os.getloadavg()[0]
        poller = Poller(
            devices, sink, interval_s=interval_s, deadline_s=min(10.0, interval_s / 2), concurrency=512
        )
        stats = await poller.run(asyncio.Event(), cycles=cycles)
        twin_cpu, load1 = _cpu_s(proc.pid) - twin_cpu0, os.getloadavg()[0]

        # Baseline in the same process: naive per-command reads vs the adapters, cgminer-API devices.
        subset = [d for d in devices if d.firmware.value in ("luxos", "whatsminer")][:sample]
        sem = asyncio.Semaphore(256)

        async def bounded(coro_fn, d):  # type: ignore[no-untyped-def]
            async with sem:
                await coro_fn(d)

        cpu0 = time.process_time()
        await asyncio.gather(*(bounded(_naive_read, d) for d in subset))
        naive_cpu = time.process_time() - cpu0
        cpu0 = time.process_time()
        await asyncio.gather(*(bounded(lambda d: d.read(), d) for d in subset))
        ours_cpu = time.process_time() - cpu0
    finally:
        proc.kill()
        proc.wait()
    return {
        "devices": len(devices),
        "cycles": [
            {
                "duration_s": round(s.duration_s, 2),
                "cpu_ms_per_poll": round(s.cpu_ms_per_poll, 3),
                "ok": s.ok,
                "late_s": round(s.late_s, 3),
                "outcomes": {k.value: v for k, v in s.outcomes.items()},
            }
            for s in stats
        ],
        "missed_cycles": poller.missed_cycles,
        "twin_process_cpu_s": round(twin_cpu, 1),
        "poller_wall_s": round(sum(s.duration_s for s in stats), 1),
        "load_average_1min": [round(load0, 1), round(load1, 1)],
        "sink_results": dict(counts),
        "baseline_sample": len(subset),
        "polls_per_cpu_s_adapters": round(len(subset) / ours_cpu, 1),
        "polls_per_cpu_s_naive": round(len(subset) / naive_cpu, 1),
        "ratio": round(naive_cpu / ours_cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()
    _raise_fd_limit()
    out: dict[str, object] = {}
    if not args.skip_scan:
        out["scan_22"] = asyncio.run(_scan_phase())
        print(json.dumps({"scan_22": out["scan_22"]}), flush=True)
    out["poll"] = asyncio.run(
        _poll_phase(args.count, args.interval, args.cycles, args.sample, args.concurrency)
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
