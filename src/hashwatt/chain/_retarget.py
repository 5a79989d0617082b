"""Mainnet difficulty retargeting every 2016 blocks (Core: CalculateNextWorkRequired)."""

from __future__ import annotations

from hashwatt.chain._target import DIFFICULTY_1_BITS, bits_to_target, target_to_bits
from hashwatt.errors import ChainInputError

#: Blocks per difficulty period (Core: DifficultyAdjustmentInterval()).
RETARGET_INTERVAL = 2016
#: Intended duration of one period, two weeks [s] (Core: nPowTargetTimespan).
TARGET_TIMESPAN_S = 14 * 24 * 60 * 60
#: The clamp: a period counts as at least a quarter and at most four times the target span [s].
MIN_TIMESPAN_S = TARGET_TIMESPAN_S // 4
MAX_TIMESPAN_S = TARGET_TIMESPAN_S * 4
#: Mainnet proof-of-work limit (Core: consensus.powLimit, as compact 1d00ffff).
POW_LIMIT = bits_to_target(DIFFICULTY_1_BITS)


def is_retarget_height(height: int) -> bool:
    """True where a new period starts and the bits may change."""
    return height > 0 and height % RETARGET_INTERVAL == 0


def next_retarget_height(height: int) -> int:
    """The first retarget height strictly after ``height``."""
    return (height // RETARGET_INTERVAL + 1) * RETARGET_INTERVAL


def clamp_timespan_s(actual_timespan_s: int) -> int:
    """Clamp a period's measured span to [span/4, span*4]."""
    return max(MIN_TIMESPAN_S, min(MAX_TIMESPAN_S, actual_timespan_s))


def next_bits(
    prev_bits: int,
    first_block_time: int,
    last_block_time: int,
    *,
    pow_limit: int = POW_LIMIT,
) -> int:
    """Bits for the block at a retarget height h.

    ``first_block_time`` is the time of block h-2016 (the first of the period) and
    ``last_block_time`` that of block h-1. Measuring from the first block, not the last of
    the previous period, is Satoshi's off-by-one: the span covers 2015 intervals, not 2016.
    """
    if prev_bits < 0 or first_block_time < 0 or last_block_time < 0:
        raise ChainInputError("bits and block times must be non-negative")
    span = clamp_timespan_s(last_block_time - first_block_time)
    new_target = bits_to_target(prev_bits) * span // TARGET_TIMESPAN_S
    new_target = min(new_target, pow_limit)
    return target_to_bits(new_target)
