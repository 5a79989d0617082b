"""Fleet storage: bytes per device-day at each tier (raw, 15-minute, daily), SQLite and PostgreSQL.

One simulated day of 60 s polls for N devices (3 boards, 4 fans, 3 pools, 1 poll in 50 failing)
goes through ``FleetStore.record`` one cycle per transaction, as the agent writes it; then the
rollup job runs. Sizes include each table's indexes (SQLite ``dbstat``, PostgreSQL
``pg_total_relation_size`` after VACUUM); the rollups table is split between its tiers by row
count (its rows are fixed-width).

Baseline, same process: the naive store, one JSON document of the whole reading per poll
(``id, device, time, doc``), written with the same batching. Ratios are baseline / hashwatt for
bytes, and hashwatt / baseline for polls written per CPU-second.

    python bench/bench_fleet_storage.py [--devices 50] [--hours 24] [--postgres URL]

PostgreSQL is used when ``--postgres`` or HASHWATT_TEST_POSTGRES_URL is given; the run creates
and drops its own schema.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine, make_url

from hashwatt.fleet import (
    BoardReading,
    DeviceState,
    Endpoint,
    PollOutcome,
    PollResult,
    PoolReading,
    Telemetry,
)
from hashwatt.fleet._models import rollups, samples
from hashwatt.fleet._rollup import rollup
from hashwatt.fleet._store import FleetStore

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DAY_S = 86_400.0

naive_meta = MetaData()
naive = Table(
    "naive_polls",
    naive_meta,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("device", Integer, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("doc", JSON, nullable=False),
)


def _reading(rng: random.Random, i: int, t: dt.datetime, minute: int) -> PollResult:
    ep = Endpoint(f"10.{i // 250}.{i % 250}.10", 4028)
    if rng.random() < 0.02:
        return PollResult(ep, t, PollOutcome.TIMEOUT, None, 3000.0, error="no answer within 3.0 s")
    boards = tuple(
        BoardReading(b, 36.6 + rng.gauss(0, 0.8), 36.7, 114, 114, 68 + rng.gauss(0, 2), 58 + rng.gauss(0, 2))
        for b in range(3)
    )
    pools = tuple(
        PoolReading(
            p,
            f"stratum+tcp://pool{p}.example.com:3333",
            "acct.worker1",
            "alive",
            p == 0,
            20_000 + minute * 7,
            12,
            1,
        )
        for p in range(3)
    )
    hashrate = sum(b.hashrate_ths or 0 for b in boards)
    tel = Telemetry(
        time_utc=t,
        state=DeviceState.MINING,
        hashrate_ths=hashrate,
        expected_hashrate_ths=110.0,
        power_w=3250 + rng.gauss(0, 20),
        power_estimated=False,
        temp_chip_max_c=max(b.temp_chip_c or 0 for b in boards),
        temp_board_max_c=max(b.temp_board_c or 0 for b in boards),
        temp_inlet_c=24 + rng.gauss(0, 0.5),
        fans_rpm=tuple(int(5400 + rng.gauss(0, 60)) for _ in range(4)),
        boards=boards,
        pools=pools,
        accepted=20_000 + minute * 7,
        rejected=12,
        stale=1,
        hardware_errors=40,
        uptime_s=400_000 + minute * 60,
    )
    return PollResult(ep, t, PollOutcome.OK, tel, 11.0)


def _doc(r: PollResult) -> dict[str, Any]:
    return {
        "address": r.endpoint.address,
        "outcome": r.outcome.value,
        "error": r.error,
        "telemetry": json.loads(json.dumps(dataclasses.asdict(r.telemetry), default=str))
        if r.telemetry
        else None,
    }


def _cycles(devices: int, hours: float) -> list[list[PollResult]]:
    rng = random.Random(7)
    return [
        [_reading(rng, i, T0 + dt.timedelta(minutes=m), m) for i in range(devices)]
        for m in range(int(hours * 60))
    ]


def _sizes(engine: Engine, tables: dict[str, list[str]]) -> dict[str, int]:
    """Bytes of each table with its indexes."""
    out = {}
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            for name, objs in tables.items():
                marks = ",".join(f"'{o}'" for o in objs)
                out[name] = int(
                    c.exec_driver_sql(
                        f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({marks})"
                    ).scalar()
                    or 0
                )
        else:
            for name in tables:
                out[name] = int(
                    c.execute(text("SELECT pg_total_relation_size(:t)"), {"t": name}).scalar() or 0
                )
    return out


def _index_names(engine: Engine, table: str) -> list[str]:
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT name FROM sqlite_master WHERE tbl_name = ?", (table,)).all()
    return [r[0] for r in rows]


def _vacuum(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE")


def run(url: str, label: str, cycles: list[list[PollResult]], devices: int, hours: float) -> dict[str, Any]:
    store = FleetStore.open(url)
    engine = store.engine
    naive_meta.create_all(engine)
    docs = [[_doc(r) for r in cycle] for cycle in cycles]

    cpu = time.process_time()
    for cycle in cycles:
        store.record("bench", cycle)
    ours_cpu_s = time.process_time() - cpu

    cpu = time.process_time()
    for cycle, cycle_docs in zip(cycles, docs, strict=True):
        rows = [
            {"device": i, "time_ms": int(r.time_utc.timestamp() * 1000), "doc": d}
            for i, (r, d) in enumerate(zip(cycle, cycle_docs, strict=True))
        ]
        with engine.begin() as c:
            c.execute(insert(naive), rows)
    naive_cpu_s = time.process_time() - cpu

    rollup(engine, now=T0 + dt.timedelta(hours=hours))
    _vacuum(engine)
    with engine.connect() as c:
        n_raw = c.scalar(select(func.count()).select_from(samples)) or 0
        by_tier = dict(c.execute(select(rollups.c.tier, func.count()).group_by(rollups.c.tier)).all())
    if engine.dialect.name == "sqlite":
        tables = {t: _index_names(engine, t) for t in ("samples", "rollups", "naive_polls")}
    else:
        tables = {t: [] for t in ("samples", "rollups", "naive_polls")}
    size = _sizes(engine, tables)
    device_days = devices * hours * 3600 / DAY_S
    n_rollups = sum(by_tier.values()) or 1
    per_tier = {
        "raw": size["samples"] / device_days,
        "15m": size["rollups"] * by_tier.get("15m", 0) / n_rollups / device_days,
        "1d": size["rollups"] * by_tier.get("1d", 0) / n_rollups / device_days,
        "naive_json": size["naive_polls"] / device_days,
    }
    polls = devices * len(cycles)
    store.close()
    return {
        "db": label,
        "devices": devices,
        "hours": hours,
        "raw_rows": n_raw,
        "rollup_rows": by_tier,
        "bytes_per_device_day": {k: round(v) for k, v in per_tier.items()},
        "bytes_ratio_naive_over_raw": round(per_tier["naive_json"] / per_tier["raw"], 2),
        "polls_per_cpu_s": round(polls / ours_cpu_s),
        "naive_polls_per_cpu_s": round(polls / naive_cpu_s),
        "write_ratio": round(naive_cpu_s / ours_cpu_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--postgres", default=os.environ.get("HASHWATT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    cycles = _cycles(args.devices, args.hours)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run(f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", cycles, args.devices, args.hours))
    if args.postgres:
        schema = f"hwbench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            results.append(
                run(url.render_as_string(hide_password=False), "postgresql", cycles, args.devices, args.hours)
            )
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    for r in results:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
