"""Stratum V1 message bodies <-> hashwatt values, with every byte order spelled out.

Wire conventions (as cgminer, cpuminer, ckpool and slush's reference server use them):

- ``prevhash``: the 32 internal-order bytes of the previous block hash with each 4-byte word
  byte-reversed (8 words, word order kept), as hex.
- ``version``, ``nbits``, ``ntime`` (notify) and ``ntime``, ``nonce``, ``version_bits``
  (submit): the 32-bit integer as 8 big-endian hex digits.
- ``merkle_branch``: sibling hashes in internal byte order, as hex.
- ``coinb1``, ``coinb2``, ``extranonce1``, ``extranonce2``: raw bytes as hex, in the order
  they appear in the coinbase.
- difficulty: share difficulty ``d`` means target ``0xffff * 2**208 / d`` (cgminer's
  "truediffone").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hashwatt.chain import DIFFICULTY_1_TARGET, PowAlgorithm, difficulty_to_target, target_to_difficulty
from hashwatt.errors import ChainError, HashwattError
from hashwatt.stratum.errors import ProtocolViolation
from hashwatt.work import Job, Solution

#: BIP 310 extension name and its parameter keys.
VERSION_ROLLING = "version-rolling"
VERSION_ROLLING_MASK = "version-rolling.mask"
VERSION_ROLLING_MIN_BIT_COUNT = "version-rolling.min-bit-count"
#: The mask BIP 320 leaves to miners (bits 13..28) [bit mask].
BIP320_VERSION_MASK = 0x1FFFE000


def swap_words(data: bytes) -> bytes:
    """Reverse the bytes inside each 4-byte word (Stratum's prevhash transform; an involution)."""
    if len(data) % 4:
        raise ProtocolViolation("word swap needs a multiple of 4 bytes")
    return b"".join(data[i : i + 4][::-1] for i in range(0, len(data), 4))


def prevhash_to_stratum(prev_hash: bytes) -> str:
    """Internal-order previous hash -> Stratum ``prevhash`` hex."""
    return swap_words(prev_hash).hex()


def prevhash_from_stratum(text: str) -> bytes:
    """Stratum ``prevhash`` hex -> internal-order previous hash."""
    raw = hex_bytes(text, "prevhash")
    if len(raw) != 32:
        raise ProtocolViolation(f"prevhash must be 32 bytes, got {len(raw)}")
    return swap_words(raw)


def u32_hex(value: int) -> str:
    """A 32-bit unsigned integer as 8 big-endian hex digits."""
    return f"{value & 0xFFFFFFFF:08x}"


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def u32_from_hex(text: Any, what: str) -> int:
    """Parse 1..8 big-endian hex digits into a 32-bit integer; :class:`ProtocolViolation` if not.

    Only hex digits: ``int(text, 16)`` alone would take ``"-1"``, ``"0x1"``, ``" 1"`` and ``"1_0"``.
    """
    if not isinstance(text, str) or not 1 <= len(text) <= 8 or not _HEX_DIGITS.issuperset(text):
        raise ProtocolViolation(f"{what} must be 1 to 8 hex digits")
    return int(text, 16)


def hex_bytes(text: Any, what: str, *, max_bytes: int = 1 << 20) -> bytes:
    """Hex -> bytes, only hex digits and at most ``max_bytes`` [bytes]."""
    if not isinstance(text, str):
        raise ProtocolViolation(f"{what} must be a hex string")
    if len(text) > 2 * max_bytes or not _HEX_DIGITS.issuperset(text):
        raise ProtocolViolation(f"{what} must be at most {max_bytes} bytes of hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ProtocolViolation(f"{what} is not hexadecimal") from exc


def target_from_difficulty(difficulty: float, *, difficulty_1_target: int = DIFFICULTY_1_TARGET) -> int:
    """Share target of a pool difficulty (difficulty 1 = 0xffff * 2**208 unless
    ``difficulty_1_target`` says otherwise, as for scrypt), capped at 2**256 - 1.

    A protocol-level wrapper: a bad difficulty from the wire is a :class:`ProtocolViolation`.
    """
    if not (isinstance(difficulty, int | float) and math.isfinite(difficulty) and difficulty > 0):
        raise ProtocolViolation(f"invalid difficulty {difficulty!r}")
    try:
        target = difficulty_to_target(difficulty, difficulty_1_target=difficulty_1_target)
    except ChainError as exc:
        raise ProtocolViolation(f"invalid difficulty {difficulty!r}") from exc
    if target == 0:  # no hash can meet it (a pool sending 1e300): refused, not a zero target downstream
        raise ProtocolViolation(f"difficulty {difficulty!r} is too high: its target is 0")
    return target


def difficulty_from_target(target: int, *, difficulty_1_target: int = DIFFICULTY_1_TARGET) -> float:
    return target_to_difficulty(target, difficulty_1_target=difficulty_1_target)


def parse_difficulty(params: Sequence[Any]) -> float:
    """``mining.set_difficulty`` / ``mining.suggest_difficulty`` params -> difficulty."""
    if not params:
        raise ProtocolViolation("difficulty message without a value")
    value = params[0]
    if isinstance(value, str):  # quirk: some pools quote the number
        try:
            value = float(value)
        except ValueError as exc:
            raise ProtocolViolation("difficulty is not a number") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolViolation("difficulty is not a number")
    difficulty = float(value)
    if not (math.isfinite(difficulty) and difficulty > 0):
        raise ProtocolViolation(f"difficulty must be positive, got {value!r}")
    return difficulty


# -- mining.notify ---------------------------------------------------------------------------


def notify_params(job: Job) -> list[Any]:
    """``mining.notify`` params of a job: [job_id, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean]."""
    return [
        job.job_id,
        prevhash_to_stratum(job.prev_hash),
        job.coinb1.hex(),
        job.coinb2.hex(),
        [h.hex() for h in job.merkle_branch],
        u32_hex(job.version),
        u32_hex(job.bits),
        u32_hex(job.ntime),
        job.clean_jobs,
    ]


def job_from_notify(
    params: Sequence[Any],
    *,
    extranonce1: bytes,
    extranonce2_size: int,
    share_target: int,
    version_mask: int = 0,
    pow_algorithm: PowAlgorithm = PowAlgorithm.SHA256D,
) -> Job:
    """Build a :class:`Job` from ``mining.notify`` params and the session's state (the notify
    does not say which hash the coin uses: ``pow_algorithm`` comes from the miner's coin)."""
    if len(params) < 8:
        raise ProtocolViolation(f"mining.notify needs 8 or 9 params, got {len(params)}")
    job_id, prevhash, coinb1, coinb2, branch, version, nbits, ntime = params[:8]
    clean = bool(params[8]) if len(params) > 8 else False
    if not isinstance(job_id, str | int) or isinstance(job_id, bool):
        raise ProtocolViolation("job id must be a string")
    if not isinstance(branch, list):
        raise ProtocolViolation("merkle branch must be a list")
    merkle_branch = tuple(hex_bytes(h, "merkle branch hash") for h in branch)
    try:
        return Job(
            job_id=str(job_id),
            prev_hash=prevhash_from_stratum(prevhash),
            coinb1=hex_bytes(coinb1, "coinb1"),
            coinb2=hex_bytes(coinb2, "coinb2"),
            merkle_branch=merkle_branch,
            version=u32_from_hex(version, "version"),
            bits=u32_from_hex(nbits, "nbits"),
            ntime=u32_from_hex(ntime, "ntime"),
            extranonce1=extranonce1,
            extranonce2_size=extranonce2_size,
            share_target=share_target,
            clean_jobs=clean,
            version_mask=version_mask,
            pow_algorithm=pow_algorithm,
        )
    except HashwattError as exc:
        if isinstance(exc, ProtocolViolation):
            raise
        raise ProtocolViolation(f"invalid mining.notify: {exc}") from exc


# -- mining.submit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submit:
    """Decoded ``mining.submit`` params. ``version_bits`` is ``None`` without version rolling."""

    worker: str
    job_id: str
    extranonce2: bytes
    ntime: int
    nonce: int
    version_bits: int | None = None


def submit_params(worker: str, solution: Solution, *, version_mask: int = 0) -> list[str]:
    """``mining.submit`` params: [worker, job_id, extranonce2, ntime, nonce(, version_bits)].

    With version rolling (BIP 310) the sixth param carries the rolled bits,
    ``version & mask``; the pool rebuilds ``(job_version & ~mask) | (version_bits & mask)``.
    """
    params = [
        worker,
        solution.job_id,
        solution.extranonce2.hex(),
        u32_hex(solution.ntime),
        u32_hex(solution.nonce),
    ]
    if version_mask:
        params.append(u32_hex(solution.version & version_mask))
    return params


def parse_submit(params: Sequence[Any]) -> Submit:
    if len(params) < 5:
        raise ProtocolViolation(f"mining.submit needs 5 or 6 params, got {len(params)}")
    worker, job_id, en2, ntime, nonce = params[:5]
    if not isinstance(worker, str) or len(worker) > 256:
        raise ProtocolViolation("worker name must be a string of at most 256 characters")
    if not isinstance(job_id, str | int) or isinstance(job_id, bool) or len(str(job_id)) > 64:
        raise ProtocolViolation("job id must be a string of at most 64 characters")
    version_bits = u32_from_hex(params[5], "version_bits") if len(params) > 5 and params[5] else None
    return Submit(
        worker=worker,
        job_id=str(job_id),
        extranonce2=hex_bytes(en2, "extranonce2", max_bytes=32),
        ntime=u32_from_hex(ntime, "ntime"),
        nonce=u32_from_hex(nonce, "nonce"),
        version_bits=version_bits,
    )


def rolled_version(job_version: int, version_bits: int | None, mask: int) -> int:
    """BIP 310: the header version a submit stands for."""
    if version_bits is None:
        return job_version
    return (job_version & ~mask & 0xFFFFFFFF) | (version_bits & mask)


# -- mining.subscribe / mining.set_extranonce -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    """What ``mining.subscribe`` (or ``mining.set_extranonce``) hands the miner."""

    extranonce1: bytes
    extranonce2_size: int
    session_id: str | None = None


def subscribe_result(subscription: Subscription) -> list[Any]:
    sid = subscription.session_id or subscription.extranonce1.hex()
    return [
        [["mining.set_difficulty", sid], ["mining.notify", sid]],
        subscription.extranonce1.hex(),
        subscription.extranonce2_size,
    ]


def parse_subscribe_result(result: Any) -> Subscription:
    if not isinstance(result, list) or len(result) < 3:
        raise ProtocolViolation("mining.subscribe result must be [subscriptions, extranonce1, size]")
    subs, en1, size = result[:3]
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 32:
        raise ProtocolViolation("extranonce2_size must be an integer 0..32")
    session_id: str | None = None
    # Quirk: some pools send one pair ["mining.notify", id] instead of a list of pairs.
    pairs = [subs] if isinstance(subs, list) and subs and isinstance(subs[0], str) else subs
    if isinstance(pairs, list):
        for pair in pairs:
            if isinstance(pair, list) and len(pair) >= 2 and pair[0] == "mining.notify":
                session_id = str(pair[1])
    return Subscription(hex_bytes(en1, "extranonce1"), size, session_id)


def parse_set_extranonce(params: Sequence[Any]) -> Subscription:
    if len(params) < 2:
        raise ProtocolViolation("mining.set_extranonce needs [extranonce1, extranonce2_size]")
    en1, size = params[:2]
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 32:
        raise ProtocolViolation("extranonce2_size must be an integer 0..32")
    return Subscription(hex_bytes(en1, "extranonce1"), size)


# -- mining.configure (BIP 310) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigureRequest:
    """The extensions a miner asked for and its version-rolling parameters."""

    extensions: tuple[str, ...]
    version_mask: int | None = None
    min_bit_count: int = 0


def configure_params(version_mask: int, min_bit_count: int = 2) -> list[Any]:
    return [
        [VERSION_ROLLING],
        {VERSION_ROLLING_MASK: u32_hex(version_mask), VERSION_ROLLING_MIN_BIT_COUNT: min_bit_count},
    ]


def parse_configure(params: Sequence[Any]) -> ConfigureRequest:
    if not params or not isinstance(params[0], list):
        raise ProtocolViolation("mining.configure needs [extensions, parameters]")
    extensions = tuple(str(e) for e in params[0])
    options = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
    mask: int | None = None
    if VERSION_ROLLING in extensions:
        raw = options.get(VERSION_ROLLING_MASK, "ffffffff")
        mask = u32_from_hex(raw, VERSION_ROLLING_MASK)
    min_bits = options.get(VERSION_ROLLING_MIN_BIT_COUNT, 0)
    if isinstance(min_bits, bool) or not isinstance(min_bits, int) or not 0 <= min_bits <= 32:
        raise ProtocolViolation("version-rolling.min-bit-count must be an integer 0..32")
    return ConfigureRequest(extensions, mask, min_bits)


def negotiate_version_mask(request: ConfigureRequest, server_mask: int) -> int | None:
    """The mask granted: requested AND allowed, or ``None`` if below the miner's minimum bit count."""
    if request.version_mask is None:
        return None
    granted = request.version_mask & server_mask
    if bin(granted).count("1") < request.min_bit_count:
        return None
    return granted


def configure_result(request: ConfigureRequest, granted_mask: int | None) -> dict[str, Any]:
    """The answer: ``version-rolling`` true with the mask, or false; other extensions false."""
    result: dict[str, Any] = {}
    for ext in request.extensions:
        if ext == VERSION_ROLLING:
            result[VERSION_ROLLING] = granted_mask is not None
            if granted_mask is not None:
                result[VERSION_ROLLING_MASK] = u32_hex(granted_mask)
        else:
            result[ext] = False
    return result


def parse_configure_result(result: Any) -> int:
    """Version mask granted by the pool (0 if version rolling was refused)."""
    if not isinstance(result, dict) or not result.get(VERSION_ROLLING):
        return 0
    return u32_from_hex(result.get(VERSION_ROLLING_MASK, "0"), VERSION_ROLLING_MASK)
