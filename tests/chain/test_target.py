"""Compact bits <-> target <-> difficulty, with Core's sign and overflow rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashwatt.chain import (
    DIFFICULTY_1_BITS,
    DIFFICULTY_1_TARGET,
    TargetError,
    bits_to_target,
    decode_compact,
    difficulty_from_bits,
    difficulty_to_target,
    hashrate_from_difficulty,
    target_to_bits,
)

# (bits, decoded value, negative, overflow, canonical re-encoding) per Bitcoin Core's SetCompact/GetCompact.
CORE_VECTORS = [
    (0x00000000, 0, False, False, 0x00000000),
    (0x00123456, 0, False, False, 0x00000000),
    (0x01003456, 0, False, False, 0x00000000),
    (0x02000056, 0, False, False, 0x00000000),
    (0x03000000, 0, False, False, 0x00000000),
    (0x04000000, 0, False, False, 0x00000000),
    (0x00923456, 0, False, False, 0x00000000),
    (0x01803456, 0, False, False, 0x00000000),
    (0x02800056, 0, False, False, 0x00000000),
    (0x03800000, 0, False, False, 0x00000000),
    (0x04800000, 0, False, False, 0x00000000),
    (0x01123456, 0x12, False, False, 0x01120000),
    (0x01FEDCBA, 0x7E, True, False, 0x01FE0000),
    (0x02123456, 0x1234, False, False, 0x02123400),
    (0x03123456, 0x123456, False, False, 0x03123456),
    (0x04123456, 0x12345600, False, False, 0x04123456),
    (0x04923456, 0x12345600, True, False, 0x04923456),
    (0x05009234, 0x92340000, False, False, 0x05009234),
    (0x20123456, 0x123456 << (8 * 29), False, False, 0x20123456),
]


@pytest.mark.parametrize(("bits", "value", "negative", "overflow", "canonical"), CORE_VECTORS)
def test_core_compact_vectors(bits: int, value: int, negative: bool, overflow: bool, canonical: int) -> None:
    decoded = decode_compact(bits)
    assert (decoded.target, decoded.negative, decoded.overflow) == (value, negative, overflow)
    assert target_to_bits(decoded.target, negative=decoded.negative) == canonical


def test_overflow_and_negative_are_rejected() -> None:
    assert decode_compact(0xFF123456).overflow
    with pytest.raises(TargetError, match="overflow"):
        bits_to_target(0xFF123456)
    with pytest.raises(TargetError, match="negative"):
        bits_to_target(0x04923456)
    with pytest.raises(TargetError, match="zero"):
        bits_to_target(0x01003456)
    with pytest.raises(TargetError):
        decode_compact(1 << 32)


def test_difficulty_one_and_real_values() -> None:
    assert bits_to_target(DIFFICULTY_1_BITS) == DIFFICULTY_1_TARGET == 0xFFFF << 208
    assert difficulty_from_bits(DIFFICULTY_1_BITS) == 1.0
    assert difficulty_from_bits(0x1D00D86A) == pytest.approx(1.182899534, rel=1e-9)
    assert difficulty_from_bits(0x17034219) == pytest.approx(86.388558930e12, rel=1e-9)
    assert difficulty_from_bits(0x17028C61) == pytest.approx(110.4519074e12, rel=1e-8)
    # 1 difficulty at 600 s is 2**32 / 600 H/s.
    assert hashrate_from_difficulty(1.0) == pytest.approx(2**32 / 600)
    assert difficulty_to_target(1) == DIFFICULTY_1_TARGET
    assert difficulty_to_target(0.5) == pytest.approx(2 * DIFFICULTY_1_TARGET, rel=1e-9)
    with pytest.raises(TargetError):
        difficulty_to_target(0)
    with pytest.raises(TargetError):
        difficulty_to_target(float("nan"))
    # Tiny share difficulties cap at the largest target rather than dividing by zero.
    assert difficulty_to_target(1e-12) == (1 << 256) - 1
    assert difficulty_to_target(2**-16) == DIFFICULTY_1_TARGET << 16


canonical_bits = st.builds(
    lambda size, mantissa: (size << 24) | mantissa,
    st.integers(min_value=4, max_value=32),
    st.integers(min_value=0x008000, max_value=0x7FFFFF),
)


@given(canonical_bits)
def test_bits_round_trip(bits: int) -> None:
    assert target_to_bits(bits_to_target(bits)) == bits


@given(st.integers(min_value=1, max_value=(1 << 255)))
def test_target_round_trip_loses_only_low_bits(target: int) -> None:
    bits = target_to_bits(target)
    back = bits_to_target(bits)
    assert back <= target
    # The compact form keeps the top 23 bits of mantissa: relative error below 2**-15.
    assert (target - back) * (1 << 15) <= target
    assert target_to_bits(back) == bits
