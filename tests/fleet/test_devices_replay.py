"""Device adapters against loopback servers replaying real captured replies (asic-rs fixtures).

Real sockets, real bytes: the servers in ``_replay`` answer with what real stock Antminer,
LuxOS and Whatsminer firmware sent; every expected value is read from the same capture.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.data.hardware import find_miner
from hashwatt.fleet import (
    ControlUnsupported,
    DeviceAuthFailed,
    DeviceReplyInvalid,
    DeviceState,
    DeviceTimeout,
    DeviceUnreachable,
    Endpoint,
    Firmware,
)
from hashwatt.fleet._credentials import Credentials, CredentialStore, ResolvedCredentials
from hashwatt.fleet._devices import AntminerStock, LuxOS, PoolConfig, WhatsminerV2
from hashwatt.fleet._transport import parse_cgminer_reply, repair_json
from tests.fleet._replay import ApiServer, DigestCgiServer, LuxState, StockState, captured, running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stock(api: ApiServer, web: DigestCgiServer, **kw: Any) -> AntminerStock:
    return AntminerStock(Endpoint("127.0.0.1", api_port=api.port, http_port=web.port), timeout_s=2.0, **kw)


def test_stock_read_matches_the_capture_in_one_batched_request() -> None:
    state = StockState()
    api, web = ApiServer(state.api_replies()), DigestCgiServer(state.cgi_routes())
    eff = find_miner("Antminer S19 Pro").efficiency_j_per_th

    async def main() -> None:
        async with running(api, web):
            dev = _stock(api, web, efficiency_j_per_th=eff)
            t = await dev.read()
            assert len(api.requests) == 1  # one connection: summary+stats+pools batched
            assert set(api.requests[0]["command"].split("+")) == {"summary", "stats", "pools"}
            assert web.hits == []  # a mining machine costs no web request
            summary = state.rpc["summary"]["SUMMARY"][0]
            stats = state.rpc["stats"]["STATS"][1]
            assert t.hashrate_ths == pytest.approx(summary["GHS 5s"] / 1000)
            assert t.expected_hashrate_ths == pytest.approx(stats["total_rateideal"] / 1000)
            assert t.state is DeviceState.MINING
            assert t.power_estimated and t.power_w == pytest.approx(t.hashrate_ths * eff)
            assert [b.chips for b in t.boards] == [stats[f"chain_acn{n}"] for n in (1, 2, 3)]
            assert [b.hashrate_ths for b in t.boards] == pytest.approx(
                [float(stats[f"chain_rate{n}"]) / 1000 for n in (1, 2, 3)]
            )
            assert t.fans_rpm == tuple(stats[f"fan{n}"] for n in range(1, stats["fan_num"] + 1))
            chip_temps = [int(x) for n in (1, 2, 3) for x in stats[f"temp_chip{n}"].split("-")]
            assert t.temp_chip_max_c == max(chip_temps)
            assert t.accepted == summary["Accepted"] and t.hardware_errors == summary["Hardware Errors"]
            assert t.uptime_s == summary["Elapsed"]
            pools = state.rpc["pools"]["POOLS"]
            assert [p.url for p in t.pools] == [p["URL"] for p in pools]
            assert t.pools[0].active and t.pools[0].status == "alive"

    asyncio.run(main())


def test_stock_identify_reads_version_and_system_info() -> None:
    state = StockState()
    api, web = ApiServer(state.api_replies()), DigestCgiServer(state.cgi_routes())

    async def main() -> None:
        async with running(api, web):
            ident = await _stock(api, web).identify()
            assert ident.firmware is Firmware.STOCK
            assert ident.serial == state.system_info["serinum"]
            assert ident.mac == state.system_info["macaddr"]
            assert ident.model == state.system_info["minertype"]
            assert ident.firmware_version == state.rpc["version"]["VERSION"][0]["CompileTime"]

    asyncio.run(main())


def test_stock_sleep_keeps_every_other_setting_and_reads_back_sleeping() -> None:
    state = StockState()
    api, web = ApiServer(state.api_replies()), DigestCgiServer(state.cgi_routes())
    pools_before = json.loads(json.dumps(state.conf["pools"]))

    async def main() -> None:
        async with running(api, web):
            dev = _stock(api, web)
            await dev.sleep()
            assert state.posted[-1]["pools"] == pools_before  # read-modify-write: pool passwords kept
            assert state.posted[-1]["bitmain-fan-pwm"] == "100"
            t = await dev.read()
            assert t.state is DeviceState.SLEEPING and t.hashrate_ths == 0
            await dev.wake()
            assert (await dev.read()).state is DeviceState.MINING
            await dev.set_pools([PoolConfig("stratum+tcp://new.example:3333", "me.1", "pw")])
            assert state.conf["pools"][0]["url"] == "stratum+tcp://new.example:3333"
            assert state.conf["bitmain-work-mode"] == "0"  # the mode survived the pool change
            await dev.set_fault_light(True)
            assert state.blink and await dev.fault_light()
            await dev.reboot()
            assert state.reboots == 1
            with pytest.raises(ControlUnsupported):
                await dev.set_power_target(2500)

    asyncio.run(main())


def test_stock_wrong_password_is_auth_failed_without_the_secret() -> None:
    state = StockState()
    api, web = ApiServer(state.api_replies()), DigestCgiServer(state.cgi_routes(), password="s3cret-site")

    async def main() -> None:
        async with running(api, web):
            dev = _stock(
                api, web, credentials=ResolvedCredentials(Credentials("root", "wrong-pass"), factory=False)
            )
            with pytest.raises(DeviceAuthFailed) as err:
                await dev.sleep()
            assert "wrong-pass" not in str(err.value) and "s3cret" not in str(err.value)
            assert "wrong-pass" not in repr(dev.credentials)
            ok = _stock(
                api,
                web,
                credentials=CredentialStore(by_site={"a": Credentials("root", "s3cret-site")}).resolve(
                    Firmware.STOCK, site="a"
                ),
            )
            assert not ok.factory_credentials
            await ok.sleep()
            assert state.conf["bitmain-work-mode"] == "1"

    asyncio.run(main())


def test_luxos_read_reports_measured_power_profile_and_fans() -> None:
    lux = LuxState()
    api = ApiServer(lux.replies())

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            t = await dev.read()
            assert len(api.requests) == 1
            assert t.power_w == lux.rpc["power"]["POWER"][0]["Watts"] and not t.power_estimated
            assert t.profile == lux.rpc["config"]["CONFIG"][0]["Profile"]
            assert t.fans_rpm == tuple(f["RPM"] for f in lux.rpc["fans"]["FANS"])
            assert t.hashrate_ths == pytest.approx(lux.rpc["summary"]["SUMMARY"][0]["GHS 5s"] / 1000)
            assert t.state is DeviceState.MINING
            ident = await dev.identify()
            assert ident.serial == lux.rpc["config"]["CONFIG"][0]["SerialNumber"]
            assert ident.firmware is Firmware.LUXOS

    asyncio.run(main())


def test_luxos_controls_take_a_session_and_read_back() -> None:
    lux = LuxState()
    api = ApiServer(lux.replies())
    profiles = [(p["Profile Name"], p["Watts"]) for p in lux.rpc["profiles"]["PROFILES"]]

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            await dev.sleep()
            assert (await dev.read()).state is DeviceState.SLEEPING
            await dev.wake()
            assert (await dev.read()).state is DeviceState.MINING
            limit = 1000.0
            chosen = await dev.set_power_target(limit)
            best = max((w, n) for n, w in profiles if w <= limit)[1]
            assert chosen == best and (await dev.read()).profile == best
            with pytest.raises(ControlUnsupported):
                await dev.set_profile("no-such-profile")
            with pytest.raises(ControlUnsupported):
                await dev.set_power_target(min(w for _, w in profiles) - 1)

    asyncio.run(main())


def test_whatsminer_v2_read_matches_the_capture() -> None:
    wm = captured("whatsminer/v2")
    api = ApiServer(dict(wm))

    async def main() -> None:
        async with running(api):
            dev = WhatsminerV2(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            t = await dev.read()
            s = wm["summary"]["SUMMARY"][0]
            assert t.hashrate_ths == pytest.approx(s["MHS av"] / 1e6)
            assert t.expected_hashrate_ths == pytest.approx(s["Factory GHS"] / 1000)
            assert t.power_w == s["Power"] and not t.power_estimated
            assert t.power_target_w == s["Power Limit"]
            assert len(t.boards) == len(wm["devs"]["DEVS"])
            assert t.fans_rpm == (s["Fan Speed In"], s["Fan Speed Out"])
            assert t.temp_inlet_c == s["Env Temp"]
            assert t.state is DeviceState.MINING
            ident = await dev.identify()
            assert ident.firmware_version == wm["get_version"]["Msg"]["fw_ver"]
            assert ident.mac == wm["get_miner_info"]["Msg"]["mac"]

    asyncio.run(main())


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("hang", DeviceTimeout),
        ("garbage", DeviceReplyInvalid),
        ("truncated", DeviceReplyInvalid),
        ("close", DeviceReplyInvalid),
    ],
)
def test_misbehaving_devices_raise_typed_errors_within_the_deadline(
    mode: str, error: type[Exception]
) -> None:
    api = ApiServer(captured("luxminer/v1"), mode=mode)

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=0.5)
            start = time.monotonic()
            with pytest.raises(error):
                await dev.read()
            assert time.monotonic() - start < 2.0

    asyncio.run(main())


def test_refused_port_is_unreachable() -> None:
    dev = LuxOS(Endpoint("127.0.0.1", api_port=_free_port()), timeout_s=1.0)
    with pytest.raises(DeviceUnreachable) as err:
        asyncio.run(dev.read())
    assert not isinstance(err.value, DeviceTimeout)


def test_oversized_reply_is_refused() -> None:
    huge = {"STATUS": [{"STATUS": "S"}], "SUMMARY": [{"pad": "x" * 200_000}], "id": 1}
    api = ApiServer({"summary": huge})

    async def main() -> None:
        async with running(api):
            dev = LuxOS(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            dev.max_reply_bytes = 65536
            with pytest.raises(DeviceReplyInvalid, match="exceeds"):
                await dev.read(["hashrate"])

    asyncio.run(main())


def test_repair_json_fixes_the_known_quirks() -> None:
    assert json.loads(repair_json('{"STATS":[{"a":1}{"b":2}],}\x00')) == {"STATS": [{"a": 1}, {"b": 2}]}
    assert json.loads(repair_json('{"x":[,{"a":inf}]}')) == {"x": [{"a": 0}]}
    assert json.loads(repair_json('{"a":nan}')) == {"a": 0}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_parse_to_an_object_or_a_typed_error(raw: bytes) -> None:
    try:
        value = parse_cgminer_reply(raw, address="127.0.0.1:4028")
    except DeviceReplyInvalid:
        return
    assert isinstance(value, dict)


def test_credentials_never_show_the_password() -> None:
    creds = Credentials("root", "hunter2")
    assert "hunter2" not in repr(creds) and "hunter2" not in str(creds) and "hunter2" not in f"{creds}"
    pool = PoolConfig("stratum+tcp://u:pw@pool.example:3333", "u", "pw-secret")
    assert "pw-secret" not in repr(pool) and ":pw@" not in repr(pool)
    store = CredentialStore(
        by_device={"10.0.0.5": Credentials("root", "pw-dev-77")},
        by_site={"west": Credentials("root", "site")},
        by_model={"Antminer S19 Pro": Credentials("root", "model")},
    )
    assert store.resolve(Firmware.STOCK, host="10.0.0.5", site="west").credentials.password == "pw-dev-77"
    assert store.resolve(Firmware.STOCK, host="10.0.0.6", site="west").credentials.password == "site"
    assert store.resolve(Firmware.STOCK, model="antminer s19 pro").credentials.password == "model"
    default = store.resolve(Firmware.WHATSMINER, host="10.0.0.7")
    assert default.factory and default.credentials.user == "admin"
    assert "pw-dev-77" not in repr(store)
