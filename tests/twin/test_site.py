"""Site and scenario files, the control API, the stock restart delay, and layering (the CLI is in tests/cli/test_twin_cli.py)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import httpx
import pytest

import hashwatt
from hashwatt.minerapi import FrameError
from hashwatt.twin import (
    EXAMPLE_SCENARIO,
    EXAMPLE_SITE,
    Clock,
    Fault,
    SiteFileError,
    SiteServer,
    build_twins,
    expand_range,
    load_scenario,
    load_site,
    run_site,
)

from ._site import private_subnet, rpc, serving, spec


def test_example_files_load_and_build() -> None:
    site = load_site(EXAMPLE_SITE)
    twins = build_twins(site, now_s=0.0)
    assert len(twins) == sum(g.count for g in site.group) == 12
    assert [t.host for t in twins[:3]] == ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
    assert len({t.host for t in twins}) == len(twins)
    events = load_scenario(EXAMPLE_SCENARIO)
    assert [e.at_s for e in events] == sorted(e.at_s for e in events) and events[0].fault is Fault.FAN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[group]]\nmodel = "nope"\n', "unknown miner model"),
        ('[[group]]\nmodel = "S19 Pro"\nfirmware = "braiins"\n', "firmware"),
        ('[[group]]\nmodel = "S19 Pro"\ncount = 3\nrange = "127.0.1.1-127.0.1.2"\n', "fewer than 3 free"),
        ('[[group]]\nmodel = "S19 Pro"\nrange = "10.0.0.1"\n', "loopback"),
        ("seed = [\n", "not valid TOML"),
        ("seed = 1\n", "group"),
    ],
)
def test_bad_site_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(SiteFileError, match=message):
        build_twins(load_site(path), now_s=0.0)


def test_ranges() -> None:
    assert expand_range("127.0.1.254-127.0.2.1") == ["127.0.1.254", "127.0.1.255", "127.0.2.0", "127.0.2.1"]
    for bad in ("127.0.1.9-127.0.1.1", "127.0.0.1-127.9.0.0", "nonsense"):
        with pytest.raises(SiteFileError):
            expand_range(bad)


def test_control_api_and_scenario() -> None:
    async def main_() -> None:
        subnet = private_subnet()
        site = spec(("S19 Pro", "stock", 2), subnet=subnet)
        clock = Clock()
        twins = build_twins(site, now_s=clock.now())
        server = SiteServer(twins, clock=clock, mode="per-address")
        from hashwatt.twin import ScenarioEvent

        scenario = [ScenarioEvent(at_s=0.0, hosts=twins[1].host, fault=Fault.DEAD_BOARD, value=0)]
        ready: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_site(server, scenario=scenario, control_port=0, stop=stop, on_ready=ready.set_result)
        )
        port = await asyncio.wait_for(ready, 10)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{base}/fault", json={"hosts": twins[0].host, "fault": "fan", "value": 2})
            assert r.status_code == 200 and r.json() == {"applied": 1}
            r = await client.post(f"{base}/fault", json={"hosts": twins[0].host, "fault": "melt"})
            assert r.status_code == 400 and "error" in r.json()
            assert (await client.post(f"{base}/clock", json={"jump_s": 30})).status_code == 200
            state = {t["host"]: t for t in (await client.get(f"{base}/twins")).json()}
        assert state[twins[0].host]["fan_rpm"][:2] == [0, 0] and state[twins[0].host]["stop"] == "fan"
        for _ in range(100):
            if 0 in twins[1].physics.faults.dead_boards:
                break
            await asyncio.sleep(0.05)
        stats = (await rpc(twins[1].host, "stats"))["STATS"][1]
        assert stats["chain_acn1"] == 0
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(main_())


def test_stock_mode_change_restarts_bmminer() -> None:
    async def main_() -> None:
        async with serving(spec(("S19 Pro", "stock", 1), subnet=private_subnet())) as (server, twins):
            twin = twins[0]
            url = f"http://{twin.host}/cgi-bin"
            async with httpx.AsyncClient(auth=httpx.DigestAuth("root", "root")) as client:
                r = await client.post(f"{url}/set_miner_conf.cgi", json={"miner-mode": 3})
                assert r.json() == {"stats": "success", "code": "M000", "msg": "OK!"}
                conf = (await client.get(f"{url}/get_miner_conf.cgi")).json()
                assert conf["bitmain-work-mode"] == "3"
                with pytest.raises((ConnectionError, FrameError)):  # bmminer restarting: 4028 closed
                    reply = await rpc(twin.host, "summary")
                    if not reply:
                        raise ConnectionError
                r = await client.post(f"{url}/blink.cgi", json={"blink": "true"})
                assert r.json() == {"code": "B000"}
                assert (await client.get(f"{url}/get_blink_status.cgi")).json() == {"blink": True}
            server.clock.jump(twin.restart_delay_s + 30)
            summary = (await rpc(twin.host, "summary"))["SUMMARY"][0]
            assert summary["GHS av"] == pytest.approx(0.75 * 110_000, rel=0.02)  # low mode

    asyncio.run(main_())


_ABOVE_PROTOCOLS = (
    "hashwatt.cli",
    "hashwatt.web",
    "hashwatt.fleet",
    "hashwatt.miner",
    "hashwatt.energy",
    "hashwatt.network",
    "hashwatt.economics",
)
FORBIDDEN = {
    "twin": _ABOVE_PROTOCOLS,
    # the shared codecs are sans-IO and below the twins and the stratum room
    "minerapi": (*_ABOVE_PROTOCOLS, "hashwatt.twin", "hashwatt.stratum", "asyncio"),
}


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_import_only_downward(room: str) -> None:
    root = Path(hashwatt.__file__).parent / room
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                bad = [f for f in FORBIDDEN[room] if name == f or name.startswith(f + ".")]
                assert not bad, f"{path.name} imports {name}"
