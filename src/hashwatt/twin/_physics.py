"""The physical model of one miner: operating point, ramp, heat, fans, errors, shares.

Deterministic: nothing reads a clock or a global random source. Time is passed in (seconds
on any monotonic scale), per-twin variation comes from ``seed``. State advances lazily in
steps of at most :data:`MAX_STEP_S`, so a site of thousands of twins costs nothing between
polls. The formulas are module functions; :class:`Physics` holds state and delegates.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from hashwatt.chain import HASHES_PER_DIFFICULTY
from hashwatt.twin._hardware import Hardware

__all__ = [
    "MAX_STEP_S",
    "POWER_EXPONENT",
    "Faults",
    "Mode",
    "Physics",
    "StopReason",
    "ambient_c_at",
    "fan_fraction_for",
    "hw_error_rate_per_chip_s",
    "power_at_scale_w",
    "scale_for_power_w",
    "steady_chip_temp_c",
    "unit_noise",
]

#: Power grows as frequency**1.8 at the voltage the firmware picks for that frequency:
#: efficiency [J/TH] then scales as frequency**0.8, worse overclocked and better underclocked.
POWER_EXPONENT = 1.8
#: Operating range as a fraction of nominal frequency (the published under/overclock range).
MIN_SCALE, MAX_SCALE = 0.35, 1.35
#: Longest integration step [s]; temperatures use the exact exponential within a step.
MAX_STEP_S = 5.0
#: First-order thermal time constant of a hashboard [s].
THERMAL_TAU_S = 90.0
#: Chip temperature rise over ambient at nominal power with fans at 70 % [degC].
_RISE_AT_70_PCT_C = 45.0
_FAN_EXPONENT = 0.8
_MIN_FAN = 0.25
#: Control board, PSU losses and fans when not hashing [W].
IDLE_POWER_W = 15.0
#: Hardware errors per chip per second at 70 degC, doubling every 5 degC
#: (a stock S19 Pro capture: 562 errors in 50 474 s over 342 chips at ~70 degC).
HW_ERRORS_AT_70C_PER_CHIP_S = 3.3e-5
#: Extra hardware errors per failing chip per second.
FAILING_CHIP_ERRORS_PER_S = 0.5
#: Share outcome fractions (a healthy pool connection).
REJECT_FRACTION, STALE_FRACTION = 0.003, 0.0005


class Mode(enum.StrEnum):
    """What the operator asked for."""

    NORMAL = "normal"
    LOW = "low"  # stock miner-mode 3, roughly 75 % frequency
    SLEEP = "sleep"  # stock miner-mode 1, LuxOS curtail sleep, Whatsminer power_off


class StopReason(enum.StrEnum):
    """Why the firmware stopped hashing on its own."""

    NONE = ""
    FAN = "fan"
    OVERHEAT = "overheat"
    PSU = "psu"


@dataclasses.dataclass(slots=True)
class Faults:
    """Hardware faults currently injected (mutable: the scenario runner sets them)."""

    failed_fans: int = 0
    dead_boards: set[int] = dataclasses.field(default_factory=set)
    failing_chips: dict[int, int] = dataclasses.field(default_factory=dict)  # board -> chips
    psu_failed: bool = False
    ambient_offset_c: float = 0.0
    reboot_loop_s: float | None = None  # reboot this long after every boot


def power_at_scale_w(nominal_power_w: float, scale: float) -> float:
    """Hashing power at a frequency ``scale`` of nominal: P = P_nom * scale**1.8 [W]."""
    return nominal_power_w * math.pow(max(scale, 0.0), POWER_EXPONENT)


def scale_for_power_w(nominal_power_w: float, target_w: float) -> float:
    """The frequency scale whose power is ``target_w`` [W], clamped to the operating range."""
    raw = math.pow(max(target_w, 1.0) / nominal_power_w, 1.0 / POWER_EXPONENT)
    return min(MAX_SCALE, max(MIN_SCALE, raw))


def _r0_c_per_w(nominal_power_w: float) -> float:
    # R(fan) = R0 / fan**0.8, calibrated so nominal power at 70 % fan sits 45 degC over ambient
    return _RISE_AT_70_PCT_C * math.pow(0.7, _FAN_EXPONENT) / nominal_power_w


def steady_chip_temp_c(ambient_c: float, power_w: float, airflow: float, nominal_power_w: float) -> float:
    """Steady chip temperature: T = T_amb + P * R0 / airflow**0.8 [degC]."""
    return ambient_c + power_w * _r0_c_per_w(nominal_power_w) / math.pow(max(airflow, 0.05), _FAN_EXPONENT)


def fan_fraction_for(ambient_c: float, power_w: float, target_c: float, nominal_power_w: float) -> float:
    """The fan duty the controller picks to hold ``target_c`` at ``power_w``, within [0.25, 1]."""
    headroom = target_c - ambient_c
    if headroom <= 0:
        return 1.0
    need = math.pow(power_w * _r0_c_per_w(nominal_power_w) / headroom, 1.0 / _FAN_EXPONENT)
    return min(1.0, max(_MIN_FAN, need))


def hw_error_rate_per_chip_s(chip_c: float) -> float:
    """Hardware errors per chip per second, doubling every 5 degC above 70 [1/s]."""
    return HW_ERRORS_AT_70C_PER_CHIP_S * math.pow(2.0, (chip_c - 70.0) / 5.0)


def ambient_c_at(mean_c: float, swing_c: float, t_s: float) -> float:
    """Daily intake profile: ``mean_c`` plus a sine of amplitude ``swing_c`` with a 24 h period,
    coolest 6 h before and warmest 6 h after the site's start [degC]."""
    return mean_c + swing_c * math.sin(2.0 * math.pi * t_s / 86400.0)


def unit_noise(seed: int, k: int) -> float:
    """A reproducible value in [-1, 1) from (seed, k) (splitmix64), with no state."""
    z = (seed * 0x9E3779B97F4A7C15 + k * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return (z / 2.0**63) - 1.0


class Physics:
    """One machine's physical state, advanced on demand with :meth:`advance`."""

    __slots__ = (
        "_carry",
        "_hw_carry",
        "accepted",
        "ambient_c",
        "ambient_swing_c",
        "boot_at_s",
        "boot_count",
        "chip_c",
        "down_until_s",
        "fan_fraction",
        "faults",
        "hardware",
        "hashrate_ths",
        "hw_errors",
        "low_scale",
        "mode",
        "now_s",
        "power_w",
        "process_start_s",
        "ramp_s",
        "rejected",
        "scale",
        "seed",
        "share_difficulty",
        "stale",
        "stop",
    )

    def __init__(
        self,
        hardware: Hardware,
        *,
        now_s: float,
        seed: int = 0,
        ambient_c: float = 25.0,
        ambient_swing_c: float = 0.0,
        ramp_s: float = 0.0,
        share_difficulty: float = 524288.0,
    ) -> None:
        self.hardware = hardware
        self.seed = seed
        self.ambient_c = ambient_c
        self.ambient_swing_c = ambient_swing_c
        self.ramp_s = ramp_s
        self.share_difficulty = share_difficulty
        self.faults = Faults()
        self.mode = Mode.NORMAL
        self.scale = 1.0
        self.low_scale = 0.75
        self.stop = StopReason.NONE
        self.now_s = now_s
        self.boot_at_s = now_s
        self.process_start_s = now_s
        self.boot_count = 1
        self.down_until_s = -math.inf
        self.chip_c = ambient_c + 0.0
        self.fan_fraction = _MIN_FAN
        self.hashrate_ths = 0.0
        self.power_w = IDLE_POWER_W
        self.hw_errors = [0] * hardware.boards
        self._hw_carry = [0.0] * hardware.boards
        self.accepted = self.rejected = self.stale = 0
        self._carry = 0.0

    # --- operator actions -------------------------------------------------------------
    def set_mode(self, mode: Mode, now_s: float) -> None:
        """Normal, low or sleep; waking restarts the ramp."""
        self.advance(now_s)
        if self.mode is Mode.SLEEP and mode is not Mode.SLEEP:
            self.process_start_s = now_s
        self.mode = mode

    def set_scale(self, scale: float, now_s: float) -> None:
        """Run at a frequency ``scale`` of nominal (clamped to the operating range)."""
        self.advance(now_s)
        self.scale = min(MAX_SCALE, max(MIN_SCALE, scale))

    def set_power_target(self, target_w: float, now_s: float) -> None:
        """Pick the frequency whose hashing power is ``target_w`` [W]."""
        self.set_scale(scale_for_power_w(self.hardware.model.power_w, target_w), now_s)

    def restart_process(self, now_s: float, *, delay_s: float) -> None:
        """The mining process restarts: no hashing for ``delay_s`` [s], then a fresh ramp."""
        self.advance(now_s)
        self.process_start_s = now_s + delay_s
        self.accepted = self.rejected = self.stale = 0
        if self.stop is not StopReason.PSU:
            self.stop = StopReason.NONE

    def reboot(self, now_s: float, *, downtime_s: float) -> None:
        """Power-cycle the control board: unreachable for ``downtime_s`` [s]."""
        self.advance(now_s)
        self.down_until_s = max(now_s, self.now_s) + downtime_s
        self._go_down()

    def _go_down(self) -> None:
        self.hashrate_ths = 0.0
        self.power_w = 0.0

    def is_up(self, now_s: float) -> bool:
        """Whether the control board answers at ``now_s`` (not rebooting)."""
        return now_s >= self.down_until_s

    # --- observables -------------------------------------------------------------------
    def uptime_s(self, now_s: float) -> int:
        return max(0, int(now_s - self.boot_at_s))

    def process_elapsed_s(self, now_s: float) -> int:
        return max(0, int(now_s - max(self.process_start_s, self.boot_at_s)))

    @property
    def ideal_hashrate_ths(self) -> float:
        """What the firmware expects at the current operating point [TH/s]."""
        if self.mode is Mode.SLEEP:
            return 0.0
        return self.hardware.model.hashrate_ths * self.op_scale()

    def alive_boards(self) -> list[int]:
        return [b for b in range(self.hardware.boards) if b not in self.faults.dead_boards]

    def chips_on_board(self, board: int) -> int:
        """Chips the board's chain detects (failing chips are still detected)."""
        return 0 if board in self.faults.dead_boards else self.hardware.chips_per_board

    def board_hashrate_ths(self, board: int) -> float:
        if board in self.faults.dead_boards:
            return 0.0
        per = self.hashrate_ths / max(1e-9, self._live_fraction() * self.hardware.boards)
        good = self.hardware.chips_per_board - self.faults.failing_chips.get(board, 0)
        offset = 1.0 + 0.02 * unit_noise(self.seed, 1000 + board)
        return max(0.0, per * good / self.hardware.chips_per_board * offset)

    def board_chip_c(self, board: int) -> float:
        """Hottest chip of a board [degC]; boards differ by a seeded offset."""
        if board in self.faults.dead_boards:
            return 0.0
        return self.chip_c + 2.5 * unit_noise(self.seed, 2000 + board)

    def board_pcb_c(self, board: int) -> float:
        if board in self.faults.dead_boards:
            return 0.0
        amb = self.intake_c()
        return amb + 0.85 * (self.board_chip_c(board) - amb)

    def fan_rpms(self) -> list[int]:
        """Case fan speeds; failed fans read 0 rpm."""
        rpm = int(self.fan_fraction * self.hardware.max_fan_rpm)
        out = []
        for i in range(self.hardware.fans):
            if i < self.faults.failed_fans:
                out.append(0)
            else:
                out.append(max(0, rpm + int(60 * unit_noise(self.seed, 3000 + i))) // 10 * 10)
        return out

    def reported_hashrate_ths(self, now_s: float, window_s: float = 5.0) -> float:
        """Hashrate averaged over a window, with the jitter a real 5 s counter shows [TH/s]."""
        if self.hashrate_ths <= 0:
            return 0.0
        jitter = 0.015 * 5.0 / max(window_s, 5.0)
        return self.hashrate_ths * (1.0 + jitter * unit_noise(self.seed, int(now_s // 5)))

    # --- the model ----------------------------------------------------------------------
    def op_scale(self) -> float:
        """The frequency scale in force: the set point, capped in low mode."""
        if self.mode is Mode.LOW:
            return min(self.scale, self.low_scale)
        return self.scale

    def _live_fraction(self) -> float:
        hw = self.hardware
        good = sum(hw.chips_per_board - self.faults.failing_chips.get(b, 0) for b in self.alive_boards())
        return max(0, good) / hw.total_chips

    def advance(self, now_s: float) -> None:
        """Integrate from the last call to ``now_s`` (no-op when time did not move forward)."""
        while self.now_s < now_s:
            if not self.is_up(self.now_s):  # rebooting: jump to the boot or to now
                t = min(now_s, self.down_until_s)
                self._cool(t - self.now_s, 0.0)
                self.now_s = t
                if t >= self.down_until_s:
                    self._boot(t)
                continue
            dt = min(MAX_STEP_S, now_s - self.now_s)
            self._step(self.now_s, dt)
            self.now_s += dt
            loop = self.faults.reboot_loop_s
            if loop is not None and self.now_s - self.boot_at_s >= loop:
                self.reboot(self.now_s, downtime_s=max(1.0, loop / 4))

    def _boot(self, t: float) -> None:
        self.boot_at_s = self.process_start_s = t
        self.boot_count += 1
        self.down_until_s = -math.inf
        self.accepted = self.rejected = self.stale = 0
        self.hw_errors = [0] * self.hardware.boards
        if self.stop is not StopReason.PSU:
            self.stop = StopReason.NONE

    def intake_c(self, t_s: float | None = None) -> float:
        """Intake air at ``t_s`` (default: now): base, daily swing and any overheat fault [degC]."""
        return ambient_c_at(self.ambient_c, self.ambient_swing_c, self.now_s if t_s is None else t_s) + (
            self.faults.ambient_offset_c
        )

    def _ambient(self) -> float:
        return self.intake_c()

    def _cool(self, dt: float, power_w: float) -> None:
        amb = self._ambient()
        target = steady_chip_temp_c(amb, power_w, _MIN_FAN, self.hardware.model.power_w)
        self.chip_c = target + (self.chip_c - target) * math.exp(-dt / THERMAL_TAU_S)
        self.fan_fraction = 0.0 if power_w == 0 else _MIN_FAN

    def _step(self, t: float, dt: float) -> None:
        hw = self.hardware
        f = self.faults
        nominal_w = hw.model.power_w
        amb = self._ambient()
        if f.psu_failed:
            self.stop = StopReason.PSU
        elif f.failed_fans > 0 and self.stop is StopReason.NONE:
            self.stop = StopReason.FAN  # bmminer and btminer stop hashing when a fan is lost
        start = max(self.process_start_s, self.boot_at_s)
        hashing = self.mode is not Mode.SLEEP and self.stop is StopReason.NONE and t >= start
        if not hashing:
            self.hashrate_ths = 0.0
            self.power_w = 0.0 if self.stop is StopReason.PSU else IDLE_POWER_W
            self._cool(dt, self.power_w)
            return
        ramp = 1.0 if self.ramp_s <= 0 else min(1.0, (t + dt - start) / self.ramp_s)
        scale = self.op_scale()
        live = self._live_fraction()
        hashing_w = power_at_scale_w(nominal_w, scale) * live * ramp
        # throttle: the most power the fans can remove at full speed while holding hot_chip_c
        ceiling_w = (hw.hot_chip_c - amb) / (
            _r0_c_per_w(nominal_w) / max(0.05, 1.0 - f.failed_fans / hw.fans) ** 0.8
        )
        throttle = 1.0
        if hashing_w > ceiling_w > 0:
            throttle = max(MIN_SCALE / scale, (ceiling_w / hashing_w) ** (1.0 / POWER_EXPONENT))
            hashing_w = power_at_scale_w(nominal_w, scale * throttle) * live * ramp
        fan = fan_fraction_for(amb, hashing_w, hw.target_chip_c, nominal_w)
        airflow = fan * (1.0 - f.failed_fans / hw.fans)
        target = steady_chip_temp_c(amb, hashing_w, airflow, nominal_w)
        self.chip_c = target + (self.chip_c - target) * math.exp(-dt / THERMAL_TAU_S)
        self.fan_fraction = fan
        self.power_w = hashing_w + IDLE_POWER_W
        self.hashrate_ths = hw.model.hashrate_ths * scale * throttle * live * ramp
        if self.chip_c >= hw.danger_chip_c:
            self.stop = StopReason.OVERHEAT
        # hardware errors per board
        rate = hw_error_rate_per_chip_s(self.chip_c)
        for b in self.alive_boards():
            failing = f.failing_chips.get(b, 0)
            self._hw_carry[b] += (
                rate * (hw.chips_per_board - failing) + FAILING_CHIP_ERRORS_PER_S * failing
            ) * dt
            whole = int(self._hw_carry[b])
            self.hw_errors[b] += whole
            self._hw_carry[b] -= whole
        # shares at the pool's difficulty, with a fixed reject and stale fraction
        self._carry += self.hashrate_ths * 1e12 * dt / (self.share_difficulty * HASHES_PER_DIFFICULTY)
        whole = int(self._carry)
        if whole:
            self._carry -= whole
            total = self.accepted + self.rejected + self.stale + whole
            rejected = int(total * REJECT_FRACTION) - self.rejected
            stale = int(total * STALE_FRACTION) - self.stale
            self.rejected += max(0, rejected)
            self.stale += max(0, stale)
            self.accepted += whole - max(0, rejected) - max(0, stale)
