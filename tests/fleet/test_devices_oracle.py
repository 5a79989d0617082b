"""pyasic-rs as the independent oracle: its reading of each twin agrees with hashwatt's.

pyasic-rs has no port setting, so the twins serve the real firmware ports (80, 4028, 4433) on
a private loopback /24, one listener per address; hashwatt reads the same twins with its own
adapters. Both readings are taken back to back; they agree within the twin's noise.
"""

from __future__ import annotations

import asyncio
import os
import random

from pyasic_rs import MinerFactory

from hashwatt.fleet import Endpoint
from hashwatt.fleet._discovery import scan
from hashwatt.twin import Clock, GroupSpec, SiteServer, SiteSpec, build_twins
from hashwatt.twin import Firmware as TwinFirmware
from tests.fleet._twins import MIXED


def _close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-9)


def test_pyasic_rs_and_hashwatt_agree_on_every_firmware() -> None:
    subnet = f"127.{200 + os.getpid() % 50}.{random.randint(1, 250)}"
    spec = SiteSpec(
        seed=5,
        ramp_seconds=0,
        group=[
            GroupSpec(model=m, firmware=TwinFirmware(fw), count=1, range=f"{subnet}.{i + 1}-{subnet}.{i + 1}")
            for i, (m, fw) in enumerate(MIXED)
        ],
    )

    async def run() -> None:
        clock = Clock()
        twins = build_twins(spec, now_s=clock.now())
        server = SiteServer(twins, clock=clock, mode="per-address")
        await server.start()
        try:
            ours = await scan([t.host for t in twins], endpoint_for=Endpoint, timeout_s=3.0)
            assert not ours.failed
            factory = (
                MinerFactory.from_range(f"{subnet}.1-{len(twins)}")
                .with_identification_timeout_secs(5)
                .with_connectivity_timeout_secs(3)
            )
            theirs = {str(m.ip): m for m in await asyncio.wait_for(factory.scan(), 60)}
            assert sorted(theirs) == sorted(t.host for t in twins)
            for found, device in zip(ours.found, ours.devices, strict=True):
                other = theirs[found.endpoint.host]
                assert other.make == found.identity.make
                data = await asyncio.wait_for(other.get_data(), 30)
                mine = await device.read()
                assert data.hashrate is not None and mine.hashrate_ths is not None
                assert _close(data.hashrate.value, mine.hashrate_ths, 0.1)
                assert len(data.hashboards) == len(mine.boards)
                if data.wattage is not None:  # stock firmware: pyasic-rs has none, hashwatt estimates
                    assert mine.power_w is not None and not mine.power_estimated
                    assert _close(data.wattage, mine.power_w, 0.1)
                else:
                    assert mine.power_estimated
        finally:
            await server.close()

    asyncio.run(run())
