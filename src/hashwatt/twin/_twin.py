"""One device twin: identity, configuration, firmware state and network faults over the physics.

A twin is an entity, not a value: personalities mutate it as real firmware changes its config.
Everything takes ``now_s`` (monotonic seconds) and ``wall_s`` (unix time) from the caller.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib

from hashwatt.minerapi import V2_DEFAULT_PASSWORD, V3_DEFAULT_PASSWORD
from hashwatt.twin._hardware import Hardware
from hashwatt.twin._physics import Mode, Physics

__all__ = ["DEFAULT_POOL", "Firmware", "NetFault", "PoolConf", "Reply", "Twin"]

DEFAULT_POOL = "stratum+tcp://127.0.0.1:3333"


class Firmware(enum.StrEnum):
    """The firmware personalities a twin can run."""

    STOCK = "stock"
    LUXOS = "luxos"
    WHATSMINER = "whatsminer"  # API 2.x on 4028, firmware dated before 2024-11
    WHATSMINER_V3 = "whatsminer-v3"  # adds API 3.x on 4433

    @property
    def ports(self) -> tuple[str, ...]:
        """The services this firmware listens on ("rpc" 4028, "web" 80, "v3" 4433)."""
        if self is Firmware.WHATSMINER_V3:
            return ("rpc", "v3")
        if self is Firmware.WHATSMINER:
            return ("rpc",)
        return ("rpc", "web")


class NetFault(enum.StrEnum):
    """How the network path to a twin misbehaves."""

    NONE = "none"
    REFUSE = "refuse"  # connections are closed at once (RST-like: accepted then dropped)
    BLACKHOLE = "blackhole"  # accepted, never answered
    GARBAGE = "garbage"  # answers with bytes that are not JSON
    TRUNCATED = "truncated"  # answers with the first half of the reply


@dataclasses.dataclass(slots=True)
class PoolConf:
    """One configured pool."""

    url: str
    user: str
    password: str = "x"
    group: int = 0  # LuxOS pool group (an index of ``Twin.lux_groups``)


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """A personality's answer before the transport applies network faults."""

    data: bytes
    close: bool = True


class Twin:
    """One emulated miner at one loopback address."""

    __slots__ = (
        "blink",
        "curtailed",
        "firmware",
        "hardware",
        "host",
        "hostname",
        "index",
        "led",
        "lux_atm",
        "lux_groups",
        "lux_profile_step",
        "lux_session",
        "lux_session_used_s",
        "mac",
        "net_fault",
        "next_firmware",
        "physics",
        "pools",
        "power_limit_w",
        "reboot_downtime_s",
        "restart_delay_s",
        "serial",
        "slow_s",
        "stratum",
        "v2_password",
        "v2_tokens",
        "v3_password",
        "v3_salt",
        "web_password",
        "web_user",
    )

    def __init__(
        self,
        index: int,
        host: str,
        hardware: Hardware,
        firmware: Firmware,
        *,
        now_s: float,
        seed: int = 0,
        ambient_c: float = 25.0,
        ambient_swing_c: float = 0.0,
        ramp_s: float = 0.0,
        reboot_downtime_s: float = 60.0,
        restart_delay_s: float = 5.0,
        pool_url: str = DEFAULT_POOL,
        pool_user: str = "hashwatt",
    ) -> None:
        self.index = index
        self.host = host
        self.hardware = hardware
        self.firmware = firmware
        self.physics = Physics(
            hardware,
            now_s=now_s,
            seed=seed + index,
            ambient_c=ambient_c,
            ambient_swing_c=ambient_swing_c,
            ramp_s=ramp_s,
        )
        digest = hashlib.sha256(f"{seed}:{index}:{host}".encode()).digest()
        self.mac = ":".join(f"{b:02X}" for b in (0x02, *digest[:5]))
        prefix = "HT" if hardware.vendor == "whatsminer" else "JY"
        self.serial = prefix + digest[5:13].hex().upper()
        self.hostname = "WhatsMiner" if hardware.vendor == "whatsminer" else "Antminer"
        self.pools = [PoolConf(pool_url, f"{pool_user}.{index}"), PoolConf("", ""), PoolConf("", "")]
        self.web_user, self.web_password = "root", "root"
        self.v2_password, self.v3_password = V2_DEFAULT_PASSWORD, V3_DEFAULT_PASSWORD
        self.v3_salt = digest[13:21].hex()[:8]
        self.v2_tokens: list[tuple[float, bytes, str]] = []  # (issued at, aes key, sign)
        self.blink = False
        self.led = "auto"
        self.curtailed = False  # LuxOS curtail sleep, persists across reboots
        self.lux_session = ""
        self.lux_session_used_s = 0.0
        self.lux_profile_step = 0
        self.lux_atm = True
        self.lux_groups: list[tuple[str, float]] = [("Default", 1.0)]  # (name, quota), id = index
        self.power_limit_w = int(hardware.model.power_w * 1.1)
        self.reboot_downtime_s = reboot_downtime_s
        self.restart_delay_s = restart_delay_s
        self.net_fault = NetFault.NONE
        self.slow_s = 0.0
        self.next_firmware: Firmware | None = None
        self.stratum = False  # connect to the pool for real (see hashwatt.twin._stratum)

    # --- shared actions -----------------------------------------------------------------
    def advance(self, now_s: float) -> None:
        """Bring the physics to ``now_s`` and apply what a boot changes."""
        boots = self.physics.boot_count
        self.physics.advance(now_s)
        if self.physics.boot_count != boots:
            self._on_boot()

    def _on_boot(self) -> None:
        if self.next_firmware is not None:
            self.firmware, self.next_firmware = self.next_firmware, None
            self.physics.set_mode(Mode.SLEEP if self.curtailed else Mode.NORMAL, self.physics.now_s)
        self.lux_session = ""
        self.v2_tokens.clear()
        if self.firmware is Firmware.LUXOS and self.curtailed:
            self.physics.mode = Mode.SLEEP

    def reboot(self, now_s: float) -> None:
        self.physics.reboot(now_s, downtime_s=self.reboot_downtime_s)

    def is_up(self, now_s: float) -> bool:
        return self.physics.is_up(now_s)

    def set_pools(self, pools: list[PoolConf], now_s: float) -> None:
        """Replace the pool list (padded to three) and restart the mining process."""
        padded = [*pools[:3], *(PoolConf("", "") for _ in range(3 - min(3, len(pools))))]
        self.pools = padded
        self.physics.restart_process(now_s, delay_s=self.restart_delay_s)

    def active_pool(self) -> int | None:
        """Index of the pool the twin mines on (the first with a URL), None when none is set."""
        for i, p in enumerate(self.pools):
            if p.url:
                return i
        return None

    @property
    def mining(self) -> bool:
        return self.physics.mode is not Mode.SLEEP
