"""Firmware semantics without sockets: stock refusals, LuxOS sessions and profiles, Whatsminer tokens."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from hashwatt.minerapi import (
    decode_reply,
    decrypt_v2,
    derive_v2_credentials,
    encode_request,
    encode_v2_privileged,
    parse_request,
    v3_token,
)
from hashwatt.twin import Firmware, Mode, Twin, hardware_for
from hashwatt.twin._cgminer import LUXOS_SESSION_IDLE_S, handle_cgminer, luxos_profiles
from hashwatt.twin._whatsminer import V2_TOKEN_MAX, handle_v2, handle_v3

WALL = 1_760_000_000.0


def make(firmware: Firmware, model: str = "S19 Pro") -> Twin:
    twin = Twin(0, "127.0.0.9", hardware_for(model), firmware, now_s=0.0, seed=5)
    twin.advance(600.0)
    return twin


def ask(twin: Twin, command: str, parameter: str | None = None, now: float = 601.0) -> dict[str, Any]:
    req = parse_request(encode_request(command, parameter))
    assert req is not None
    handler = handle_v2 if twin.hardware.vendor == "whatsminer" else handle_cgminer
    return decode_reply(handler(twin, req, now, WALL))


def status(reply: dict[str, Any]) -> tuple[str, int]:
    s = reply["STATUS"][0]
    return s["STATUS"], s["Code"]


# --- stock --------------------------------------------------------------------------------------
def test_stock_refuses_privileged_and_unknown_commands() -> None:
    twin = make(Firmware.STOCK)
    reply = ask(twin, "removepool", "0")
    assert status(reply) == ("E", 45) and "Access denied to 'removepool'" in reply["STATUS"][0]["Msg"]
    assert status(ask(twin, "ascset", "0,freq,600")) == ("E", 45)
    assert status(ask(twin, "frobnicate")) == ("E", 14)
    assert status(ask(twin, "curtail", "x,sleep")) == ("E", 14)  # a LuxOS command on stock firmware


def test_multi_command_collapses_duplicates_and_flags_bad_members() -> None:
    twin = make(Firmware.STOCK)
    reply = ask(twin, "summary+devs+summary+bogus")
    assert set(reply) == {"summary", "devs", "bogus", "id"}
    assert status(reply["summary"][0]) == ("S", 11) and status(reply["devs"][0]) == ("S", 9)
    assert status(reply["bogus"][0]) == ("E", 14)
    assert reply["summary"][0]["SUMMARY"][0]["GHS av"] == pytest.approx(110_000.0, rel=0.02)


def test_stock_stats_follow_the_physics() -> None:
    twin = make(Firmware.STOCK)
    stats = ask(twin, "stats")["STATS"]
    assert stats[0]["Type"] == "Antminer S19 Pro" and stats[1]["total_rateideal"] == 110_000.0
    rates = [float(stats[1][f"chain_rate{n}"]) for n in (1, 2, 3)]
    assert sum(rates) == pytest.approx(twin.physics.hashrate_ths * 1000, rel=0.03)
    assert stats[1]["chain_acn1"] == 114 and stats[1]["chain_rate4"] == ""
    assert [stats[1][f"fan{i}"] for i in range(1, 5)] == twin.physics.fan_rpms()


# --- LuxOS --------------------------------------------------------------------------------------
def test_luxos_one_session_that_expires_when_idle() -> None:
    twin = make(Firmware.LUXOS, "S19j Pro")
    first = ask(twin, "logon")
    assert status(first) == ("S", 316)
    sid = first["SESSION"][0]["SessionID"]
    assert status(ask(twin, "logon")) == ("E", 402)
    assert ask(twin, "session")["SESSION"][0]["SessionID"] == sid
    assert status(ask(twin, "curtail", "wrong,sleep")) == ("E", 303)
    assert not twin.curtailed
    # use refreshes the session; 61 s of idleness ends it
    assert status(ask(twin, "atmset", f"{sid},enabled=false", now=650.0)) == ("S", 340)
    assert twin.lux_atm is False
    late = 650.0 + LUXOS_SESSION_IDLE_S + 1
    assert ask(twin, "session", now=late)["SESSION"][0]["SessionID"] == ""
    assert status(ask(twin, "curtail", f"{sid},sleep", now=late)) == ("E", 303)
    assert status(ask(twin, "logon", now=late)) == ("S", 316)


def test_luxos_curtail_persists_across_reboot() -> None:
    twin = make(Firmware.LUXOS, "S19j Pro")
    sid = ask(twin, "logon")["SESSION"][0]["SessionID"]
    reply = ask(twin, "curtail", f"{sid},sleep")
    assert reply["CURTAIL"][0]["Action"] == "sleep mode" and status(reply) == ("S", 335)
    assert ask(twin, "config")["CONFIG"][0]["CurtailMode"] == "Sleep"
    twin.reboot(602.0)
    twin.advance(602.0 + twin.reboot_downtime_s + 30)
    now = 602.0 + twin.reboot_downtime_s + 31
    assert twin.physics.boot_count == 2
    assert ask(twin, "config", now=now)["CONFIG"][0]["CurtailMode"] == "Sleep"
    assert twin.physics.hashrate_ths == 0.0
    sid = ask(twin, "logon", now=now)["SESSION"][0]["SessionID"]
    assert ask(twin, "curtail", f"{sid},wakeup", now=now)["CURTAIL"][0]["Action"] == "wake up"
    twin.advance(now + 60)
    assert (
        twin.physics.hashrate_ths > 0
        and ask(twin, "config", now=now + 60)["CONFIG"][0]["CurtailMode"] == "None"
    )


def test_luxos_profiles_and_profileset_selectors() -> None:
    twin = make(Firmware.LUXOS, "S19j Pro")
    profiles = luxos_profiles(twin)
    assert len(profiles) == 25 and [p["Step"] for p in profiles][16] == "0"
    assert all(
        a["Watts"] < b["Watts"] and a["Hashrate"] < b["Hashrate"] for a, b in itertools.pairwise(profiles)
    )
    sid = ask(twin, "logon")["SESSION"][0]["SessionID"]
    reply = ask(twin, "profileset", f"{sid},2200W")
    chosen = reply["PROFILE"][0]["Profile"]
    watts = {p["Profile Name"]: p["Watts"] for p in profiles}
    assert status(reply) == ("S", 321) and watts[chosen] <= 2200
    assert max(w for w in watts.values() if w <= 2200) == watts[chosen]
    assert ask(twin, "config")["CONFIG"][0]["Profile"] == chosen
    twin.advance(700.0)
    assert twin.physics.power_w == pytest.approx(watts[chosen] + 15.0, rel=0.02)
    step = twin.lux_profile_step
    ask(twin, "profileset", f"{sid},+2")
    assert twin.lux_profile_step == step + 2
    assert status(ask(twin, "profileset", f"{sid},nonsense")) == ("E", 322)


# --- Whatsminer API 2.x ----------------------------------------------------------------------------
def _token(twin: Twin, password: str = "admin") -> Any:
    msg = ask(twin, "get_token")["Msg"]
    return derive_v2_credentials(password, salt=msg["salt"], newsalt=msg["newsalt"], time=msg["time"])


def _write(twin: Twin, creds: Any, message: dict[str, Any]) -> dict[str, Any]:
    req = parse_request(encode_v2_privileged(message, creds))
    assert req is not None
    raw = json.loads(handle_v2(twin, req, 601.0, WALL).rstrip(b"\x00"))
    return decrypt_v2(raw["enc"], creds.aes_key) if "enc" in raw else raw


def test_whatsminer_token_writes_and_errors() -> None:
    twin = make(Firmware.WHATSMINER, "M30S+ (100T)")
    creds = _token(twin)
    assert (
        _write(twin, creds, {"cmd": "adjust_power_limit", "power_limit": "2800"})["Msg"] == "API command OK"
    )
    twin.advance(700.0)
    assert twin.power_limit_w == 2800 and twin.physics.power_w < 2850
    assert _write(twin, creds, {"cmd": "power_off", "respbefore": "true"})["Code"] == 131
    assert twin.physics.mode is Mode.SLEEP
    assert ask(twin, "status")["Msg"]["mineroff"] == "true"
    wrong = derive_v2_credentials("not-admin", salt="BQ5hoXV9", newsalt="x1", time="1")
    assert _write(twin, wrong, {"cmd": "power_on"})["Code"] == 135
    bad = parse_request(b'{"enc":1,"data":7}')
    assert bad is not None and json.loads(handle_v2(twin, bad, 601.0, WALL).rstrip(b"\x00"))["Code"] == 137
    assert twin.physics.mode is Mode.SLEEP


def test_whatsminer_token_limit() -> None:
    twin = make(Firmware.WHATSMINER, "M30S+ (100T)")
    for _ in range(V2_TOKEN_MAX):
        assert ask(twin, "get_token")["Code"] == 134
    refused = ask(twin, "get_token")
    assert (refused["STATUS"], refused["Code"]) == ("E", 136)


def test_whatsminer_v3_salted_token() -> None:
    twin = make(Firmware.WHATSMINER_V3, "M60S")
    salt = json.loads(handle_v3(twin, {"cmd": "get.device.info", "param": "salt"}, 601.0, WALL)[4:])["msg"][
        "salt"
    ]
    ts = int(WALL)
    ok = {
        "cmd": "set.miner.power_limit",
        "param": "3000",
        "ts": ts,
        "account": "super",
        "token": v3_token("set.miner.power_limit", "super", salt, ts),
    }
    assert json.loads(handle_v3(twin, ok, 601.0, WALL)[4:])["code"] == 0 and twin.power_limit_w == 3000
    forged = {**ok, "param": "1000", "token": "AAAAAAAA"}
    assert json.loads(handle_v3(twin, forged, 601.0, WALL)[4:])["code"] != 0 and twin.power_limit_w == 3000
    stale = {**ok, "ts": ts - 3600, "token": v3_token("set.miner.power_limit", "super", salt, ts - 3600)}
    assert json.loads(handle_v3(twin, stale, 601.0, WALL)[4:])["code"] != 0


def test_luxos_pool_and_group_commands_answer_as_cgminer_does() -> None:
    twin = make(Firmware.LUXOS, "S19j Pro")
    pools = ask(twin, "pools")["POOLS"]
    assert len(pools) == 1 and pools[0]["GROUP"] == 0  # LuxOS lists configured pools only
    assert status(ask(twin, "addpool", "not-a-url,u,p")) == ("E", 53)
    assert status(ask(twin, "addpool", "stratum+tcp://b.example:3333,u.2,p,NoGroup")) == ("E", 53)
    assert status(ask(twin, "addgroup", "Backup,2")) == ("S", 325)
    assert status(ask(twin, "addgroup", "Backup")) == ("E", 326)  # names are unique
    assert ask(twin, "groups")["GROUPS"][1] == {"GROUP": 1, "Name": "Backup", "Quota": 2.0}
    assert status(ask(twin, "addpool", "stratum+tcp://b.example:3333,u.2,p,Backup")) == ("S", 55)
    pools = ask(twin, "pools")["POOLS"]
    assert [(p["POOL"], p["GROUP"], p["Stratum Active"]) for p in pools] == [(0, 0, True), (1, 1, False)]
    assert status(ask(twin, "removepool", "0")) == ("E", 67)  # the active pool stays
    assert status(ask(twin, "removepool", "7")) == ("E", 26)
    assert status(ask(twin, "switchpool", "")) == ("E", 25)
    assert status(ask(twin, "switchpool", "1")) == ("S", 27)
    pools = ask(twin, "pools")["POOLS"]
    assert pools[0]["URL"] == "stratum+tcp://b.example:3333" and pools[0]["Stratum Active"]
    assert status(ask(twin, "removepool", "1")) == ("S", 68)
    assert status(ask(twin, "removepool", "0")) == ("E", 66)  # never the last pool
    assert ask(twin, "config")["CONFIG"][0]["Pool Count"] == 1
