"""Dashboard response times over a large fleet: 10,000 devices and 30 days of rollups (SQLite).

The database holds one site, ``--devices`` devices each with a last good sample, the daily
rollup tier for 30 days and the quarter-hour tier for the last 24 h (both for every device),
and a few hundred open alerts. Requests go through the whole FastAPI stack in process
(``TestClient``, an API token), so the figures are the app's and the database's, not a network's.

Reported: p50/p95 of the overview page (profit today included), the profitability API and
the energy page, the whole-site heat map, the devices page (page 1, 50 rows, sorted by hashrate,
and a search), and a device's 30-day and 24-hour chart queries. Targets: pages < 300 ms and
the 30-day chart < 200 ms at p95.

Baseline, same run: the fleet store's ``views()`` (every device and its last reading, what the
CLI list uses) against the paged query the devices page uses; the ratio is the time per call.

    python bench/bench_web.py [--devices 10000] [--requests 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import insert

from hashwatt.fleet._models import alerts, devices, rollups, samples, sites
from hashwatt.fleet._store import FleetStore, to_ms
from hashwatt.web import Role, UserStore, WebConfig, create_app
from hashwatt.web._queries import DeviceQuery, SortKey, device_page

DAY_MS = 86_400_000
QUARTER_MS = 900_000


def populate(store: FleetStore, n_devices: int) -> None:
    rng = random.Random(1)
    now = dt.datetime.now(dt.UTC)
    now_ms = to_ms(now)
    with store.engine.begin() as c:
        site_id = c.execute(
            insert(sites).values(name="big", created_ms=now_ms).returning(sites.c.id)
        ).scalar_one()
        c.execute(
            insert(devices),
            [
                {
                    "id": i + 1,
                    "site_id": site_id,
                    "host": f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}",
                    "api_port": 4028,
                    "http_port": 80,
                    "v3_port": 4433,
                    "model": rng.choice(["Antminer S19 Pro", "Antminer S21", "Whatsminer M60S"]),
                    "firmware": rng.choice(["stock", "luxos", "whatsminer"]),
                    "serial": f"SN{i:08d}",
                    "rack": f"R{i // 40:03d}",
                    "position": str(i % 40),
                    "factory_credentials": False,
                    "first_seen_ms": now_ms - 40 * DAY_MS,
                    "last_poll_ms": now_ms - 10_000,
                    "last_outcome": "ok" if i % 50 else "unreachable",
                    "last_ok_ms": now_ms - 10_000,
                    "state": "mining" if i % 17 else "sleeping",
                }
                for i in range(n_devices)
            ],
        )
        c.execute(
            insert(samples),
            [
                {
                    "device_id": i + 1,
                    "time_ms": now_ms - 10_000,
                    "outcome": "ok",
                    "state": "mining",
                    "hashrate_ths": rng.uniform(90, 200),
                    "expected_hashrate_ths": 150.0,
                    "power_w": rng.uniform(3000, 3600),
                    "power_estimated": False,
                    "temp_chip_max_c": rng.uniform(55, 85),
                }
                for i in range(n_devices)
            ],
        )
        day0 = (now_ms // DAY_MS) * DAY_MS
        q0 = (now_ms // QUARTER_MS) * QUARTER_MS

        def bucket(device_id: int, tier: str, b: int) -> dict[str, object]:
            h = rng.uniform(90, 200)
            return {
                "device_id": device_id,
                "tier": tier,
                "bucket_ms": b,
                "n_samples": 15,
                "n_ok": 15,
                "hashrate_ths_avg": h,
                "hashrate_ths_min": h - 5,
                "hashrate_ths_max": h + 5,
                "expected_hashrate_ths_avg": 150.0,
                "power_w_avg": rng.uniform(3000, 3600),
                "n_power": 15,
                "n_power_estimated": 0,
                "temp_chip_max_c": rng.uniform(55, 85),
                "temp_board_max_c": 60.0,
                "temp_inlet_c_avg": 25.0,
            }

        for d in range(1, n_devices + 1):
            rows = [bucket(d, "1d", day0 - k * DAY_MS) for k in range(1, 31)]
            rows += [bucket(d, "15m", q0 - k * QUARTER_MS) for k in range(1, 97)]
            c.execute(insert(rollups), rows)
        c.execute(
            insert(alerts),
            [
                {
                    "device_id": d,
                    "rule": "chip_temp",
                    "severity": "critical",
                    "state": "open",
                    "open_key": f"{d}:chip_temp",
                    "message": "chip too hot",
                    "opened_ms": now_ms - 3600_000,
                }
                for d in range(1, n_devices + 1, 37)
            ],
        )


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 2 else xs[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        store = FleetStore.open(f"sqlite:///{Path(d) / 'fleet.db'}")
        t0 = time.perf_counter()
        populate(store, args.devices)
        print(
            f"populated {args.devices} devices, 30 d of daily + 24 h of 15-min rollups in {time.perf_counter() - t0:.1f} s"
        )
        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        users = UserStore(store.engine, hasher=hasher)
        user = users.add("bench", "bench-password-1", Role.VIEWER)
        token = users.add_token(user, "bench", Role.VIEWER)
        client = TestClient(create_app(store, WebConfig(password_hasher=hasher)))
        h = {"Authorization": f"Bearer {token}"}

        def get(url: str) -> Callable[[], object]:
            def call() -> object:
                r = client.get(url, headers=h)
                assert r.status_code == 200, (url, r.status_code)
                return r

            return call

        mid = args.devices // 2
        cases = {
            "overview page (HTML)": get("/"),
            "overview (API)": get("/api/v1/overview"),
            "profitability (API)": get("/api/v1/profitability"),
            "energy page (HTML)": get("/energy"),
            "heat map, whole site (API)": get("/api/v1/heatmap"),
            "devices page (HTML shell)": get("/devices"),
            "devices page 1, by hashrate": get("/api/v1/devices?sort=hashrate_ths&order=desc&per_page=50"),
            "devices search 'R12'": get("/api/v1/devices?q=R12&per_page=50"),
            "devices page 100, by rack": get("/api/v1/devices?sort=rack&page=100&per_page=50"),
            "device chart 30 d": get(f"/api/v1/devices/{mid}/series?span=30d"),
            "device chart 24 h": get(f"/api/v1/devices/{mid}/series?span=24h"),
            "device detail": get(f"/api/v1/devices/{mid}"),
        }
        targets = {"device chart 30 d": 200.0}
        print(f"{'request':32s} {'p50 ms':>8s} {'p95 ms':>8s} {'target':>8s}")
        for name, fn in cases.items():
            fn()  # warm
            xs = timed(fn, args.requests)
            target = targets.get(name, 300.0)
            flag = "ok" if p95(xs) < target else "OVER"
            print(f"{name:32s} {statistics.median(xs):8.1f} {p95(xs):8.1f} {target:8.0f} {flag}")
        paged = timed(
            lambda: device_page(store.engine, DeviceQuery(sort=SortKey.HASHRATE, descending=True)), 10
        )
        full = timed(lambda: store.views(), 3)
        ratio = statistics.median(full) / statistics.median(paged)
        print(
            f"baseline: store.views() {statistics.median(full):.0f} ms vs paged query {statistics.median(paged):.1f} ms "
            f"per call: ratio {ratio:.1f}x"
        )
        store.close()


if __name__ == "__main__":
    main()
