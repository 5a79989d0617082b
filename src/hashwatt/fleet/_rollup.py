"""Retention with rollups: raw samples for a window, then 15-minute and daily aggregates.

The rollup job is idempotent: each run recomputes whole closed buckets from their source
(raw samples for 15-minute buckets, 15-minute rows for days) by delete-then-insert in one
transaction, starting a little before the newest bucket already written so late samples are
counted. Raw rows are pruned only once the 15-minute buckets covering them exist, so a rerun
never recomputes a bucket from a half-pruned window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, delete, func, insert, literal, select
from sqlalchemy.engine import Engine

from hashwatt.fleet._models import ROLLUP_TIERS_MS, rollups, samples
from hashwatt.fleet._store import from_ms, to_ms

__all__ = ["Retention", "RollupReport", "RollupRow", "prune", "rollup", "run_retention", "series"]

QUARTER_MS = ROLLUP_TIERS_MS["15m"]
DAY_MS = ROLLUP_TIERS_MS["1d"]


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each tier is kept [days]; ``None`` keeps the tier forever."""

    raw_days: float = 7.0
    quarter_hour_days: float | None = 90.0
    daily_days: float | None = None
    late_s: float = 3600.0  # samples may arrive this late and still be counted [s]


@dataclass(frozen=True, slots=True)
class RollupReport:
    quarter_hour_buckets: int
    daily_buckets: int
    raw_deleted: int
    quarter_hour_deleted: int
    daily_deleted: int


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One aggregate bucket of one device; averages are over the successful polls only."""

    device_id: int
    tier: str
    bucket_utc: dt.datetime
    n_samples: int
    n_ok: int
    hashrate_ths_avg: float | None
    hashrate_ths_min: float | None
    hashrate_ths_max: float | None
    expected_hashrate_ths_avg: float | None
    power_w_avg: float | None
    n_power: int
    n_power_estimated: int
    temp_chip_max_c: float | None
    temp_board_max_c: float | None
    temp_inlet_c_avg: float | None
    accepted_max: int | None
    rejected_max: int | None


def _floor(time_ms: int, width_ms: int) -> int:
    return time_ms - time_ms % width_ms


def _newest_bucket(c: Connection, tier: str) -> int | None:
    value = c.scalar(select(func.max(rollups.c.bucket_ms)).where(rollups.c.tier == tier))
    return int(value) if value is not None else None


def _oldest(c: Connection, column: ColumnElement[Any], *where: ColumnElement[bool]) -> int | None:
    value = c.scalar(select(func.min(column)).where(*where))
    return int(value) if value is not None else None


def _rollup_quarter_hours(c: Connection, start_ms: int, end_ms: int) -> int:
    bucket = (samples.c.time_ms // QUARTER_MS) * QUARTER_MS
    ok = case((samples.c.outcome == "ok", 1), else_=0)
    estimated = case((samples.c.power_estimated & samples.c.power_w.is_not(None), 1), else_=0)
    source = (
        select(
            samples.c.device_id,
            literal("15m"),
            bucket,
            func.count(),
            func.sum(ok),
            func.avg(samples.c.hashrate_ths),
            func.min(samples.c.hashrate_ths),
            func.max(samples.c.hashrate_ths),
            func.avg(samples.c.expected_hashrate_ths),
            func.avg(samples.c.power_w),
            func.count(samples.c.power_w),
            func.sum(estimated),
            func.max(samples.c.temp_chip_max_c),
            func.max(samples.c.temp_board_max_c),
            func.avg(samples.c.temp_inlet_c),
            func.max(samples.c.accepted),
            func.max(samples.c.rejected),
        )
        .where(samples.c.time_ms >= start_ms, samples.c.time_ms < end_ms)
        .group_by(samples.c.device_id, bucket)
    )
    return _replace(c, "15m", start_ms, end_ms, source)


def _weighted(column: ColumnElement[Any], weight: ColumnElement[Any]) -> ColumnElement[Any]:
    """Average of averages weighted by their sample counts (the day from its quarter-hours)."""
    num = func.sum(column * weight)
    den = func.sum(case((column.is_not(None), weight), else_=0))
    return num / func.nullif(den, 0)


def _rollup_days(c: Connection, start_ms: int, end_ms: int) -> int:
    q = rollups.alias("q")
    bucket = (q.c.bucket_ms // DAY_MS) * DAY_MS
    source = (
        select(
            q.c.device_id,
            literal("1d"),
            bucket,
            func.sum(q.c.n_samples),
            func.sum(q.c.n_ok),
            _weighted(q.c.hashrate_ths_avg, q.c.n_ok),
            func.min(q.c.hashrate_ths_min),
            func.max(q.c.hashrate_ths_max),
            _weighted(q.c.expected_hashrate_ths_avg, q.c.n_ok),
            _weighted(q.c.power_w_avg, q.c.n_power),
            func.sum(q.c.n_power),
            func.sum(q.c.n_power_estimated),
            func.max(q.c.temp_chip_max_c),
            func.max(q.c.temp_board_max_c),
            _weighted(q.c.temp_inlet_c_avg, q.c.n_ok),
            func.max(q.c.accepted_max),
            func.max(q.c.rejected_max),
        )
        .where(q.c.tier == "15m", q.c.bucket_ms >= start_ms, q.c.bucket_ms < end_ms)
        .group_by(q.c.device_id, bucket)
    )
    return _replace(c, "1d", start_ms, end_ms, source)


_TARGET = [c.name for c in rollups.columns]


def _replace(c: Connection, tier: str, start_ms: int, end_ms: int, source: Any) -> int:
    c.execute(
        delete(rollups).where(
            rollups.c.tier == tier, rollups.c.bucket_ms >= start_ms, rollups.c.bucket_ms < end_ms
        )
    )
    c.execute(insert(rollups).from_select(_TARGET, source))
    # counted, not taken from rowcount: psycopg reports 0 for INSERT ... SELECT
    in_range = (rollups.c.tier == tier, rollups.c.bucket_ms >= start_ms, rollups.c.bucket_ms < end_ms)
    return int(c.scalar(select(func.count()).select_from(rollups).where(*in_range)) or 0)


def rollup(engine: Engine, *, now: dt.datetime, retention: Retention | None = None) -> tuple[int, int]:
    """Write every closed 15-minute and daily bucket not yet (or only partly) written.

    Returns the number of 15-minute and daily buckets written in this run.
    """
    retention = retention or Retention()
    now_ms = to_ms(now)
    late_ms = int(retention.late_s * 1000)
    with engine.begin() as c:
        end_q = _floor(now_ms, QUARTER_MS)
        newest_q = _newest_bucket(c, "15m")
        oldest_raw = _oldest(c, samples.c.time_ms)
        n_q = n_d = 0
        if oldest_raw is not None:
            # Start at the first bucket whose raw data is whole (pruning is bucket-aligned).
            start_q = _floor(oldest_raw, QUARTER_MS)
            if newest_q is not None:
                start_q = max(start_q, _floor(newest_q + QUARTER_MS - late_ms, QUARTER_MS))
            if start_q < end_q:
                n_q = _rollup_quarter_hours(c, start_q, end_q)
        end_d = _floor(end_q, DAY_MS)
        newest_d = _newest_bucket(c, "1d")
        oldest_q = _oldest(c, rollups.c.bucket_ms, rollups.c.tier == "15m")
        if oldest_q is not None:
            start_d = _floor(oldest_q, DAY_MS)
            if newest_d is not None:
                start_d = max(start_d, _floor(newest_d + DAY_MS - late_ms, DAY_MS))
            # never recompute a day whose 15-minute rows were already pruned in part
            if oldest_q > start_d:
                start_d += DAY_MS
            if start_d < end_d:
                n_d = _rollup_days(c, start_d, end_d)
    return n_q, n_d


def prune(engine: Engine, *, now: dt.datetime, retention: Retention | None = None) -> tuple[int, int, int]:
    """Delete what each tier's window no longer keeps, never raw rows not yet rolled up."""
    retention = retention or Retention()
    now_ms = to_ms(now)
    with engine.begin() as c:
        newest_q = _newest_bucket(c, "15m")
        raw_deleted = q_deleted = d_deleted = 0
        if newest_q is not None:
            cutoff = min(_floor(now_ms - int(retention.raw_days * DAY_MS), QUARTER_MS), newest_q + QUARTER_MS)
            raw_deleted = c.execute(delete(samples).where(samples.c.time_ms < cutoff)).rowcount or 0
        newest_d = _newest_bucket(c, "1d")
        if retention.quarter_hour_days is not None and newest_d is not None:
            cutoff = min(
                _floor(now_ms - int(retention.quarter_hour_days * DAY_MS), DAY_MS), newest_d + DAY_MS
            )
            q_deleted = (
                c.execute(
                    delete(rollups).where(rollups.c.tier == "15m", rollups.c.bucket_ms < cutoff)
                ).rowcount
                or 0
            )
        if retention.daily_days is not None:
            cutoff = _floor(now_ms - int(retention.daily_days * DAY_MS), DAY_MS)
            d_deleted = (
                c.execute(
                    delete(rollups).where(rollups.c.tier == "1d", rollups.c.bucket_ms < cutoff)
                ).rowcount
                or 0
            )
    return raw_deleted, q_deleted, d_deleted


def run_retention(engine: Engine, *, now: dt.datetime, retention: Retention | None = None) -> RollupReport:
    """Roll up, then prune: the order that never loses data."""
    n_q, n_d = rollup(engine, now=now, retention=retention)
    raw, q, d = prune(engine, now=now, retention=retention)
    return RollupReport(n_q, n_d, raw, q, d)


def series(
    engine: Engine, device_id: int, tier: str, *, since: dt.datetime, until: dt.datetime | None = None
) -> list[RollupRow]:
    """One device's buckets of ``tier`` ("15m" or "1d") in ``[since, until)``, oldest first."""
    conditions = [
        rollups.c.device_id == device_id,
        rollups.c.tier == tier,
        rollups.c.bucket_ms >= to_ms(since),
    ]
    if until is not None:
        conditions.append(rollups.c.bucket_ms < to_ms(until))
    with engine.connect() as c:
        rows = c.execute(select(rollups).where(and_(*conditions)).order_by(rollups.c.bucket_ms)).all()
    return [
        RollupRow(
            device_id=r.device_id,
            tier=r.tier,
            bucket_utc=from_ms(r.bucket_ms),
            n_samples=r.n_samples,
            n_ok=r.n_ok,
            hashrate_ths_avg=r.hashrate_ths_avg,
            hashrate_ths_min=r.hashrate_ths_min,
            hashrate_ths_max=r.hashrate_ths_max,
            expected_hashrate_ths_avg=r.expected_hashrate_ths_avg,
            power_w_avg=r.power_w_avg,
            n_power=r.n_power,
            n_power_estimated=r.n_power_estimated,
            temp_chip_max_c=r.temp_chip_max_c,
            temp_board_max_c=r.temp_board_max_c,
            temp_inlet_c_avg=r.temp_inlet_c_avg,
            accepted_max=r.accepted_max,
            rejected_max=r.rejected_max,
        )
        for r in rows
    ]
