"""Value types shared by the device adapters, the poller, the store and the alert rules.

A reading is what one poll saw; every field the firmware does not report is ``None`` (never 0),
and power says whether it was measured or estimated from the catalog model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "BoardReading",
    "DeviceIdentity",
    "DeviceState",
    "Endpoint",
    "Firmware",
    "PollOutcome",
    "PollResult",
    "PoolReading",
    "Telemetry",
]


class Firmware(enum.StrEnum):
    """The firmware personalities hashwatt speaks itself."""

    STOCK = "stock"  # Antminer bmminer: cgminer API on 4028 + Digest-protected CGI on 80
    LUXOS = "luxos"  # LuxOS: cgminer API on 4028 with sessions, curtail, profiles, power
    WHATSMINER = "whatsminer"  # Whatsminer API 2.x on 4028 (token + AES envelope for writes)
    WHATSMINER_V3 = "whatsminer-v3"  # Whatsminer API 3.x on 4433 (length-prefixed frames)


class DeviceState(enum.StrEnum):
    MINING = "mining"
    SLEEPING = "sleeping"
    REBOOTING = "rebooting"
    IDLE = "idle"  # answers, but hashes nothing and is not asleep (e.g. no pool)
    UNREACHABLE = "unreachable"


class PollOutcome(enum.StrEnum):
    """How one poll ended; anything but OK is recorded as such, with no values."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    BAD_REPLY = "bad_reply"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a device answers. Ports are explicit: remote sites reach miners through port
    forwards, and unprivileged demo twins run on offset ports."""

    host: str
    api_port: int = 4028
    http_port: int = 80
    v3_port: int = 4433

    @property
    def address(self) -> str:
        return f"{self.host}:{self.api_port}"


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The slow-changing facts, read at discovery (and again when a swap is suspected)."""

    make: str  # "Antminer", "Whatsminer"
    model: str  # as the firmware names it, e.g. "Antminer S19 Pro"
    firmware: Firmware
    firmware_version: str
    serial: str | None
    mac: str | None
    hostname: str | None = None
    catalog_model: str | None = None  # the hashwatt catalog name it maps to, if any


@dataclass(frozen=True, slots=True)
class BoardReading:
    index: int
    hashrate_ths: float | None
    expected_hashrate_ths: float | None
    chips: int | None
    chips_expected: int | None
    temp_chip_c: float | None
    temp_board_c: float | None


@dataclass(frozen=True, slots=True)
class PoolReading:
    index: int
    url: str  # redacted: no credentials
    user: str
    status: str  # "alive", "dead", "disabled"
    active: bool
    accepted: int | None
    rejected: int | None
    stale: int | None


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One successful reading of one device."""

    time_utc: datetime
    state: DeviceState
    hashrate_ths: float | None
    expected_hashrate_ths: float | None
    power_w: float | None
    power_estimated: bool
    temp_chip_max_c: float | None
    temp_board_max_c: float | None
    temp_inlet_c: float | None
    fans_rpm: tuple[int, ...]
    boards: tuple[BoardReading, ...]
    pools: tuple[PoolReading, ...]
    accepted: int | None
    rejected: int | None
    stale: int | None
    hardware_errors: int | None
    uptime_s: int | None
    error_codes: tuple[str, ...] = ()  # firmware error/status codes, as reported
    power_target_w: float | None = None
    profile: str | None = None

    @property
    def fans_min_rpm(self) -> int:
        """The slowest fan [rpm]; 0 when no fan reports (a missing fan is a stopped one)."""
        return min(self.fans_rpm) if self.fans_rpm else 0

    @property
    def fans_count(self) -> int:
        return len(self.fans_rpm)

    @property
    def boards_hashing(self) -> int:
        """Hashboards with a nonzero hashrate."""
        return sum(1 for b in self.boards if b.hashrate_ths)

    @property
    def pools_alive(self) -> int:
        return sum(1 for p in self.pools if p.status == "alive")


@dataclass(frozen=True, slots=True)
class PollResult:
    """What the poller hands to the store: an outcome, and a reading only when it is OK."""

    endpoint: Endpoint
    time_utc: datetime
    outcome: PollOutcome
    telemetry: Telemetry | None
    latency_ms: float
    error: str = ""  # one line, no secrets
    identity: DeviceIdentity | None = field(default=None)
