"""Every captured firmware reply: the twin's reply to the same command has the same keys,
value types and STATUS codes (captures: shared/data/fleet/asic-rs, Apache-2.0)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from hashwatt.minerapi import decode_reply, parse_request
from hashwatt.twin import Fault, Firmware, Twin, apply_fault, hardware_for
from hashwatt.twin._cgminer import handle_cgminer
from hashwatt.twin._web import HttpRequest, handle_http, make_nonce
from hashwatt.twin._whatsminer import handle_v2, handle_v3

from ._site import CAPTURES, digest_header

# (capture folder, firmware, model, faulted?) and the command each file answers
FOLDERS = {
    "antminer/v2020": (Firmware.STOCK, "S19 Pro"),
    "luxminer/v1": (Firmware.LUXOS, "S19j Pro"),
    "whatsminer/v1": (Firmware.WHATSMINER, "M30S+ (100T)"),
    "whatsminer/v2": (Firmware.WHATSMINER, "M30S+ (100T)"),
    "whatsminer/v3": (Firmware.WHATSMINER_V3, "M60S"),
}
#: Captures of a firmware generation the twins do not emulate, with the reason.
NOT_EMULATED = {
    "whatsminer/v1/status.json": "API 1.x status (btmineroff); the twin speaks API 2.x (mineroff)",
}
COMMANDS = {
    "system_info": ("web", "/cgi-bin/get_system_info.cgi", None),
    "get_device_info": ("v3", "get.device.info", None),
    "get_device_info_with_errors": ("v3", "get.device.info", None),
    "get_miner_status_summary": ("v3", "get.miner.status", "summary"),
    "get_miner_status_pools": ("v3", "get.miner.status", "pools"),
    "get_miner_status_edevs": ("v3", "get.miner.status", "edevs"),
}


def _captures() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (CAPTURES / folder).glob("*.json"))


def _twin(folder: str, faulted: bool) -> Twin:
    firmware, model = FOLDERS[folder]
    now = 0.0
    twin = Twin(0, "127.0.0.9", hardware_for(model), firmware, now_s=now, seed=1)
    twin.advance(600.0)
    if faulted:
        apply_fault(twin, Fault.FAN, 1, 600.0)
        apply_fault(twin, Fault.DEAD_BOARD, 2, 600.0)
    return twin


def _ask(twin: Twin, path: Path) -> dict[str, Any]:
    stem = path.stem
    faulted_stem = stem.removesuffix("_with_errors")
    now, wall = 601.0, time.time()
    kind, cmd, param = COMMANDS.get(stem, ("rpc", faulted_stem, None))
    if kind == "web":
        auth = digest_header("root", "root", "GET", cmd, make_nonce(wall))
        resp = handle_http(twin, HttpRequest("GET", cmd, {"authorization": auth}, b""), now, wall)
        assert resp.status == 200
        return json.loads(resp.body)
    if kind == "v3":
        frame = handle_v3(twin, {"cmd": cmd, "param": param}, now, wall)
        return json.loads(frame[4:])
    if stem.startswith(("healthchipget", "voltageget")):
        cmd, param = stem.split("_")[0], stem.split("_")[1]
    body = {"command": cmd} if param is None else {"command": cmd, "parameter": param}
    req = parse_request(json.dumps(body).encode())
    assert req is not None
    handler = handle_cgminer if twin.firmware in (Firmware.STOCK, Firmware.LUXOS) else handle_v2
    return decode_reply(handler(twin, req, now, wall))


def _shape_diff(captured: Any, ours: Any, where: str, out: list[str]) -> None:
    if isinstance(captured, dict):
        if not isinstance(ours, dict):
            out.append(f"{where}: object expected, got {type(ours).__name__}")
            return
        for key, value in captured.items():
            if key == "When" and where.endswith("CHIPS[0]"):
                continue
            if key.isdigit():  # an error code as the key: any code will do
                if not any(k.isdigit() for k in ours):
                    out.append(f"{where}: no error-code key")
                continue
            if key not in ours:
                out.append(f"{where}.{key}: missing")
            else:
                _shape_diff(value, ours[key], f"{where}.{key}", out)
    elif isinstance(captured, list):
        if not isinstance(ours, list):
            out.append(f"{where}: list expected, got {type(ours).__name__}")
        elif captured and ours:
            _shape_diff(captured[0], ours[0], f"{where}[0]", out)
        elif captured and not ours:
            out.append(f"{where}: empty list, capture has items")
    elif type(captured) is not type(ours) and not (captured is None or ours is None):
        out.append(f"{where}: {type(captured).__name__} expected, got {type(ours).__name__} ({ours!r})")


def _status_codes(reply: dict[str, Any]) -> Any:
    status = reply.get("STATUS")
    if isinstance(status, list):
        return [(s.get("STATUS"), s.get("Code")) for s in status]
    if isinstance(status, str):
        return (status, reply.get("Code"))
    return reply.get("code")


def test_every_capture_is_walked() -> None:
    assert len(_captures()) == 44  # every capture of the three firmwares (avalon, epic are not emulated)


@pytest.mark.parametrize(
    "path", _captures(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}"
)
def test_twin_reply_has_the_captured_shape(path: Path) -> None:
    rel = str(path.relative_to(CAPTURES))
    if rel in NOT_EMULATED:
        pytest.skip(NOT_EMULATED[rel])
    folder = str(path.parent.relative_to(CAPTURES))
    captured = json.loads(path.read_text())
    twin = _twin(folder, faulted="with_errors" in path.stem or path.stem == "events")
    ours = _ask(twin, path)
    diffs: list[str] = []
    _shape_diff(captured, ours, path.stem, diffs)
    assert not diffs, "\n".join(diffs)
    assert _status_codes(ours) == _status_codes(captured)
