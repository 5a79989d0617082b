"""Site and scenario files (TOML, validated with pydantic), address ranges, and fault injection."""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashwatt._toml import read_toml
from hashwatt.data.hardware import UnknownMinerError
from hashwatt.twin._hardware import hardware_for
from hashwatt.twin._physics import Mode
from hashwatt.twin._twin import DEFAULT_POOL, Firmware, NetFault, Twin
from hashwatt.twin.errors import SiteFileError

__all__ = [
    "EXAMPLE_SCENARIO",
    "EXAMPLE_SITE",
    "Fault",
    "GroupSpec",
    "ScenarioEvent",
    "SiteSpec",
    "apply_fault",
    "build_twins",
    "expand_range",
    "load_scenario",
    "load_site",
]

EXAMPLE_SITE = Path(__file__).with_name("examples") / "site.toml"
EXAMPLE_SCENARIO = Path(__file__).with_name("examples") / "scenario.toml"
#: Largest address range one group may name (a /16 of loopback).
MAX_RANGE = 65536


def expand_range(text: str) -> list[str]:
    """``127.0.1.1-127.0.1.254`` (or one address) -> the addresses in order, loopback only."""
    first, _, last = text.partition("-")
    try:
        lo = ipaddress.IPv4Address(first.strip())
        hi = ipaddress.IPv4Address(last.strip()) if last else lo
    except ValueError as exc:
        raise SiteFileError(f"address range {text!r}: {exc}", field="range", value=text) from exc
    if not (lo.is_loopback and hi.is_loopback):
        raise SiteFileError(
            f"address range {text!r} leaves 127.0.0.0/8: twins bind to loopback only",
            field="range",
            value=text,
        )
    if int(hi) < int(lo):
        raise SiteFileError(f"address range {text!r} ends before it starts", field="range", value=text)
    if int(hi) - int(lo) + 1 > MAX_RANGE:
        raise SiteFileError(
            f"address range {text!r} is larger than {MAX_RANGE} addresses", field="range", value=text
        )
    return [str(ipaddress.IPv4Address(i)) for i in range(int(lo), int(hi) + 1)]


class GroupSpec(BaseModel):
    """One group of identical twins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    firmware: Firmware = Firmware.STOCK
    count: int = Field(1, ge=1, le=MAX_RANGE)
    range: str = "127.0.1.1-127.0.1.254"
    ambient_c: float | None = Field(None, ge=-40, le=60)
    pool: str = DEFAULT_POOL
    user: str = "hashwatt"
    stratum: bool = False  # a real Stratum V1 connection to the pool, shares at a low rate

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        try:
            hardware_for(value)
        except UnknownMinerError as exc:
            raise ValueError(str(exc)) from exc
        return value


class SiteSpec(BaseModel):
    """A whole site: shared settings and its groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    ambient_c: float = Field(25.0, ge=-40, le=60)
    ambient_swing_c: float = Field(0.0, ge=0, le=30)  # daily sine amplitude around ambient_c
    ramp_seconds: float = Field(120.0, ge=0, le=3600)
    reboot_seconds: float = Field(60.0, ge=0, le=3600)
    restart_seconds: float = Field(5.0, ge=0, le=600)
    share_interval_seconds: float = Field(10.0, ge=0.1, le=3600)  # with stratum = true
    group: list[GroupSpec] = Field(min_length=1)


def _validation_message(where: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first["loc"]) or "file"
    return f"{where}: {loc}: {first['msg']}"


def load_site(path: str | Path) -> SiteSpec:
    raw = read_toml(path, what="site file", error=SiteFileError)
    try:
        return SiteSpec.model_validate(raw)
    except ValidationError as exc:
        raise SiteFileError(_validation_message(str(path), exc)) from exc


def build_twins(spec: SiteSpec, *, now_s: float) -> list[Twin]:
    """The twins of a site, addresses taken in order from each group's range."""
    twins: list[Twin] = []
    taken: set[str] = set()
    for g, group in enumerate(spec.group):
        hardware = hardware_for(group.model)
        free = (a for a in expand_range(group.range) if a not in taken)
        for _ in range(group.count):
            host = next(free, None)
            if host is None:
                raise SiteFileError(
                    f"group {g + 1} ({group.model}): range {group.range} has fewer than {group.count} free addresses",
                    field="range",
                    value=group.range,
                )
            taken.add(host)
            twins.append(
                Twin(
                    len(twins),
                    host,
                    hardware,
                    group.firmware,
                    now_s=now_s,
                    seed=spec.seed,
                    ambient_c=group.ambient_c if group.ambient_c is not None else spec.ambient_c,
                    ambient_swing_c=spec.ambient_swing_c,
                    ramp_s=spec.ramp_seconds,
                    reboot_downtime_s=spec.reboot_seconds,
                    restart_delay_s=spec.restart_seconds,
                    pool_url=group.pool,
                    pool_user=group.user,
                )
            )
            twins[-1].stratum = group.stratum
    return twins


class Fault(enum.StrEnum):
    """Faults a scenario or the control API can inject."""

    FAN = "fan"  # value: failed fans (default 1)
    OVERHEAT = "overheat"  # value: ambient rise [degC] (default 40)
    DEAD_BOARD = "dead_board"  # value: board index (default 0)
    FAILING_CHIPS = "failing_chips"  # value: chips failing on board 0 (default 10)
    PSU = "psu"
    REFUSE = "refuse"
    BLACKHOLE = "blackhole"
    SLOW = "slow"  # value: seconds before each reply (default 5)
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    REBOOT = "reboot"
    REBOOT_LOOP = "reboot_loop"  # value: seconds up before each reboot (default 30)
    FIRMWARE_SWAP = "firmware_swap"  # value: firmware name (default luxos), at the next reboot
    PASSWORD = "password"  # value: new web/API password
    SLEEP = "sleep"
    WAKE = "wake"
    CLEAR = "clear"  # clears every fault


def apply_fault(twin: Twin, fault: Fault, value: Any, now_s: float) -> None:
    """Inject ``fault`` into ``twin`` at ``now_s``; each shows through the API as firmware shows it."""
    twin.advance(now_s)
    f = twin.physics.faults
    try:
        if fault is Fault.FAN:
            f.failed_fans = min(twin.hardware.fans, int(value if value is not None else 1))
        elif fault is Fault.OVERHEAT:
            f.ambient_offset_c = float(value if value is not None else 40.0)
        elif fault is Fault.DEAD_BOARD:
            board = int(value if value is not None else 0)
            if not 0 <= board < twin.hardware.boards:
                raise SiteFileError(
                    f"board {board} does not exist (0..{twin.hardware.boards - 1})",
                    field="board",
                    value=board,
                )
            f.dead_boards.add(board)
        elif fault is Fault.FAILING_CHIPS:
            f.failing_chips[0] = min(twin.hardware.chips_per_board, int(value if value is not None else 10))
        elif fault is Fault.PSU:
            f.psu_failed = True
        elif fault is Fault.REFUSE:
            twin.net_fault = NetFault.REFUSE
        elif fault is Fault.BLACKHOLE:
            twin.net_fault = NetFault.BLACKHOLE
        elif fault is Fault.GARBAGE:
            twin.net_fault = NetFault.GARBAGE
        elif fault is Fault.TRUNCATED:
            twin.net_fault = NetFault.TRUNCATED
        elif fault is Fault.SLOW:
            twin.slow_s = min(60.0, float(value if value is not None else 5.0))
        elif fault is Fault.REBOOT:
            twin.reboot(now_s)
        elif fault is Fault.REBOOT_LOOP:
            f.reboot_loop_s = max(1.0, float(value if value is not None else 30.0))
        elif fault is Fault.FIRMWARE_SWAP:
            twin.next_firmware = Firmware(str(value or "luxos"))
        elif fault is Fault.PASSWORD:
            if not value:
                raise SiteFileError("password fault needs a value (the new password)")
            twin.web_password = twin.v2_password = twin.v3_password = str(value)
        elif fault is Fault.SLEEP:
            twin.physics.set_mode(Mode.SLEEP, now_s)
        elif fault is Fault.WAKE:
            twin.physics.set_mode(Mode.NORMAL, now_s)
        else:  # CLEAR
            twin.physics.faults = type(f)()
            twin.net_fault, twin.slow_s = NetFault.NONE, 0.0
    except (TypeError, ValueError) as exc:
        raise SiteFileError(
            f"fault {fault.value}: bad value {value!r}", field=fault.value, value=value
        ) from exc


class ScenarioEvent(BaseModel):
    """One fault at one time on a range of twins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at_s: float = Field(ge=0)
    hosts: str
    fault: Fault
    value: str | float | int | None = None


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event: list[ScenarioEvent] = Field(default_factory=list)


def load_scenario(path: str | Path) -> list[ScenarioEvent]:
    raw = read_toml(path, what="scenario file", error=SiteFileError)
    try:
        events = Scenario.model_validate(raw).event
    except ValidationError as exc:
        raise SiteFileError(_validation_message(str(path), exc)) from exc
    for e in events:
        expand_range(e.hosts)
    return sorted(events, key=lambda e: e.at_s)


def due_events(events: list[ScenarioEvent], done: int, now_s: float) -> Iterator[ScenarioEvent]:
    """Events from index ``done`` whose time has come (the runner counts what it consumed)."""
    for e in events[done:]:
        if e.at_s > now_s:
            return
        yield e
