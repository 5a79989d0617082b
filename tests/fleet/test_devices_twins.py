"""End to end against device twins on loopback: scan, read, control, faults, swaps.

The twins (``hashwatt.twin``) run in-process but are reached only through real sockets, as
real miners would be; every expected value comes from the twin's own physical state.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from hashwatt.fleet import DeviceError, DeviceState, Firmware, PollOutcome, PollResult
from hashwatt.fleet._control import Action, ActionRequest, ActionStatus, AuditRecord, Controller
from hashwatt.fleet._devices import PoolConfig
from hashwatt.fleet._discovery import IdentityChangeKind, compare_identity, identify_at, scan
from hashwatt.fleet._poller import Poller
from hashwatt.twin import Fault, apply_fault
from tests.fleet._twins import twin_site


def test_scan_identifies_every_firmware_and_reads_agree_with_the_twins() -> None:
    async def main() -> None:
        async with twin_site() as site:
            hosts = [t.host for t in site.twins]
            result = await scan(hosts, endpoint_for=site.endpoint, timeout_s=2.0)
            assert not result.failed
            firmwares = {f.endpoint.host: f.identity.firmware for f in result.found}
            assert firmwares == {
                hosts[0]: Firmware.STOCK,
                hosts[1]: Firmware.LUXOS,
                hosts[2]: Firmware.WHATSMINER,
                hosts[3]: Firmware.WHATSMINER_V3,
            }
            for found, device in zip(result.found, result.devices, strict=True):
                twin = site.twin(found.endpoint.host)
                assert found.identity.serial == twin.serial
                assert (found.identity.mac or "").upper() == twin.mac.upper()
                assert found.factory_credentials
                t = await device.read()
                twin.advance(site.clock.now())
                phys = twin.physics
                assert t.state is DeviceState.MINING
                assert t.hashrate_ths == pytest.approx(phys.hashrate_ths, rel=0.1)
                assert t.expected_hashrate_ths == pytest.approx(phys.ideal_hashrate_ths, rel=0.05)
                assert len(t.boards) == twin.hardware.boards
                assert t.power_w is not None and t.power_w > 0
                if found.identity.firmware is Firmware.STOCK:
                    assert t.power_estimated  # stock firmware reports no wattage
                    assert t.power_w == pytest.approx(
                        t.hashrate_ths * twin.hardware.model.efficiency_j_per_th, rel=0.05
                    )
                else:
                    assert not t.power_estimated
                    assert t.power_w == pytest.approx(phys.power_w, rel=0.1)
                assert t.fans_rpm and all(rpm > 0 for rpm in t.fans_rpm)

    asyncio.run(main())


def test_controls_on_every_firmware_are_confirmed_by_read_back() -> None:
    audit: list[AuditRecord] = []
    ctl = Controller(audit_sink=audit.append, retries=1, confirm_timeout_s=5.0, confirm_interval_s=0.2)

    async def main() -> None:
        async with twin_site() as site:
            result = await scan([t.host for t in site.twins], endpoint_for=site.endpoint, timeout_s=2.0)
            for device in result.devices:
                out = await ctl.act(device, ActionRequest(Action.SLEEP), actor="test")
                assert out.status is ActionStatus.CONFIRMED, (device, out)
                assert site.twin(device.endpoint.host).physics.hashrate_ths < 1.0
                out = await ctl.act(device, ActionRequest(Action.WAKE), actor="test")
                assert out.status is ActionStatus.CONFIRMED, (device, out)
                out = await ctl.act(device, ActionRequest(Action.FAULT_LIGHT, light_on=True), actor="test")
                assert out.status is ActionStatus.CONFIRMED, (device, out)
                power = ActionRequest(
                    Action.POWER_TARGET, power_w=0.8 * site.twin(device.endpoint.host).hardware.model.power_w
                )
                out = await ctl.act(device, power, actor="test")
                if device.firmware is Firmware.STOCK:
                    assert out.status is ActionStatus.UNSUPPORTED
                else:
                    assert out.status is ActionStatus.CONFIRMED, (device, out)
            stock, lux, wm2 = result.devices[0], result.devices[1], result.devices[2]
            for device in (stock, wm2):
                pools = (PoolConfig("stratum+tcp://pool.example.org:3333", "ops.7", "pw-pool"),)
                out = await ctl.act(device, ActionRequest(Action.POOLS, pools=pools), actor="test")
                assert out.status is ActionStatus.CONFIRMED, (device, out)
                twin = site.twin(device.endpoint.host)
                assert twin.pools[0].url == "stratum+tcp://pool.example.org:3333"
            out = await ctl.act(lux, ActionRequest(Action.REBOOT), actor="test")
            assert out.status is ActionStatus.CONFIRMED
            deadline = time.monotonic() + 10
            while True:  # it comes back up with a fresh uptime
                try:
                    t = await lux.read()
                    break
                except DeviceError:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
            assert t.uptime_s is not None and t.uptime_s < 10
            twin = site.twin(lux.endpoint.host)
            twin.advance(site.clock.now())
            assert twin.physics.boot_count == 2

    asyncio.run(main())
    assert all("pw-pool" not in repr(r) for r in audit)


def test_faulty_twins_are_recorded_as_such_and_never_stall_a_cycle() -> None:
    results: list[PollResult] = []

    async def main() -> None:
        async with twin_site(count=2) as site:
            scanned = await scan([t.host for t in site.twins], endpoint_for=site.endpoint, timeout_s=2.0)
            assert len(scanned.devices) == 8
            faults = {0: Fault.GARBAGE, 2: Fault.BLACKHOLE, 4: Fault.REFUSE, 6: Fault.SLOW}
            for i, fault in faults.items():
                apply_fault(site.twins[i], fault, 30.0 if fault is Fault.SLOW else None, site.clock.now())
            poller = Poller(scanned.devices, results.extend, interval_s=10.0, deadline_s=1.0)
            t0 = time.monotonic()
            stats = await poller.poll_once()
            assert time.monotonic() - t0 < 1.0 + 2.0
            assert stats.ok == 4

    asyncio.run(main())
    by_host = {r.endpoint.host: r for r in results}
    hosts = sorted(by_host, key=lambda h: int(h.rsplit(".", 1)[1]))
    assert by_host[hosts[0]].outcome is PollOutcome.BAD_REPLY
    assert by_host[hosts[2]].outcome is PollOutcome.TIMEOUT
    assert by_host[hosts[4]].outcome in (PollOutcome.UNREACHABLE, PollOutcome.TIMEOUT)
    assert by_host[hosts[6]].outcome is PollOutcome.TIMEOUT
    for i in (1, 3, 5, 7):
        assert by_host[hosts[i]].outcome is PollOutcome.OK
    assert all(r.telemetry is None for r in results if r.outcome is not PollOutcome.OK)


def test_a_firmware_swap_is_detected_on_re_identification() -> None:
    async def main() -> None:
        async with twin_site(groups=(("Antminer S19 Pro", "stock"),)) as site:
            twin = site.twins[0]
            before = await identify_at(site.endpoint(twin.host), timeout_s=2.0)
            assert before.identity is not None and before.identity.firmware is Firmware.STOCK
            apply_fault(twin, Fault.FIRMWARE_SWAP, "luxos", site.clock.now())
            apply_fault(twin, Fault.REBOOT, None, site.clock.now())
            deadline = time.monotonic() + 10
            while True:
                try:
                    after = await identify_at(site.endpoint(twin.host), timeout_s=1.0)
                    break
                except DeviceError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
            assert after.identity is not None
            change = compare_identity(before.identity, after.identity)
            assert change is not None and change.kind is IdentityChangeKind.FIRMWARE_SWAP

    asyncio.run(main())
