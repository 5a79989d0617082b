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

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from hashwatt.economics import ph_day_to_th_day
from hashwatt.energy import DispatchResult, threshold_load_fraction
from hashwatt.fleet._control import Action, ActionRequest, ActionStatus, Controller
from hashwatt.fleet._devices import Device
from hashwatt.fleet._types import DeviceState, Telemetry
from hashwatt.fleet.errors import FleetInputError

__all__ = [
    "CurtailAccount",
    "CurtailEvent",
    "CurtailMode",
    "CurtailPlan",
    "Machine",
    "account_event",
    "execute_curtailment",
    "machines_from",
    "plan_curtailment",
    "price_at",
    "resume",
    "shed_kw_from_dispatch",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class Machine:
    """A device with its latest measured power and hashrate."""

    device: Device
    power_w: float
    hashrate_ths: float
    power_estimated: bool

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
        raise FleetInputError(f"no price for {ts.isoformat()} in the price series")
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
    pool_fee_fraction: float = 0.0,
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
        pool_fee_fraction=pool_fee_fraction,
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
    max_devices_per_step: int = 50,
    max_kw_per_step: float | None = None,
    step_interval_s: float = 30.0,
    now: datetime | None = None,
) -> CurtailEvent:
    """Curtail the plan's machines in ramped steps, confirm, and apply the safety rule.

    Machines that do not obey are replaced by the next least efficient machines of
    ``plan.keep`` until the planned load is shed (or the reserve runs out).
    """
    if not 0 < power_fraction < 1:
        raise FleetInputError("power_fraction must be between 0 and 1")
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
            outcomes = tuple(
                [
                    await controller.act(
                        m.device,
                        ActionRequest(Action.POWER_TARGET, power_w=m.power_w * power_fraction),
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
                curtailed.append(m if mode is CurtailMode.SLEEP else _scaled(m, 1 - power_fraction))
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


def _power_of(by_address: Mapping[str, Machine]) -> Callable[[Device], float]:
    return lambda d: by_address[d.address].power_w


def _scaled(m: Machine, fraction: float) -> Machine:
    """The part of a machine's load and hashrate that a down-power removed (pro rata estimate)."""
    return Machine(m.device, m.power_w * fraction, m.hashrate_ths * fraction, True)


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
    pool_fee_fraction: float = 0.0,
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
        * (1.0 - pool_fee_fraction)
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
