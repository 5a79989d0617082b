"""Curtailment: from a price signal to machines asleep (or down-powered), confirmed, accounted.

The decision is the energy room's threshold rule (:func:`hashwatt.energy.threshold_load_fraction`)
applied to each machine's *measured* efficiency, so the least efficient machines stop first;
a dispatch schedule or an explicit kW target can ask for more. Execution is a ramped bulk
action with read-back; the safety rule for machines that do not obey is to curtail the next
least efficient machines instead until the planned load is shed, and to name the disobedient
ones. Each event is accounted in energy and cost saved and revenue forgone, with the economics
room's hashprice.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from hashwatt.economics import ph_day_to_th_day
from hashwatt.energy import DispatchResult, threshold_load_fraction
from hashwatt.fleet._alerts import AlertChange, AlertRule, clear_alert, raise_alert
from hashwatt.fleet._control import Action, ActionRequest, ActionStatus, Controller
from hashwatt.fleet._devices import Device
from hashwatt.fleet._models import curtail_events, sites
from hashwatt.fleet._store import FleetStore, from_ms, to_ms
from hashwatt.fleet._types import DeviceState, Endpoint, PollOutcome, Telemetry
from hashwatt.fleet.errors import DeviceError, FleetInputError

__all__ = [
    "CurtailAccount",
    "CurtailEvent",
    "CurtailMode",
    "CurtailPlan",
    "CurtailPolicy",
    "CurtailStep",
    "Machine",
    "PriceSource",
    "StoredCurtailEvent",
    "account_event",
    "close_curtail_event",
    "execute_curtailment",
    "has_power_target",
    "has_profiles",
    "hourly_series",
    "insert_curtail_event",
    "load_price_file",
    "machines_from",
    "parse_hourly_csv",
    "plan_curtailment",
    "price_at",
    "resume",
    "shed_kw_from_dispatch",
    "stored_curtail_events",
    "summarize",
]

log = logging.getLogger("hashwatt.fleet.curtail")


@dataclass(frozen=True, slots=True)
class Machine:
    """A device with its latest measured power and hashrate."""

    device: Device
    power_w: float
    hashrate_ths: float
    power_estimated: bool
    restore_w: float | None = None  # a down-powered machine's power before [W], to restore it
    restore_profile: str | None = None  # the profile a machine ran before a profile curtailment

    @property
    def efficiency_j_per_th(self) -> float:
        return self.power_w / self.hashrate_ths

    @property
    def address(self) -> str:
        return self.device.address


def machines_from(devices: Iterable[Device], readings: Mapping[str, Telemetry]) -> list[Machine]:
    """Machines that are mining with a known power and hashrate (others cannot be curtailed)."""
    out = []
    for d in devices:
        t = readings.get(d.address)
        if t is None or t.state is not DeviceState.MINING or not t.power_w or not t.hashrate_ths:
            continue
        out.append(Machine(d, t.power_w, t.hashrate_ths, t.power_estimated))
    return out


class CurtailMode(enum.StrEnum):
    SLEEP = "sleep"
    POWER_TARGET = "power_target"  # down-power to ``power_fraction`` of the measured power
    PROFILE = "profile"  # switch to a named power profile (LuxOS profiles, Whatsminer low/normal/high)


@dataclass(frozen=True, slots=True)
class CurtailPlan:
    """Which machines to curtail for one price hour, least efficient first."""

    price_usd_per_mwh: float
    hashprice_usd_per_ph_day: float
    curtail: tuple[Machine, ...]
    keep: tuple[Machine, ...]  # most efficient last: the reserve for the safety rule

    @property
    def shed_kw(self) -> float:
        return sum(m.power_w for m in self.curtail) / 1000.0


def price_at(prices: pd.Series, when: datetime) -> float:
    """The price [USD/MWh] of the hour containing ``when`` in an hourly series on UTC hour starts."""
    if not isinstance(prices.index, pd.DatetimeIndex) or prices.index.tz is None:
        raise FleetInputError("prices must be indexed by tz-aware hour starts")
    ts = pd.Timestamp(when).tz_convert("UTC") if pd.Timestamp(when).tzinfo else pd.Timestamp(when, tz="UTC")
    pos = int(prices.index.searchsorted(ts, side="right")) - 1
    if pos < 0 or ts - prices.index[pos] >= pd.Timedelta(hours=1):
        raise FleetInputError(f"no price for {ts.isoformat()} in the price series", field="when", value=ts)
    return float(prices.iloc[pos])


def shed_kw_from_dispatch(result: DispatchResult, when: datetime, *, fleet_kw: float) -> float:
    """The load [kW] a dispatch schedule wants off at ``when``: the schedule's idle share of ``fleet_kw``."""
    schedule = result.schedule
    if result.summary.capacity_kw <= 0:
        return 0.0
    running = float(price_at(schedule["it_load_kw"], when)) / result.summary.capacity_kw
    return max(0.0, 1.0 - min(1.0, running)) * fleet_kw


def plan_curtailment(
    machines: Sequence[Machine],
    *,
    price_usd_per_mwh: float,
    hashprice_usd_per_ph_day: float,
    pool_fee: float = 0.0,
    pue: float = 1.0,
    shed_kw: float | None = None,
) -> CurtailPlan:
    """Curtail every machine that earns less than its power costs; with ``shed_kw``, at least that much.

    Machines are ordered least efficient first (highest measured J/TH); that is also the order
    in which the threshold rule turns them off as the price rises.
    """
    if shed_kw is not None and shed_kw < 0:
        raise FleetInputError("shed_kw cannot be negative")
    ordered = sorted(machines, key=lambda m: m.efficiency_j_per_th, reverse=True)
    if not ordered:
        return CurtailPlan(price_usd_per_mwh, hashprice_usd_per_ph_day, (), ())
    eff = np.array([m.efficiency_j_per_th for m in ordered])
    run = threshold_load_fraction(
        np.array([price_usd_per_mwh]),
        np.array([hashprice_usd_per_ph_day]),
        eff,
        pue=pue,
        pool_fee=pool_fee,
    )[0]
    count = int(np.sum(run < 0.5))  # least efficient first, so the unprofitable ones lead
    if shed_kw is not None:
        total = 0.0
        needed = 0
        for m in ordered:
            if total >= shed_kw:
                break
            total += m.power_w / 1000.0
            needed += 1
        count = max(count, needed)
    return CurtailPlan(
        price_usd_per_mwh, hashprice_usd_per_ph_day, tuple(ordered[:count]), tuple(ordered[count:])
    )


@dataclass(frozen=True, slots=True)
class CurtailEvent:
    """What a curtailment did: the machines that obeyed, the ones that did not, and the load shed."""

    start_utc: datetime
    curtailed: tuple[Machine, ...]  # confirmed by read-back
    disobeyed: tuple[str, ...]  # addresses that did not obey (or could not be reached)
    substitutes: tuple[str, ...]  # addresses curtailed instead of the disobedient ones
    planned_kw: float
    mode: CurtailMode

    @property
    def shed_kw(self) -> float:
        return sum(m.power_w for m in self.curtailed) / 1000.0

    @property
    def hashrate_ths(self) -> float:
        return sum(m.hashrate_ths for m in self.curtailed)


async def execute_curtailment(
    plan: CurtailPlan,
    controller: Controller,
    *,
    actor: str = "curtailment",
    mode: CurtailMode = CurtailMode.SLEEP,
    power_fraction: float = 0.5,
    profile: str | None = None,
    max_devices_per_step: int = 50,
    max_kw_per_step: float | None = None,
    step_interval_s: float = 30.0,
    now: datetime | None = None,
) -> CurtailEvent:
    """Curtail the plan's machines in ramped steps, confirm, and apply the safety rule.

    Machines that do not obey are replaced by the next least efficient machines of
    ``plan.keep`` until the planned load is shed (or the reserve runs out). In PROFILE mode
    the load shed is the measured power less the profile's rated watts where the firmware
    lists them (LuxOS), else ``1 - power_fraction`` of it; either way it is marked estimated.
    """
    if not 0 < power_fraction < 1:
        raise FleetInputError("power_fraction must be between 0 and 1")
    if mode is CurtailMode.PROFILE and not profile:
        raise FleetInputError("a profile curtailment needs the profile's name")
    start = now or datetime.now(UTC)
    reason = (
        f"price {plan.price_usd_per_mwh:g} USD/MWh, hashprice {plan.hashprice_usd_per_ph_day:g} USD/PH/day"
    )
    curtailed: list[Machine] = []
    disobeyed: list[str] = []
    substitutes: list[str] = []
    reserve = list(plan.keep)  # least efficient first
    batch = list(plan.curtail)
    first_round = True
    while batch:
        by_addr = {m.address: m for m in batch}
        if mode is CurtailMode.SLEEP:
            results = await controller.bulk(
                [m.device for m in batch],
                ActionRequest(Action.SLEEP),
                actor=actor,
                reason=reason,
                max_devices_per_step=max_devices_per_step,
                max_kw_per_step=max_kw_per_step,
                step_interval_s=step_interval_s,
                power_w_of=_power_of(by_addr),
            )
            outcomes = results.outcomes
        else:
            request = (
                ActionRequest(Action.PROFILE, profile=profile)
                if mode is CurtailMode.PROFILE
                else None  # a power target per machine
            )
            outcomes = tuple(
                [
                    await controller.act(
                        m.device,
                        request or ActionRequest(Action.POWER_TARGET, power_w=m.power_w * power_fraction),
                        actor=actor,
                        reason=reason,
                    )
                    for m in batch
                ]
            )
        missing_kw = 0.0
        for out in outcomes:
            m = by_addr[out.address]
            if out.status is ActionStatus.CONFIRMED:
                if mode is CurtailMode.SLEEP:
                    curtailed.append(m)
                elif mode is CurtailMode.PROFILE:
                    shed = await _profile_shed_fraction(m, profile or "", power_fraction)
                    curtailed.append(
                        replace(_scaled(m, shed), restore_w=None, restore_profile=m.restore_profile)
                    )
                else:
                    curtailed.append(_scaled(m, 1 - power_fraction))
                if not first_round:
                    substitutes.append(m.address)
            else:
                disobeyed.append(m.address)
                missing_kw += m.power_w / 1000.0 * (1.0 if mode is CurtailMode.SLEEP else 1 - power_fraction)
        first_round = False
        batch = []
        while missing_kw > 0 and reserve:
            m = reserve.pop(0)
            batch.append(m)
            missing_kw -= m.power_w / 1000.0 * (1.0 if mode is CurtailMode.SLEEP else 1 - power_fraction)
    return CurtailEvent(start, tuple(curtailed), tuple(disobeyed), tuple(substitutes), plan.shed_kw, mode)


async def _profile_shed_fraction(m: Machine, profile: str, power_fraction: float) -> float:
    """The share of a machine's measured power a profile sheds: from the profile's rated watts
    where the firmware lists them, else ``1 - power_fraction`` (an estimate either way)."""
    try:
        watts = dict(await m.device.profiles()).get(profile)
    except DeviceError:
        watts = None
    if watts is None or m.power_w <= 0:
        return 1.0 - power_fraction
    return min(1.0, max(0.0, 1.0 - watts / m.power_w))


def _power_of(by_address: Mapping[str, Machine]) -> Callable[[Device], float]:
    return lambda d: by_address[d.address].power_w


def _scaled(m: Machine, fraction: float) -> Machine:
    """The part of a machine's load and hashrate that a down-power removed (pro rata estimate)."""
    return Machine(m.device, m.power_w * fraction, m.hashrate_ths * fraction, True, restore_w=m.power_w)


async def resume(
    event: CurtailEvent, controller: Controller, *, actor: str = "curtailment", **ramp: float
) -> int:
    """Wake the machines an event put to sleep, ramped; returns how many confirmed."""
    if not event.curtailed or event.mode is not CurtailMode.SLEEP:
        return 0
    result = await controller.bulk(
        [m.device for m in event.curtailed],
        ActionRequest(Action.WAKE),
        actor=actor,
        reason="curtailment over",
        max_devices_per_step=int(ramp.get("max_devices_per_step", 50)),
        step_interval_s=float(ramp.get("step_interval_s", 30.0)),
    )
    return sum(o.ok for o in result.outcomes)


@dataclass(frozen=True, slots=True)
class CurtailAccount:
    """Energy and money of one curtailment (or a period of them) [kWh, USD]."""

    hours: float
    energy_saved_kwh: float
    cost_saved_usd: float
    revenue_forgone_usd: float

    @property
    def net_usd(self) -> float:
        """Positive when curtailing paid: cost saved above revenue forgone."""
        return self.cost_saved_usd - self.revenue_forgone_usd


def account_event(
    event: CurtailEvent,
    *,
    end_utc: datetime,
    prices: pd.Series,
    hashprice_usd_per_ph_day: float,
    pool_fee: float = 0.0,
) -> CurtailAccount:
    """Energy saved and its cost at each hour's price; revenue forgone at the hashprice.

    energy [kWh] = shed kW x hours; cost [USD] = sum over hours of kWh x price [USD/MWh] / 1000;
    revenue forgone [USD] = hashrate [TH/s] x hashprice [USD/TH/day] x (1 - fee) x hours / 24.
    """
    if end_utc <= event.start_utc:
        raise FleetInputError("a curtailment must end after it starts")
    shed_kw = event.shed_kw
    energy = 0.0
    cost = 0.0
    t = event.start_utc
    while t < end_utc:
        hour_end = (t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
        seg_end = min(hour_end, end_utc)
        hours = (seg_end - t).total_seconds() / 3600.0
        kwh = shed_kw * hours
        energy += kwh
        cost += kwh * price_at(prices, t) / 1000.0
        t = seg_end
    hours_total = (end_utc - event.start_utc).total_seconds() / 3600.0
    revenue = (
        event.hashrate_ths
        * float(ph_day_to_th_day(hashprice_usd_per_ph_day))
        * (1.0 - pool_fee)
        * hours_total
        / 24.0
    )
    return CurtailAccount(hours_total, energy, cost, revenue)


def summarize(accounts: Iterable[CurtailAccount]) -> CurtailAccount:
    """The totals of a period's events."""
    items = list(accounts)
    return CurtailAccount(
        sum(a.hours for a in items),
        sum(a.energy_saved_kwh for a in items),
        sum(a.cost_saved_usd for a in items),
        sum(a.revenue_forgone_usd for a in items),
    )


def load_price_file(path: Path, *, what: str = "USD/MWh") -> pd.Series:
    """An hourly file: CSV rows ``UTC hour start, USD/MWh`` (or ``what``: kW targets); a header
    row is allowed."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetInputError(
            f"cannot read hourly file {path}: {exc.__class__.__name__}",
            field="path",
            value=str(path),
            path=str(path),
        ) from None
    return parse_hourly_csv(text, source=str(path), what=what)


def parse_hourly_csv(
    text: str, *, source: str, what: str = "USD/MWh", error: type[FleetInputError] = FleetInputError
) -> pd.Series:
    """Rows ``UTC hour start, value`` (a header row and ``#`` comments allowed; a naive time is
    UTC) as a series on tz-aware hour starts, sorted; any bad row is one ``error`` naming it."""
    times: list[pd.Timestamp] = []
    values: list[float] = []
    for n, line in enumerate(text.splitlines(), start=1):
        cells = [c.strip() for c in line.split(",")]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(cells) != 2:
            raise error(f"{source}:{n}: expected 'UTC hour, {what}', got {len(cells)} fields")
        try:
            value = float(cells[1])
            when = pd.Timestamp(cells[0])
        except ValueError:
            if not times and n == 1:  # a header row
                continue
            raise error(f"{source}:{n}: not a time and a value: {line[:60]!r}") from None
        if not np.isfinite(value):
            raise error(f"{source}:{n}: the value must be a finite number")
        times.append(when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC"))
        values.append(value)
    return hourly_series(times, values, source=source, error=error)


def hourly_series(
    times: Sequence[pd.Timestamp],
    values: Sequence[float],
    *,
    source: str,
    error: type[FleetInputError] = FleetInputError,
) -> pd.Series:
    """Values on UTC hour starts, sorted; empty or with an hour twice is one ``error``."""
    if not values:
        raise error(f"{source}: no values")
    series = pd.Series(list(values), index=pd.DatetimeIndex(list(times))).sort_index()
    if series.index.has_duplicates:
        raise error(f"{source}: an hour appears twice")
    return series


@dataclass(frozen=True, slots=True)
class StoredCurtailEvent:
    """A curtailment event as stored; the accounting fields are None while it is still open."""

    id: int
    site: str
    start_utc: datetime
    end_utc: datetime | None
    mode: str
    devices: tuple[str, ...]
    disobeyed: tuple[str, ...]
    shed_kw: float
    hashrate_ths: float
    price_usd_per_mwh: float
    hashprice_usd_per_ph_day: float
    energy_saved_kwh: float | None
    cost_saved_usd: float | None
    revenue_forgone_usd: float | None
    #: (address, power shed [W], hashrate shed [TH/s]) of each machine, as measured at the start
    loads: tuple[tuple[str, float, float], ...] = ()


def stored_curtail_events(
    store: FleetStore,
    site: str | None = None,
    *,
    open_only: bool = False,
    limit: int | None = 200,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StoredCurtailEvent]:
    """The newest ``limit`` events (newest first), optionally of one site, only the open ones,
    or only those that started in ``[since, until)``; ``limit=None`` returns them all."""
    stmt = select(curtail_events, sites.c.name.label("site_name")).join(
        sites, sites.c.id == curtail_events.c.site_id
    )
    if site is not None:
        stmt = stmt.where(sites.c.name == site)
    if open_only:
        stmt = stmt.where(curtail_events.c.end_ms.is_(None))
    if since is not None:
        stmt = stmt.where(curtail_events.c.start_ms >= to_ms(since))
    if until is not None:
        stmt = stmt.where(curtail_events.c.start_ms < to_ms(until))
    stmt = stmt.order_by(curtail_events.c.start_ms.desc(), curtail_events.c.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.engine.connect() as c:
        rows = list(c.execute(stmt))
    return [
        StoredCurtailEvent(
            id=r.id,
            site=r.site_name,
            start_utc=from_ms(r.start_ms),
            end_utc=None if r.end_ms is None else from_ms(r.end_ms),
            mode=r.mode,
            devices=tuple(str(m["address"]) for m in r.machines),
            disobeyed=tuple(str(a) for a in r.disobeyed),
            shed_kw=r.shed_kw,
            hashrate_ths=r.hashrate_ths,
            price_usd_per_mwh=r.price_usd_per_mwh,
            hashprice_usd_per_ph_day=r.hashprice_usd_per_ph_day,
            energy_saved_kwh=r.energy_saved_kwh,
            cost_saved_usd=r.cost_saved_usd,
            revenue_forgone_usd=r.revenue_forgone_usd,
            loads=tuple(
                (str(m["address"]), float(m["power_w"]), float(m["hashrate_ths"])) for m in r.machines
            ),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class CurtailStep:
    """What one policy step did: events started and ended (by id), alerts it raised or cleared."""

    price_usd_per_mwh: float | None
    started: tuple[int, ...] = ()
    ended: tuple[int, ...] = ()
    alerts: tuple[AlertChange, ...] = ()


#: The live device for an inventory endpoint (the agent's device layer resolves it).
DeviceOf = Callable[[Endpoint], Awaitable[Device]]


class PriceSource(Protocol):
    """A live price feed (:class:`~hashwatt.fleet._pricefeed.PriceFeed`): the latest hourly
    prices [USD/MWh] on UTC hour starts, or None while it has none."""

    async def prices(self) -> pd.Series | None: ...


def has_power_target(device: Device) -> bool:
    """Whether the device's firmware takes a power target (stock Antminer firmware does not)."""
    return type(device).set_power_target is not Device.set_power_target


def has_profiles(device: Device) -> bool:
    """Whether the device's firmware switches named power profiles (LuxOS, Whatsminer, stock)."""
    return type(device).set_profile is not Device.set_profile


@dataclass
class CurtailPolicy:
    """Price-driven curtailment the agent runs every cycle.

    Each step reads the price of the current hour (from ``prices``, refreshed from
    ``price_source`` when there is one); machines that are mining, with their last measured
    power and hashrate from the store, go through :func:`plan_curtailment` and
    :func:`execute_curtailment` (ramped, read back, safety rule) and the event is stored.

    ``mode`` SLEEP puts machines to sleep (a sleeping machine draws almost nothing, so the
    stored load is the load shed); POWER_TARGET down-powers each to ``power_fraction`` of its
    measured power where the firmware takes a power target (the others are left alone) and
    stores the part shed. ``load_cap_kw(now)`` is a dispatch target: the site's measured load
    [kW] is brought under it, least efficient machines first, even when the price alone would
    not curtail them.

    An open event ends when the current price no longer curtails its machines and bringing
    them back keeps the site under its cap: they are woken or restored to their power
    (ramped, read back) and the event is accounted with :func:`account_event` from the load
    stored at its start and the hourly prices. Safety rule: the controller retries each
    machine, then one that still does not obey is named in the event, not asked again this
    hour, replaced by the next least efficient machine, and a ``curtail_disobeyed`` alert is
    opened for it (cleared when it next obeys).
    ``clock`` is the policy's time, so a demo can replay a price day faster than real time.
    """

    store: FleetStore
    site: str
    prices: pd.Series
    hashprice_usd_per_ph_day: float
    device_of: DeviceOf
    controller: Controller
    pool_fee: float = 0.0
    pue: float = 1.0
    max_devices_per_step: int = 50
    step_interval_s: float = 30.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    actor: str = "curtailment"
    mode: CurtailMode = CurtailMode.SLEEP
    power_fraction: float = 0.5
    profile: str | None = None  # the profile of a PROFILE curtailment
    load_cap_kw: Callable[[datetime], float | None] | None = None
    price_source: PriceSource | None = None
    #: machines that did not obey this hour: not asked again (nor stored again) until the next hour
    _refused: dict[str, datetime] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.power_fraction < 1:
            raise FleetInputError("power_fraction must be between 0 and 1")
        if self.mode is CurtailMode.PROFILE and not self.profile:
            raise FleetInputError("a profile curtailment needs the profile's name")

    async def step(self) -> CurtailStep:
        now = self.clock()
        if self.price_source is not None:
            fresh = await self.price_source.prices()
            if fresh is not None:
                self.prices = fresh
        try:
            price = price_at(self.prices, now)
        except FleetInputError as exc:
            log.warning("curtailment idle: %s", exc)
            return CurtailStep(None)
        cap = self.load_cap_kw(now) if self.load_cap_kw is not None else None
        views = await asyncio.to_thread(self.store.views, self.site)
        load_kw = _mining_load_kw(views)
        ended, load_kw = await self._end_events(now, price, cap, load_kw)
        started, changes = await self._start_event(now, price, cap, load_kw, views)
        return CurtailStep(price, started, ended, changes)

    async def _start_event(
        self, now: datetime, price: float, cap: float | None, load_kw: float, views: Sequence[Any]
    ) -> tuple[tuple[int, ...], tuple[AlertChange, ...]]:
        hour = now.replace(minute=0, second=0, microsecond=0)
        self._refused = {a: h for a, h in self._refused.items() if h == hour}
        busy = {a for row in await asyncio.to_thread(self._open_rows) for a in _row_addresses(row)}
        readings: dict[str, Telemetry] = {}
        devices: list[Device] = []
        for v in views:
            if v.telemetry is None or v.device.last_outcome != PollOutcome.OK.value:
                continue
            address = v.device.address
            if v.telemetry.state is not DeviceState.MINING or address in self._refused or address in busy:
                continue
            try:
                device = await self.device_of(v.device.endpoint)
            except DeviceError:
                continue
            if self.mode is CurtailMode.POWER_TARGET and not has_power_target(device):
                continue
            if self.mode is CurtailMode.PROFILE and (not has_profiles(device) or v.telemetry.profile is None):
                continue  # a profile curtailment only where the profile to restore is known
            devices.append(device)
            readings[address] = v.telemetry
        machines = [
            replace(m, restore_profile=readings[m.address].profile) for m in machines_from(devices, readings)
        ]
        shed_kw = None if cap is None else max(0.0, load_kw - cap)
        if shed_kw is not None and self.mode is not CurtailMode.SLEEP:
            shed_kw /= 1.0 - self.power_fraction  # a down-powered machine sheds only part of its load
        plan = self._plan(machines, price, shed_kw=shed_kw or None)
        if not plan.curtail:
            return (), ()
        event = await execute_curtailment(
            plan,
            self.controller,
            actor=self.actor,
            mode=self.mode,
            power_fraction=self.power_fraction,
            profile=self.profile,
            max_devices_per_step=self.max_devices_per_step,
            step_interval_s=self.step_interval_s,
            now=now,
        )
        self._refused.update((a, hour) for a in event.disobeyed)
        changes = await asyncio.to_thread(self._safety_alerts, event, now)
        if not event.curtailed and not event.disobeyed:
            return (), changes
        event_id = await asyncio.to_thread(self._insert, event, plan)
        log.info("curtailed %d machines (%.1f kW) at %g USD/MWh", len(event.curtailed), event.shed_kw, price)
        return (event_id,), changes

    def _plan(
        self, machines: Sequence[Machine], price: float, *, shed_kw: float | None = None
    ) -> CurtailPlan:
        """This policy's economics applied to ``machines`` at ``price`` [USD/MWh]."""
        return plan_curtailment(
            machines,
            price_usd_per_mwh=price,
            hashprice_usd_per_ph_day=self.hashprice_usd_per_ph_day,
            pool_fee=self.pool_fee,
            pue=self.pue,
            shed_kw=shed_kw,
        )

    def _safety_alerts(self, event: CurtailEvent, now: datetime) -> tuple[AlertChange, ...]:
        """Open an alert for each machine that did not obey; clear it for those that did."""
        changes: list[AlertChange | None] = []
        for address in event.disobeyed:
            message = (
                f"did not obey curtailment ({event.mode.value}) after {self.controller.retries + 1} tries"
            )
            changes.append(
                raise_alert(self.store, self.site, address, AlertRule.CURTAIL_DISOBEYED, message, now=now)
            )
        for m in event.curtailed:
            changes.append(
                clear_alert(
                    self.store,
                    self.site,
                    m.address,
                    AlertRule.CURTAIL_DISOBEYED,
                    now=now,
                    note="obeyed curtailment",
                )
            )
        return tuple(c for c in changes if c is not None)

    def _insert(self, event: CurtailEvent, plan: CurtailPlan) -> int:
        return insert_curtail_event(
            self.store,
            self.site,
            event,
            price_usd_per_mwh=plan.price_usd_per_mwh,
            hashprice_usd_per_ph_day=plan.hashprice_usd_per_ph_day,
        )

    async def _end_events(
        self, now: datetime, price: float, cap: float | None, load_kw: float
    ) -> tuple[tuple[int, ...], float]:
        rows = await asyncio.to_thread(self._open_rows)
        ended: list[int] = []
        for row in rows:
            machines = await self._machines_of(row)
            if machines is None or now <= from_ms(row.start_ms):
                continue  # a device cannot be resolved now: try again next cycle
            still = self._plan(machines, price)
            if still.curtail:
                continue
            if cap is not None and load_kw + row.shed_kw > cap:
                continue  # bringing them back would put the site over its dispatch target
            mode = CurtailMode(row.mode)
            event = CurtailEvent(from_ms(row.start_ms), tuple(machines), (), (), row.shed_kw, mode)
            back = await self._bring_back(event)
            if back < len(machines):
                log.warning("curtailment %d: %d of %d machines confirmed back", row.id, back, len(machines))
            account = account_event(
                event,
                end_utc=now,
                prices=self.prices,
                hashprice_usd_per_ph_day=row.hashprice_usd_per_ph_day,
                pool_fee=self.pool_fee,
            )
            await asyncio.to_thread(self._close, row.id, now, account)
            log.info("curtailment %d over: %.2f kWh saved", row.id, account.energy_saved_kwh)
            ended.append(row.id)
            load_kw += row.shed_kw
        return tuple(ended), load_kw

    async def _bring_back(self, event: CurtailEvent) -> int:
        """Wake the machines of a sleep event, or restore a down-power event's machines to the
        power they had; how many confirmed."""
        if event.mode is CurtailMode.SLEEP:
            return await resume(
                event,
                self.controller,
                actor=self.actor,
                max_devices_per_step=float(self.max_devices_per_step),
                step_interval_s=self.step_interval_s,
            )
        outcomes = [
            await self.controller.act(
                m.device,
                ActionRequest(Action.PROFILE, profile=m.restore_profile)
                if event.mode is CurtailMode.PROFILE and m.restore_profile
                else ActionRequest(Action.POWER_TARGET, power_w=m.restore_w or m.power_w),
                actor=self.actor,
                reason="curtailment over",
            )
            for m in event.curtailed
            if event.mode is not CurtailMode.PROFILE or m.restore_profile
        ]
        return sum(o.ok for o in outcomes)

    async def _machines_of(self, row: Any) -> list[Machine] | None:
        """The event's machines with the load they were shed at; None if one cannot be reached."""
        machines: list[Machine] = []
        for m in row.machines:
            address = str(m["address"])
            found = await asyncio.to_thread(self.store.find_device, address, site=self.site)
            if found is None:
                return None
            try:
                device = await self.device_of(found.endpoint)
            except DeviceError:
                return None
            restore = m.get("restore_w")
            machines.append(
                Machine(
                    device,
                    float(m["power_w"]),
                    float(m["hashrate_ths"]),
                    bool(m["power_estimated"]),
                    restore_w=None if restore is None else float(restore),
                    restore_profile=m.get("restore_profile"),
                )
            )
        return machines

    def _open_rows(self) -> list[Any]:
        site_id = self.store.ensure_site(self.site)
        with self.store.engine.connect() as c:
            return list(
                c.execute(
                    select(curtail_events)
                    .where(curtail_events.c.site_id == site_id, curtail_events.c.end_ms.is_(None))
                    .order_by(curtail_events.c.id)
                )
            )

    def _close(self, event_id: int, end: datetime, account: CurtailAccount) -> None:
        close_curtail_event(self.store, event_id, end, account)


def _row_addresses(row: Any) -> list[str]:
    return [str(m["address"]) for m in row.machines]


def _mining_load_kw(views: Sequence[Any]) -> float:
    """The site's load [kW]: the last power of every machine read as mining (measured, or
    estimated where the firmware reports none)."""
    total_w = 0.0
    for v in views:
        t = v.telemetry
        if t is None or v.device.last_outcome != PollOutcome.OK.value or t.state is not DeviceState.MINING:
            continue
        total_w += t.power_w or 0.0
    return total_w / 1000.0


def insert_curtail_event(
    store: FleetStore,
    site: str,
    event: CurtailEvent,
    *,
    price_usd_per_mwh: float,
    hashprice_usd_per_ph_day: float,
) -> int:
    """Store an event as it starts (open while any machine is curtailed); its id."""
    site_id = store.ensure_site(site)
    with store.engine.begin() as c:
        return int(
            c.execute(
                insert(curtail_events)
                .values(
                    site_id=site_id,
                    start_ms=to_ms(event.start_utc),
                    end_ms=None if event.curtailed else to_ms(event.start_utc),
                    mode=event.mode.value,
                    machines=[_machine_row(m) for m in event.curtailed],
                    disobeyed=list(event.disobeyed),
                    shed_kw=event.shed_kw,
                    hashrate_ths=event.hashrate_ths,
                    price_usd_per_mwh=price_usd_per_mwh,
                    hashprice_usd_per_ph_day=hashprice_usd_per_ph_day,
                    energy_saved_kwh=None if event.curtailed else 0.0,
                    cost_saved_usd=None if event.curtailed else 0.0,
                    revenue_forgone_usd=None if event.curtailed else 0.0,
                )
                .returning(curtail_events.c.id)
            ).scalar_one()
        )


def close_curtail_event(store: FleetStore, event_id: int, end: datetime, account: CurtailAccount) -> None:
    """Store how an event ended and its account."""
    with store.engine.begin() as c:
        c.execute(
            update(curtail_events)
            .where(curtail_events.c.id == event_id)
            .values(
                end_ms=to_ms(end),
                energy_saved_kwh=account.energy_saved_kwh,
                cost_saved_usd=account.cost_saved_usd,
                revenue_forgone_usd=account.revenue_forgone_usd,
            )
        )


def _machine_row(m: Machine) -> dict[str, Any]:
    row: dict[str, Any] = {
        "address": m.address,
        "power_w": m.power_w,
        "hashrate_ths": m.hashrate_ths,
        "power_estimated": m.power_estimated,
    }
    if m.restore_w is not None:
        row["restore_w"] = m.restore_w
    if m.restore_profile is not None:
        row["restore_profile"] = m.restore_profile
    return row
