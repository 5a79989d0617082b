"""Difficulty retargeting as parameters: Bitcoin's and Litecoin's period rule, Dogecoin's
DigiShield, Bitcoin Cash's ASERT.

Bitcoin's module-level functions (:func:`next_bits`, :func:`is_retarget_height`, ...) are the
behaviour of :data:`BITCOIN_RETARGET`; other coins are other values of the same rules, never
copies of the code. Every rule answers three questions, so a caller walking a chain needs no
per-coin branches: is ``height`` a retarget height, which earlier block's time starts the measured
span, and what bits follow from the previous bits and the two times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from hashwatt.chain._supply import check_height
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


class RetargetRule(Protocol):
    """What every difficulty-adjustment rule answers (one implementation per algorithm, not per coin)."""

    def is_retarget_height(self, height: int) -> bool:
        """True where the bits may differ from the previous block's."""
        ...

    def first_block_height(self, height: int) -> int:
        """Height of the block whose time starts the span measured for the block at ``height``."""
        ...

    def next_bits(self, prev_bits: int, first_block_time: int, last_block_time: int, *, height: int) -> int:
        """Bits for the block at retarget ``height``, from block h-1's bits and the two times."""
        ...


def _check_inputs(prev_bits: int, first_block_time: int, last_block_time: int) -> None:
    for name, value in (
        ("prev_bits", prev_bits),
        ("first_block_time", first_block_time),
        ("last_block_time", last_block_time),
    ):
        if value < 0:
            raise ChainInputError(f"{name} must be non-negative, got {value}", field=name, value=value)


@dataclass(frozen=True, slots=True)
class PeriodRetarget:
    """Bitcoin-family retarget every ``interval`` blocks (Core: CalculateNextWorkRequired).

    ``full_span``: Litecoin's fix (Art Forz) measures from block h-interval-1, so the span covers
    all ``interval`` block intervals, except at the first retarget, which has no such block;
    Bitcoin measures from h-interval, Satoshi's off-by-one (``interval``-1 intervals).
    ``overflow_shift``: Litecoin shifts the old target right one bit before multiplying and back
    after, because its 256-bit intermediate could overflow; the lost bit changes the result, so
    the shift is part of the rule.
    """

    interval: int
    timespan_s: int
    pow_limit: int
    full_span: bool = False
    overflow_shift: bool = False

    def is_retarget_height(self, height: int) -> bool:
        return height > 0 and height % self.interval == 0

    def next_retarget_height(self, height: int) -> int:
        """The first retarget height strictly after ``height``."""
        return (height // self.interval + 1) * self.interval

    def first_block_height(self, height: int) -> int:
        check_height(height)
        if self.full_span and height != self.interval:
            return max(height - self.interval - 1, 0)
        return max(height - self.interval, 0)

    def clamp_timespan_s(self, actual_timespan_s: int) -> int:
        """Clamp a period's measured span to [timespan/4, timespan*4]."""
        return max(self.timespan_s // 4, min(self.timespan_s * 4, actual_timespan_s))

    def next_bits(
        self, prev_bits: int, first_block_time: int, last_block_time: int, *, height: int = 0
    ) -> int:
        """``height`` is unused: the period rule depends on the times alone."""
        _check_inputs(prev_bits, first_block_time, last_block_time)
        span = self.clamp_timespan_s(last_block_time - first_block_time)
        target = bits_to_target(prev_bits)
        shift = self.overflow_shift and target.bit_length() > self.pow_limit.bit_length() - 1
        if shift:
            target >>= 1
        target = target * span // self.timespan_s
        if shift:
            target <<= 1
        return target_to_bits(min(target, self.pow_limit))


def _check_era(rule: str, height: int, first_height: int) -> None:
    """Refuse a height before a per-block rule's first (the coin's earlier rules are not modelled)."""
    check_height(height)
    if height < first_height:
        raise ChainInputError(
            f"{rule} applies from height {first_height}; the earlier rules at height {height} "
            "are not modelled",
            field="height",
            value=height,
        )


def _div_trunc(numerator: int, denominator: int) -> int:
    """C's integer division, truncating toward zero (Python's // floors)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


@dataclass(frozen=True, slots=True)
class DigiShieldRetarget:
    """Dogecoin's DigiShield v3: a retarget at every block from ``start_height``.

    Dogecoin Core (CalculateDogecoinNextWorkRequired, fDigishieldDifficultyCalculation): the span
    is time(h-1) - time(h-2); an amplitude filter keeps 1/8 of its deviation from the target
    spacing, ``T + (span - T) / 8`` with C's truncating division; the result is clamped to
    [T - T/4, T + T/2], and the target scales by it over T, capped at the proof-of-work limit.
    Heights before ``start_height`` (Dogecoin's 4-hour period rule) are not modelled here.
    """

    timespan_s: int
    pow_limit: int
    start_height: int

    def _check_era(self, height: int) -> None:
        _check_era("DigiShield", height, self.start_height)

    def is_retarget_height(self, height: int) -> bool:
        self._check_era(height)
        return True

    def first_block_height(self, height: int) -> int:
        self._check_era(height)
        return height - 2

    def modulated_timespan_s(self, actual_timespan_s: int) -> int:
        """The filtered, clamped span the target scales by [s]."""
        t = self.timespan_s
        modulated = t + _div_trunc(actual_timespan_s - t, 8)
        return max(t - t // 4, min(t + t // 2, modulated))

    def next_bits(self, prev_bits: int, first_block_time: int, last_block_time: int, *, height: int) -> int:
        self._check_era(height)
        if prev_bits < 0:
            raise ChainInputError(
                f"bits must be non-negative, got {prev_bits}", field="prev_bits", value=prev_bits
            )
        span = self.modulated_timespan_s(last_block_time - first_block_time)
        target = bits_to_target(prev_bits) * span // self.timespan_s
        return target_to_bits(min(target, self.pow_limit))


#: aserti3-2d's 2**x for x in [0, 1), as 65,536ths: a cubic with 48 fractional bits whose terms
#: never overflow an unsigned 64-bit sum (the spec chose them so; the largest is 2**64 - 1.8e14).
_ASERT_CUBIC = (195_766_423_245_049, 971_821_376, 5_127)


def asert_target(
    anchor_target: int,
    time_diff_s: int,
    height_diff: int,
    *,
    spacing_s: int,
    half_life_s: int,
    pow_limit: int,
) -> int:
    """aserti3-2d (Bitcoin Cash, 2020-11-15): the target of the block after ``parent``.

    ``time_diff_s`` is time(parent) - time(anchor's parent) and ``height_diff`` height(parent)
    - height(anchor). The target is the anchor's scaled by 2**((time_diff - spacing *
    (height_diff + 1)) / half_life): every ``half_life_s`` the chain runs behind its schedule
    doubles it. Integer-exact as the spec and Bitcoin Cash Node (CalculateASERT) compute it:
    the exponent in 65,536ths with C's truncating division, its integer part applied as a
    shift (floored), the fraction through :data:`_ASERT_CUBIC`; a zero result becomes 1 and
    anything above ``pow_limit`` (a 256-bit overflow included) ``pow_limit``.
    """
    if not 0 < anchor_target <= pow_limit:
        raise ChainInputError(
            f"the anchor target must lie in 1..pow_limit, got {anchor_target:#x}",
            field="anchor_target",
            value=anchor_target,
        )
    if height_diff < 0:
        raise ChainInputError(
            f"the parent cannot precede the anchor (height difference {height_diff})",
            field="height_diff",
            value=height_diff,
        )
    exponent = _div_trunc((time_diff_s - spacing_s * (height_diff + 1)) * 65536, half_life_s)
    shifts = (exponent >> 16) - 16  # the factor below carries 16 fractional bits
    frac = exponent & 0xFFFF
    a, b, c = _ASERT_CUBIC
    factor = 65536 + ((a * frac + b * frac * frac + c * frac * frac * frac + (1 << 47)) >> 48)
    target = anchor_target * factor
    if shifts > pow_limit.bit_length():  # already past the limit; spares a huge shift
        return pow_limit
    target = target << shifts if shifts > 0 else target >> -shifts
    return max(1, min(target, pow_limit))


@dataclass(frozen=True, slots=True)
class AsertRetarget:
    """Bitcoin Cash's ASERT (aserti3-2d): a retarget at every block after ``anchor_height``.

    Absolutely scheduled: the target depends only on the anchor block's bits and on how far
    the parent's time and height are from the anchor's (no window, no clamp), so in the
    :class:`RetargetRule` terms the span starts at the anchor's parent (``first_block_height``)
    and ``prev_bits`` is not used. ``anchor_parent_time_s`` records that block's time, which
    callers without it pass as ``first_block_time``. Heights up to the anchor (Bitcoin Cash's
    EDA and cw-144 eras) are not modelled.
    """

    anchor_height: int
    anchor_bits: int
    anchor_parent_time_s: int
    spacing_s: int
    half_life_s: int
    pow_limit: int

    def _check_era(self, height: int) -> None:
        _check_era("ASERT", height, self.anchor_height + 1)

    def is_retarget_height(self, height: int) -> bool:
        self._check_era(height)
        return True

    def first_block_height(self, height: int) -> int:
        self._check_era(height)
        return self.anchor_height - 1

    def next_bits(self, prev_bits: int, first_block_time: int, last_block_time: int, *, height: int) -> int:
        """Bits for the block at ``height``: ``first_block_time`` is the anchor's parent's time,
        ``last_block_time`` block h-1's."""
        self._check_era(height)
        _check_inputs(prev_bits, first_block_time, last_block_time)
        target = asert_target(
            bits_to_target(self.anchor_bits),
            last_block_time - first_block_time,
            height - 1 - self.anchor_height,
            spacing_s=self.spacing_s,
            half_life_s=self.half_life_s,
            pow_limit=self.pow_limit,
        )
        return target_to_bits(target)


#: Bitcoin mainnet: every 2016 blocks over two weeks, measured over 2015 intervals.
BITCOIN_RETARGET = PeriodRetarget(
    interval=RETARGET_INTERVAL, timespan_s=TARGET_TIMESPAN_S, pow_limit=POW_LIMIT
)


def is_retarget_height(height: int) -> bool:
    """True where a new period starts and the bits may change."""
    return BITCOIN_RETARGET.is_retarget_height(height)


def next_retarget_height(height: int) -> int:
    """The first retarget height strictly after ``height``."""
    return BITCOIN_RETARGET.next_retarget_height(height)


def clamp_timespan_s(actual_timespan_s: int) -> int:
    """Clamp a period's measured span to [span/4, span*4]."""
    return BITCOIN_RETARGET.clamp_timespan_s(actual_timespan_s)


def next_bits(
    prev_bits: int,
    first_block_time: int,
    last_block_time: int,
    *,
    pow_limit: int = POW_LIMIT,
) -> int:
    """Bits for the block at a Bitcoin retarget height h.

    ``first_block_time`` is the time of block h-2016 (the first of the period) and
    ``last_block_time`` that of block h-1. Measuring from the first block, not the last of
    the previous period, is Satoshi's off-by-one: the span covers 2015 intervals, not 2016.
    """
    rule = BITCOIN_RETARGET if pow_limit == POW_LIMIT else replace(BITCOIN_RETARGET, pow_limit=pow_limit)
    return rule.next_bits(prev_bits, first_block_time, last_block_time)
