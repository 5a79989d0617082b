"""Independent clients (pyasic 0.79, pyasic-rs 0.8.6) recognise the twins unaided on real
firmware ports, read data that agrees with the physics, and their controls change the twin."""

from __future__ import annotations

import asyncio

import pyasic
import pytest
from pyasic_rs import MinerFactory

from hashwatt.twin import Firmware, Mode, Twin

from ._site import private_subnet, serving, spec, wait_for

ALL_FIRMWARES = (
    ("S19 Pro", "stock", 2),
    ("S19j Pro", "luxos", 2),
    ("M30S+ (100T)", "whatsminer", 2),
    ("M60S", "whatsminer-v3", 2),
)
PYASIC_NAMES = {
    Firmware.STOCK: ("AntMiner", "Stock"),
    Firmware.LUXOS: ("AntMiner", "LuxOS"),
    Firmware.WHATSMINER: ("WhatsMiner", "Stock"),
    Firmware.WHATSMINER_V3: ("WhatsMiner", "Stock"),
}


def _close(a: float, b: float, rel: float = 0.05) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-9)


def test_pyasic_identifies_and_reads_every_firmware() -> None:
    async def run() -> None:
        async with serving(spec(*ALL_FIRMWARES, subnet=private_subnet())) as (_, twins):
            miners = await asyncio.wait_for(asyncio.gather(*(pyasic.get_miner(t.host) for t in twins)), 60)
            for twin, miner in zip(twins, miners, strict=True):
                assert miner is not None, twin.host
                make, firmware = PYASIC_NAMES[twin.firmware]
                assert (miner.make, miner.firmware) == (make, firmware), (twin.host, repr(miner))
                model = twin.hardware.type_name.removeprefix("Antminer ").replace("_", " ")
                assert (
                    str(miner.raw_model).replace("_", " ").upper() == model.replace(" ", "").upper()
                    or str(miner.raw_model).upper() == model.upper()
                ), repr(miner)
            datas = await asyncio.wait_for(asyncio.gather(*(m.get_data() for m in miners)), 60)
            for twin, data in zip(twins, datas, strict=True):
                twin.advance(twin.physics.now_s)
                p = twin.physics
                assert data.hashrate is not None and _close(float(data.hashrate), p.hashrate_ths), twin.host
                assert _close(float(data.expected_hashrate), twin.hardware.model.hashrate_ths)
                if twin.firmware is Firmware.STOCK:
                    assert data.wattage is None  # stock firmware reports no wattage
                else:
                    assert data.wattage is not None and _close(data.wattage, p.power_w, 0.1), twin.host
                assert [f.speed for f in data.fans] == p.fan_rpms()[: len(data.fans)]
                assert len(data.fans) == twin.hardware.fans
                boards = [b for b in data.hashboards if b.hashrate is not None]
                assert len(boards) == twin.hardware.boards
                assert all(b.chips == twin.hardware.chips_per_board for b in boards)
                if twin.firmware is not Firmware.WHATSMINER_V3:  # pyasic reads no pools from API 3.x
                    assert data.pools and str(data.pools[0].url) == twin.pools[0].url
                assert data.uptime is not None and data.uptime <= p.uptime_s(p.now_s) + 5

    asyncio.run(run())


def test_pyasic_rs_scans_identifies_and_reads() -> None:
    async def run() -> None:
        subnet = private_subnet()
        async with serving(spec(*ALL_FIRMWARES, subnet=subnet)) as (_, twins):
            factory = (
                MinerFactory.from_range(f"{subnet}.1-{len(twins) + 2}")
                .with_identification_timeout_secs(5)
                .with_connectivity_timeout_secs(3)
            )
            found = {str(m.ip): m for m in await asyncio.wait_for(factory.scan(), 60)}
            assert sorted(found) == sorted(t.host for t in twins)  # nothing found on the two empty addresses
            for twin in twins:
                miner = found[twin.host]
                assert miner.make == ("Antminer" if twin.hardware.vendor == "antminer" else "Whatsminer")
                expected_fw = {"stock": "AntMiner Stock", "luxos": "LuxOS"}.get(
                    twin.firmware.value, "WhatsMiner Stock"
                )
                assert miner.firmware == expected_fw
                assert (
                    miner.model.upper().replace("PLUS", "+")
                    == twin.hardware.type_name.removeprefix("Antminer ")
                    .replace(" ", "")
                    .replace("_", "")
                    .upper()
                )
                data = await asyncio.wait_for(miner.get_data(), 30)
                p = twin.physics
                assert data.hashrate is not None and _close(data.hashrate.value, p.hashrate_ths)
                assert len(data.hashboards) == twin.hardware.boards
                assert data.is_mining
                if twin.firmware is not Firmware.STOCK:
                    assert data.wattage is not None and _close(data.wattage, p.power_w, 0.1)

    asyncio.run(run())


@pytest.mark.parametrize("firmware", ["stock", "luxos", "whatsminer", "whatsminer-v3"])
def test_pyasic_controls_change_the_twin(firmware: str) -> None:
    model = {"stock": "S19 Pro", "luxos": "S19j Pro", "whatsminer": "M30S+ (100T)", "whatsminer-v3": "M60S"}[
        firmware
    ]

    async def run() -> None:
        async with serving(spec((model, firmware, 1), subnet=private_subnet())) as (server, twins):
            twin = twins[0]
            miner = await asyncio.wait_for(pyasic.get_miner(twin.host), 30)
            assert await miner.stop_mining()
            assert twin.physics.mode is Mode.SLEEP
            server.clock.jump(10.0)
            twin.advance(server.clock.now())
            assert twin.physics.hashrate_ths == 0.0
            if firmware == "luxos":  # pyasic reports is_mining True for LuxOS; CurtailMode tells
                assert twin.curtailed
                cfg = await miner.rpc.send_command("config")
                assert cfg["CONFIG"][0]["CurtailMode"] == "Sleep"
            else:
                assert (
                    await miner.get_data(include=["is_mining"])
                ).is_mining is False or firmware.startswith("whats")
            assert await miner.resume_mining()
            assert twin.physics.mode is Mode.NORMAL
            if firmware != "stock":  # stock firmware has no power limit
                assert await miner.set_power_limit(2500)
                server.clock.jump(30.0)
                twin.advance(server.clock.now())
                assert twin.physics.power_w < 2600
                assert twin.physics.hashrate_ths < 0.95 * twin.hardware.model.hashrate_ths
            boots = twin.physics.boot_count
            await miner.reboot()
            assert not twin.is_up(server.clock.now())
            await wait_for(lambda: twin.is_up(server.clock.now()), timeout_s=10)
            data = await asyncio.wait_for(miner.get_data(), 30)
            assert twin.physics.boot_count == boots + 1
            assert data.hashrate is not None and float(data.hashrate) > 0

    asyncio.run(run())


def test_pyasic_rs_controls_change_the_twin() -> None:
    async def run() -> None:
        subnet = private_subnet()
        async with serving(spec(*((m, fw, 1) for m, fw, _ in ALL_FIRMWARES), subnet=subnet)) as (
            server,
            twins,
        ):
            factory = MinerFactory.from_range(f"{subnet}.1-{len(twins)}").with_identification_timeout_secs(5)
            found = {str(m.ip): m for m in await asyncio.wait_for(factory.scan(), 60)}
            for twin in twins:
                miner = found[twin.host]
                assert await miner.pause()
                assert twin.physics.mode is Mode.SLEEP, twin.firmware
                assert await miner.resume()
                assert twin.physics.mode is Mode.NORMAL, twin.firmware
                assert await miner.set_fault_light(True) and twin.blink, twin.firmware
                if miner.supports_set_power_limit:  # the Whatsminers
                    assert await miner.set_power_limit(2500.0)
                    assert twin.power_limit_w == 2500
                    server.clock.jump(60.0)
                    twin.advance(server.clock.now())
                    assert twin.physics.power_w < 2600
                boots = twin.physics.boot_count
                assert await miner.restart()

                def booted(t: Twin = twin, b: int = boots) -> bool:
                    t.advance(server.clock.now())
                    return t.physics.boot_count > b

                await wait_for(booted, timeout_s=10)
            data = await asyncio.wait_for(found[twins[0].host].get_data(), 30)
            assert data.is_mining

    asyncio.run(run())
