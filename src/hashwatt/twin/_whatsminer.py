"""Whatsminer personalities: btminer API 2.x on TCP 4028 and API 3.x on TCP 4433.

Replies follow the captured replies (``shared/data/fleet/asic-rs/whatsminer``). Writes on 2.x
need a token from ``get_token`` and travel in the AES envelope of :mod:`hashwatt.minerapi`;
writes on 3.x carry a salted token. Error codes are those of the Whatsminer API 2.0.x
document: 14 invalid command, 23 bad JSON, 131 OK, 132 command error, 135 token check
failed, 136 too many tokens, 137 base64 decode error.
"""

from __future__ import annotations

import secrets
import time as _time
from collections.abc import Callable
from typing import Any

from hashwatt.minerapi import (
    CgminerRequest,
    FrameError,
    decrypt_v2,
    decrypt_v3_param,
    derive_v2_credentials,
    encode_reply,
    encode_v3_frame,
    encrypt_v2,
    split_multi,
    v3_token,
)
from hashwatt.twin._physics import Mode, StopReason
from hashwatt.twin._twin import Firmware, PoolConf, Twin

__all__ = ["V2_TOKEN_LIFETIME_S", "V2_TOKEN_MAX", "handle_v2", "handle_v3"]

Json = dict[str, Any]

#: A 2.x token is valid for 30 minutes; at most 32 may be live at once.
V2_TOKEN_LIFETIME_S = 1800.0
V2_TOKEN_MAX = 32
#: A 3.x signed command is accepted within this many seconds of its ``ts`` [s].
V3_TS_WINDOW_S = 120
V2_FW = "20230803.11.REL"
V3_FW = "20251209.16.Rel2"
DESCRIPTION = "cgminer 4.9.2"


def _fw(twin: Twin) -> str:
    return V3_FW if twin.firmware is Firmware.WHATSMINER_V3 else V2_FW


def _msg(wall: float, code: int, msg: Any, status: str = "S") -> Json:
    return {"Code": code, "Description": "", "Msg": msg, "STATUS": status, "When": int(wall)}


def _table(wall: float, code: int, msg: str, **sections: Any) -> Json:
    status = [{"Code": code, "Description": DESCRIPTION, "Msg": msg, "STATUS": "S", "When": int(wall)}]
    return {"STATUS": status, **sections, "id": 1}


def _error_codes(twin: Twin) -> list[int]:
    p = twin.physics
    codes = []
    if p.faults.failed_fans:
        codes.append(110)  # fan speed in error
    if p.stop is StopReason.OVERHEAT:
        codes.append(352)  # over temperature protection
    if p.faults.psu_failed:
        codes.append(218)  # power output error
    codes.extend(200 + b for b in sorted(p.faults.dead_boards))  # hashboard slot N not found
    return codes


def _share_fields(twin: Twin, now: float) -> Json:
    """The cgminer share counters btminer keeps in summary, devs and pools."""
    p = twin.physics
    diff = p.share_difficulty
    elapsed = p.process_elapsed_s(now)
    return {
        "Accepted": p.accepted,
        "Best Share": int(diff * 37) if p.accepted else 0,
        "Device Hardware%": round(100.0 * sum(p.hw_errors) / max(1, sum(p.hw_errors) + p.accepted * 64), 4),
        "Device Rejected%": round(100.0 * p.rejected / max(1, p.accepted + p.rejected), 4),
        "Difficulty Accepted": float(p.accepted * diff),
        "Difficulty Rejected": float(p.rejected * diff),
        "Difficulty Stale": float(p.stale * diff),
        "Discarded": elapsed * 60 if p.hashrate_ths else 0,
        "Get Failures": 0,
        "Getworks": elapsed // 11,
        "Hardware Errors": sum(p.hw_errors),
        "Rejected": p.rejected,
        "Remote Failures": 0,
        "Stale": p.stale,
    }


def _summary(twin: Twin, now: float, wall: float) -> Json:
    p, hw = twin.physics, twin.hardware
    temps = [p.board_chip_c(b) for b in p.alive_boards()] or [0.0]
    rpms = p.fan_rpms()
    mhs = round(p.hashrate_ths * 1e6, 2)
    elapsed = p.process_elapsed_s(now)
    s: Json = {
        **_share_fields(twin, now),
        "CB Platform": "ALLWINNER_H616",
        "CB Version": "V10",
        "Chip Data": "HP5A01-19101436   BINV04-192101D",
        "Chip Temp Avg": round(sum(temps) / len(temps) - 6, 2),
        "Chip Temp Max": round(max(temps), 2),
        "Chip Temp Min": round(min(temps) - 12, 2),
        "Elapsed": elapsed,
        "Env Temp": round(p.intake_c(), 1),
        "Factory Error Code Count": 0,
        "Factory GHS": round(hw.model.hashrate_ths * 1000),
        "Fan Speed In": rpms[0],
        "Fan Speed Out": rpms[-1],
        "Firmware Version": f"'{_fw(twin)}'",
        "Found Blocks": 0,
        "HS RT": round(p.reported_hashrate_ths(now) * 1e6, 2),
        "Hash Deviation%": 0.1,
        "Hash Stable": p.hashrate_ths >= 0.99 * p.ideal_hashrate_ths,
        "Hash Stable Cost Seconds": min(elapsed, 1538),
        "Last getwork": 0,
        "Liquid Cooling": False,
        "Local Work": elapsed * 7800 if p.hashrate_ths else 0,
        "MAC": twin.mac,
        "MHS 15m": mhs,
        "MHS 1m": mhs,
        "MHS 5m": mhs,
        "MHS 5s": round(p.reported_hashrate_ths(now) * 1e6, 2),
        "MHS av": mhs,
        "Network Blocks": elapsed // 600,
        "Pool Rejected%": round(100.0 * p.rejected / max(1, p.accepted + p.rejected), 4),
        "Pool Stale%": 0.0,
        "Power": round(p.power_w) if p.power_w > 0 else -1,
        "Power Current": round(p.power_w / 12.8),
        "Power Fanspeed": 0 if p.faults.psu_failed else int(3000 + 6000 * p.fan_fraction),
        "Power Limit": twin.power_limit_w,
        "Power Mode": "Low" if p.mode is Mode.LOW else "Normal",
        "Power_RT": round(p.power_w),
        "Security Mode": 0,
        "Target Freq": hw.nominal_freq_mhz,
        "Target MHS": round(p.ideal_hashrate_ths * 1e6),
        "Temperature": round(max(p.board_pcb_c(b) for b in range(hw.boards)), 1),
        "Total MH": round(p.hashrate_ths * 1e6 * elapsed, 1),
        "Uptime": p.uptime_s(now),
        "Utility": round(60.0 * p.accepted / max(1, elapsed), 2),
        "Voltage": 1180,
        "Work Utility": round(60.0 * p.hashrate_ths * 1e12 / 2**32 / 1e6, 2),
        "freq_avg": int(hw.nominal_freq_mhz * p.op_scale()) if twin.mining else 0,
    }
    codes = _error_codes(twin)
    s["Error Code Count"] = len(codes)
    for i, c in enumerate(codes):
        s[f"Error Code {i}"] = c
    return _table(wall, 11, "Summary", SUMMARY=[s])


def _devs(twin: Twin, now: float, wall: float) -> Json:
    p, hw = twin.physics, twin.hardware
    rpms = p.fan_rpms()
    boards = p.alive_boards()
    devs = []
    for b in boards:
        chip = p.board_chip_c(b)
        mhs = round(p.board_hashrate_ths(b) * 1e6, 2)
        share = 1.0 / max(1, len(boards))
        devs.append(
            {
                "ASC": b,
                "Accepted": int(p.accepted * share),
                "Chip Frequency": hw.nominal_freq_mhz,
                "Chip Temp Avg": round(chip - 6, 2),
                "Chip Temp Max": round(chip, 2),
                "Chip Temp Min": round(chip - 12, 2),
                "Device Elapsed": p.process_elapsed_s(now),
                "Device Hardware%": 0.0,
                "Device Rejected%": 0.0,
                "Diff1 Work": int(p.accepted * share * 64),
                "Difficulty Accepted": float(int(p.accepted * share) * p.share_difficulty),
                "Difficulty Rejected": 0.0,
                "Effective Chips": hw.chips_per_board - p.faults.failing_chips.get(b, 0),
                "Enabled": "Y",
                "Factory GHS": round(hw.model.hashrate_ths * 1000 / hw.boards),
                "Fan Speed In": rpms[0],
                "Fan Speed Out": rpms[-1],
                "Frequency": float(hw.nominal_freq_mhz),
                "Hardware Errors": p.hw_errors[b],
                "ID": b,
                "Last Share Difficulty": float(p.share_difficulty),
                "Last Share Pool": 0,
                "Last Share Time": int(wall),
                "Last Valid Work": int(wall),
                "MHS 15m": mhs,
                "MHS 1m": mhs,
                "MHS 5m": mhs,
                "MHS 5s": mhs,
                "MHS av": mhs,
                "Name": "SM",
                "PCB SN": f"{twin.serial}P{b}",
                "Rejected": 0,
                "Slot": b,
                "Status": "Alive",
                "Temperature": round(p.board_pcb_c(b), 1),
                "Total MH": round(mhs * p.process_elapsed_s(now), 1),
                "Upfreq Complete": 1,
                "Utility": round(60.0 * p.accepted * share / max(1, p.process_elapsed_s(now)), 2),
            }
        )
    return _table(wall, 9, f"{len(devs)} ASC(s)", DEVS=devs)


def _pools(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    active = twin.active_pool() if twin.mining else None
    pools = []
    for i, pool in enumerate(twin.pools):
        on = i == active
        counters = (
            _share_fields(twin, now) if on else {k: type(v)(0) for k, v in _share_fields(twin, now).items()}
        )
        for k in ("Device Hardware%", "Device Rejected%"):
            counters.pop(k)
        pools.append(
            {
                **counters,
                "Bad Work": 0,
                "Current Block Height": 0,
                "Current Block Version": 536870912 if on else 0,
                "Diff1 Shares": p.accepted * 64 if on else 0,
                "Has GBT": False,
                "Has Stratum": True,
                "Last Share Difficulty": float(p.share_difficulty) if on else 0.0,
                "Last Share Time": int(wall) if on else 0,
                "Long Poll": "N",
                "POOL": i + 1,
                "Pool Rejected%": 0.0,
                "Pool Stale%": 0.0,
                "Priority": i,
                "Proxy": "",
                "Proxy Type": "",
                "Quota": 1,
                "Status": "Alive" if pool.url else "Dead",
                "Stratum Active": on,
                "Stratum Difficulty": float(p.share_difficulty) if on else 0.0,
                "Stratum URL": pool.url.split("://", 1)[-1].rsplit(":", 1)[0] if on else "",
                "URL": pool.url,
                "User": pool.user,
                "Work Difficulty": 0.0,
                "Works": p.process_elapsed_s(now) * 7800 if on else 0,
            }
        )
    return _table(wall, 7, f"{len(pools)} Pool(s)", POOLS=pools)


def _devdetails(twin: Twin, now: float, wall: float) -> Json:
    items = [
        {
            "DEVDETAILS": b,
            "Name": "SM",
            "ID": b,
            "Driver": "bitmicro",
            "Kernel": "",
            "Model": twin.hardware.type_name,
        }
        for b in twin.physics.alive_boards()
    ]
    reply = _table(wall, 69, "Device Details", DEVDETAILS=items)
    reply["STATUS"][0]["Description"] = "btminer"
    return reply


def _get_version(twin: Twin, now: float, wall: float) -> Json:
    return _msg(wall, 131, {"api_ver": "2.0.5", "fw_ver": _fw(twin), "platform": "H616"})


def _get_miner_info(twin: Twin, now: float, wall: float) -> Json:
    return _msg(
        wall,
        131,
        {
            "hostname": twin.hostname,
            "ledstat": twin.led,
            "mac": twin.mac,
            "ip": twin.host,
            "minersn": twin.serial,
        },
    )


def _status(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    off = p.mode is Mode.SLEEP or p.stop is not StopReason.NONE
    return _msg(
        wall,
        131,
        {
            "FirmwareVersion": _fw(twin),
            "hash_percent": "0",
            "mineroff": "true" if off else "false",
            "mineroff_reason": p.stop.value if p.stop is not StopReason.NONE else "",
            "mineroff_time": "",
            "power_limit_set": str(twin.power_limit_w),
            "power_mode": "low" if p.mode is Mode.LOW else "normal",
        },
    )


def _get_error_code(twin: Twin, now: float, wall: float) -> Json:
    stamp = _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(wall))
    return _msg(wall, 131, {"error_code": [{str(c): stamp} for c in _error_codes(twin)]})


def _get_psu(twin: Twin, now: float, wall: float) -> Json:
    fan = "0" if twin.physics.faults.psu_failed else str(int(3000 + 3000 * twin.physics.fan_fraction))
    return _msg(
        wall,
        131,
        {
            "fan_speed": fan,
            "hw_version": "",
            "model": "P222B",
            "name": "P222B",
            "sw_version": "230208.220429",
        },
    )


def _get_token(twin: Twin, now: float, wall: float) -> Json:
    twin.v2_tokens = [t for t in twin.v2_tokens if now - t[0] < V2_TOKEN_LIFETIME_S]
    if len(twin.v2_tokens) >= V2_TOKEN_MAX:
        return _msg(wall, 136, "over max token", "E")
    salt, newsalt, stamp = _v2_salt(twin), secrets.token_hex(4), str(int(wall))[-4:]
    creds = derive_v2_credentials(twin.v2_password, salt=salt, newsalt=newsalt, time=stamp)
    twin.v2_tokens.append((now, creds.aes_key, creds.host_sign))
    return _msg(wall, 134, {"time": stamp, "salt": salt, "newsalt": newsalt})


def _v2_salt(twin: Twin) -> str:
    return "BQ5h" + twin.v3_salt[:4]


V2_READS: dict[str, Callable[[Twin, float, float], Json]] = {
    "summary": _summary,
    "devs": _devs,
    "edevs": _devs,
    "pools": _pools,
    "devdetails": _devdetails,
    "get_version": _get_version,
    "get_miner_info": _get_miner_info,
    "status": _status,
    "get_error_code": _get_error_code,
    "get_psu": _get_psu,
    "get_token": _get_token,
}


def _v2_write(twin: Twin, body: Json, now: float, wall: float) -> Json:
    cmd = str(body.get("cmd", body.get("command", "")))  # pyasic sends "cmd", asic-rs "command"
    p = twin.physics
    ok = _msg(wall, 131, "API command OK")
    if cmd == "power_off":
        p.set_mode(Mode.SLEEP, now)
        return ok
    if cmd == "power_on":
        p.set_mode(Mode.NORMAL, now)
        return ok
    if cmd == "adjust_power_limit":
        try:
            watts = int(float(str(body.get("power_limit", ""))))
        except ValueError:
            return _msg(wall, 132, "power_limit must be an integer", "E")
        if not 0 < watts <= 99999:
            return _msg(wall, 132, "power_limit out of range", "E")
        twin.power_limit_w = watts
        p.set_power_target(min(watts, twin.hardware.model.power_w * 1.1), now)
        return ok
    if cmd == "update_pools":
        pools = [
            PoolConf(
                str(body.get(f"pool{i}", "")),
                str(body.get(f"worker{i}", "")),
                str(body.get(f"passwd{i}", "")),
            )
            for i in (1, 2, 3)
        ]
        twin.set_pools(pools, now)
        return ok
    if cmd == "reboot":
        twin.reboot(now)
        return ok
    if cmd == "restart_btminer":
        p.restart_process(now, delay_s=twin.restart_delay_s)
        return ok
    if cmd == "set_led":
        twin.led = str(body.get("param", "auto")) if "param" in body else str(body.get("color", "red"))
        twin.blink = twin.led != "auto"
        return ok
    if cmd in {"set_low_power", "set_normal_power", "set_high_power"}:
        p.set_mode(Mode.LOW if cmd == "set_low_power" else Mode.NORMAL, now)
        return ok
    return _msg(wall, 14, "invalid cmd", "E")


def handle_v2(twin: Twin, req: CgminerRequest, now: float, wall: float) -> bytes:
    """Reply bytes for one API 2.x request (plain read, multi-read or AES envelope)."""
    twin.advance(now)
    body = req.body
    if "enc" in body:
        data = body.get("data")
        if not isinstance(data, str):
            return encode_reply(_msg(wall, 137, "base64 decode error", "E"))
        twin.v2_tokens = [t for t in twin.v2_tokens if now - t[0] < V2_TOKEN_LIFETIME_S]
        for _, key, sign in twin.v2_tokens:
            try:
                inner = decrypt_v2(data, key)
            except FrameError:
                continue
            if inner.get("token") != sign:
                continue
            return encode_reply({"enc": encrypt_v2(_v2_write(twin, inner, now, wall), key)})
        return encode_reply(_msg(wall, 135, "check token err", "E"))
    cmd = req.command or (body["cmd"] if isinstance(body.get("cmd"), str) else "")
    members = split_multi(cmd) if "+" in cmd else ()
    if members:
        out: Json = {
            m: [V2_READS[m](twin, now, wall)]
            if m in V2_READS and m != "get_token"
            else [_msg(wall, 14, "invalid cmd", "E")]
            for m in members
        }
        out["id"] = 1
        return encode_reply(out)
    if cmd in V2_READS:
        return encode_reply(V2_READS[cmd](twin, now, wall))
    return encode_reply(_msg(wall, 14, "invalid cmd", "E"))


# --- API 3.x ---------------------------------------------------------------------------------
def _v3(wall: float, desc: str, msg: Any, code: int = 0) -> Json:
    return {"code": code, "desc": desc, "msg": msg, "when": int(wall)}


def _device_info(twin: Twin, wall: float) -> Json:
    p, hw = twin.physics, twin.hardware
    miner = {
        "board-num": str(hw.boards),
        "fast-boot": "disable",
        "hash-board": "K40",
        "hash-percent": "0",
        "miner-sn": twin.serial,
        "pool-strategy": "FAILOVER",
        "type": hw.type_name,
        "working": "false" if p.mode is Mode.SLEEP or p.stop is not StopReason.NONE else "true",
        "detect-hash-rate": ":".join(
            str(round(hw.model.hashrate_ths * 1000 / hw.boards)) for _ in range(hw.boards)
        ),
    }
    for b in range(hw.boards):
        miner[f"chipdata{b}"] = "K8EC374-2426 BINVE6-197806A"
        miner[f"pcbsn{b}"] = f"{twin.serial}P{b}"
    info: Json = {
        "miner": miner,
        "network": {
            "dns": "127.0.0.1",
            "gateway": "127.0.0.1",
            "hostname": twin.hostname,
            "ip": twin.host,
            "mac": twin.mac,
            "netmask": "255.0.0.0",
            "proto": "dhcp",
        },
        "power": {
            "fanspeed": 0 if p.faults.psu_failed else int(3000 + 3000 * p.fan_fraction),
            "hwversion": "RT0159",
            "mode": "1",
            "model": "P221B",
            "sn": twin.serial[-15:],
            "swversion": "230224.220429",
            "type": "P221B",
            "vendor": "1",
        },
        "salt": twin.v3_salt,
        "system": {
            "api": "3.0.2",
            "apiswitch": "1",
            "control-board-version": "CB6V10",
            "fwversion": V3_FW,
            "ledstatus": twin.led,
            "platform": "H616",
        },
    }
    codes = _error_codes(twin)
    if codes:
        stamp = _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(wall))
        info["error-code"] = [{str(c): stamp, "reason": f"error {c}"} for c in codes]
    return info


def _miner_status(twin: Twin, param: str, now: float, wall: float) -> Json | None:
    p, hw = twin.physics, twin.hardware
    temps = [p.board_chip_c(b) for b in p.alive_boards()] or [0.0]
    rpms = p.fan_rpms()
    if param == "summary":
        return {
            "summary": {
                "Debug": "",
                "board-temperature": [round(p.board_pcb_c(b), 1) for b in range(hw.boards)],
                "bootup-time": p.uptime_s(now),
                "chip-temp-avg": round(sum(temps) / len(temps) - 6, 1),
                "chip-temp-max": round(max(temps), 1),
                "chip-temp-min": round(min(temps) - 12, 1),
                "elapsed": p.process_elapsed_s(now),
                "environment-temperature": round(p.intake_c(), 1),
                "factory-hash": round(hw.model.hashrate_ths, 3),
                "fan-speed-in": rpms[0],
                "fan-speed-out": rpms[-1],
                "freq-avg": hw.nominal_freq_mhz,
                "hash-15min": round(p.hashrate_ths, 3),
                "hash-1min": round(p.hashrate_ths, 3),
                "hash-average": round(p.hashrate_ths, 3),
                "hash-realtime": round(p.reported_hashrate_ths(now), 3),
                "power-5min": float(round(p.power_w)),
                "power-limit": twin.power_limit_w,
                "power-rate": round(p.power_w / p.hashrate_ths, 1) if p.hashrate_ths else 0.0,
                "power-realtime": float(round(p.power_w)),
                "up-freq-finish": 1,
            }
        }
    if param == "edevs":
        return {
            "edevs": [
                {
                    "chip-temp-avg": round(p.board_chip_c(b) - 6, 1),
                    "chip-temp-max": round(p.board_chip_c(b), 1),
                    "chip-temp-min": round(p.board_chip_c(b) - 12, 1),
                    "effective-chips": hw.chips_per_board - p.faults.failing_chips.get(b, 0),
                    "factory-hash": round(hw.model.hashrate_ths / hw.boards, 2),
                    "freq": float(hw.nominal_freq_mhz),
                    "hash-average": round(p.board_hashrate_ths(b), 2),
                    "hash-realtime": round(p.board_hashrate_ths(b), 2),
                    "id": b,
                    "status": "alive",
                }
                for b in p.alive_boards()
            ]
        }
    if param == "pools":
        active = twin.active_pool() if twin.mining else None
        return {
            "pools": [
                {
                    "account": pool.user,
                    "pool-priority": i,
                    "status": "alive" if pool.url else "dead",
                    "stratum-active": i == active,
                    "url": pool.url,
                    "id": i,  # pyasic sorts the pools on "id"
                }
                for i, pool in enumerate(twin.pools)
            ]
        }
    return None


def _v3_set(twin: Twin, cmd: str, param: Any, now: float, wall: float) -> Json:
    p = twin.physics
    if cmd == "set.system.reboot":
        twin.reboot(now)
        return _v3(wall, cmd, "ok")
    if cmd == "set.miner.service":
        if param == "stop":
            p.set_mode(Mode.SLEEP, now)
        elif param == "start":
            p.set_mode(Mode.NORMAL, now)
        elif param == "restart":
            p.restart_process(now, delay_s=twin.restart_delay_s)
        else:
            return _v3(wall, cmd, "invalid param", -1)
        return _v3(wall, cmd, "ok")
    if cmd == "set.miner.power_limit":
        try:
            watts = int(float(str(param)))  # a number or a numeric string
        except ValueError:
            return _v3(wall, cmd, "invalid param", -1)
        twin.power_limit_w = watts
        p.set_power_target(min(watts, twin.hardware.model.power_w * 1.1), now)
        return _v3(wall, cmd, "ok")
    if cmd == "set.system.led":
        twin.led = "auto" if param == "auto" else "red"
        twin.blink = twin.led != "auto"
        return _v3(wall, cmd, "ok")
    if cmd == "set.miner.pools":
        # [{"pool", "worker", "passwd"}] x 1..3 (the vendor's API 3.x document and client)
        if not isinstance(param, list) or not 1 <= len(param) <= 3:
            return _v3(wall, cmd, "invalid param", -1)
        entries = [x for x in param if isinstance(x, dict) and isinstance(x.get("pool"), str)]
        if len(entries) != len(param):
            return _v3(wall, cmd, "invalid param", -1)
        twin.set_pools(
            [PoolConf(str(x["pool"]), str(x.get("worker", "")), str(x.get("passwd", ""))) for x in entries],
            now,
        )
        return _v3(wall, cmd, "ok")
    return _v3(wall, cmd, "invalid command", -1)


def handle_v3(twin: Twin, msg: Json, now: float, wall: float) -> bytes:
    """One API 3.x message in, one length-prefixed reply frame out."""
    twin.advance(now)
    cmd = msg.get("cmd")
    if not isinstance(cmd, str):
        return encode_v3_frame(_v3(wall, "", "invalid command", -1))
    param = msg.get("param")
    if cmd == "get.device.info":
        return encode_v3_frame(_v3(wall, cmd, _device_info(twin, wall)))
    if cmd == "get.miner.status":
        body = _miner_status(twin, str(param), now, wall)
        return encode_v3_frame(
            _v3(wall, cmd, body) if body is not None else _v3(wall, cmd, "invalid param", -1)
        )
    if cmd == "get.miner.setting":
        mode = "low" if twin.physics.mode is Mode.LOW else "normal"
        return encode_v3_frame(_v3(wall, cmd, {"power-mode": mode, "power-limit": twin.power_limit_w}))
    if cmd.startswith("set."):
        ts, token = msg.get("ts"), msg.get("token")
        if not isinstance(ts, int) or abs(ts - wall) > V3_TS_WINDOW_S:
            return encode_v3_frame(_v3(wall, cmd, "invalid timestamp", -2))
        if token != v3_token(cmd, twin.v3_password, twin.v3_salt, ts):
            return encode_v3_frame(_v3(wall, cmd, "invalid token", -2))
        if cmd == "set.miner.pools" and isinstance(param, str):
            try:
                param = decrypt_v3_param(param, cmd, twin.v3_password, twin.v3_salt, ts)
            except FrameError:
                return encode_v3_frame(_v3(wall, cmd, "invalid param", -1))
        return encode_v3_frame(_v3_set(twin, cmd, param, now, wall))
    return encode_v3_frame(_v3(wall, cmd, "invalid command", -1))
