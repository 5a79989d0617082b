"""The fleet store: inventory, raw telemetry and the queries the CLI, agent and dashboard share.

:meth:`FleetStore.record` is the poller's sink: every :class:`PollResult` becomes one sample
row, a failed poll with its outcome and no values (never zeros). "Last good" queries return
the last successful reading together with its age, so a dead miner never shows fresh numbers.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from hashwatt.fleet._db import connect, upgrade
from hashwatt.fleet._models import devices, samples, sites
from hashwatt.fleet._types import (
    BoardReading,
    DeviceIdentity,
    DeviceState,
    Endpoint,
    PollOutcome,
    PollResult,
    PoolReading,
    Telemetry,
)
from hashwatt.fleet.errors import StoreError

__all__ = [
    "DeviceRecord",
    "DeviceView",
    "FleetStore",
    "PowerSummary",
    "RecordSummary",
    "StoredSample",
    "from_ms",
    "to_ms",
]


def to_ms(time_utc: dt.datetime) -> int:
    """Unix milliseconds of a datetime; a naive one is taken as UTC (hashwatt is UTC inside)."""
    if time_utc.tzinfo is None:
        time_utc = time_utc.replace(tzinfo=dt.UTC)
    return round(time_utc.timestamp() * 1000)


def from_ms(time_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(time_ms / 1000, tz=dt.UTC)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One inventory row: where the device answers and what it is (no secrets)."""

    id: int
    site: str
    endpoint: Endpoint
    make: str | None
    model: str | None
    catalog_model: str | None
    firmware: str | None
    firmware_version: str | None
    serial: str | None
    mac: str | None
    hostname: str | None
    rack: str | None
    position: str | None
    credentials_ref: str | None
    factory_credentials: bool
    state: str | None
    last_outcome: str | None
    last_poll_utc: dt.datetime | None
    last_seen_utc: dt.datetime | None

    @property
    def address(self) -> str:
        return self.endpoint.address


@dataclass(frozen=True, slots=True)
class StoredSample:
    """One stored poll: its outcome, and a reading only when the outcome is OK."""

    device_id: int
    time_utc: dt.datetime
    outcome: PollOutcome
    latency_ms: float | None
    error: str | None
    telemetry: Telemetry | None


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A device with its last good reading and that reading's age (None if never read)."""

    device: DeviceRecord
    telemetry: Telemetry | None
    age_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """The row shape of ``fleet list --json`` and ``fleet show --json``."""
        d, t = self.device, self.telemetry
        return {
            "address": d.address,
            "host": d.endpoint.host,
            "api_port": d.endpoint.api_port,
            "site": d.site,
            "make": d.make,
            "model": d.model,
            "firmware": d.firmware,
            "firmware_version": d.firmware_version,
            "serial": d.serial,
            "mac": d.mac,
            "rack": d.rack,
            "position": d.position,
            "state": d.state,
            "last_outcome": d.last_outcome,
            "factory_credentials": d.factory_credentials,
            "hashrate_ths": t.hashrate_ths if t else None,
            "expected_hashrate_ths": t.expected_hashrate_ths if t else None,
            "power_w": t.power_w if t else None,
            "power_estimated": t.power_estimated if t else None,
            "temperatures": {
                "chip_max_c": t.temp_chip_max_c if t else None,
                "board_max_c": t.temp_board_max_c if t else None,
                "inlet_c": t.temp_inlet_c if t else None,
            },
            "fans_rpm": list(t.fans_rpm) if t else [],
            "boards": [_board_dict(b) for b in t.boards] if t else [],
            "pools": [_pool_dict(p) for p in t.pools] if t else [],
            "last_seen_utc": d.last_seen_utc.isoformat() if d.last_seen_utc else None,
            "last_poll_utc": d.last_poll_utc.isoformat() if d.last_poll_utc else None,
            "values_age_s": self.age_s,
        }


@dataclass(frozen=True, slots=True)
class PowerSummary:
    """Site power from each device's last good reading; measured and estimated kept apart."""

    measured_w: float
    estimated_w: float
    n_measured: int
    n_estimated: int
    n_unknown: int  # devices with no good reading, or one without power


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What one :meth:`FleetStore.record` call stored."""

    stored: int
    new_devices: tuple[str, ...]
    reidentified: tuple[str, ...]  # same address, new serial or firmware: a swap


def _board_dict(b: BoardReading) -> dict[str, Any]:
    return {
        "index": b.index,
        "hashrate_ths": b.hashrate_ths,
        "expected_hashrate_ths": b.expected_hashrate_ths,
        "chips": b.chips,
        "chips_expected": b.chips_expected,
        "temp_chip_c": b.temp_chip_c,
        "temp_board_c": b.temp_board_c,
    }


def _pool_dict(p: PoolReading) -> dict[str, Any]:
    return {
        "index": p.index,
        "url": p.url,
        "user": p.user,
        "status": p.status,
        "active": p.active,
        "accepted": p.accepted,
        "rejected": p.rejected,
        "stale": p.stale,
    }


# Compact JSON: boards and pools are stored as lists in these field orders.
_BOARD_FIELDS = (
    "index",
    "hashrate_ths",
    "expected_hashrate_ths",
    "chips",
    "chips_expected",
    "temp_chip_c",
    "temp_board_c",
)
_POOL_FIELDS = ("index", "url", "user", "status", "active", "accepted", "rejected", "stale")


def _sample_row(device_id: int, result: PollResult) -> dict[str, Any]:
    row: dict[str, Any] = {c.name: None for c in samples.columns if c.name != "id"}
    row.update(
        device_id=device_id,
        time_ms=to_ms(result.time_utc),
        outcome=result.outcome.value,
        latency_ms=result.latency_ms,
        error=result.error[:255] or None,
    )
    t = result.telemetry
    if result.outcome is PollOutcome.OK and t is not None:
        row.update(
            state=t.state.value,
            hashrate_ths=t.hashrate_ths,
            expected_hashrate_ths=t.expected_hashrate_ths,
            power_w=t.power_w,
            power_estimated=t.power_estimated if t.power_w is not None else None,
            temp_chip_max_c=t.temp_chip_max_c,
            temp_board_max_c=t.temp_board_max_c,
            temp_inlet_c=t.temp_inlet_c,
            fans_rpm=list(t.fans_rpm),
            boards=[[getattr(b, f) for f in _BOARD_FIELDS] for b in t.boards],
            pools=[[getattr(p, f) for f in _POOL_FIELDS] for p in t.pools],
            accepted=t.accepted,
            rejected=t.rejected,
            stale=t.stale,
            hardware_errors=t.hardware_errors,
            uptime_s=t.uptime_s,
            error_codes=list(t.error_codes),
            power_target_w=t.power_target_w,
            profile=t.profile,
        )
    else:
        row["state"] = DeviceState.UNREACHABLE.value
    return row


def _from_list(cls: Any, fields: tuple[str, ...], values: Sequence[Any]) -> Any:
    """A board or pool reading from its stored list (field order pinned by a test).

    Text values (pool URL, user, status) repeat in every sample of a device: they are
    interned, so the alert rules' kept window holds each once, not once per sample.
    """
    if len(values) != len(fields):
        raise StoreError(f"stored {cls.__name__} has {len(values)} fields, expected {len(fields)}")
    return cls(*(sys.intern(v) if isinstance(v, str) else v for v in values))


def _telemetry(row: Any, time_utc: dt.datetime | None = None) -> Telemetry:
    return Telemetry(
        time_utc=time_utc or from_ms(row.time_ms),
        state=DeviceState(row.state),
        hashrate_ths=row.hashrate_ths,
        expected_hashrate_ths=row.expected_hashrate_ths,
        power_w=row.power_w,
        power_estimated=bool(row.power_estimated),
        temp_chip_max_c=row.temp_chip_max_c,
        temp_board_max_c=row.temp_board_max_c,
        temp_inlet_c=row.temp_inlet_c,
        fans_rpm=tuple(row.fans_rpm or ()),
        boards=tuple(_from_list(BoardReading, _BOARD_FIELDS, b) for b in row.boards or ()),
        pools=tuple(_from_list(PoolReading, _POOL_FIELDS, p) for p in row.pools or ()),
        accepted=row.accepted,
        rejected=row.rejected,
        stale=row.stale,
        hardware_errors=row.hardware_errors,
        uptime_s=row.uptime_s,
        error_codes=tuple(row.error_codes or ()),
        power_target_w=row.power_target_w,
        profile=row.profile,
    )


def stored_sample(row: Any) -> StoredSample:
    outcome = PollOutcome(row.outcome)
    time_utc = from_ms(row.time_ms)
    return StoredSample(
        device_id=row.device_id,
        time_utc=time_utc,
        outcome=outcome,
        latency_ms=row.latency_ms,
        error=row.error,
        telemetry=_telemetry(row, time_utc) if outcome is PollOutcome.OK else None,
    )


_DEVICE_COLUMNS = (*devices.c, sites.c.name.label("site_name"))


def _device_record(row: Any) -> DeviceRecord:
    return DeviceRecord(
        id=row.id,
        site=row.site_name,
        endpoint=Endpoint(row.host, row.api_port, row.http_port, row.v3_port),
        make=row.make,
        model=row.model,
        catalog_model=row.catalog_model,
        firmware=row.firmware,
        firmware_version=row.firmware_version,
        serial=row.serial,
        mac=row.mac,
        hostname=row.hostname,
        rack=row.rack,
        position=row.position,
        credentials_ref=row.credentials_ref,
        factory_credentials=bool(row.factory_credentials),
        state=row.state,
        last_outcome=row.last_outcome,
        last_poll_utc=from_ms(row.last_poll_ms) if row.last_poll_ms is not None else None,
        last_seen_utc=from_ms(row.last_ok_ms) if row.last_ok_ms is not None else None,
    )


def _identity_values(identity: DeviceIdentity) -> dict[str, Any]:
    return {
        "make": identity.make,
        "model": identity.model,
        "catalog_model": identity.catalog_model,
        "firmware": identity.firmware.value,
        "firmware_version": identity.firmware_version,
        "serial": identity.serial,
        "mac": identity.mac,
        "hostname": identity.hostname,
    }


class FleetStore:
    """The fleet database behind one engine; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._site_ids: dict[str, int] = {}
        self._device_ids: dict[tuple[int, str, int], int] = {}
        # (serial, firmware, version) last written per device: a poll repeats its identity
        # every cycle, and only a change needs the database
        self._identities: dict[int, tuple[str | None, str | None, str | None]] = {}

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> FleetStore:
        """Connect to ``url`` and (by default) upgrade the schema to the newest migration."""
        engine = connect(url)
        if migrate:
            try:
                upgrade(engine)
            except StoreError:
                engine.dispose()
                raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> FleetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- sites and inventory -------------------------------------------------------------

    def ensure_site(self, name: str, *, conn: Connection | None = None) -> int:
        """The id of site ``name``, created on first use (safe against a concurrent creator)."""
        if name in self._site_ids:
            return self._site_ids[name]
        if not name or len(name) > 128:
            raise StoreError(f"site name must be 1-128 characters, got {len(name)}")
        with self.engine.begin() as c:
            site_id = c.scalar(select(sites.c.id).where(sites.c.name == name))
        if site_id is None:
            try:
                with self.engine.begin() as c:
                    site_id = c.execute(
                        insert(sites).values(name=name, created_ms=to_ms(_now())).returning(sites.c.id)
                    ).scalar_one()
            except IntegrityError:
                with self.engine.begin() as c:
                    site_id = c.execute(select(sites.c.id).where(sites.c.name == name)).scalar_one()
        self._site_ids[name] = int(site_id)
        return int(site_id)

    def site_names(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.scalars(select(sites.c.name).order_by(sites.c.name)))

    def add_device(
        self,
        site: str,
        endpoint: Endpoint,
        *,
        identity: DeviceIdentity | None = None,
        rack: str | None = None,
        position: str | None = None,
        credentials_ref: str | None = None,
        factory_credentials: bool = False,
    ) -> int:
        """Add ``endpoint`` to ``site``'s inventory, or update the row already at that address."""
        site_id = self.ensure_site(site)
        values: dict[str, Any] = {
            "http_port": endpoint.http_port,
            "v3_port": endpoint.v3_port,
            "factory_credentials": factory_credentials,
        }
        if identity is not None:
            values.update(_identity_values(identity), identified_ms=to_ms(_now()))
        for name, val in (("rack", rack), ("position", position), ("credentials_ref", credentials_ref)):
            if val is not None:
                values[name] = val
        key = (devices.c.site_id == site_id) & (devices.c.host == endpoint.host)
        key &= devices.c.api_port == endpoint.api_port
        with self._begin() as c:
            existing = c.scalar(select(devices.c.id).where(key))
            if existing is not None:
                c.execute(update(devices).where(devices.c.id == existing).values(**values))
                device_id = int(existing)
            else:
                device_id = int(
                    c.execute(
                        insert(devices)
                        .values(
                            site_id=site_id,
                            host=endpoint.host,
                            api_port=endpoint.api_port,
                            first_seen_ms=to_ms(_now()),
                            **values,
                        )
                        .returning(devices.c.id)
                    ).scalar_one()
                )
        self._device_ids[(site_id, endpoint.host, endpoint.api_port)] = device_id
        return device_id

    def devices(self, site: str | None = None) -> list[DeviceRecord]:
        stmt = select(*_DEVICE_COLUMNS).join(sites, sites.c.id == devices.c.site_id)
        if site is not None:
            stmt = stmt.where(sites.c.name == site)
        with self.engine.connect() as c:
            return [_device_record(r) for r in c.execute(stmt.order_by(sites.c.name, devices.c.id))]

    def endpoints(self, site: str) -> list[Endpoint]:
        return [d.endpoint for d in self.devices(site)]

    def find_device(self, address: str, *, site: str | None = None) -> DeviceRecord | None:
        """The device at ``host:port`` (or ``host`` on any port), or None."""
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
        stmt = select(*_DEVICE_COLUMNS).join(sites, sites.c.id == devices.c.site_id)
        stmt = stmt.where(devices.c.host == host)
        if port:
            if not port.isdigit():
                return None
            stmt = stmt.where(devices.c.api_port == int(port))
        if site is not None:
            stmt = stmt.where(sites.c.name == site)
        with self.engine.connect() as c:
            row = c.execute(stmt.order_by(devices.c.id).limit(1)).first()
        return _device_record(row) if row is not None else None

    # -- recording -----------------------------------------------------------------------

    def record(self, site: str, results: Iterable[PollResult]) -> RecordSummary:
        """Store one cycle's poll results (the poller's sink); unknown addresses join the inventory.

        A changed serial or firmware at a known address is a swap: the inventory row is
        re-identified and the address reported in ``reidentified``.
        """
        results = list(results)
        site_id = self.ensure_site(site)
        new: list[str] = []
        swapped: list[str] = []
        rows: list[dict[str, Any]] = []
        device_updates: list[dict[str, Any]] = []
        with self._begin() as c:
            self._load_device_ids(c, site_id)
            for res in results:
                ep = res.endpoint
                key = (site_id, ep.host, ep.api_port)
                device_id = self._device_ids.get(key)
                if device_id is None:
                    values: dict[str, Any] = {}
                    if res.identity is not None:
                        values = _identity_values(res.identity)
                        values["identified_ms"] = to_ms(res.time_utc)
                    device_id = int(
                        c.execute(
                            insert(devices)
                            .values(
                                site_id=site_id,
                                host=ep.host,
                                api_port=ep.api_port,
                                http_port=ep.http_port,
                                v3_port=ep.v3_port,
                                factory_credentials=False,
                                first_seen_ms=to_ms(res.time_utc),
                                **values,
                            )
                            .returning(devices.c.id)
                        ).scalar_one()
                    )
                    self._device_ids[key] = device_id
                    if res.identity is not None:
                        ident = res.identity
                        self._identities[device_id] = (
                            ident.serial,
                            ident.firmware.value,
                            ident.firmware_version,
                        )
                    new.append(ep.address)
                elif res.identity is not None and self._reidentify(c, device_id, res):
                    swapped.append(ep.address)
                row = _sample_row(device_id, res)
                rows.append(row)
                ok = res.outcome is PollOutcome.OK
                device_updates.append(
                    {
                        "b_id": device_id,
                        "b_poll": row["time_ms"],
                        "b_outcome": row["outcome"],
                        "b_state": row["state"],
                        "b_ok": row["time_ms"] if ok else None,
                    }
                )
            if rows:
                c.execute(insert(samples), rows)
                c.execute(
                    update(devices)
                    .where(devices.c.id == bindparam("b_id"))
                    .values(
                        last_poll_ms=bindparam("b_poll"),
                        last_outcome=bindparam("b_outcome"),
                        state=bindparam("b_state"),
                        last_ok_ms=func.coalesce(bindparam("b_ok"), devices.c.last_ok_ms),
                    ),
                    device_updates,
                )
        return RecordSummary(len(rows), tuple(new), tuple(swapped))

    def _load_device_ids(self, c: Connection, site_id: int) -> None:
        if any(k[0] == site_id for k in self._device_ids):
            return
        # identities come along: the first cycle then checks them without a query per device
        for row in c.execute(
            select(
                devices.c.id,
                devices.c.host,
                devices.c.api_port,
                devices.c.serial,
                devices.c.firmware,
                devices.c.firmware_version,
            ).where(devices.c.site_id == site_id)
        ):
            self._device_ids[(site_id, row.host, row.api_port)] = row.id
            if row.serial is not None or row.firmware is not None:
                self._identities.setdefault(row.id, (row.serial, row.firmware, row.firmware_version))

    def _reidentify(self, c: Connection, device_id: int, res: PollResult) -> bool:
        assert res.identity is not None  # checked by the caller
        ident = res.identity
        seen = (ident.serial, ident.firmware.value, ident.firmware_version)
        if self._identities.get(device_id) == seen:
            return False
        row = c.execute(
            select(devices.c.serial, devices.c.firmware, devices.c.firmware_version).where(
                devices.c.id == device_id
            )
        ).one()
        changed = (row.serial, row.firmware, row.firmware_version) != seen
        known = row.serial is not None or row.firmware is not None
        self._identities[device_id] = seen
        if changed:
            c.execute(
                update(devices)
                .where(devices.c.id == device_id)
                .values(**_identity_values(ident), identified_ms=to_ms(res.time_utc))
            )
        return changed and known

    # -- queries -------------------------------------------------------------------------

    def samples(
        self, device_id: int, *, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[StoredSample]:
        stmt = select(samples).where(samples.c.device_id == device_id)
        if since is not None:
            stmt = stmt.where(samples.c.time_ms >= to_ms(since))
        if until is not None:
            stmt = stmt.where(samples.c.time_ms < to_ms(until))
        with self.engine.connect() as c:
            return [stored_sample(r) for r in c.execute(stmt.order_by(samples.c.time_ms))]

    def views(
        self,
        site: str | None = None,
        *,
        device_ids: Sequence[int] | None = None,
        now: dt.datetime | None = None,
    ) -> list[DeviceView]:
        """Devices with their last good reading (one indexed join on ``last_ok_ms``)."""
        now_ms = to_ms(now or _now())
        last = samples.alias("last")
        stmt = (
            select(*_DEVICE_COLUMNS, *(c.label(f"s_{c.name}") for c in last.c))
            .join(sites, sites.c.id == devices.c.site_id)
            .outerjoin(last, and_(last.c.device_id == devices.c.id, last.c.time_ms == devices.c.last_ok_ms))
        )
        if site is not None:
            stmt = stmt.where(sites.c.name == site)
        if device_ids is not None:
            stmt = stmt.where(devices.c.id.in_(list(device_ids)))
        out: dict[int, DeviceView] = {}
        with self.engine.connect() as c:
            for r in c.execute(stmt.order_by(sites.c.name, devices.c.id)):
                if r.id in out:  # two OK samples with the same millisecond: keep the first
                    continue
                record = _device_record(r)
                telemetry = None
                age = None
                if r.s_id is not None and r.s_outcome == PollOutcome.OK.value:
                    telemetry = _telemetry(_Prefixed(r, "s_"))
                    age = max(0.0, (now_ms - r.s_time_ms) / 1000)
                out[r.id] = DeviceView(record, telemetry, age)
        return list(out.values())

    def view(self, address: str, *, site: str | None = None) -> DeviceView | None:
        found = self.find_device(address, site=site)
        if found is None:
            return None
        views = self.views(device_ids=[found.id])
        return views[0] if views else None

    def power_summary(self, site: str | None = None) -> PowerSummary:
        """Measured and estimated power summed separately, never silently added together.

        Devices whose last poll failed count as unknown: their last good power is history.
        """
        measured = estimated = 0.0
        n_m = n_e = n_u = 0
        for v in self.views(site):
            t = v.telemetry
            if t is None or t.power_w is None or v.device.last_outcome != PollOutcome.OK.value:
                n_u += 1
            elif t.power_estimated:
                estimated += t.power_w
                n_e += 1
            else:
                measured += t.power_w
                n_m += 1
        return PowerSummary(measured, estimated, n_m, n_e, n_u)

    def _begin(self) -> Any:
        return _Begin(self.engine)


class _Prefixed:
    """Attribute access to the ``s_``-prefixed columns of a joined row."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


class _Begin:
    """``engine.begin()`` with driver errors turned into one-line :class:`StoreError`s."""

    def __init__(self, engine: Engine) -> None:
        self._cm = engine.begin()

    def __enter__(self) -> Connection:
        try:
            return self._cm.__enter__()
        except SQLAlchemyError as exc:
            raise StoreError(f"database write failed: {type(exc).__name__}") from exc

    def __exit__(self, *exc: Any) -> None:
        try:
            self._cm.__exit__(*exc)
        except SQLAlchemyError as err:
            raise StoreError(f"database write failed: {type(err).__name__}") from err


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
