"""The physical model: operating point, ramp, thermal lag, fans, throttle, faults, counters."""

from __future__ import annotations

import pytest

from hashwatt.chain import HASHES_PER_DIFFICULTY
from hashwatt.twin._hardware import hardware_for
from hashwatt.twin._physics import (
    Mode,
    Physics,
    StopReason,
    power_at_scale_w,
    scale_for_power_w,
    steady_chip_temp_c,
)

S19 = hardware_for("S19 Pro")


def settled(**kw: float) -> Physics:
    p = Physics(S19, now_s=0.0, seed=7, **kw)
    p.advance(1800.0)
    return p


def test_nameplate_at_nominal_and_efficiency_direction() -> None:
    p = settled()
    assert p.hashrate_ths == pytest.approx(S19.model.hashrate_ths)
    assert p.power_w == pytest.approx(S19.model.power_w, rel=0.01)
    eff_nom = power_at_scale_w(S19.model.power_w, 1.0) / 1.0
    assert (
        power_at_scale_w(S19.model.power_w, 0.8) / 0.8
        < eff_nom
        < power_at_scale_w(S19.model.power_w, 1.2) / 1.2
    )


def test_power_target_round_trip_and_clamp() -> None:
    p = settled()
    p.set_power_target(2500.0, 1800.0)
    p.advance(1900.0)
    assert p.power_w - 15.0 == pytest.approx(2500.0, rel=1e-6)
    assert p.hashrate_ths < S19.model.hashrate_ths
    assert scale_for_power_w(3250.0, 10.0) == 0.35 and scale_for_power_w(3250.0, 1e6) == 1.35


def test_ramp_after_start_and_wake() -> None:
    p = Physics(S19, now_s=0.0, ramp_s=100.0)
    p.advance(50.0)
    assert 0.4 * 110 < p.hashrate_ths < 0.6 * 110
    p.advance(200.0)
    assert p.hashrate_ths == pytest.approx(110.0)
    p.set_mode(Mode.SLEEP, 200.0)
    p.advance(300.0)
    assert p.hashrate_ths == 0.0 and p.ideal_hashrate_ths == 0.0
    assert p.power_w < 50.0
    p.set_mode(Mode.NORMAL, 300.0)
    p.advance(325.0)
    assert 0.1 * 110 < p.hashrate_ths < 0.4 * 110


def test_thermal_lag_and_fan_control() -> None:
    p = Physics(S19, now_s=0.0, ambient_c=25.0)
    p.advance(30.0)
    early = p.chip_c
    p.advance(1800.0)
    assert 25.0 < early < p.chip_c
    assert p.chip_c == pytest.approx(S19.target_chip_c, abs=0.5)  # fans hold the set point
    cool = Physics(S19, now_s=0.0, ambient_c=5.0)
    cool.advance(1800.0)
    assert max(cool.fan_rpms()) < max(p.fan_rpms())


def test_overheat_throttles_then_shuts_down() -> None:
    p = settled()
    p.faults.ambient_offset_c = 50.0  # 75 degC intake
    p.advance(4000.0)
    assert p.stop is StopReason.NONE
    assert p.hashrate_ths < 0.9 * 110.0
    assert p.chip_c > S19.hot_chip_c - 1.0
    assert max(p.fan_rpms()) >= 0.98 * S19.max_fan_rpm
    p.faults.ambient_offset_c = 90.0
    p.advance(6000.0)
    assert p.stop is StopReason.OVERHEAT and p.hashrate_ths == 0.0


def test_hw_errors_rise_with_temperature() -> None:
    assert steady_chip_temp_c(25, 3000, 0.5, 3250) > steady_chip_temp_c(25, 3000, 1.0, 3250)
    cool, hot = settled(ambient_c=5.0), settled(ambient_c=45.0)
    cool.advance(7200.0)
    hot.advance(7200.0)
    assert sum(hot.hw_errors) > sum(cool.hw_errors)


def test_share_counters_follow_hashrate_and_difficulty() -> None:
    p = settled()
    before = p.accepted + p.rejected + p.stale
    p.advance(1800.0 + 36000.0)
    shares = p.accepted + p.rejected + p.stale - before
    expected = 110e12 * 36000 / (p.share_difficulty * HASHES_PER_DIFFICULTY)
    assert shares == pytest.approx(expected, rel=0.02)
    assert p.rejected >= 1


def test_faults_boards_chips_fans_psu() -> None:
    p = settled()
    p.faults.dead_boards.add(1)
    p.faults.failing_chips[0] = 20
    p.advance(1900.0)
    assert p.board_hashrate_ths(1) == 0.0 and p.chips_on_board(1) == 0
    assert p.hashrate_ths == pytest.approx(110.0 * (2 * 114 - 20) / 342)
    errors_before = p.hw_errors[0]
    p.advance(2000.0)
    assert p.hw_errors[0] - errors_before > 1000  # 20 failing chips at 0.5/s for 100 s
    p.faults.failed_fans = 1
    p.advance(2010.0)
    assert p.stop is StopReason.FAN and p.fan_rpms()[0] == 0 and p.hashrate_ths == 0.0
    q = settled()
    q.faults.psu_failed = True
    q.advance(1810.0)
    assert q.stop is StopReason.PSU and q.power_w == 0.0


def test_reboot_downtime_uptime_and_loop() -> None:
    p = settled()
    assert p.uptime_s(1800.0) == 1800
    p.reboot(1800.0, downtime_s=60.0)
    assert not p.is_up(1830.0)
    p.advance(1830.0)
    assert p.hashrate_ths == 0.0
    assert p.is_up(1860.0)
    p.advance(1900.0)
    assert p.uptime_s(1900.0) == 40 and p.boot_count == 2 and p.hashrate_ths > 0
    p.faults.reboot_loop_s = 100.0
    p.advance(3000.0)
    assert p.boot_count > 5


def test_seed_reproducible_and_varies() -> None:
    a, b, c = (Physics(S19, now_s=0.0, seed=s) for s in (1, 1, 2))
    for p in (a, b, c):
        p.advance(600.0)
    assert a.fan_rpms() == b.fan_rpms() and a.board_chip_c(0) == b.board_chip_c(0)
    assert a.board_chip_c(0) != c.board_chip_c(0)


def test_low_mode_and_whatsminer_layout() -> None:
    p = settled()
    p.set_mode(Mode.LOW, 1800.0)
    p.advance(1900.0)
    assert p.hashrate_ths == pytest.approx(0.75 * 110.0)
    m = hardware_for("M30S+ (100T)")
    assert m.vendor == "whatsminer" and m.type_name.startswith("M30S+_V")


def test_daily_ambient_profile_moves_intake_and_chips() -> None:
    p = Physics(S19, now_s=0.0, seed=7, ambient_c=20.0, ambient_swing_c=10.0)
    p.advance(6 * 3600.0)  # warmest
    warm_intake, warm_fans = p.intake_c(), max(p.fan_rpms())
    p.advance(18 * 3600.0)  # coolest
    assert warm_intake == pytest.approx(30.0) and p.intake_c() == pytest.approx(10.0)
    assert max(p.fan_rpms()) < warm_fans  # fans hold the chips at the set point with less air
