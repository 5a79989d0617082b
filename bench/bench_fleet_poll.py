"""Fleet agent and scanner load: N device twins in another process, one site agent keeping them on a cycle.

Phase 1 (scan): a /22 (1,022 addresses) of which 25 % have no twin; reports addresses/s.
Phase 2 (agent): the real site agent (``hashwatt fleet agent``'s path: inventory -> paced polls
-> samples in the database -> alert rules -> retention) keeps N twins (stock, LuxOS,
Whatsminer 2.x and 3.x) on an ``--interval`` cycle for ``--cycles`` cycles, with the store in
the loop (SQLite WAL in a temporary folder, or ``--db URL``). Per cycle it prints the start
drift, the duration, the agent's and the twins' CPU time per device poll (each process
measured apart, so a shared machine's other load does not count) and the missed cycles.

Baselines, same run: a naive reader of the same devices that opens one connection per command
(no multi-command batching); and the alert rules over the database's whole rule window (as
before the kept window) against the agent's kept window. The previous code path's figures
(1.60-1.66 agent CPU-ms per poll without the store; 39-61 % timeouts at 10,000 twins) are in
docs/PERFORMANCE.md.

    python bench/bench_fleet_poll.py [--count 10000] [--interval 60] [--cycles 2] [--sample 500]
        [--spread FRACTION] [--db URL] [--skip-scan]

``HASHWATT_EVENT_LOOP=asyncio`` runs both processes on asyncio's own loop instead of uvloop.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert

from hashwatt._aio import event_loop_name, run
from hashwatt.fleet import (
    Device,
    Endpoint,
    Firmware,
    PollResult,
    adapter_for,
    parse_range,
    scan,
)
from hashwatt.fleet._agent import Agent, AgentConfig, CycleReport
from hashwatt.fleet._alerts import evaluate_alerts
from hashwatt.fleet._device_layer import NetworkDeviceLayer, pace_for
from hashwatt.fleet._discovery import catalog_efficiency_j_per_th
from hashwatt.fleet._models import devices as devices_table
from hashwatt.fleet._store import FleetStore, to_ms
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
    from hashwatt._aio import run
    groups = json.loads(sys.argv[1]); offset = int(sys.argv[2])
    spec = SiteSpec(seed=1, ramp_seconds=0, group=[GroupSpec(model=m, firmware=Firmware(f), count=n, range=r)
                                                  for m, f, n, r in groups])
    async def main():
        clock = Clock()
        server = SiteServer(build_twins(spec, now_s=clock.now()), ports=Ports.offset(offset), clock=clock)
        await server.start()
        print("ready", flush=True)
        await asyncio.Event().wait()
    run(main())
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


SITE = "bench"


def _inventory(store: FleetStore, groups: list[tuple[str, str, int, str]]) -> list[Device]:
    """The twins as an inventory after discovery (one bulk insert), and their adapters."""
    site_id = store.ensure_site(SITE)
    rows, out = [], []
    for model, fw, _n, rng in groups:
        make = model.split()[0]
        eff = catalog_efficiency_j_per_th(model)
        for host in parse_range(rng):
            ep = _endpoint(host)
            rows.append(
                {
                    "site_id": site_id,
                    "host": ep.host,
                    "api_port": ep.api_port,
                    "http_port": ep.http_port,
                    "v3_port": ep.v3_port,
                    "make": make,
                    "model": model,
                    "catalog_model": model,
                    "firmware": fw,
                    "firmware_version": "",
                    "factory_credentials": True,
                    "first_seen_ms": to_ms(dt.datetime.now(dt.UTC)),
                }
            )
            out.append(adapter_for(Firmware(fw), ep, efficiency_j_per_th=eff, timeout_s=5.0))
    with store.engine.begin() as c:
        c.execute(insert(devices_table), rows)
    return out


async def _agent_phase(
    count: int, interval_s: float, cycles: int, sample: int, spread: float | None, db: str | None
) -> dict[str, object]:
    hosts = parse_range(f"127.89.0.1-127.89.{(count - 1) // 256}.{(count - 1) % 256 + 1}")[:count]
    groups = _groups(hosts)
    tmp = tempfile.TemporaryDirectory(prefix="hashwatt-bench-")
    url = db or f"sqlite:///{Path(tmp.name) / 'fleet.db'}"
    store = FleetStore.open(url)
    proc = _start_twins(groups)
    try:
        devices = _inventory(store, groups)
        deadline_s = min(10.0, interval_s / 2)
        spread_s = pace_for(interval_s, deadline_s) if spread is None else spread * interval_s
        layer = NetworkDeviceLayer(store, SITE, deadline_s=deadline_s, spread_s=spread_s)
        poll_cpu: list[float] = []
        outcomes: list[Counter[str]] = []

        async def timed_poll(endpoints: Sequence[Endpoint]) -> Sequence[PollResult]:
            cpu0 = time.process_time()
            try:
                results = await layer.poll(endpoints)
            finally:
                poll_cpu.append(time.process_time() - cpu0)
            outcomes.append(Counter(r.outcome.value for r in results))
            return results

        agent = Agent(store, AgentConfig(site=SITE, interval_s=interval_s), poll=timed_poll)
        rows: list[dict[str, object]] = []
        origin = time.monotonic()
        marks = {"cpu": time.process_time(), "twin": _cpu_s(proc.pid)}

        def on_cycle(r: CycleReport) -> None:
            now = time.monotonic()
            cpu, twin = time.process_time(), _cpu_s(proc.pid)
            k = len(rows)
            started = now - r.duration_s
            agent_cpu, twin_cpu = cpu - marks["cpu"], twin - marks["twin"]
            marks.update(cpu=cpu, twin=twin)
            row = {
                "cycle": k,
                "start_drift_s": round(started - (origin + k * interval_s), 2),
                "duration_s": round(r.duration_s, 1),
                "ok": r.ok,
                "failed": r.failed,
                "outcomes": dict(outcomes[-1]),
                "agent_cpu_s": round(agent_cpu, 1),
                "agent_cpu_ms_per_poll": round(agent_cpu * 1e3 / max(1, r.polled), 2),
                "of_which_polling_ms": round(poll_cpu[-1] * 1e3 / max(1, r.polled), 2),
                "twin_cpu_ms_per_poll": round(twin_cpu * 1e3 / max(1, r.polled), 2),
                "load_1min": round(os.getloadavg()[0], 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

        load0 = os.getloadavg()[0]
        await agent.run(asyncio.Event(), on_cycle=on_cycle, max_cycles=cycles)
        wall = time.monotonic() - origin
        total_polls = sum(int(str(r["ok"])) + int(str(r["failed"])) for r in rows)
        agent_cpu_total = sum(float(str(r["agent_cpu_s"])) for r in rows)
        twin_cpu_total = sum(
            float(str(r["twin_cpu_ms_per_poll"])) * (int(str(r["ok"])) + int(str(r["failed"]))) / 1e3
            for r in rows
        )

        # The alert rules over the whole window (the path before the kept window), same data.
        now = dt.datetime.now(dt.UTC)
        cpu0 = time.process_time()
        evaluate_alerts(store, SITE, now=now)
        full_read_cpu = time.process_time() - cpu0

        # Naive per-command reads vs the adapters, cgminer-API devices.
        subset = [d for d in devices if d.firmware.value in ("luxos", "whatsminer")][:sample]
        sem = asyncio.Semaphore(64)

        async def naive(d: Device) -> None:
            async with sem:
                await _naive_read(d)

        async def ours(d: Device) -> None:
            async with sem:
                await d.read()

        cpu0 = time.process_time()
        await asyncio.gather(*(naive(d) for d in subset))
        naive_cpu = time.process_time() - cpu0
        cpu0 = time.process_time()
        await asyncio.gather(*(ours(d) for d in subset))
        ours_cpu = time.process_time() - cpu0
    finally:
        proc.kill()
        proc.wait()
        store.close()
        tmp.cleanup()
    budget = os.cpu_count() or 1
    return {
        "devices": len(devices),
        "event_loop": event_loop_name(),
        "database": store.dialect,
        "interval_s": interval_s,
        "spread_s": spread_s,
        "cycles": rows,
        "missed_cycles": agent.missed_cycles,
        "failed_cycles": agent.failed_cycles,
        "wall_s": round(wall, 1),
        "agent_cpu_ms_per_poll": round(agent_cpu_total * 1e3 / max(1, total_polls), 2),
        "twin_cpu_ms_per_poll": round(twin_cpu_total * 1e3 / max(1, total_polls), 2),
        "cpu_s_per_cycle_agent_plus_twins": round((agent_cpu_total + twin_cpu_total) / max(1, len(rows)), 1),
        "cpu_s_per_cycle_available": round(budget * interval_s, 1),
        "load_average_1min_start": round(load0, 1),
        "alerts_full_window_read_cpu_s": round(full_read_cpu, 2),
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
    parser.add_argument(
        "--spread",
        type=float,
        default=None,
        help="fraction of the interval polls start over (default: the agent's)",
    )
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--skip-scan", action="store_true")
    args = parser.parse_args()
    _raise_fd_limit()
    out: dict[str, object] = {}
    if not args.skip_scan:
        out["scan_22"] = run(_scan_phase())
        print(json.dumps({"scan_22": out["scan_22"]}), flush=True)
    out["agent"] = run(
        _agent_phase(args.count, args.interval, args.cycles, args.sample, args.spread, args.db)
    )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
