"""Antminer stock web interface (HTTP :80, Digest auth) and the LuxOS landing page.

Sans-IO: a request (method, path, headers, body) in, a response (status, headers, body) out.
The transport in ``_server`` parses HTTP with h11 and bounds every read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from hashwatt.twin._cgminer import stock_pools_from_conf
from hashwatt.twin._physics import Mode, StopReason
from hashwatt.twin._twin import Firmware, Twin

__all__ = ["REALM", "HttpRequest", "HttpResponse", "handle_http"]

REALM = "antMiner Configuration"
#: A Digest nonce is honoured this long after it was issued [s].
NONCE_LIFETIME_S = 600.0
_SECRET = secrets.token_bytes(16)
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')

NOT_FOUND_HTML = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
LUXOS_HTML = b"<!doctype html><html><head><title>Luxor Firmware</title></head><body>LuxOS</body></html>"
INDEX_HTML = b"<html><head><title>Antminer</title></head><body>Antminer</body></html>"


@dataclasses.dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json(obj: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(obj).encode())


def _html(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "text/html")], body)


def make_nonce(wall: float) -> str:
    stamp = f"{int(wall):x}"
    return stamp + hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:24]


def _nonce_ok(nonce: str, wall: float) -> bool:
    stamp, sig = nonce[:-24], nonce[-24:]
    try:
        issued = int(stamp, 16)
    except ValueError:
        return False
    good = hmac.new(_SECRET, stamp.encode(), hashlib.sha256).hexdigest()[:24]
    return hmac.compare_digest(good, sig) and 0 <= wall - issued <= NONCE_LIFETIME_S


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_ok(twin: Twin, req: HttpRequest, wall: float) -> bool:
    """RFC 7616 Digest (MD5, qop=auth or none) against the twin's web credentials."""
    header = req.headers.get("authorization", "")
    if header[:7].lower() != "digest ":
        return False
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _AUTH_PARAM.finditer(header[7:])
    }
    need = ("username", "realm", "nonce", "uri", "response")
    if any(k not in params for k in need) or params["realm"] != REALM or not _nonce_ok(params["nonce"], wall):
        return False
    if not hmac.compare_digest(params["username"], twin.web_user):
        return False
    ha1 = _md5(f"{twin.web_user}:{REALM}:{twin.web_password}")
    ha2 = _md5(f"{req.method}:{params['uri']}")
    if params.get("qop"):
        expect = _md5(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:{params['qop']}:{ha2}"
        )
    else:
        expect = _md5(f"{ha1}:{params['nonce']}:{ha2}")
    return hmac.compare_digest(expect, params["response"].lower())


def _challenge(wall: float) -> HttpResponse:
    value = f'Digest realm="{REALM}", nonce="{make_nonce(wall)}", algorithm=MD5, qop="auth"'
    return HttpResponse(
        401,
        [("WWW-Authenticate", value), ("Content-Type", "text/html")],
        b"<html><body><h1>401 Unauthorized</h1></body></html>",
    )


def _head(twin: Twin, wall: float, msg: str) -> dict[str, Any]:
    return {
        "STATUS": {"STATUS": "S", "when": int(wall), "Msg": msg, "api_version": "1.0.0"},
        "INFO": {
            "miner_version": "49.0.1.3",
            "CompileTime": "Tue Dec  6 16:12:30 CST 2022",
            "type": twin.hardware.type_name,
        },
    }


def _status_items(twin: Twin) -> list[dict[str, Any]]:
    p = twin.physics
    rate_bad = (
        p.mode is not Mode.SLEEP
        and p.hashrate_ths < 0.5 * p.ideal_hashrate_ths
        and p.process_elapsed_s(p.now_s) > 600
    )
    return [
        {
            "type": "rate",
            "status": "w" if rate_bad else "s",
            "code": 0,
            "msg": "hashrate low" if rate_bad else "",
        },
        {"type": "network", "status": "s", "code": 0, "msg": ""},
        {
            "type": "fans",
            "status": "e" if p.faults.failed_fans else "s",
            "code": 0,
            "msg": "Fan lost!" if p.faults.failed_fans else "",
        },
        {
            "type": "temp",
            "status": "e" if p.stop is StopReason.OVERHEAT else "s",
            "code": 0,
            "msg": "Temperature too high!" if p.stop is StopReason.OVERHEAT else "",
        },
    ]


def _stats_cgi(twin: Twin, wall: float) -> dict[str, Any]:
    p, hw = twin.physics, twin.hardware
    ghs = round(p.hashrate_ths * 1000, 2)
    chains = []
    for b in p.alive_boards():
        chip = round(p.board_chip_c(b))
        pcb = round(p.board_pcb_c(b))
        chains.append(
            {
                "index": b,
                "freq_avg": int(hw.nominal_freq_mhz * p.op_scale()) if twin.mining else 0,
                "rate_ideal": round(p.ideal_hashrate_ths * 1000 / hw.boards, 2),
                "rate_real": round(p.board_hashrate_ths(b) * 1000, 2),
                "asic_num": p.chips_on_board(b),
                "asic": "o" * (hw.chips_per_board - p.faults.failing_chips.get(b, 0))
                + "x" * p.faults.failing_chips.get(b, 0),
                "temp_pic": [pcb - 10, pcb - 30, pcb - 19, pcb - 18],
                "temp_pcb": [pcb, pcb - 20, pcb - 9, pcb - 8],
                "temp_chip": [chip, chip - 20, chip - 9, chip - 8],
                "hw": p.hw_errors[b],
                "eeprom_loaded": True,
                "sn": f"{twin.serial}B{b}",
                "hwp": 0.0,
                "tpl": [],
            }
        )
    stats = (
        []
        if p.mode is Mode.SLEEP
        else [
            {
                "elapsed": p.process_elapsed_s(p.now_s),
                "rate_5s": ghs,
                "rate_avg": ghs,
                "rate_30m": ghs,
                "rate_ideal": round(p.ideal_hashrate_ths * 1000, 2),
                "rate_unit": "GH/s",
                "chain_num": len(chains),
                "fan_num": hw.fans,
                "fan": p.fan_rpms(),
                "hwp_total": 0.0,
                "chain": chains,
            }
        ]
    )
    return {**_head(twin, wall, "stats"), "STATS": stats}


def _miner_conf(twin: Twin) -> dict[str, Any]:
    mode = {Mode.NORMAL: "0", Mode.SLEEP: "1", Mode.LOW: "3"}[twin.physics.mode]
    return {
        "pools": [{"url": p.url, "user": p.user, "pass": p.password} for p in twin.pools],
        "api-listen": True,
        "api-network": True,
        "api-groups": "A:stats:pools:devs:summary:version",
        "api-allow": "A:0/0,W:*",
        "bitmain-fan-ctrl": False,
        "bitmain-fan-pwm": "100",
        "bitmain-use-vil": True,
        "bitmain-freq": str(twin.hardware.nominal_freq_mhz),
        "bitmain-voltage": "1400",
        "bitmain-ccdelay": "0",
        "bitmain-pwth": "0",
        "bitmain-work-mode": mode,
        "bitmain-freq-level": "100",
    }


def _body_json(req: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(req.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _set_miner_conf(twin: Twin, req: HttpRequest, now: float) -> HttpResponse:
    body = _body_json(req)
    if body is None:
        return _json({"stats": "error", "code": "M001", "msg": "Invalid JSON"})
    restart = False
    if "pools" in body:
        pools = stock_pools_from_conf(body["pools"]) if isinstance(body["pools"], list) else None
        if pools is None:
            return _json({"stats": "error", "code": "M001", "msg": "Invalid pools"})
        if [(p.url, p.user, p.password) for p in pools] != [
            (p.url, p.user, p.password) for p in twin.pools[: len(pools)]
        ]:
            twin.pools = [*pools, *twin.pools[len(pools) :]][:3]
            restart = True
    mode_raw = body.get("miner-mode", body.get("bitmain-work-mode"))
    if mode_raw is not None:
        modes = {"0": Mode.NORMAL, "1": Mode.SLEEP, "3": Mode.LOW, "2": Mode.NORMAL}
        mode = modes.get(str(mode_raw))
        if mode is None:
            return _json({"stats": "error", "code": "M001", "msg": "Invalid miner-mode"})
        if mode is not twin.physics.mode:
            twin.physics.set_mode(mode, now)
            restart = True
    if restart:  # bmminer restarts to apply pools or mode
        twin.physics.restart_process(now, delay_s=twin.restart_delay_s)
    return _json({"stats": "success", "code": "M000", "msg": "OK!"})


def handle_http(twin: Twin, req: HttpRequest, now: float, wall: float) -> HttpResponse:
    """One HTTP request to the twin's web interface."""
    twin.advance(now)
    if twin.firmware is Firmware.LUXOS:
        return _html(LUXOS_HTML) if req.path in ("/", "/index.html") else _html(NOT_FOUND_HTML, 404)
    if not digest_ok(twin, req, wall):
        return _challenge(wall)
    path = req.path.split("?", 1)[0]
    p = twin.physics
    if path in ("/", "/index.html"):
        return _html(INDEX_HTML)
    if path == "/cgi-bin/get_system_info.cgi":
        return _json(
            {
                "minertype": twin.hardware.type_name,
                "nettype": "DHCP",
                "netdevice": "eth0",
                "macaddr": twin.mac,
                "hostname": twin.hostname,
                "ipaddress": twin.host,
                "netmask": "255.0.0.0",
                "gateway": "127.0.0.1",
                "dnsservers": "",
                "system_mode": "GNU/Linux",
                "system_kernel_version": "Linux 4.9.113 #1 SMP PREEMPT",
                "system_filesystem_version": "Tue Dec  6 16:12:30 CST 2022",
                "firmware_type": "Release",
                "serinum": twin.serial,
            }
        )
    if path == "/cgi-bin/get_network_info.cgi":
        return _json(
            {
                "nettype": "DHCP",
                "netdevice": "eth0",
                "macaddr": twin.mac,
                "ipaddress": twin.host,
                "netmask": "255.0.0.0",
                "conf_nettype": "DHCP",
                "conf_hostname": twin.hostname,
                "conf_ipaddress": "",
                "conf_netmask": "",
                "conf_gateway": "",
                "conf_dnsservers": "",
            }
        )
    if path == "/cgi-bin/summary.cgi":
        ghs = round(p.hashrate_ths * 1000, 2)
        s = {
            "elapsed": p.process_elapsed_s(now),
            "rate_5s": round(p.reported_hashrate_ths(now) * 1000, 2),
            "rate_30m": ghs,
            "rate_avg": ghs,
            "rate_ideal": round(p.ideal_hashrate_ths * 1000, 2),
            "rate_unit": "GH/s",
            "hw_all": sum(p.hw_errors),
            "bestshare": int(p.share_difficulty * 37),
            "status": _status_items(twin),
        }
        return _json({**_head(twin, wall, "summary"), "SUMMARY": [s]})
    if path == "/cgi-bin/stats.cgi":
        return _json(_stats_cgi(twin, wall))
    if path == "/cgi-bin/pools.cgi":
        active = twin.active_pool() if twin.mining else None
        pools = [
            {
                "index": i,
                "url": pl.url,
                "user": pl.user,
                "status": "Alive" if i == active else "Dead",
                "priority": i,
                "getworks": 0,
                "accepted": p.accepted if i == active else 0,
                "rejected": p.rejected if i == active else 0,
                "discarded": 0,
                "stale": p.stale if i == active else 0,
                "diff": "524K" if i == active else "",
                "diff1": 0,
                "diffa": 0,
                "diffr": 0,
                "diffs": 0,
                "lsdiff": 0,
                "lstime": "0",
            }
            for i, pl in enumerate(twin.pools)
        ]
        return _json({**_head(twin, wall, "pools"), "POOLS": pools})
    if path == "/cgi-bin/get_miner_conf.cgi":
        return _json(_miner_conf(twin))
    if path == "/cgi-bin/set_miner_conf.cgi" and req.method == "POST":
        return _set_miner_conf(twin, req, now)
    if path == "/cgi-bin/get_blink_status.cgi":
        return _json({"blink": twin.blink})
    if path == "/cgi-bin/blink.cgi" and req.method == "POST":
        body = _body_json(req) or {}
        twin.blink = str(body.get("blink", "false")).lower() == "true"
        return _json({"code": "B000" if twin.blink else "B100"})
    if path == "/cgi-bin/reboot.cgi":
        twin.reboot(now)
        # a non-empty JSON object: pyasic wants a truthy reply, asic-rs parses the body as JSON
        return _json({"stats": "success", "msg": "rebooting"})
    if path == "/cgi-bin/passwd.cgi" and req.method == "POST":
        body = _body_json(req) or {}
        if body.get("curPwd") != twin.web_password:
            return _json({"code": "P001", "msg": "current password wrong"})
        new = body.get("newPwd")
        if not isinstance(new, str) or not new or new != body.get("confirmPwd"):
            return _json({"code": "P002", "msg": "new passwords do not match"})
        twin.web_password = new
        return _json({"code": "P000"})
    if path == "/cgi-bin/miner_type.cgi":
        return _json({"miner_type": twin.hardware.type_name, "subtype": "", "fw_version": "49.0.1.3"})
    return _html(NOT_FOUND_HTML, 404)
