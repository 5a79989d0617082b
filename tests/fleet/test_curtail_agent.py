"""The agent runs price-driven curtailment on twins over loopback: machines sleep when the
hour's price exceeds what they earn, least efficient first, wake when it falls, and each
event is stored with savings that match a recomputation from the measured power and prices.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from hashwatt.fleet._agent import Agent, AgentConfig
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._control import Controller
from hashwatt.fleet._curtail import CurtailPolicy, load_price_file, stored_curtail_events
from hashwatt.fleet._device_layer import NetworkDeviceLayer
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._twins import twin_site

HASHPRICE_USD_PER_PH_DAY = 50.0
DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def _break_even_usd_per_mwh(power_w: float, hashrate_ths: float) -> float:
    """The price at which a machine's power costs what it earns (independent of the planner)."""
    earn_usd_per_day = hashrate_ths * HASHPRICE_USD_PER_PH_DAY / 1000.0
    mwh_per_day = power_w * 24.0 / 1e6
    return earn_usd_per_day / mwh_per_day


def test_agent_curtails_least_efficient_then_wakes_and_accounts(store_url: str) -> None:
    async def main() -> None:
        with FleetStore.open(store_url) as store:
            async with twin_site() as site:
                for t in site.twins:
                    store.add_device("north", site.endpoint(t.host))
                layer = NetworkDeviceLayer(
                    store,
                    "north",
                    deadline_s=15.0,
                    timeout_s=5.0,
                    controller=Controller(
                        confirm_interval_s=0.2,
                        confirm_timeout_s=15.0,
                        audit_sink=AuditLog(store.engine).record_sink,
                    ),
                    step_interval_s=0.0,
                )
                now = [DAY]
                hours = pd.DatetimeIndex([DAY + dt.timedelta(hours=h) for h in range(3)])
                policy = CurtailPolicy(
                    store,
                    "north",
                    pd.Series([20.0, 20.0, 20.0], index=hours),
                    HASHPRICE_USD_PER_PH_DAY,
                    layer.device,
                    layer.controller,
                    step_interval_s=0.0,
                    clock=lambda: now[0],
                )
                agent = Agent(store, AgentConfig(site="north"), poll=layer.poll, curtail=policy.step)

                first = await agent.run_cycle()  # cheap hour: every machine earns its power
                assert first.ok == len(site.twins) and first.curtail_started == 0
                views = store.views("north")
                even = sorted(
                    _break_even_usd_per_mwh(v.telemetry.power_w or 0.0, v.telemetry.hashrate_ths or 0.0)
                    for v in views
                    if v.telemetry is not None
                )
                # between the least and the most efficient machine's break-even price
                high = math.sqrt(even[0] * even[-1])
                policy.prices = pd.Series([20.0, high, 20.0], index=hours)

                now[0] = DAY + dt.timedelta(hours=1)
                second = await agent.run_cycle()
                assert second.curtail_started == 1
                (event,) = stored_curtail_events(store, "north")
                assert event.end_utc is None and 0 < len(event.devices) < len(site.twins)
                measured = {v.device.address: v.telemetry for v in store.views("north")}
                shed = {a: measured[a] for a in event.devices}
                kept = {a: r for a, r in measured.items() if a not in shed}
                for reading in shed.values():  # exactly the machines that lose money at this price
                    assert reading is not None and reading.power_w and reading.hashrate_ths
                    assert _break_even_usd_per_mwh(reading.power_w, reading.hashrate_ths) < high
                for reading in kept.values():
                    assert reading is not None and reading.power_w and reading.hashrate_ths
                    assert _break_even_usd_per_mwh(reading.power_w, reading.hashrate_ths) > high
                shed_kw = sum((t.power_w or 0.0) for t in shed.values() if t is not None) / 1000.0
                shed_ths = sum((t.hashrate_ths or 0.0) for t in shed.values() if t is not None)
                assert event.shed_kw == pytest.approx(shed_kw)

                now[0] = DAY + dt.timedelta(hours=1, minutes=30)
                third = await agent.run_cycle()  # still dear: the sleepers stay asleep
                assert (third.curtail_started, third.curtail_ended) == (0, 0)
                for a in event.devices:
                    v = store.view(a)
                    assert v is not None and v.device.state == "sleeping"

                now[0] = DAY + dt.timedelta(hours=2, minutes=15)
                fourth = await agent.run_cycle()  # cheap again: wake, confirmed, accounted
                assert fourth.curtail_ended == 1
                (done,) = stored_curtail_events(store, "north")
                assert done.end_utc == now[0]
                assert done.energy_saved_kwh == pytest.approx(shed_kw * 1.25)
                assert done.cost_saved_usd == pytest.approx(shed_kw * (1.0 * high + 0.25 * 20.0) / 1000.0)
                assert done.revenue_forgone_usd == pytest.approx(
                    shed_ths * HASHPRICE_USD_PER_PH_DAY / 1000.0 * 1.25 / 24.0
                )
                await agent.run_cycle()
                for a in event.devices:
                    v = store.view(a)
                    assert v is not None and v.device.state == "mining"
                    actions = [e.action for e in AuditLog(store.engine).entries(device=a)]
                    assert "sleep" in actions and "wake" in actions

    asyncio.run(main())


def test_price_file_parses_hours_and_rejects_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "prices.csv"
    good.write_text("utc_hour,usd_per_mwh\n2026-03-02T01:00Z,120.5\n2026-03-02T00:00,20\n")
    series = load_price_file(good)
    assert list(series) == [20.0, 120.5] and str(pd.DatetimeIndex(series.index).tz) == "UTC"
    for text in (
        "2026-03-02T00:00Z,20,3\n",
        "2026-03-02T00:00Z,20\nnot-a-time,3\n",
        "",
        "2026-03-02T00:00Z,nan\n",
    ):
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(FleetInputError):
            load_price_file(bad)


def test_a_machine_that_does_not_obey_is_named_once_per_hour(tmp_path: Path) -> None:
    """Nothing listens at the stored machine's ports: the sleep fails, the event names it as
    disobeyed, and the policy does not ask it again (nor store another event) within the hour."""
    from hashwatt.fleet._devices import Device, adapter_for
    from hashwatt.fleet._types import Endpoint, Firmware
    from tests.fleet._readings import ok

    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
            store.record("north", [ok(0, DAY, hashrate_ths=100.0, power_w=3400.0)])
            now = [DAY + dt.timedelta(minutes=5)]

            async def device_of(endpoint: Endpoint) -> Device:
                return adapter_for(Firmware.LUXOS, endpoint, timeout_s=0.5)

            policy = CurtailPolicy(
                store,
                "north",
                pd.Series([5000.0, 20.0], index=pd.DatetimeIndex([DAY, DAY + dt.timedelta(hours=1)])),
                HASHPRICE_USD_PER_PH_DAY,
                device_of,
                Controller(retries=0, confirm_timeout_s=1.0, confirm_interval_s=0.2),
                step_interval_s=0.0,
                clock=lambda: now[0],
            )
            first = await policy.step()
            (event,) = stored_curtail_events(store, "north")
            assert first.started == (event.id,) and len(event.disobeyed) == 1 and not event.devices
            assert event.end_utc is not None and event.energy_saved_kwh == 0.0
            now[0] = DAY + dt.timedelta(minutes=20)
            again = await policy.step()  # same hour: not asked again, no new event
            assert again.started == () and len(stored_curtail_events(store, "north")) == 1

    asyncio.run(main())
