"""Targets: compact ``bits`` <-> 256-bit target <-> difficulty, and implied hashrate.

The compact format (Core: arith_uint256::SetCompact / GetCompact) is a base-256 float:
one exponent byte, a sign bit, and a 23-bit mantissa.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hashwatt.errors import TargetError

#: Compact bits of the difficulty-1 target (mainnet powLimit).
DIFFICULTY_1_BITS = 0x1D00FFFF
#: The difficulty-1 target, 0xffff * 2**208.
DIFFICULTY_1_TARGET = 0xFFFF << 208
#: Expected hashes per unit of difficulty: 2**32 (exactly 2**48/0xffff; the 0.0015 % gap is the
#: convention every pool and calculator uses, so it is the one definition here).
HASHES_PER_DIFFICULTY = 2**32
#: Largest value a target can take (256 bits).
MAX_TARGET = (1 << 256) - 1
#: Mainnet target block interval [s].
TARGET_BLOCK_INTERVAL_S = 600
#: Seconds in a UTC day (rates per day everywhere: blocks, BTC, hashprice) [s].
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class CompactDecoded:
    """What SetCompact yields: the value and Core's ``fNegative`` / ``fOverflow`` flags."""

    target: int
    negative: bool
    overflow: bool


def decode_compact(bits: int) -> CompactDecoded:
    """Decode compact ``bits`` exactly as Bitcoin Core's SetCompact, flags included."""
    if not 0 <= bits <= 0xFFFFFFFF:
        raise TargetError(f"bits must be a 32-bit unsigned integer, got {bits}")
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)  # Core shifts the word itself, so the flags below see the shifted value
        target = word
    else:
        target = word << (8 * (size - 3))
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32))
    return CompactDecoded(target, negative, overflow)


def bits_to_target(bits: int) -> int:
    """The 256-bit target of compact ``bits``; negative, zero or overflowing bits raise."""
    decoded = decode_compact(bits)
    if decoded.negative:
        raise TargetError(f"bits 0x{bits:08x} encode a negative target")
    if decoded.overflow:
        raise TargetError(f"bits 0x{bits:08x} overflow 256 bits")
    if decoded.target == 0:
        raise TargetError(f"bits 0x{bits:08x} encode a zero target")
    return decoded.target


def target_to_bits(target: int, *, negative: bool = False) -> int:
    """Compact encoding of ``target`` (Core's GetCompact); loses precision below 3 bytes."""
    if target < 0 or target > MAX_TARGET:
        raise TargetError("a target must lie in [0, 2**256)")
    size = (target.bit_length() + 7) // 8
    compact = target << (8 * (3 - size)) if size <= 3 else target >> (8 * (size - 3))
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    compact |= size << 24
    if negative and compact & 0x007FFFFF:
        compact |= 0x00800000
    return compact


def target_to_difficulty(target: int, *, difficulty_1_target: int = DIFFICULTY_1_TARGET) -> float:
    """Difficulty: the difficulty-1 target over ``target`` (the "bdiff" explorers show).

    ``difficulty_1_target`` is the target of difficulty 1 (a scrypt pool's is 65,536 times
    Bitcoin's: :data:`hashwatt.stratum.STRATUM_DIFFICULTY_1_TARGET`).
    """
    if target <= 0:
        raise TargetError("difficulty needs a positive target")
    return difficulty_1_target / target


def difficulty_from_bits(bits: int) -> float:
    """Difficulty of compact ``bits``."""
    return target_to_difficulty(bits_to_target(bits))


def difficulty_to_target(difficulty: float, *, difficulty_1_target: int = DIFFICULTY_1_TARGET) -> int:
    """Target for a (possibly fractional) difficulty, e.g. a pool share difficulty:
    ``floor(difficulty_1_target / difficulty)``, capped at 2**256 - 1."""
    if not difficulty > 0 or difficulty == float("inf"):
        raise TargetError(f"difficulty must be positive and finite, got {difficulty}")
    # Exact rational arithmetic: share difficulty 1 gives exactly the difficulty-1 target, and
    # tiny difficulties (a pool may send 1e-12) cap at the largest target instead of dividing by 0.
    ratio = Fraction(difficulty)
    return min(difficulty_1_target * ratio.denominator // ratio.numerator, MAX_TARGET)


def hashes_per_block(difficulty: float) -> float:
    """Expected hashes to find one block at ``difficulty``: difficulty x 2**32 (approx. 2**256/target)."""
    return difficulty * float(HASHES_PER_DIFFICULTY)


def hashrate_from_difficulty(difficulty: float, block_interval_s: float = TARGET_BLOCK_INTERVAL_S) -> float:
    """Network hashrate [H/s] implied by ``difficulty`` at a mean ``block_interval_s`` [s]."""
    if block_interval_s <= 0:
        raise TargetError(f"block interval must be positive, got {block_interval_s}")
    return hashes_per_block(difficulty) / block_interval_s


def hash_meets_target(hash32: bytes, target: int) -> bool:
    """True when an internal-order hash, read as a little-endian integer, is <= ``target``."""
    return int.from_bytes(hash32, "little") <= target
