"""Curtailment from a real ERCOT price day, on device twins (and replay servers for disobedience).

Prices: ERCOT HB_HUBAVG day-ahead, 2023-08-24 (shipped with hashwatt.data); hashprice: the
economics room's shipped history for that day. The twins are reached only through sockets.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pandas as pd
import pytest

from hashwatt.data.prices import market_prices
from hashwatt.economics import hashprice_history
from hashwatt.energy import MachineClass, dispatch_threshold
from hashwatt.fleet import DeviceState, Endpoint, Telemetry
from hashwatt.fleet._control import AuditRecord, Controller
from hashwatt.fleet._curtail import (
    CurtailMode,
    Machine,
    account_event,
    execute_curtailment,
    machines_from,
    plan_curtailment,
    price_at,
    resume,
    shed_kw_from_dispatch,
    summarize,
)
from hashwatt.fleet._devices import LuxOS
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._replay import ApiServer, LuxState, running
from tests.fleet._twins import twin_site

DAY = "2023-08-24"


def _prices() -> pd.Series:
    series = market_prices("ercot", 2023).price_usd_per_mwh
    return series[DAY]


def _hashprice() -> float:
    return float(hashprice_history(DAY, DAY)["hashprice_usd_per_ph_day"].iloc[0])


def _breakeven_usd_per_mwh(hashprice_usd_per_ph_day: float, efficiency_j_per_th: float) -> float:
    # USD/PH/day -> USD/TH/day -> per J/TH of energy: TH*day at eff J/TH uses eff*24/1000 kWh... per MWh:
    return hashprice_usd_per_ph_day / 1000.0 / (efficiency_j_per_th * 24.0 / 1e6)


def test_curtail_from_a_real_ercot_hour_sleeps_the_unprofitable_twins_and_accounts_the_event() -> None:
    prices = _prices()
    hashprice = _hashprice()
    start = datetime(2023, 8, 24, 2, 0, tzinfo=UTC)
    end = datetime(2023, 8, 24, 3, 30, tzinfo=UTC)
    price = price_at(prices, start)
    audit: list[AuditRecord] = []
    ctl = Controller(audit_sink=audit.append, retries=1, confirm_timeout_s=5.0, confirm_interval_s=0.2)

    async def main() -> None:
        async with twin_site(count=2) as site:
            from hashwatt.fleet._discovery import scan

            scanned = await scan([t.host for t in site.twins], endpoint_for=site.endpoint, timeout_s=2.0)
            readings: dict[str, Telemetry] = {}
            for d in scanned.devices:
                readings[d.address] = await d.read()
            machines = machines_from(scanned.devices, readings)
            assert len(machines) == 8
            plan = plan_curtailment(machines, price_usd_per_mwh=price, hashprice_usd_per_ph_day=hashprice)
            # exactly the machines whose breakeven price is below this hour's price, least efficient first
            expected = {
                m.address
                for m in machines
                if _breakeven_usd_per_mwh(hashprice, m.efficiency_j_per_th) < price
            }
            assert {m.address for m in plan.curtail} == expected
            assert 0 < len(expected) < 8  # the day was chosen so that only some stop
            effs = [m.efficiency_j_per_th for m in plan.curtail]
            assert effs == sorted(effs, reverse=True)
            assert min(effs) >= max(m.efficiency_j_per_th for m in plan.keep)

            event = await execute_curtailment(
                plan, ctl, max_devices_per_step=2, step_interval_s=0.2, now=start
            )
            assert not event.disobeyed and {m.address for m in event.curtailed} == expected
            for m in event.curtailed:
                assert (await m.device.read()).state is DeviceState.SLEEPING
                assert site.twin(m.device.endpoint.host).physics.hashrate_ths < 1.0
            for m in plan.keep:
                assert (await m.device.read()).state is DeviceState.MINING

            acct = account_event(event, end_utc=end, prices=prices, hashprice_usd_per_ph_day=hashprice)
            shed_kw = sum(m.power_w for m in event.curtailed) / 1000
            assert acct.energy_saved_kwh == pytest.approx(shed_kw * 1.5)
            hour2 = price_at(prices, datetime(2023, 8, 24, 3, 0, tzinfo=UTC))
            assert acct.cost_saved_usd == pytest.approx(shed_kw * (1.0 * price + 0.5 * hour2) / 1000)
            ths = sum(m.hashrate_ths for m in event.curtailed)
            assert acct.revenue_forgone_usd == pytest.approx(ths * hashprice / 1000 * 1.5 / 24)
            total = summarize([acct, acct])
            assert total.energy_saved_kwh == pytest.approx(2 * acct.energy_saved_kwh)

            assert await resume(event, ctl, step_interval_s=0.1) == len(event.curtailed)
            for m in event.curtailed:
                assert (await m.device.read()).state is not DeviceState.SLEEPING

    asyncio.run(main())
    sleeps = [r for r in audit if r.action.value == "sleep"]
    assert sleeps and all(r.actor == "curtailment" and "USD/MWh" in r.reason for r in sleeps)


def _machine(api: ApiServer, power_w: float, hashrate_ths: float) -> Machine:
    return Machine(LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2), power_w, hashrate_ths, False)


def test_safety_rule_curtails_the_next_machine_when_one_does_not_obey() -> None:
    states = [LuxState(obey=False), LuxState(), LuxState()]
    servers = [ApiServer(s.replies()) for s in states]
    ctl = Controller(retries=1, confirm_timeout_s=0.5, confirm_interval_s=0.1)

    async def main() -> None:
        async with running(*servers):
            machines = [
                _machine(servers[0], 3400.0, 100.0),  # 34 J/TH: least efficient, disobeys
                _machine(servers[1], 3500.0, 110.0),  # 31.8 J/TH: covers the 3.4 kW alone
                _machine(servers[2], 3500.0, 200.0),  # 17.5 J/TH
            ]
            plan = plan_curtailment(
                machines, price_usd_per_mwh=20.0, hashprice_usd_per_ph_day=60.0, shed_kw=3.0
            )
            assert [m.address for m in plan.curtail] == [machines[0].address]  # 3.4 kW covers the target
            event = await execute_curtailment(plan, ctl, step_interval_s=0.05)
            assert event.disobeyed == (machines[0].address,)
            assert event.substitutes == (machines[1].address,)
            assert [m.address for m in event.curtailed] == [machines[1].address]
            assert states[1].config["CONFIG"][0]["CurtailMode"] != "None"
            assert states[2].config["CONFIG"][0]["CurtailMode"] == "None"

    asyncio.run(main())


def test_shed_target_from_an_energy_dispatch_schedule() -> None:
    prices = _prices()
    hashprice = _hashprice()
    classes = [MachineClass("s19", efficiency_j_per_th=29.5, power_w=32_500.0, count=10)]
    result = dispatch_threshold(prices, classes, hashprice)
    peak = datetime(2023, 8, 24, 22, 0, tzinfo=UTC)  # 2,967 USD/MWh: the schedule is off
    night = datetime(2023, 8, 24, 9, 0, tzinfo=UTC)  # 26 USD/MWh: the schedule runs
    assert shed_kw_from_dispatch(result, peak, fleet_kw=100.0) == pytest.approx(100.0)
    assert shed_kw_from_dispatch(result, night, fleet_kw=100.0) == pytest.approx(0.0)


def test_price_lookup_and_bad_inputs() -> None:
    prices = _prices()
    assert price_at(prices, datetime(2023, 8, 24, 2, 59, tzinfo=UTC)) == prices.iloc[2]
    with pytest.raises(FleetInputError):
        price_at(prices, datetime(2023, 8, 26, 0, 0, tzinfo=UTC))
    with pytest.raises(FleetInputError):
        plan_curtailment([], price_usd_per_mwh=1.0, hashprice_usd_per_ph_day=1.0, shed_kw=-1)
    assert plan_curtailment([], price_usd_per_mwh=1.0, hashprice_usd_per_ph_day=1.0).curtail == ()


def test_power_target_mode_down_powers_to_a_profile_and_reads_it_back() -> None:
    lux = LuxState()
    api = ApiServer(lux.replies())
    ctl = Controller(retries=0, confirm_timeout_s=0.5, confirm_interval_s=0.1)
    watts = {p["Profile Name"]: p["Watts"] for p in lux.rpc["profiles"]["PROFILES"]}

    async def main() -> None:
        async with running(api):
            m = _machine(api, 1188.0, 59.8)
            plan = plan_curtailment([m], price_usd_per_mwh=5000.0, hashprice_usd_per_ph_day=60.0)
            event = await execute_curtailment(plan, ctl, mode=CurtailMode.POWER_TARGET, power_fraction=0.8)
            assert not event.disobeyed and len(event.curtailed) == 1
            chosen = lux.config["CONFIG"][0]["Profile"]
            assert watts[chosen] == max(w for w in watts.values() if w <= 0.8 * 1188.0)
            assert event.shed_kw == pytest.approx(1.188 * 0.2)

    asyncio.run(main())
