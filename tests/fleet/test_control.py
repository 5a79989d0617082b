"""Control with read-back confirmation, retries, ramped bulk steps and the audit hook.

Devices are loopback servers replaying real captured replies (asic-rs fixtures) whose
controls change what they answer next, as the firmware's do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket

import pytest

from hashwatt.fleet import DeviceState, Endpoint
from hashwatt.fleet._control import (
    Action,
    ActionRequest,
    ActionStatus,
    AuditRecord,
    Controller,
    plan_steps,
)
from hashwatt.fleet._devices import AntminerStock, Device, LuxOS, PoolConfig
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._replay import ApiServer, DigestCgiServer, LuxState, StockState, running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fast(audit: list[AuditRecord]) -> Controller:
    return Controller(
        audit_sink=audit.append, retries=1, confirm_timeout_s=0.6, confirm_interval_s=0.1, action_timeout_s=2
    )


def test_sleep_is_confirmed_by_read_back_and_audited() -> None:
    lux = LuxState()
    api = ApiServer(lux.replies())
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2)
            out = await _fast(audit).act(dev, ActionRequest(Action.SLEEP), actor="alice", reason="test")
            assert out.status is ActionStatus.CONFIRMED and out.state_after is DeviceState.SLEEPING
            assert out.attempts == 1
            out = await _fast(audit).act(dev, ActionRequest(Action.POWER_TARGET, power_w=1000), actor="alice")
            assert out.ok and lux.config["CONFIG"][0]["Profile"] != "290MHz"

    asyncio.run(main())
    assert [(r.actor, r.action, r.addresses) for r in audit] == [
        ("alice", Action.SLEEP, (f"127.0.0.1:{api.port}",)),
        ("alice", Action.POWER_TARGET, (f"127.0.0.1:{api.port}",)),
    ]
    assert audit[0].succeeded == 1 and audit[0].reason == "test" and audit[1].params == "power_w=1000"


def test_a_device_that_accepts_but_does_not_obey_is_retried_then_unconfirmed() -> None:
    lux = LuxState(obey=False)
    api = ApiServer(lux.replies())
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2)
            out = await _fast(audit).act(dev, ActionRequest(Action.SLEEP), actor="curtailer")
            assert out.status is ActionStatus.UNCONFIRMED
            assert out.attempts == 2 and len(lux.curtail_times) == 2  # tried, read back, tried again
            assert "did not show sleep" in out.detail

    asyncio.run(main())
    assert audit[0].succeeded == 0


def test_unreachable_fails_and_unsupported_is_not_retried() -> None:
    stock = StockState()
    api, web = ApiServer(stock.api_replies()), DigestCgiServer(stock.cgi_routes())
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with running(api, web):
            dead = LuxOS(Endpoint("127.0.0.1", api_port=_free_port()), timeout_s=0.5)
            out = await _fast(audit).act(dead, ActionRequest(Action.WAKE), actor="bob")
            assert out.status is ActionStatus.FAILED and out.attempts == 2 and "cannot connect" in out.detail
            dev = AntminerStock(Endpoint("127.0.0.1", api_port=api.port, http_port=web.port), timeout_s=2)
            out = await _fast(audit).act(dev, ActionRequest(Action.POWER_TARGET, power_w=2000), actor="bob")
            assert out.status is ActionStatus.UNSUPPORTED and out.attempts == 1
            out = await _fast(audit).act(dev, ActionRequest(Action.FAULT_LIGHT, light_on=True), actor="bob")
            assert out.ok and stock.blink
            req = ActionRequest(
                Action.POOLS, pools=(PoolConfig("stratum+tcp://p.example:3333", "w.9", "pool-secret"),)
            )
            out = await _fast(audit).act(dev, req, actor="bob")
            assert out.ok and stock.conf["pools"][1]["url"] == "stratum+tcp://backup.example:3333"

    asyncio.run(main())
    assert all("pool-secret" not in r.params and "pool-secret" not in repr(r) for r in audit)


def test_bulk_ramps_in_steps_within_device_and_kw_limits() -> None:
    states = [LuxState() for _ in range(5)]
    servers = [ApiServer(s.replies()) for s in states]
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with running(*servers):
            devices: list[Device] = [
                LuxOS(Endpoint("127.0.0.1", api_port=s.port), timeout_s=2) for s in servers
            ]
            result = await _fast(audit).bulk(
                devices,
                ActionRequest(Action.SLEEP),
                actor="ramp",
                max_devices_per_step=3,
                max_kw_per_step=2.2,
                power_w_of=lambda _d: 1051.0,
                step_interval_s=0.4,
            )
            assert [len(s) for s in result.steps] == [2, 2, 1]  # 2.2 kW allows two 1.05 kW machines
            assert all(o.ok for o in result.outcomes) and not result.failed
            firsts = [min(states[i].curtail_times) for i in range(5)]
            # each step starts at least step_interval_s after the one before
            assert firsts[2] - firsts[0] >= 0.4 and firsts[4] - firsts[2] >= 0.4

    asyncio.run(main())
    assert len(audit) == 1 and len(audit[0].addresses) == 5 and audit[0].succeeded == 5


def test_plan_steps_and_request_validation() -> None:
    devs = [LuxOS(Endpoint(f"10.0.0.{i}")) for i in range(7)]
    steps = plan_steps(devs, max_devices_per_step=3)
    assert [len(s) for s in steps] == [3, 3, 1]
    big = plan_steps(devs[:2], max_devices_per_step=5, max_kw_per_step=1.0, power_w_of=lambda _d: 3000.0)
    assert [len(s) for s in big] == [1, 1]
    with pytest.raises(FleetInputError):
        ActionRequest(Action.POWER_TARGET)
    with pytest.raises(FleetInputError):
        ActionRequest(Action.POOLS)
    with pytest.raises(FleetInputError):
        plan_steps(devs, max_devices_per_step=0)


def test_command_rows_map_to_requests_and_audit_records_to_store_fields() -> None:
    from hashwatt.fleet import request_from_command

    assert request_from_command("power", {"power_w": 2500}).power_w == 2500
    assert request_from_command("power", {"profile": "240MHz"}).action is Action.PROFILE
    assert request_from_command("curtail", {}).action is Action.SLEEP
    pools = request_from_command(
        "pool", {"pools": [{"url": "stratum+tcp://a:3333", "user": "w", "password": "pw-9"}]}
    )
    assert pools.pools[0].password == "pw-9" and "pw-9" not in pools.describe()
    assert request_from_command("fault_light", {"on": True}).light_on is True
    for action, params in (("explode", {}), ("power", {}), ("pool", {"pools": [{}]}), ("fault_light", {})):
        with pytest.raises(FleetInputError):
            request_from_command(action, params)

    lux = LuxState()
    api = ApiServer(lux.replies())
    audit: list[AuditRecord] = []

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2)
            stock = AntminerStock(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2)
            grouped = dataclasses.replace(pools, pool_group="backup")  # pool groups are LuxOS-only
            await _fast(audit).act(stock, grouped, actor="carol", reason="pool move")
            await _fast(audit).act(dev, request_from_command("sleep", {}), actor="carol")

    asyncio.run(main())
    refused, ok = audit[0].entry_fields(), audit[1].entry_fields()
    assert refused["outcome"] == "refused" and refused["action"] == "pool" and refused["actor"] == "carol"
    assert "pw-9" not in repr(refused) and refused["params"]["reason"] == "pool move"
    assert ok["outcome"] == "ok" and ok["devices"] == (f"127.0.0.1:{api.port}",)
    assert ok["detail"][f"127.0.0.1:{api.port}"]["status"] == "confirmed"
