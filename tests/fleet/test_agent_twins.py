"""End to end on loopback: twins of every firmware -> scan -> inventory -> agent cycles ->
database -> alerts -> a queued command executed and read back; a dead address recorded as such.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hashwatt.fleet._agent import Agent, AgentConfig, CycleReport
from hashwatt.fleet._alerts import AlertConfig, AlertRule, AlertThresholds, list_alerts
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._commands import CommandState, list_commands, submit_command
from hashwatt.fleet._control import Action, ActionRequest, Controller
from hashwatt.fleet._device_layer import NetworkDeviceLayer
from hashwatt.fleet._discovery import scan
from hashwatt.fleet._store import FleetStore
from hashwatt.twin import Fault, apply_fault
from tests.fleet._twins import network_layer, twin_site

# Rules that need minutes of history are left at their defaults; these two act at once.
RULES = AlertConfig(AlertThresholds(fan_for_min=0, offline_after_s=0), {}, {})


def test_twins_scanned_polled_alerted_and_commanded(store_url: str) -> None:
    async def main() -> None:
        with FleetStore.open(store_url) as store:
            async with twin_site() as site:
                hosts = [t.host for t in site.twins]
                dead = hosts[-1].rsplit(".", 1)[0] + ".200"  # nothing listens there
                result = await scan([*hosts, dead], endpoint_for=site.endpoint, timeout_s=5.0)
                assert len(result.found) == 4 and result.dead == (dead,)
                for f in result.found:
                    store.add_device(
                        "north", f.endpoint, identity=f.identity, factory_credentials=f.factory_credentials
                    )
                store.add_device("north", site.endpoint(dead))
                layer = network_layer(store)
                agent = Agent(
                    store, AgentConfig(site="north", alerts=RULES), poll=layer.poll, execute=layer.execute
                )

                first: CycleReport = await agent.run_cycle()
                assert (first.polled, first.ok, first.failed) == (5, 4, 1)
                views = {v.device.address: v for v in store.views("north")}
                assert views[site.endpoint(dead).address].device.last_outcome in ("unreachable", "timeout")
                for f in result.found:
                    v = views[f.endpoint.address]
                    assert v.telemetry is not None and v.telemetry.hashrate_ths
                    assert (v.device.serial, v.device.firmware) == (
                        f.identity.serial,
                        f.identity.firmware.value,
                    )

                fan_twin = site.twins[0]
                apply_fault(fan_twin, Fault.FAN, 1, site.clock.now())
                await agent.run_cycle()
                open_alerts = {(a.address, a.rule) for a in list_alerts(store, states=["open"])}
                assert (site.endpoint(fan_twin.host).address, AlertRule.FAN_FAILURE) in open_alerts
                assert (site.endpoint(dead).address, AlertRule.OFFLINE) in open_alerts

                apply_fault(fan_twin, Fault.CLEAR, None, site.clock.now())
                target = site.endpoint(site.twins[1].host).address  # the LuxOS twin
                cmd = submit_command(store, "north", "sleep", [target], created_by="alice")
                report = await agent.run_cycle()
                assert report.commands_done == 1, list_commands(store)
                await agent.run_cycle()
                (done,) = list_commands(store, site="north")
                assert done.id == cmd.id and done.state is CommandState.DONE
                (entry,) = AuditLog(store.engine).entries(device=target)
                assert entry.actor == "alice" and entry.outcome == "ok"
                slept = store.view(target)
                assert slept is not None and slept.device.state == "sleeping"
                fan = [a for a in list_alerts(store) if a.rule is AlertRule.FAN_FAILURE]
                assert [a.state for a in fan] == ["resolved"]  # the cleared fault resolved it

                # a direct action by the control layer lands in the same audit log
                control = Controller(
                    audit_sink=AuditLog(store.engine).record_sink,
                    confirm_interval_s=0.2,
                    confirm_timeout_s=15.0,
                )
                device = await layer._device(site.endpoint(site.twins[1].host))
                woke = await control.act(device, ActionRequest(Action.WAKE), actor="bob", reason="test")
                assert woke.ok
                latest = AuditLog(store.engine).entries(device=target)[0]
                assert (latest.actor, latest.action, latest.outcome) == ("bob", "wake", "ok")
                assert latest.detail == {target: "confirmed"} or str(latest.detail[target]).startswith(
                    "confirmed"
                )

    asyncio.run(main())


def test_paced_polls_start_evenly_over_the_spread(tmp_path: Path) -> None:
    """A running agent starts its polls over part of the cycle, not in one burst."""

    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path}/fleet.db") as store:
            async with twin_site(count=2) as site:
                result = await scan([t.host for t in site.twins], endpoint_for=site.endpoint, timeout_s=5.0)
                for f in result.found:
                    store.add_device("north", f.endpoint, identity=f.identity)
                layer = NetworkDeviceLayer(store, "north", deadline_s=5.0, spread_s=0.8)
                results = await layer.poll(store.endpoints("north"))
        assert [r.outcome.value for r in results] == ["ok"] * 8
        starts = [r.time_utc.timestamp() for r in results]
        assert starts == sorted(starts)  # in inventory order
        assert max(starts) - min(starts) >= 0.6  # the last of 8 is due 7/8 of 0.8 s after the first

    asyncio.run(main())


def test_pacing_leaves_the_deadline_and_a_margin_inside_the_cycle() -> None:
    from hashwatt.fleet._device_layer import pace_for

    assert pace_for(60.0, 10.0) == pytest.approx(40.0)  # last start at 40 s, done by 50 s
    for interval, deadline in ((60.0, 10.0), (10.0, 5.0), (300.0, 10.0)):
        assert pace_for(interval, deadline) + deadline < interval
    assert pace_for(1.0, 2.0) == 0.0
