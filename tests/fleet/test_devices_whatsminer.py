"""Whatsminer 2.x writes (token + AES envelope) and 3.x frames against loopback replay servers.

Real sockets and real bytes: reads answer with captured replies (asic-rs fixtures); the write
side decrypts with the shared codec (``hashwatt.minerapi``) as the firmware would and records
what it was asked, until the device twins serve both.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from hashwatt.fleet import DeviceAuthFailed, DeviceState, Endpoint, Firmware
from hashwatt.fleet._credentials import Credentials, ResolvedCredentials
from hashwatt.fleet._devices import PoolConfig, WhatsminerV2, WhatsminerV3
from hashwatt.minerapi import decrypt_v2, derive_v2_credentials, encrypt_v2, v3_token
from tests.fleet._replay import ApiServer, V3Server, captured, running

TOKEN = {"time": "1700000000", "salt": "BQ5hoXV9", "newsalt": "YnKVbTvh"}


class WmV2State:
    def __init__(self, password: str = "admin") -> None:
        self.rpc = captured("whatsminer/v2")
        self.password = password
        self.commands: list[dict[str, Any]] = []
        self.mineroff = False

    def replies(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: (lambda _p, k=k: self._read(k)) for k in self.rpc}
        out["get_token"] = lambda _p: {"STATUS": "S", "When": 0, "Code": 134, "Msg": TOKEN, "Description": ""}
        out["__enc__"] = self._enc
        return out

    def _read(self, command: str) -> dict[str, Any]:
        reply = copy.deepcopy(self.rpc[command])
        if command == "status":
            reply["Msg"]["mineroff"] = "true" if self.mineroff else "false"
        if command == "summary" and self.mineroff:
            reply["SUMMARY"][0]["MHS av"] = 0.0
        return reply

    def _enc(self, data: str | None) -> dict[str, Any]:
        creds = derive_v2_credentials(self.password, **TOKEN)
        try:
            msg = decrypt_v2(data or "", creds.aes_key)
        except ValueError:
            return {"STATUS": "E", "When": 0, "Code": 135, "Msg": "check token err", "Description": ""}
        if msg.get("token") != creds.host_sign:
            return {"STATUS": "E", "When": 0, "Code": 135, "Msg": "check token err", "Description": ""}
        self.commands.append(msg)
        if msg["cmd"] == "power_off":
            self.mineroff = True
        if msg["cmd"] == "power_on":
            self.mineroff = False
        ok = {"STATUS": "S", "When": 0, "Code": 131, "Msg": "API command OK", "Description": ""}
        return {"enc": encrypt_v2(ok, creds.aes_key)}


def test_whatsminer_v2_writes_go_through_the_envelope_and_read_back() -> None:
    wm = WmV2State()
    api = ApiServer(wm.replies())

    async def main() -> None:
        async with running(api):
            dev = WhatsminerV2(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            assert dev.factory_credentials
            await dev.sleep()
            assert wm.commands[-1]["cmd"] == "power_off"
            assert (await dev.read()).state is DeviceState.SLEEPING
            await dev.wake()
            assert (await dev.read()).state is DeviceState.MINING
            await dev.set_power_target(3000)
            assert wm.commands[-1] == {
                "cmd": "adjust_power_limit",
                "power_limit": "3000",
                "token": wm.commands[-1]["token"],
            }
            await dev.set_pools([PoolConfig("stratum+tcp://new.example:3333", "w.1", "p")])
            sent = wm.commands[-1]
            assert sent["pool1"] == "stratum+tcp://new.example:3333"
            # the other two slots keep the pools the device reports
            assert sent["pool2"] == wm.rpc["pools"]["POOLS"][1]["URL"]
            assert sent["pool3"] == wm.rpc["pools"]["POOLS"][2]["URL"]

    asyncio.run(main())


def test_whatsminer_v2_wrong_password_is_auth_failed() -> None:
    wm = WmV2State(password="changed1")
    api = ApiServer(wm.replies())

    async def main() -> None:
        async with running(api):
            dev = WhatsminerV2(Endpoint("127.0.0.1", api_port=api.port), timeout_s=2.0)
            with pytest.raises(DeviceAuthFailed) as err:
                await dev.reboot()
            assert "admin" not in str(err.value) and "changed1" not in str(err.value)
            good = WhatsminerV2(
                Endpoint("127.0.0.1", api_port=api.port),
                credentials=ResolvedCredentials(Credentials("admin", "changed1"), factory=False),
                timeout_s=2.0,
            )
            await good.reboot()
            assert wm.commands[-1]["cmd"] == "reboot"

    asyncio.run(main())


def test_whatsminer_v3_reads_frames_and_signs_writes() -> None:
    cap = captured("whatsminer/v3")
    info = copy.deepcopy(cap["get_device_info"])
    salt = info["msg"]["salt"]
    done: list[dict[str, Any]] = []

    def handler(req: dict[str, Any]) -> dict[str, Any]:
        cmd = req.get("cmd")
        if cmd == "get.device.info":
            return info
        if cmd == "get.miner.status":
            reply = copy.deepcopy(cap[f"get_miner_status_{req.get('param')}"])
            if info["msg"]["miner"]["working"] == "false" and req.get("param") == "summary":
                reply["msg"]["summary"]["hash-realtime"] = 0.0
            return reply
        if str(cmd).startswith("set."):
            if req.get("token") != v3_token(str(cmd), "super", salt, int(req["ts"])):
                return {"code": -4, "when": 0, "msg": "no permission", "desc": cmd}
            done.append(req)
            if cmd == "set.miner.service":
                info["msg"]["miner"]["working"] = "false" if req["param"] == "stop" else "true"
            return {"code": 0, "when": 0, "msg": "ok", "desc": cmd}
        return {"code": -2, "when": 0, "msg": "invalid command", "desc": cmd}

    v3 = V3Server(handler)

    async def main() -> None:
        async with running(v3):
            dev = WhatsminerV3(Endpoint("127.0.0.1", v3_port=v3.port), timeout_s=2.0)
            ident = await dev.identify()
            assert ident.firmware is Firmware.WHATSMINER_V3
            assert (
                ident.serial == info["msg"]["miner"]["miner-sn"]
                and ident.mac == info["msg"]["network"]["mac"]
            )
            t = await dev.read()
            s = cap["get_miner_status_summary"]["msg"]["summary"]
            assert t.hashrate_ths == s["hash-realtime"] and t.expected_hashrate_ths == s["factory-hash"]
            assert t.power_w == s["power-realtime"] and t.power_target_w == s["power-limit"]
            assert len(t.boards) == len(cap["get_miner_status_edevs"]["msg"]["edevs"])
            assert [p.url for p in t.pools] == [
                p["url"] for p in cap["get_miner_status_pools"]["msg"]["pools"]
            ]
            assert t.state is DeviceState.MINING
            await dev.sleep()
            assert (await dev.read()).state is DeviceState.SLEEPING
            await dev.wake()
            await dev.set_power_target(3000)
            assert done[-1]["param"] == 3000 and done[-1]["account"] == "super"
            bad = WhatsminerV3(
                Endpoint("127.0.0.1", v3_port=v3.port),
                credentials=ResolvedCredentials(Credentials("super", "wrong"), factory=False),
                timeout_s=2.0,
            )
            with pytest.raises(DeviceAuthFailed):
                await bad.reboot()

    asyncio.run(main())
