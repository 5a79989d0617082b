"""All 436 mainnet retargets from height 2016 to 878976 reproduced exactly."""

from __future__ import annotations

from hashwatt.chain import (
    is_retarget_height,
    next_bits,
    next_retarget_height,
)
from tests.chain._fixtures import csv_rows


def _periods() -> list[tuple[int, int, int, int, int]]:
    """(h, bits at h-2016, time at h-2016, time at h-1, real bits at h) for every retarget h."""
    starts = {int(r["height"]): r for r in csv_rows("btc_headers_at_retargets.csv")}
    ends = {int(r["retarget_height"]): r for r in csv_rows("btc_retarget_period_ends.csv")}
    out = []
    for h in sorted(ends):
        first = starts[h - 2016]
        out.append(
            (
                h,
                int(first["bits_hex"], 16),
                int(first["timestamp_unix"]),
                int(ends[h]["timestamp_unix"]),
                int(starts[h]["bits_hex"], 16),
            )
        )
    return out


def test_every_retarget_reproduced() -> None:
    periods = _periods()
    assert len(periods) == 436
    assert periods[0][0] == 2016 and periods[-1][0] == 878976
    for h, prev_bits, first_time, last_time, real_bits in periods:
        assert is_retarget_height(h)
        assert next_bits(prev_bits, first_time, last_time) == real_bits, h


def test_off_by_one_matters() -> None:
    """Measuring from time(h) instead of time(h-1) would break most retargets: the test discriminates."""
    starts = {int(r["height"]): r for r in csv_rows("btc_headers_at_retargets.csv")}
    wrong = 0
    for h, prev_bits, first_time, _last_time, real_bits in _periods():
        if next_bits(prev_bits, first_time, int(starts[h]["timestamp_unix"])) != real_bits:
            wrong += 1
    assert wrong > 400


def test_clamp_and_pow_limit() -> None:
    bits = 0x1B0404CB
    fast = next_bits(bits, 0, 1)  # absurdly fast period: clamped to /4
    slow = next_bits(bits, 0, 10 * 4_838_400)  # absurdly slow: clamped to x4
    assert fast == next_bits(bits, 0, 302_400)
    assert slow == next_bits(bits, 0, 4_838_400)
    # Difficulty 1 cannot go lower: capped at the proof-of-work limit.
    assert next_bits(0x1D00FFFF, 0, 4_838_400) == 0x1D00FFFF
    assert next_retarget_height(0) == 2016 and next_retarget_height(2016) == 4032
    assert not is_retarget_height(0) and not is_retarget_height(2017)
