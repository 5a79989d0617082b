"""cgminer-style API personalities on TCP 4028: stock Antminer (bmminer) and LuxOS (LUXminer).

Replies follow the captured firmware replies in ``shared/data/fleet/asic-rs`` key for key
(``tests/twin/test_captures.py`` walks them all). Values come from the twin's physics.
"""

from __future__ import annotations

import datetime as _dt
import re
import secrets
from collections.abc import Callable
from typing import Any

from hashwatt.minerapi import CgminerRequest, encode_reply, split_multi
from hashwatt.twin._physics import Mode, StopReason, power_at_scale_w, unit_noise
from hashwatt.twin._twin import Firmware, PoolConf, Twin

__all__ = ["LUXOS_SESSION_IDLE_S", "handle_cgminer", "luxos_profiles"]

Json = dict[str, Any]

STOCK_DESCRIPTION = "cgminer 1.0.0"
STOCK_MINER_VERSION = "49.0.1.3"
STOCK_COMPILE_TIME = "Tue Dec  6 16:12:30 CST 2022"
LUX_VERSION = "2025.4.8.220305"
LUX_BUILD = f"{LUX_VERSION}-57b389c7"
LUX_DESCRIPTION = f"LUXminer {LUX_BUILD}"
LUX_COMPILE_TIME = "Tue Apr  8 22:05:35 UTC 2025"
#: LuxOS drops the session after this long without use [s] (docs.luxor.tech: 1 minute).
LUXOS_SESSION_IDLE_S = 60.0
#: Built-in LuxOS profiles: 16 under, default, 8 over.
LUX_STEPS = range(-16, 9)

#: Commands cgminer marks privileged; stock api-allow "W:*" is not granted to remote peers.
PRIVILEGED = frozenset(
    [
        "switchpool",
        "enablepool",
        "disablepool",
        "addpool",
        "poolpriority",
        "poolquota",
        "removepool",
        "save",
        "quit",
        "restart",
        "privileged",
        "notify",
        "debug",
        "setconfig",
        "pgaset",
        "ascset",
        "ascenable",
        "ascdisable",
        "pgaenable",
        "pgadisable",
        "zero",
        "hotplug",
        "lcd",
        "failover-only",
    ]
)


def _desc(twin: Twin) -> str:
    return LUX_DESCRIPTION if twin.firmware is Firmware.LUXOS else STOCK_DESCRIPTION


def _status(twin: Twin, wall: float, code: int, msg: str, kind: str = "S") -> list[Json]:
    return [{"Code": code, "Description": _desc(twin), "Msg": msg, "STATUS": kind, "When": int(wall)}]


def _ok(twin: Twin, wall: float, code: int, msg: str, **sections: Any) -> Json:
    return {"STATUS": _status(twin, wall, code, msg), **sections, "id": 1}


def _err(twin: Twin, wall: float, code: int, msg: str) -> Json:
    return {"STATUS": _status(twin, wall, code, msg, "E"), "id": 1}


def _ghs(ths: float) -> float:
    return round(ths * 1000.0, 2)


def _short_diff(diff: float) -> str:
    if diff >= 1e6:
        return f"{diff / 1e6:.0f}M"
    return f"{diff / 1e3:.0f}K" if diff >= 1e3 else f"{diff:.0f}"


# --- reports shared by both personalities -----------------------------------------------------
def _version(twin: Twin, now: float, wall: float) -> Json:
    if twin.firmware is Firmware.LUXOS:
        v = {"API": "3.7", "CompileTime": LUX_COMPILE_TIME, "LUXminer": LUX_BUILD, "Miner": LUX_VERSION}
    else:
        v = {
            "API": "3.1",
            "BMMiner": "1.0.0",
            "CompileTime": STOCK_COMPILE_TIME,
            "Miner": STOCK_MINER_VERSION,
        }
    return _ok(
        twin,
        wall,
        22,
        f"{'LUXminer' if twin.firmware is Firmware.LUXOS else 'CGMiner'} versions",
        VERSION=[{**v, "Type": twin.hardware.type_name}],
    )


def _summary(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    hr, hr5 = p.hashrate_ths, p.reported_hashrate_ths(now)
    elapsed = p.process_elapsed_s(now)
    diff = p.share_difficulty
    s: Json = {
        "Accepted": p.accepted,
        "Best Share": int(diff * 37) if p.accepted else 0,
        "Device Hardware%": 0.0,
        "Device Rejected%": 0.0,
        "Difficulty Accepted": float(p.accepted * diff),
        "Difficulty Rejected": float(p.rejected * diff),
        "Difficulty Stale": float(p.stale * diff),
        "Discarded": elapsed * 90 if hr else 0,
        "Elapsed": elapsed,
        "Found Blocks": 0,
        "GHS 30m": _ghs(hr),
        "GHS 5s": _ghs(hr5),
        "GHS av": _ghs(hr),
        "Get Failures": 0,
        "Getwork": elapsed // 13,
        "Hardware Errors": sum(p.hw_errors),
        "Last getwork": int(wall),
        "Local Work": elapsed * 90 if hr else 0,
        "Network Blocks": elapsed // 600,
        "Pool Rejected%": round(100.0 * p.rejected / max(1, p.accepted + p.rejected), 4),
        "Pool Stale%": round(100.0 * p.stale / max(1, p.accepted + p.rejected), 4),
        "Rejected": p.rejected,
        "Remote Failures": 0,
        "Stale": p.stale,
        "Total MH": round(hr * 1e6 * elapsed, 1),
        "Utility": round(60.0 * p.accepted / max(1, elapsed), 2),
        "Work Utility": round(60.0 * hr * 1e12 / 2**32 / 1e6, 2),
    }
    if twin.firmware is Firmware.LUXOS:
        s.update(
            {
                "GHS 1m": _ghs(hr),
                "GHS 5m": _ghs(hr),
                "GHS 15m": _ghs(hr),
                "GHS 24h": _ghs(hr),
                "Getworks": s.pop("Getwork"),
                "Best Share": s["Best Share"],
                "Difficulty Accepted": int(p.accepted * diff),
                "Difficulty Rejected": int(p.rejected * diff),
                "Difficulty Stale": int(p.stale * diff),
                "Local Work": 0,
                "Discarded": 0,
            }
        )
    return _ok(twin, wall, 11, "Summary", SUMMARY=[s])


def _temps4(chip: float, amb: float, dead: bool) -> tuple[str, str, str]:
    """(pcb, chip, pic) sensor strings "a-b-c-d": outlet hot, inlet cooler."""
    if dead:
        return ("0-0-0-0", "0-0-0-0", "0-0-0-0")
    inlet = amb + 0.55 * (chip - amb)
    pcb = f"{chip - 5:.0f}-{inlet:.0f}-{chip - 14:.0f}-{chip - 13:.0f}"
    chp = f"{chip:.0f}-{inlet + 5:.0f}-{chip - 9:.0f}-{chip - 8:.0f}"
    pic = f"{chip - 15:.0f}-{inlet - 10:.0f}-{chip - 24:.0f}-{chip - 23:.0f}"
    return pcb, chp, pic


def _acs(chips: int, failing: int) -> str:
    marks = "o" * (chips - failing) + "x" * failing
    group = 3 if chips % 3 == 0 else 4
    return "".join(" " + marks[i : i + group] for i in range(0, len(marks), group))


def _freq(twin: Twin) -> float:
    p = twin.physics
    return 0.0 if p.mode is Mode.SLEEP else round(twin.hardware.nominal_freq_mhz * p.op_scale(), 1)


def _stats(twin: Twin, now: float, wall: float) -> Json:
    p, hw = twin.physics, twin.hardware
    lux = twin.firmware is Firmware.LUXOS
    amb = p.intake_c()
    head: Json = {
        "CompileTime": LUX_COMPILE_TIME if lux else STOCK_COMPILE_TIME,
        "Miner": LUX_VERSION if lux else STOCK_MINER_VERSION,
        "Type": hw.type_name,
    }
    if not lux:
        head = {"BMMiner": "1.0.0", **head}
    freq = _freq(twin)
    d: Json = {
        "Calls": 0,
        "Elapsed": p.process_elapsed_s(now),
        "GHS 5s": _ghs(p.reported_hashrate_ths(now)),
        "GHS av": _ghs(p.hashrate_ths),
        "ID": "BTM_SOC0",
        "Max": 0,
        "Min": 99999999,
        "Mode": 2,
        "STATS": 0,
        "Wait": 0,
    }
    rpms = p.fan_rpms()
    for n in range(1, 5):
        b = n - 1
        present = b < hw.boards
        dead = not present or b in p.faults.dead_boards
        chips = p.chips_on_board(b) if present else 0
        failing = p.faults.failing_chips.get(b, 0) if present else 0
        pcb, chp, pic = _temps4(p.board_chip_c(b) if not dead else 0.0, amb, dead)
        rate = p.board_hashrate_ths(b) if present else 0.0
        d.update(
            {
                f"chain_acn{n}": chips,
                f"chain_acs{n}": _acs(chips, failing) if chips else "",
                f"chain_hw{n}": p.hw_errors[b] if present else 0,
                f"chain_rate{n}": f"{rate * 1000:.2f}" if present else ("0" if lux else ""),
                f"freq{n}": (freq if not dead else 0.0) if lux else int(freq if not dead else 0),
                f"temp_chip{n}": chp,
                f"temp_pcb{n}": pcb,
                f"temp_pic{n}": pic,
            }
        )
    for i, rpm in enumerate(rpms[:4], start=1):
        d[f"fan{i}"] = rpm
    chips_hot = [p.board_chip_c(b) for b in p.alive_boards()] or [0.0]
    t = (lambda x: round(x, 1)) if lux else (lambda x: int(x))
    d.update(
        {
            "fan_num": len(rpms),
            "frequency": int(freq),
            "miner_count": hw.boards,
            "miner_id": twin.mac.replace(":", "").lower() if lux else twin.serial.lower()[:16],
            "miner_version": LUX_VERSION if lux else STOCK_MINER_VERSION,
            "no_matching_work": sum(p.hw_errors),
            "rate_30m": _ghs(p.hashrate_ths),
            "rate_unit": "GH",
            "temp1": t(chips_hot[0] - 5),
            "temp2": t(max(chips_hot) - 10),
            "temp3": t(min(chips_hot) - 12),
            "temp2_1": t(chips_hot[0]),
            "temp2_2": t(chips_hot[min(1, len(chips_hot) - 1)]),
            "temp2_3": t(chips_hot[-1]),
            "temp_max": t(max(chips_hot)) if lux else 0,
            "temp_num": hw.boards,
            "total rate": _ghs(p.hashrate_ths),
            "total_acn": sum(p.chips_on_board(b) for b in range(hw.boards)),
            "total_freqavg": freq if lux else int(freq),
            "total_rateideal": _ghs(p.ideal_hashrate_ths),
        }
    )
    return _ok(twin, wall, 70, "LUXminer stats" if lux else "CGMiner stats", STATS=[head, d])


def _pools(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    lux = twin.firmware is Firmware.LUXOS
    active = twin.active_pool() if twin.mining and p.is_up(now) else None
    pools = twin.pools
    if lux:  # LuxOS has no empty slots: it lists the pools configured, in priority order
        pools = lux_pools(twin)
        active = 0 if active is not None and pools else None
    out = []
    for i, pool in enumerate(pools):
        on = i == active
        acc, rej, stale = (p.accepted, p.rejected, p.stale) if on else (0, 0, 0)
        diff = p.share_difficulty if on else 0.0
        host = pool.url.split("://", 1)[-1]
        alive = bool(pool.url) and (twin.mining or lux)
        e: Json = {
            "Accepted": acc,
            "Best Share": float(diff * 37 if acc else 0),
            "Diff": _short_diff(diff) if on else "",
            "Diff1 Shares": 0,
            "Difficulty Accepted": float(acc * diff),
            "Difficulty Rejected": float(rej * diff),
            "Difficulty Stale": float(stale * diff),
            "Discarded": p.process_elapsed_s(now) * 90 if on else 0,
            "Get Failures": 0,
            "Getworks": p.process_elapsed_s(now) // 13 if on else 0,
            "Has GBT": False,
            "Has Stratum": True,
            "Last Share Difficulty": float(diff),
            "Last Share Time": "0:00:03" if on else "0",
            "Long Poll": "N",
            "POOL": i,
            "Pool Rejected%": round(100.0 * rej / max(1, acc + rej), 4),
            "Pool Stale%%": 0.0,
            "Priority": i,
            "Proxy": "",
            "Proxy Type": "",
            "Quota": 1,
            "Rejected": rej,
            "Remote Failures": 0,
            "Stale": stale,
            "Status": "Alive" if alive else "Dead",
            "Stratum Active": on,
            "Stratum URL": host if on else "",
            "URL": pool.url,
            "User": pool.user,
        }
        if lux:
            for k in ("Long Poll", "Pool Stale%%"):
                e.pop(k)
            e.update(
                {
                    "AsicBoost": True,
                    "Bad Work": 0,
                    "Best Share": int(e["Best Share"]),
                    "Current Block Height": 0,
                    "Current Block Version": 536870912 if on else 0,
                    "Diff": _short_diff(diff) if on else "0",
                    "Diff1 Shares": int(acc * diff),
                    "Difficulty Accepted": int(acc * diff),
                    "Difficulty Rejected": int(rej * diff),
                    "Difficulty Stale": int(stale * diff),
                    "GROUP": pool.group,
                    "Has Vmask": True,
                    "Last Share Difficulty": int(diff),
                    "Last Share Time": "00:00:01" if on else "00:00:00",
                    "Long Pool": "N",
                    "Pool Stale%": 0.0,
                    "Quota": 1.0,
                    "Stratum Difficulty": int(diff),
                    "Stratum URL": host,
                    "Work Difficulty": int(diff),
                    "Works": 0,
                }
            )
        out.append(e)
    return _ok(twin, wall, 7, f"{len(out)} Pool(s)", POOLS=out)


def _devs(twin: Twin, now: float, wall: float) -> Json:
    p, hw = twin.physics, twin.hardware
    if twin.firmware is not Firmware.LUXOS:
        dev = {
            "ASC": 0,
            "Accepted": p.accepted,
            "Device Elapsed": p.process_elapsed_s(now),
            "Device Hardware%": 0.0,
            "Device Rejected%": 0.0,
            "Diff1 Work": 0,
            "Difficulty Accepted": int(p.accepted * p.share_difficulty),
            "Difficulty Rejected": int(p.rejected * p.share_difficulty),
            "Enabled": "Y",
            "Hardware Errors": sum(p.hw_errors),
            "ID": 0,
            "Last Share Difficulty": int(wall),
            "Last Share Pool": 0,
            "Last Share Time": int(wall),
            "Last Valid Work": int(wall),
            "MHS 5s": 0.0,
            "MHS av": 0.0,
            "Name": "BTM_SOC",
            "Rejected": p.rejected,
            "Status": "Alive",
            "Tenperature": 0.0,
            "Total MH": 0.0,
            "Utility": 0.0,
        }  # sic: bmminer's spelling
        return _ok(twin, wall, 9, "1 ASC(s)", DEVS=[dev])
    devs = []
    profile = luxos_profile_name(twin, twin.lux_profile_step)
    for b in range(hw.boards):
        mhs = p.board_hashrate_ths(b) * 1e6
        share = 1.0 / max(1, len(p.alive_boards()))
        devs.append(
            {
                "ASC": b,
                "Accepted": int(p.accepted * share),
                "Board": "BHB56903",
                "Connector": f"J{7 + b}",
                "ControllerIPVersionHex": "0x18351835",
                "ControllerIPVersionStr": "N/A",
                "Device Elapsed": p.process_elapsed_s(now),
                "Device Hardware%": 0,
                "Device Rejected%": 0,
                "Diff1 Work": int(p.accepted * share * p.share_difficulty),
                "Difficulty Accepted": int(p.accepted * share * p.share_difficulty),
                "Difficulty Rejected": int(p.rejected * share * p.share_difficulty),
                "Enabled": "N" if b in p.faults.dead_boards else "Y",
                "Hardware Error MHS 15m": 0,
                "Hardware Errors": p.hw_errors[b],
                "ID": b,
                "IsRamping": p.hashrate_ths < 0.99 * p.ideal_hashrate_ths,
                "IsUserShutdown": twin.curtailed,
                "Last Share Difficulty": int(p.share_difficulty),
                "Last Share Pool": 0,
                "Last Share Time": int(wall),
                "Last Valid Work": int(wall),
                "MHS 15m": mhs,
                "MHS 1m": mhs,
                "MHS 30m": mhs,
                "MHS 5m": mhs,
                "MHS 5s": mhs,
                "MHS 60m": mhs,
                "MHS av": mhs,
                "Name": "",
                "Nominal MHS": p.ideal_hashrate_ths / hw.boards * 1e6,
                "Profile": profile,
                "Rejected": int(p.rejected * share),
                "SerialNumber": f"{twin.serial}B{b}",
                "Status": "Dead" if b in p.faults.dead_boards else "Alive",
                "Temperature": round(p.board_pcb_c(b), 1),
                "Total MH": mhs * p.process_elapsed_s(now),
                "Utility": 0,
            }
        )
    return _ok(twin, wall, 9, f"{len(devs)} ASC(s)", DEVS=devs)


def _devdetails(twin: Twin, now: float, wall: float) -> Json:
    hw = twin.hardware
    if twin.firmware is Firmware.LUXOS:
        items = [
            {
                "DEVDETAILS": b,
                "Name": "",
                "ID": b,
                "Driver": "luxminer",
                "Kernel": "",
                "Model": hw.type_name,
                "Device Path": "",
                "Chips": twin.physics.chips_on_board(b),
            }
            for b in range(hw.boards)
        ]
    else:
        items = [
            {
                "DEVDETAILS": 0,
                "Name": "BTM_SOC",
                "ID": 0,
                "Driver": "bitmain_soc",
                "Kernel": "",
                "Model": "",
                "Device Path": "",
            }
        ]
    return _ok(twin, wall, 69, "Device Details", DEVDETAILS=items)


# --- LuxOS extensions --------------------------------------------------------------------------
def luxos_step_mhz(twin: Twin) -> int:
    """Frequency step between LuxOS profiles [MHz]: about nominal / 24, a multiple of 5."""
    return max(5, round(twin.hardware.nominal_freq_mhz / 24 / 5) * 5)


def luxos_profile_name(twin: Twin, step: int) -> str:
    return "default" if step == 0 else f"{twin.hardware.nominal_freq_mhz + step * luxos_step_mhz(twin)}MHz"


def luxos_profiles(twin: Twin) -> list[Json]:
    """The built-in profile table, from the physics' frequency -> hashrate and power laws."""
    hw = twin.hardware
    out = []
    for step in LUX_STEPS:
        freq = hw.nominal_freq_mhz + step * luxos_step_mhz(twin)
        scale = freq / hw.nominal_freq_mhz
        out.append(
            {
                "CanRestore": True,
                "Frequency": freq,
                "HasOverrides": False,
                "Hashrate": round(hw.model.hashrate_ths * scale, 1),
                "IsDynamic": True,
                "IsTuned": step == 0,
                "Profile Name": luxos_profile_name(twin, step),
                "Step": str(step),
                "Voltage": round(11.88 + max(0, step + 10) * 0.14, 2),
                "Watts": round(power_at_scale_w(hw.model.power_w, scale)),
            }
        )
    return out


def _apply_profile(twin: Twin, step: int, now: float) -> None:
    twin.lux_profile_step = step
    freq = twin.hardware.nominal_freq_mhz + step * luxos_step_mhz(twin)
    twin.physics.set_scale(freq / twin.hardware.nominal_freq_mhz, now)


def _resolve_profile(twin: Twin, selector: str) -> int | None:
    sel = selector.strip()
    profiles = luxos_profiles(twin)
    steps = {p["Profile Name"]: int(p["Step"]) for p in profiles}
    if sel in steps:
        return steps[sel]
    try:
        if sel[:1] in "+-" and sel[1:].isdigit():
            step = twin.lux_profile_step + int(sel)
            return step if step in LUX_STEPS else None
        low = sel.lower()
        for suffix, key, mult in (("ths", "Hashrate", 1.0), ("kw", "Watts", 1000.0), ("w", "Watts", 1.0)):
            if low.endswith(suffix):
                limit = float(low[: -len(suffix)]) * mult
                fits = [int(p["Step"]) for p in profiles if float(p[key]) <= limit]
                return max(fits) if fits else None
    except ValueError:
        return None
    return None


def _lux_session_valid(twin: Twin, now: float) -> bool:
    if twin.lux_session and now - twin.lux_session_used_s > LUXOS_SESSION_IDLE_S:
        twin.lux_session = ""
    return bool(twin.lux_session)


def _lux_write(twin: Twin, req: CgminerRequest, now: float, wall: float) -> tuple[list[str], Json | None]:
    """Split ``<sid>,args`` and check the session; an error reply when it is not valid."""
    parts = (req.parameter or "").split(",")
    if not _lux_session_valid(twin, now) or parts[0] != twin.lux_session:
        return [], _err(twin, wall, 303, "Invalid session id")
    twin.lux_session_used_s = now
    return parts[1:], None


def _lux_config(twin: Twin, now: float, wall: float) -> Json:
    hw, p = twin.hardware, twin.physics
    cfg = {
        "ASC Count": hw.boards,
        "BcastAddr": "127.255.255.255",
        "ControlBoardType": "cvitek",
        "Cooling": "Air",
        "CurtailMode": "Sleep" if twin.curtailed else "None",
        "DHCP": True,
        "DNS Servers": "",
        "Device Code": "",
        "FPGABuildIdHex": "0x18351835",
        "FPGABuildIdStr": "2018-35-18 35:00",
        "FeeStatus": "Ok",
        "Gateway": "127.0.0.1",
        "GreenLed": "auto",
        "Hostname": twin.hostname,
        "Hotplug": "None",
        "IPAddr": twin.host,
        "ImmersionMode": False,
        "IsAtmEnabled": twin.lux_atm,
        "IsPowerSupplyOn": not p.faults.psu_failed,
        "IsSingleVoltage": True,
        "IsTuning": False,
        "Log Interval": 0,
        "LogFileLevel": "info",
        "MACAddr": twin.mac.lower(),
        "Model": hw.type_name,
        "NameplateTHS": hw.model.hashrate_ths,
        "Netmask": "255.0.0.0",
        "OS": "LuxOS",
        "PGA Count": 0,
        "PSUHwVersion": "75",
        "PSULabel": "APW121215e",
        "Pool Count": len(lux_pools(twin)),
        "Profile": luxos_profile_name(twin, twin.lux_profile_step),
        "ProfileStep": str(twin.lux_profile_step),
        "RedLed": "blink" if twin.blink else "auto",
        "SerialNumber": twin.serial,
        "Strategy": "Failover",
        "SystemStatus": "Normal" if p.stop is StopReason.NONE else "Error",
        "UpdateOnStartup": "off",
        "UpdateOnTimeout": "off",
        "UpdateOnUser": "full",
        "UpdateSource": "",
        "UpdateTimeout": 60,
    }
    return _ok(twin, wall, 33, "LUXminer config", CONFIG=[cfg])


def _lux_fans(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    speed = round(p.fan_fraction * 100)
    fans = [{"FAN": f"FAN{i + 1}", "ID": i, "RPM": rpm, "Speed": speed} for i, rpm in enumerate(p.fan_rpms())]
    return _ok(
        twin, wall, 202, f"{len(fans)} Fan(s)", FANCTRL=[{"MinFans": 3, "PowerOffSpeed": 20}], FANS=fans
    )


def _lux_temps(twin: Twin, now: float, wall: float) -> Json:
    p = twin.physics
    amb = p.intake_c()
    temps = []
    for b in range(twin.hardware.boards):
        hot = round(p.board_pcb_c(b), 1)
        cold = round(amb + 0.4 * (hot - amb), 1) if hot else 0.0
        temps.append(
            {"BottomLeft": hot, "BottomRight": cold, "ID": b, "TEMP": b, "TopLeft": hot, "TopRight": cold}
        )
    meta = {
        "BottomLeft": {"Label": "Board Exhaust (bottom)", "Position": [1, 0]},
        "BottomRight": {"Label": "Board Intake (bottom)", "Position": [1, 1]},
        "TopLeft": {"Label": "Board Exhaust (top)", "Position": [0, 0]},
        "TopRight": {"Label": "Board Intake (top)", "Position": [0, 1]},
    }
    return _ok(twin, wall, 201, f"{len(temps)} Temp(s)", METADATA=[meta], TEMPS=temps)


def _lux_power(twin: Twin, now: float, wall: float) -> Json:
    return _ok(twin, wall, 311, "Power usage", POWER=[{"PSU": False, "Watts": round(twin.physics.power_w)}])


def _lux_atm(twin: Twin, now: float, wall: float) -> Json:
    atm = {
        "Enabled": twin.lux_atm,
        "MaxProfile": "default",
        "MinProfile": luxos_profile_name(twin, -16),
        "PostRampMinutes": 15,
        "StartupMinutes": 15,
        "TempWindow": 5,
    }
    return _ok(twin, wall, 339, "ATM configuration values", ATM=[atm])


def _lux_groups(twin: Twin, now: float, wall: float) -> Json:
    groups = [{"GROUP": i, "Name": name, "Quota": quota} for i, (name, quota) in enumerate(twin.lux_groups)]
    return _ok(twin, wall, 324, f"{len(groups)} Group(s)", GROUPS=groups)


#: Pools a LuxOS twin holds at most (the twin's bound; cgminer answers code 54 past its own).
LUX_MAX_POOLS = 16
_POOL_URL = re.compile(r"^stratum(\+tcp|\+ssl|2\+tcp)?://[^\s/,@]+:\d{1,5}/?$")


def lux_pools(twin: Twin) -> list[PoolConf]:
    """The pools a LuxOS twin has configured, in priority order (no empty slots)."""
    return [p for p in twin.pools if p.url]


def _lux_pool_id(twin: Twin, args: list[str], wall: float) -> tuple[int, Json | None]:
    pools = lux_pools(twin)
    if not args or not args[0].strip():
        return -1, _err(twin, wall, 25, "Missing pool id parameter")
    try:
        pid = int(args[0])
    except ValueError:
        pid = -1
    if not 0 <= pid < len(pools):
        return -1, _err(twin, wall, 26, f"Invalid pool id {args[0][:16]} - range is 0 - {len(pools) - 1}")
    return pid, None


def _lux_pool_command(twin: Twin, cmd: str, args: list[str], now: float, wall: float) -> Json:
    """addpool / removepool / switchpool / addgroup on a LuxOS twin, with cgminer's reply codes.

    LuxOS keeps cgminer's pool commands and adds groups: ``addpool URL,USER,PASS[,GROUP]``
    adds a pool to the named group (the first group when none is named), ``switchpool N``
    gives pool N the top priority, ``removepool N`` refuses the active or the last pool,
    ``addgroup NAME[,QUOTA]`` adds a group.
    """
    pools = lux_pools(twin)
    if cmd == "addgroup":
        name = args[0].strip() if args else ""
        if not name or any(n == name for n, _ in twin.lux_groups):
            return _err(twin, wall, 326, f"Invalid or duplicate group name '{name[:32]}'")
        try:
            quota = float(args[1]) if len(args) > 1 else 1.0
        except ValueError:
            return _err(twin, wall, 326, "Invalid group quota")
        twin.lux_groups.append((name, quota))
        return _ok(twin, wall, 325, f"Added group '{name}'", GROUPS=[{"GROUP": len(twin.lux_groups) - 1}])
    if cmd == "addpool":
        if len(args) < 3 or not _POOL_URL.match(args[0].strip()):
            return _err(twin, wall, 53, "Invalid addpool details")
        if len(pools) >= LUX_MAX_POOLS:
            return _err(twin, wall, 54, f"Reached maximum number of pools ({LUX_MAX_POOLS})")
        group = 0
        if len(args) > 3:
            names = [n for n, _ in twin.lux_groups]
            if args[3] not in names:
                return _err(twin, wall, 53, f"Invalid addpool details: no group '{args[3][:32]}'")
            group = names.index(args[3])
        pools.append(PoolConf(args[0].strip(), args[1], args[2], group))
        twin.pools = pools
        return _ok(twin, wall, 55, f"Added pool {len(pools) - 1}: '{args[0].strip()}'")
    pid, error = _lux_pool_id(twin, args, wall)
    if error is not None:
        return error
    url = pools[pid].url
    if cmd == "switchpool":
        pools.insert(0, pools.pop(pid))
        twin.pools = pools
        return _ok(twin, wall, 27, f"Switching to pool {pid}:'{url}'")
    if len(pools) == 1:
        return _err(twin, wall, 66, f"Cannot remove last pool {pid}:'{url}'")
    if pid == 0 and twin.mining:
        return _err(twin, wall, 67, f"Cannot remove active pool {pid}:'{url}'")
    del pools[pid]
    twin.pools = pools
    return _ok(twin, wall, 68, f"Removed pool {pid}:'{url}'")


def _lux_tempctrl(twin: Twin, now: float, wall: float) -> Json:
    hw = twin.hardware
    ctrl = {"Dangerous": hw.danger_chip_c, "Hot": hw.hot_chip_c, "Mode": "Auto", "Target": hw.target_chip_c}
    return _ok(twin, wall, 200, "Temperature control", TEMPCTRL=[ctrl])


def _lux_profiles(twin: Twin, now: float, wall: float) -> Json:
    return _ok(twin, wall, 323, "List profiles", PROFILES=luxos_profiles(twin))


def _board_arg(twin: Twin, param: str | None) -> int | None:
    try:
        board = int(str(param).split(",")[-1])
    except ValueError:
        return None
    return board if 0 <= board < twin.hardware.boards else None


def _lux_healthchipget(twin: Twin, param: str | None, now: float, wall: float) -> Json:
    board = _board_arg(twin, param)
    if board is None:
        return _err(twin, wall, 315, "Invalid board")
    p, hw = twin.physics, twin.hardware
    freq = int(_freq(twin))
    per_chip_ghs = p.board_hashrate_ths(board) * 1000 / max(1, hw.chips_per_board)
    failing = p.faults.failing_chips.get(board, 0)
    chips = []
    for c in range(p.chips_on_board(board)):
        bad = c >= hw.chips_per_board - failing
        ghs = (
            0.0 if bad else round(per_chip_ghs * (1 + 0.03 * unit_noise(p.seed, 5000 + board * 1000 + c)), 2)
        )
        chips.append(
            {
                "Board": board,
                "Chip": c,
                "Column": c % 7,
                "Domain": c // 7,
                "Frequency": freq,
                "GHS 15m": ghs,
                "GHS 1m": ghs,
                "GHS 5m": ghs,
                "HashCount": int(ghs * 1.7),
                "HashExpected": int(per_chip_ghs * 1.7),
                "HashMin": int(per_chip_ghs * 0.34),
                "Healthy": "N" if bad else "Y",
                "IsChecking": False,
                "Row": c // 7,
                "Score": round(100 * ghs / per_chip_ghs, 2) if per_chip_ghs else 0.0,
                "When": int(wall * 1000),
            }
        )
    return _ok(twin, wall, 314, "Health Chip Get", CHIPS=chips)


def _lux_voltageget(twin: Twin, param: str | None, now: float, wall: float) -> Json:
    board = _board_arg(twin, param)
    if board is None:
        return _err(twin, wall, 308, "Invalid board")
    step = twin.lux_profile_step
    return _ok(
        twin,
        wall,
        307,
        "Get Voltage",
        VOLTAGE=[{"Board": board, "Voltage": round(11.88 + max(0, step + 10) * 0.14, 2)}],
    )


_EVENT_DOC = "https://docs.luxor.tech/firmware/kb/eventstroubleshooting"


def _lux_events(twin: Twin, now: float, wall: float) -> Json:
    """Events for the faults in force (LuxOS keeps a log; the twin reports what is wrong now)."""
    p = twin.physics
    stamp = _dt.datetime.fromtimestamp(int(wall), _dt.UTC).isoformat()
    events: list[Json] = []

    def add(code: str, text: str, board: int | None = None) -> None:
        e: Json = {
            "Code": code,
            "CreatedAt": stamp,
            "Description": text,
            "DocUrl": f"{_EVENT_DOC}#{code.lower()}",
        }
        if board is not None:
            e["ID"] = board
        e["Target"] = "BOARD" if board is not None else "MINER"
        events.append(e)

    if p.faults.failed_fans:
        add("FAN_PROTECTION", "Miner shutdown due to fan failure.")
    if p.stop is StopReason.OVERHEAT:
        add("OVERHEAT_PROTECTION", "Miner shutdown due to overheating.")
    if p.faults.psu_failed:
        add("PSU_PROTECTION", "Miner shutdown due to a power supply failure.")
    for b in sorted(p.faults.dead_boards):
        add("BOARD_NOT_DETECTED", "Board not detected.", b)
    return _ok(twin, wall, 357, "Miner Events", EVENTS=events)


REPORTS: dict[str, Callable[[Twin, float, float], Json]] = {
    "version": _version,
    "summary": _summary,
    "stats": _stats,
    "pools": _pools,
    "devs": _devs,
    "devdetails": _devdetails,
}
LUX_REPORTS: dict[str, Callable[[Twin, float, float], Json]] = {
    **REPORTS,
    "config": _lux_config,
    "fans": _lux_fans,
    "temps": _lux_temps,
    "power": _lux_power,
    "atm": _lux_atm,
    "groups": _lux_groups,
    "tempctrl": _lux_tempctrl,
    "profiles": _lux_profiles,
    "events": _lux_events,
}
LUX_BOARD_REPORTS: dict[str, Callable[[Twin, str | None, float, float], Json]] = {
    "healthchipget": _lux_healthchipget,
    "voltageget": _lux_voltageget,
}


LUX_POOL_COMMANDS = frozenset({"addpool", "removepool", "switchpool", "addgroup"})


def _lux_command(twin: Twin, req: CgminerRequest, now: float, wall: float) -> Json | None:
    """LuxOS session and write commands; None when ``req`` is not one of them."""
    cmd = req.command
    if cmd == "logon":
        if _lux_session_valid(twin, now):
            return _err(twin, wall, 402, "Another session is active")
        twin.lux_session, twin.lux_session_used_s = secrets.token_urlsafe(6)[:8], now
        return _ok(twin, wall, 316, "Session created", SESSION=[{"SessionID": twin.lux_session}])
    if cmd == "session":
        sid = twin.lux_session if _lux_session_valid(twin, now) else ""
        return _ok(twin, wall, 319, "Session", SESSION=[{"SessionID": sid}])
    if cmd in LUX_POOL_COMMANDS:  # no session needed (luxos-tooling api.json: logon_required false)
        return _lux_pool_command(twin, cmd, (req.parameter or "").split(","), now, wall)
    if cmd not in {"logoff", "curtail", "profileset", "atmset", "rebootdevice", "ledset", "resetminer"}:
        return None
    args, error = _lux_write(twin, req, now, wall)
    if error is not None:
        return error
    if cmd == "logoff":
        twin.lux_session = ""
        return _ok(twin, wall, 317, "Session terminated")
    if cmd == "curtail":
        action = args[0] if args else ""
        if action == "sleep":
            twin.curtailed = True
            twin.physics.set_mode(Mode.SLEEP, now)
            return _ok(twin, wall, 335, "Curtailment command sent", CURTAIL=[{"Action": "sleep mode"}])
        if action == "wakeup":
            twin.curtailed = False
            twin.physics.set_mode(Mode.NORMAL, now)
            return _ok(twin, wall, 335, "Curtailment command sent", CURTAIL=[{"Action": "wake up"}])
        return _err(twin, wall, 336, f"Invalid curtail action '{action}'")
    if cmd == "profileset":
        step = _resolve_profile(twin, args[0]) if args else None
        if step is None:
            return _err(twin, wall, 322, "Invalid profile")
        _apply_profile(twin, step, now)
        prof = {
            "Board": 0,
            "FrequencyStep": 5,
            "Profile": luxos_profile_name(twin, step),
            "VoltageStep": 0.05,
        }
        return _ok(twin, wall, 321, "Profile Set", PROFILE=[prof])
    if cmd == "atmset":
        for arg in args:
            key, _, value = arg.partition("=")
            if key.strip() == "enabled":
                twin.lux_atm = value.strip().lower() == "true"
        return _ok(twin, wall, 340, "ATM configuration values set")
    if cmd == "ledset":
        twin.blink = len(args) >= 2 and args[1] in {"blink", "on"}
        return _ok(twin, wall, 341, "LED set")
    if cmd == "resetminer":
        twin.physics.restart_process(now, delay_s=twin.restart_delay_s)
        return _ok(twin, wall, 343, "Miner reset requested")
    twin.reboot(now)  # rebootdevice
    return _ok(twin, wall, 342, "Device reboot requested")


def _one(twin: Twin, req: CgminerRequest, now: float, wall: float) -> Json:
    lux = twin.firmware is Firmware.LUXOS
    reports = LUX_REPORTS if lux else REPORTS
    cmd = req.command
    if cmd in reports:
        return reports[cmd](twin, now, wall)
    if lux and cmd in LUX_BOARD_REPORTS:
        return LUX_BOARD_REPORTS[cmd](twin, req.parameter, now, wall)
    if lux:
        reply = _lux_command(twin, req, now, wall)
        if reply is not None:
            return reply
    if cmd in PRIVILEGED:
        return _err(twin, wall, 45, f"Access denied to '{cmd}' command")
    return _err(twin, wall, 14, "Invalid command")


def handle_cgminer(twin: Twin, req: CgminerRequest, now: float, wall: float) -> bytes:
    """The reply bytes (JSON + NUL) of one request, multi-commands included."""
    twin.advance(now)
    members = split_multi(req.command) if "+" in req.command else ()
    if len(members) > 1:
        reports = LUX_REPORTS if twin.firmware is Firmware.LUXOS else REPORTS
        body: Json = {}
        for m in members:
            if m in reports:
                body[m] = [reports[m](twin, now, wall)]
            else:
                body[m] = [_err(twin, wall, 14 if m not in PRIVILEGED else 45, "Invalid command")]
        body["id"] = 1
        return encode_reply(body)
    return encode_reply(_one(twin, req, now, wall))


def stock_pools_from_conf(conf: list[Any]) -> list[PoolConf] | None:
    """Pools from a ``set_miner_conf.cgi`` body; None when the shape is wrong."""
    out = []
    for item in conf[:3]:
        if not isinstance(item, dict):
            return None
        out.append(PoolConf(str(item.get("url", "")), str(item.get("user", "")), str(item.get("pass", ""))))
    return out
