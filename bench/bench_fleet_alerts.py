"""Alert rules at site scale: the agent's kept sample window against a full read of the window.

N devices of one site get one stored sample a minute (``FleetStore.record``, SQLite WAL in a
temporary folder or ``--db URL``); after each cycle the alert rules run twice on the same data:
with the agent's :class:`~hashwatt.fleet._alerts.SampleWindow` (only the new rows are read) and
with a full read of the rule window (the path before the kept window, still what a call
without a window does). The full read grows with the history kept (up to the 60-minute
reboot-loop window); the kept window stays flat. Prints CPU seconds per cycle of each and
their ratio, and checks that both opened and resolved the same alerts.

Then the memory the kept window costs per sample (``tracemalloc``, the stored rows read back
once more): the full stored sample it held before (``StoredSample`` with its ``Telemetry``,
boards and pools) against the slim one it holds now (``KeptReading``/``KeptMiss``), built from
the same rows in the same run, and the whole ``SampleWindow`` (slim samples plus its time index).

    python bench/bench_fleet_alerts.py [--devices 10000] [--cycles 8] [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from hashwatt.fleet._alerts import SampleWindow, evaluate_alerts, kept_sample
from hashwatt.fleet._models import devices, samples
from hashwatt.fleet._store import FleetStore, stored_sample, to_ms
from hashwatt.fleet._types import (
    BoardReading,
    DeviceIdentity,
    DeviceState,
    Endpoint,
    Firmware,
    PollOutcome,
    PollResult,
    PoolReading,
    Telemetry,
)

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
IDENTITY = DeviceIdentity(
    "Antminer", "Antminer S19 Pro", Firmware.STOCK, "bench", None, None, catalog_model="Antminer S19 Pro"
)


def _results(endpoints: list[Endpoint], minute: int) -> list[PollResult]:
    now = T0 + dt.timedelta(minutes=minute)
    out = []
    for i, ep in enumerate(endpoints):
        if i % 100 == 0:  # one device in a hundred does not answer
            out.append(
                PollResult(ep, now, PollOutcome.TIMEOUT, None, 5000.0, f"{ep.address}: timeout", IDENTITY)
            )
            continue
        telemetry = Telemetry(
            time_utc=now,
            state=DeviceState.MINING,
            hashrate_ths=110.0 - (i % 7),
            expected_hashrate_ths=110.0,
            power_w=3250.0,
            power_estimated=True,
            temp_chip_max_c=70.0 + (i % 5),
            temp_board_max_c=60.0,
            temp_inlet_c=None,
            fans_rpm=(5400, 5400, 5400, 5400),
            boards=tuple(BoardReading(b, 36.6, 36.6, 114, None, 70.0, 60.0) for b in range(3)),
            pools=tuple(
                PoolReading(p, "stratum+tcp://pool:3333", "u", "alive", p == 0, 100, 1, 0) for p in range(3)
            ),
            accepted=1000 + 10 * minute,
            rejected=2,
            stale=0,
            hardware_errors=0,
            uptime_s=86_400 + 60 * minute,
        )
        out.append(PollResult(ep, now, PollOutcome.OK, telemetry, 5.0, "", IDENTITY))
    return out


def _bytes_per_sample(store: FleetStore, build: Callable[[Any], object]) -> tuple[float, int]:
    """Bytes held per sample by a list of ``build(row)`` over every stored row, counted from
    the read on (the rows themselves are dropped, as in the window), and the sample count."""
    gc.collect()
    tracemalloc.start()
    with store.engine.connect() as c:
        before = tracemalloc.get_traced_memory()[0]
        kept = [build(r) for r in c.execute(select(samples).order_by(samples.c.id))]
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / max(1, len(kept)), len(kept)


def _window_bytes_per_sample(store: FleetStore, site_id: int) -> float:
    gc.collect()
    tracemalloc.start()
    window = SampleWindow()
    with store.engine.connect() as c:
        before = tracemalloc.get_traced_memory()[0]
        window.samples(c, site_id, since_ms=0, until_ms=2**62)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / max(1, window.rows_read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hashwatt-bench-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'fleet.db'}"
        endpoints = [Endpoint(f"127.90.{i // 250}.{i % 250 + 1}", 4028) for i in range(args.devices)]
        window = SampleWindow()
        rows = []
        with FleetStore.open(url) as store:
            site_id = store.ensure_site("bench")
            with store.engine.begin() as c:  # the inventory after discovery, in one insert
                c.execute(
                    insert(devices),
                    [
                        {
                            "site_id": site_id,
                            "host": e.host,
                            "api_port": e.api_port,
                            "http_port": e.http_port,
                            "v3_port": e.v3_port,
                            "make": IDENTITY.make,
                            "model": IDENTITY.model,
                            "catalog_model": IDENTITY.catalog_model,
                            "firmware": IDENTITY.firmware.value,
                            "firmware_version": IDENTITY.firmware_version,
                            "factory_credentials": False,
                            "first_seen_ms": to_ms(T0),
                        }
                        for e in endpoints
                    ],
                )
            for minute in range(args.cycles):
                now = T0 + dt.timedelta(minutes=minute)
                cpu0 = time.process_time()
                store.record("bench", _results(endpoints, minute))
                cpu1 = time.process_time()
                kept = evaluate_alerts(store, "bench", now=now, window=window)
                cpu2 = time.process_time()
                # The same data read in full: alerts are already open, so it opens nothing more
                # unless it disagrees with the kept window.
                again = evaluate_alerts(store, "bench", now=now)
                cpu3 = time.process_time()
                row = {
                    "cycle": minute,
                    "record_cpu_s": round(cpu1 - cpu0, 2),
                    "alerts_kept_window_cpu_s": round(cpu2 - cpu1, 2),
                    "alerts_full_read_cpu_s": round(cpu3 - cpu2, 2),
                    "ratio": round((cpu3 - cpu2) / max(1e-9, cpu2 - cpu1), 2),
                    "opened": sum(c.event == "opened" for c in kept),
                    "disagreements": len(again),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
            _bytes_per_sample(store, stored_sample)  # warm the statement cache: not counted
            full_b, n = _bytes_per_sample(store, stored_sample)
            slim_b, _ = _bytes_per_sample(store, lambda r: kept_sample(stored_sample(r)))
            window_b = _window_bytes_per_sample(store, site_id)
            memory = {
                "samples": n,
                "full_sample_bytes": round(full_b),
                "slim_sample_bytes": round(slim_b),
                "ratio": round(full_b / max(1e-9, slim_b), 1),
                "window_bytes_per_sample": round(window_b),
            }
            print(json.dumps(memory), flush=True)
        print(json.dumps({"devices": args.devices, "database": url.split(":", 1)[0], "cycles": len(rows)}))


if __name__ == "__main__":
    main()
