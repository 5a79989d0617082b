"""Rollups on SQLite and PostgreSQL: correct aggregates, idempotent reruns, safe pruning."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from sqlalchemy import func, select

from hashwatt.fleet import PollOutcome
from hashwatt.fleet._models import rollups, samples
from hashwatt.fleet._rollup import Retention, prune, rollup, run_retention, series
from hashwatt.fleet._store import FleetStore
from tests.fleet._readings import T0, ep, failed, ok

MIN = dt.timedelta(minutes=1)


def _fill(
    store: FleetStore, minutes: int, step_min: int = 1
) -> dict[int, list[tuple[dt.datetime, float | None]]]:
    """Two devices; device 0 misses every 7th poll, device 1 reports estimated power."""
    truth: dict[int, list[tuple[dt.datetime, float | None]]] = {0: [], 1: []}
    batch = []
    for m in range(0, minutes, step_min):
        t = T0 + m * MIN
        h0 = 100.0 + (m % 13)
        if m % 7 == 3:
            batch.append(failed(0, t, PollOutcome.TIMEOUT))
            truth[0].append((t, None))
        else:
            batch.append(ok(0, t, hashrate_ths=h0, power_w=3000.0 + m % 5))
            truth[0].append((t, h0))
        batch.append(ok(1, t, hashrate_ths=90.0, power_w=2900.0, estimated=True))
        truth[1].append((t, 90.0))
        if len(batch) >= 500:
            store.record("s", batch)
            batch = []
    store.record("s", batch)
    return truth


def _table(store: FleetStore) -> list[tuple[object, ...]]:
    with store.engine.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                select(rollups).order_by(rollups.c.device_id, rollups.c.tier, rollups.c.bucket_ms)
            )
        ]


def test_quarter_hour_buckets_match_raw_and_rerun_is_idempotent(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        truth = _fill(store, 180)
        now = T0 + 180 * MIN + 30 * dt.timedelta(seconds=1)
        assert rollup(store.engine, now=now) == (24, 0)  # 12 closed buckets x 2 devices, no closed day
        dev0 = store.find_device(ep(0).address)
        dev1 = store.find_device(ep(1).address)
        assert dev0 is not None and dev1 is not None
        rows = series(store.engine, dev0.id, "15m", since=T0)
        assert len(rows) == 12
        for k, row in enumerate(rows):
            window = [h for t, h in truth[0] if T0 + 15 * k * MIN <= t < T0 + 15 * (k + 1) * MIN]
            good = [h for h in window if h is not None]
            assert row.bucket_utc == T0 + 15 * k * MIN
            assert row.n_samples == len(window) and row.n_ok == len(good)
            assert row.hashrate_ths_avg == pytest.approx(statistics.fmean(good))
            assert row.hashrate_ths_min == min(good) and row.hashrate_ths_max == max(good)
            assert row.n_power == len(good) and row.n_power_estimated == 0
        est = series(store.engine, dev1.id, "15m", since=T0)
        assert all(r.n_power_estimated == r.n_power == 15 for r in est)

        before = _table(store)
        assert rollup(store.engine, now=now)[0] > 0  # recomputes the late window...
        assert _table(store) == before  # ...to exactly the same rows

        # a late sample inside the late window is counted on the next run
        store.record("s", [ok(0, T0 + 150 * MIN + dt.timedelta(seconds=20), hashrate_ths=500.0)])
        rollup(store.engine, now=now)
        (late,) = series(store.engine, dev0.id, "15m", since=T0 + 150 * MIN, until=T0 + 165 * MIN)
        assert late.hashrate_ths_max == 500.0
        assert late.n_samples == 16


def test_days_and_pruning_never_lose_rolled_up_data(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        truth = _fill(store, 2 * 24 * 60, step_min=5)
        now = T0 + dt.timedelta(days=2, minutes=1)
        n_q, n_d = rollup(store.engine, now=now)
        assert n_q == 2 * 2 * 96 and n_d == 4
        dev0 = store.find_device(ep(0).address)
        assert dev0 is not None
        days = series(store.engine, dev0.id, "1d", since=T0)
        assert [d.bucket_utc for d in days] == [T0, T0 + dt.timedelta(days=1)]
        for k, day in enumerate(days):
            good = [
                h
                for t, h in truth[0]
                if h is not None and T0 + dt.timedelta(days=k) <= t < T0 + dt.timedelta(days=k + 1)
            ]
            assert day.n_ok == len(good)
            assert day.hashrate_ths_avg == pytest.approx(statistics.fmean(good))
        before = _table(store)

        raw, q, d = prune(store.engine, now=now, retention=Retention(raw_days=1, quarter_hour_days=1))
        assert raw == 24 * 12 * 2 and q == 2 * 96 and d == 0
        with store.engine.connect() as c:
            oldest = c.scalar(select(func.min(samples.c.time_ms)))
        assert oldest == int((T0 + dt.timedelta(days=1)).timestamp() * 1000)
        # rerunning after the prune recomputes nothing from the half-pruned past
        report = run_retention(store.engine, now=now, retention=Retention(raw_days=1, quarter_hour_days=1))
        assert report.raw_deleted == 0
        after = _table(store)
        assert [r for r in after if r[1] == "1d"] == [r for r in before if r[1] == "1d"]
        assert [r for r in after if r[1] == "15m"] == [r for r in before if r[1] == "15m" and r[2] >= oldest]


def test_raw_rows_not_yet_rolled_up_are_kept(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        _fill(store, 60)
        # no rollup has run: pruning with a zero-day window deletes nothing
        assert prune(store.engine, now=T0 + dt.timedelta(days=30), retention=Retention(raw_days=0)) == (
            0,
            0,
            0,
        )
        with store.engine.connect() as c:
            assert c.scalar(select(func.count()).select_from(samples)) == 120
