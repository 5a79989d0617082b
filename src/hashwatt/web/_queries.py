"""Read-only queries the dashboard needs beyond the fleet store's: one page of a sorted,
filtered device table, and the site totals, each one SQL statement over the fleet schema.

The store's ``views`` loads every device; a table of 10,000 rows must page in the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.engine import Engine

from hashwatt.fleet._models import ROLLUP_TIERS_MS, alerts, devices, rollups, samples, sites
from hashwatt.fleet._store import from_ms, to_ms

__all__ = [
    "DayIntegrals",
    "DevicePage",
    "DeviceQuery",
    "SortKey",
    "day_integrals",
    "device_page",
    "group_totals",
    "heat_map",
    "site_totals",
]

MAX_PER_PAGE = 500


class SortKey(enum.StrEnum):
    ADDRESS = "address"
    MODEL = "model"
    FIRMWARE = "firmware"
    STATE = "state"
    RACK = "rack"
    HASHRATE = "hashrate_ths"
    POWER = "power_w"
    TEMP = "temp_chip_max_c"


@dataclass(frozen=True, slots=True)
class DeviceQuery:
    site: str | None = None
    q: str | None = None  # substring of address, model, serial, hostname or rack
    state: str | None = None
    model: str | None = None
    sort: SortKey = SortKey.ADDRESS
    descending: bool = False
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class DevicePage:
    total: int
    page: int
    per_page: int
    rows: list[dict[str, Any]]


_last = samples.alias("last")
#: Devices with their site and their last good sample (None columns when there is none).
_WITH_LAST = devices.join(sites, sites.c.id == devices.c.site_id).outerjoin(
    _last, and_(_last.c.device_id == devices.c.id, _last.c.time_ms == devices.c.last_ok_ms)
)
_SORT_COLUMNS: dict[SortKey, Any] = {
    SortKey.ADDRESS: (devices.c.host, devices.c.api_port),
    SortKey.MODEL: (devices.c.model,),
    SortKey.FIRMWARE: (devices.c.firmware,),
    SortKey.STATE: (devices.c.state,),
    SortKey.RACK: (devices.c.rack, devices.c.position),
    SortKey.HASHRATE: (_last.c.hashrate_ths,),
    SortKey.POWER: (_last.c.power_w,),
    SortKey.TEMP: (_last.c.temp_chip_max_c,),
}


def _where(query: DeviceQuery) -> list[Any]:
    where: list[Any] = []
    if query.site:
        where.append(sites.c.name == query.site)
    if query.state == "offline":  # the last poll failed, whatever the last good reading said
        where.append(or_(devices.c.last_outcome.is_(None), devices.c.last_outcome != "ok"))
    elif query.state:
        where.append(and_(devices.c.state == query.state, devices.c.last_outcome == "ok"))
    if query.model:
        where.append(devices.c.model == query.model)
    if query.q:
        like = f"%{query.q.replace('%', '').replace('_', '')[:64]}%"
        where.append(
            or_(
                devices.c.host.concat(":").concat(cast(devices.c.api_port, String)).like(like),
                devices.c.model.like(like),
                devices.c.serial.like(like),
                devices.c.hostname.like(like),
                devices.c.rack.like(like),
            )
        )
    return where


def device_page(engine: Engine, query: DeviceQuery, *, now: dt.datetime | None = None) -> DevicePage:
    """One page of devices with their last good reading, sorted and filtered in the database."""
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    page = max(1, query.page)
    now_ms = to_ms(now or dt.datetime.now(dt.UTC))
    where = _where(query)

    order = [(c.desc() if query.descending else c.asc()).nulls_last() for c in _SORT_COLUMNS[query.sort]]
    stmt = (
        select(
            devices.c.id,
            devices.c.host,
            devices.c.api_port,
            sites.c.name.label("site"),
            devices.c.model,
            devices.c.firmware,
            devices.c.serial,
            devices.c.rack,
            devices.c.position,
            devices.c.state,
            devices.c.last_outcome,
            devices.c.last_ok_ms,
            _last.c.hashrate_ths,
            _last.c.expected_hashrate_ths,
            _last.c.power_w,
            _last.c.temp_chip_max_c,
        )
        .select_from(_WITH_LAST)
        .where(*where)
        .order_by(*order, devices.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    count = (
        select(func.count()).select_from(devices.join(sites, sites.c.id == devices.c.site_id)).where(*where)
    )
    with engine.connect() as c:
        total = int(c.scalar(count) or 0)
        rows = [
            {
                "id": r.id,
                "address": f"{r.host}:{r.api_port}",
                "site": r.site,
                "model": r.model,
                "firmware": r.firmware,
                "serial": r.serial,
                "rack": r.rack,
                "position": r.position,
                "state": r.state,
                "last_outcome": r.last_outcome,
                "hashrate_ths": r.hashrate_ths,
                "expected_hashrate_ths": r.expected_hashrate_ths,
                "power_w": r.power_w,
                "temp_chip_max_c": r.temp_chip_max_c,
                "age_s": None if r.last_ok_ms is None else max(0.0, (now_ms - r.last_ok_ms) / 1000),
            }
            for r in c.execute(stmt)
        ]
    return DevicePage(total, page, per_page, rows)


def site_totals(engine: Engine, site: str | None = None) -> dict[str, Any]:
    """Site totals from each device's last good reading; devices whose last poll failed are
    counted apart and their old readings left out (a dead miner adds no hashrate)."""
    ok = devices.c.last_outcome == "ok"

    where = [sites.c.name == site] if site else []
    stmt = (
        select(
            func.count().label("devices"),
            func.sum(case((ok, _last.c.hashrate_ths), else_=None)).label("hashrate_ths"),
            func.sum(case((ok, _last.c.expected_hashrate_ths), else_=None)).label("expected_hashrate_ths"),
            func.sum(case((ok, _last.c.power_w), else_=None)).label("power_w"),
            func.max(devices.c.last_poll_ms).label("last_poll_ms"),
        )
        .select_from(_WITH_LAST)
        .where(*where)
    )
    by_state = (
        select(devices.c.state, devices.c.last_outcome, func.count())
        .select_from(devices.join(sites, sites.c.id == devices.c.site_id))
        .where(*where)
        .group_by(devices.c.state, devices.c.last_outcome)
    )
    open_alerts = (
        select(alerts.c.severity, func.count())
        .select_from(
            alerts.join(devices, devices.c.id == alerts.c.device_id).join(
                sites, sites.c.id == devices.c.site_id
            )
        )
        .where(alerts.c.state.in_(["open", "acknowledged"]), *where)
        .group_by(alerts.c.severity)
    )
    with engine.connect() as c:
        t = c.execute(stmt).one()
        states: dict[str, int] = {}
        for state, outcome, n in c.execute(by_state):
            key = (state or "unknown") if outcome == "ok" else "offline"
            states[key] = states.get(key, 0) + int(n)
        alert_counts = {sev: int(n) for sev, n in c.execute(open_alerts)}
    hashrate = float(t.hashrate_ths or 0.0)
    power = float(t.power_w or 0.0)
    return {
        "devices": int(t.devices),
        "hashrate_ths": hashrate,
        "expected_hashrate_ths": float(t.expected_hashrate_ths or 0.0),
        "power_w": power,
        "efficiency_j_per_th": power / hashrate if hashrate > 0 else None,
        "states": states,
        "open_alerts": alert_counts,
        "last_poll_utc": from_ms(t.last_poll_ms).isoformat() if t.last_poll_ms is not None else None,
    }


def group_totals(engine: Engine, site: str | None, by: str) -> list[dict[str, Any]]:
    """Hashrate and power of the devices answering now, summed per ``by`` ("model" or "site")."""
    key = {"model": devices.c.model, "site": sites.c.name}[by]

    ok = devices.c.last_outcome == "ok"
    stmt = (
        select(
            key.label("key"),
            func.count().label("devices"),
            func.sum(case((ok, 1), else_=0)).label("answering"),
            func.sum(case((ok, _last.c.hashrate_ths), else_=None)).label("hashrate_ths"),
            func.sum(case((ok, _last.c.power_w), else_=None)).label("power_w"),
        )
        .select_from(_WITH_LAST)
        .where(*([sites.c.name == site] if site else []))
        .group_by(key)
        .order_by(key)
    )
    with engine.connect() as c:
        return [
            {
                by: r.key or "unknown",
                "devices": int(r.devices),
                "answering": int(r.answering or 0),
                "hashrate_ths": float(r.hashrate_ths or 0.0),
                "power_w": float(r.power_w or 0.0),
            }
            for r in c.execute(stmt)
        ]


@dataclass(frozen=True, slots=True)
class DayIntegrals:
    """What a site did from ``since`` to ``until``: hashes and energy, as time integrals."""

    since: dt.datetime
    until: dt.datetime
    hashrate_ths_hours: float  # [TH/s x h]
    energy_kwh: float  # [kWh]
    #: Newest closed quarter-hour read from the rollups (the rest came from raw samples).
    rolled_until: dt.datetime | None


QUARTER_MS = ROLLUP_TIERS_MS["15m"]
MS_PER_HOUR = 3_600_000


def _of_site(table: Any, site: str | None) -> Any:
    """``table`` (with a ``device_id``) joined to its devices' sites when one site is asked for."""
    if not site:
        return table
    return table.join(devices, devices.c.id == table.c.device_id).join(sites, sites.c.id == devices.c.site_id)


#: Rolled quarter-hours older than this are settled: the rollup job no longer rewrites them
#: (it recomputes only the last hour for late samples), so their sums can be kept [ms].
SETTLED_AFTER_MS = 2 * MS_PER_HOUR


def day_integrals(
    engine: Engine,
    site: str | None,
    *,
    since: dt.datetime,
    until: dt.datetime,
    settled: dict[int, tuple[float, float]] | None = None,
) -> DayIntegrals:
    """Hashrate-hours and kWh of the site's devices in ``[since, until)``.

    Closed quarter-hours come from the 15-minute rollups (each device's average over its
    successful polls, times the share of polls that succeeded, over 15 minutes); the
    quarter-hours not rolled up yet come from the raw samples the same way, over the part of
    the quarter-hour from the device's first sample in it (a device not polled yet adds nothing).
    ``settled`` keeps the sums of quarter-hours the rollup job no longer rewrites (bucket start
    [ms] -> (TH/s, W)) between calls, so a page read late in the day sums only the last hours.
    """
    since_ms, until_ms = to_ms(since), to_ms(until)
    known = settled if settled is not None else {}
    first_bucket = -(-since_ms // QUARTER_MS) * QUARTER_MS  # whole quarter-hours from ``since``
    start = first_bucket
    while start in known:
        start += QUARTER_MS
    in_site: list[Any] = [sites.c.name == site] if site else []
    rolled = (
        select(
            rollups.c.bucket_ms,
            func.sum(rollups.c.hashrate_ths_avg * rollups.c.n_ok / rollups.c.n_samples),
            func.sum(rollups.c.power_w_avg * rollups.c.n_power / rollups.c.n_samples),
        )
        .select_from(_of_site(rollups, site))
        .where(
            rollups.c.tier == "15m",
            rollups.c.bucket_ms >= start,
            rollups.c.bucket_ms + QUARTER_MS <= until_ms,
            *in_site,
        )
        .group_by(rollups.c.bucket_ms)
    )
    with engine.connect() as c:
        fresh = {int(b): (float(h or 0.0), float(p or 0.0)) for b, h, p in c.execute(rolled)}
        for b in range(start, until_ms - SETTLED_AFTER_MS - QUARTER_MS + 1, QUARTER_MS):
            known[b] = fresh.get(b, (0.0, 0.0))
        buckets = {b: v for b, v in known.items() if first_bucket <= b < start} | fresh
        newest = max((b for b, v in buckets.items() if v != (0.0, 0.0)), default=None)
        raw_from = since_ms if newest is None else newest + QUARTER_MS
        bucket = (samples.c.time_ms // QUARTER_MS) * QUARTER_MS
        raw_where: list[Any] = [samples.c.time_ms >= raw_from, samples.c.time_ms < until_ms]
        per_device_bucket = (
            select(
                bucket.label("bucket"),
                func.min(samples.c.time_ms).label("first_ms"),
                (func.sum(samples.c.hashrate_ths) / func.count()).label("hashrate_ths"),
                (func.sum(samples.c.power_w) / func.count()).label("power_w"),
            )
            .select_from(_of_site(samples, site))
            .where(*raw_where, *in_site)
            .group_by(samples.c.device_id, bucket)
            .subquery()
        )
        # The smaller of two values: min() with two arguments in SQLite, least() elsewhere.
        smaller: Any = func.min if engine.dialect.name == "sqlite" else func.least
        end = smaller(per_device_bucket.c.bucket + QUARTER_MS, until_ms)
        span_ms = end - per_device_bucket.c.first_ms
        raw = select(
            func.sum(per_device_bucket.c.hashrate_ths * span_ms),
            func.sum(per_device_bucket.c.power_w * span_ms),
        )
        hash_raw, power_raw = c.execute(raw).one()
    quarter_h = QUARTER_MS / MS_PER_HOUR
    hash_q = sum(v[0] for v in buckets.values())
    power_q = sum(v[1] for v in buckets.values())
    return DayIntegrals(
        since=since,
        until=until,
        hashrate_ths_hours=hash_q * quarter_h + float(hash_raw or 0.0) / MS_PER_HOUR,
        energy_kwh=(power_q * quarter_h + float(power_raw or 0.0) / MS_PER_HOUR) / 1000.0,
        rolled_until=None if newest is None else from_ms(newest + QUARTER_MS),
    )


#: What the heat map can colour the machines by.
HEAT_METRICS = {"temp_chip_max_c": _last.c.temp_chip_max_c, "hashrate_ths": _last.c.hashrate_ths}


def heat_map(engine: Engine, site: str | None, metric: str) -> list[dict[str, Any]]:
    """Every device of the site by rack (not one page of them): its position and the metric
    from its last good reading, None when its last poll failed."""
    column = HEAT_METRICS[metric]

    stmt = (
        select(
            devices.c.id,
            devices.c.host,
            devices.c.api_port,
            sites.c.name.label("site"),
            devices.c.rack,
            devices.c.position,
            case((devices.c.last_outcome == "ok", column), else_=None).label("value"),
        )
        .select_from(_WITH_LAST)
        .where(*([sites.c.name == site] if site else []))
        .order_by(sites.c.name, devices.c.rack, devices.c.position, devices.c.id)
    )
    racks: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with engine.connect() as c:
        for r in c.execute(stmt):
            racks.setdefault((r.site, r.rack or "unracked"), []).append(
                {"id": r.id, "address": f"{r.host}:{r.api_port}", "position": r.position, "value": r.value}
            )
    return [{"site": s_, "rack": rack, "devices": cells} for (s_, rack), cells in racks.items()]
