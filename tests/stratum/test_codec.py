"""Stratum codec against real blocks: notify params -> Job -> header must give the real header."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from hashwatt.chain import DIFFICULTY_1_TARGET, header_hash_hex
from hashwatt.stratum import (
    BIP320_VERSION_MASK,
    ConfigureRequest,
    ProtocolViolation,
    Subscription,
    configure_params,
    configure_result,
    job_from_notify,
    negotiate_version_mask,
    notify_params,
    parse_configure,
    parse_configure_result,
    parse_submit,
    parse_subscribe_result,
    prevhash_from_stratum,
    prevhash_to_stratum,
    rolled_version,
    submit_params,
    subscribe_result,
    target_from_difficulty,
)
from hashwatt.work import Solution, assemble_header, header_prefix
from tests.stratum._real import notify_from_block, real_block, stratum_prevhash_by_words

BLOCKS = ["170", "169", "testnet3_924634"]


@pytest.mark.parametrize("name", BLOCKS)
@pytest.mark.parametrize("split_at", [42, 50])
def test_notify_rebuilds_the_real_header(name: str, split_at: int) -> None:
    block = real_block(name)
    vec = notify_from_block(block, split_at)
    job = job_from_notify(
        vec["params"], extranonce1=vec["en1"], extranonce2_size=4, share_target=DIFFICULTY_1_TARGET
    )
    assert job.prev_hash == block.header.prev_hash
    assert job.clean_jobs is True
    header = assemble_header(job, Solution(job.job_id, vec["en2"], job.ntime, vec["nonce"], job.version))
    assert header.to_bytes() == block.header.to_bytes()
    assert header_hash_hex(header) == header_hash_hex(block.header)
    # The 76-byte prefix a hash backend scans is the real header minus its nonce.
    assert header_prefix(job, vec["en2"]) == block.header.to_bytes()[:76]


@pytest.mark.parametrize("name", BLOCKS)
def test_notify_params_round_trip(name: str) -> None:
    block = real_block(name)
    vec = notify_from_block(block, 42)
    job = job_from_notify(vec["params"], extranonce1=vec["en1"], extranonce2_size=4, share_target=1 << 200)
    assert notify_params(job) == vec["params"]
    # JSON-able exactly as sent on the wire.
    assert json.loads(json.dumps(notify_params(job))) == vec["params"]


def test_prevhash_word_swap_known_example() -> None:
    # slush's Stratum documentation example: the display-order hash and its notify form.
    display = "00000000440b921e1b77c6c0487ae5616de67f788f44ae2a5af6e2194d16b6f8"
    stratum = "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000"
    internal = bytes.fromhex(display)[::-1]
    assert prevhash_to_stratum(internal) == stratum
    assert stratum_prevhash_by_words(internal) == stratum
    assert prevhash_from_stratum(stratum) == internal


def test_prevhash_rejects_wrong_length() -> None:
    with pytest.raises(ProtocolViolation):
        prevhash_from_stratum("00" * 31)


def test_submit_round_trip_with_version_rolling() -> None:
    sol = Solution("1f", bytes.fromhex("0000002a"), 0x504E86B9, 0xDEADBEEF, 0x20000000 | 0x00A0E000)
    params = submit_params("alice.rig1", sol, version_mask=BIP320_VERSION_MASK)
    assert params == ["alice.rig1", "1f", "0000002a", "504e86b9", "deadbeef", "00a0e000"]
    sub = parse_submit(params)
    assert (sub.worker, sub.job_id, sub.extranonce2, sub.ntime, sub.nonce) == (
        "alice.rig1",
        "1f",
        bytes.fromhex("0000002a"),
        0x504E86B9,
        0xDEADBEEF,
    )
    assert rolled_version(0x20000000, sub.version_bits, BIP320_VERSION_MASK) == sol.version


def test_submit_without_rolling_has_five_params() -> None:
    sol = Solution("a", b"\x00" * 4, 1, 2, 0x20000000)
    params = submit_params("w", sol)
    assert len(params) == 5
    assert parse_submit(params).version_bits is None


@pytest.mark.parametrize(
    "params",
    [
        ["w", "j", "zz", "00000001", "00000002"],  # extranonce2 not hex
        ["w", "j", "00", "123456789", "00000002"],  # ntime longer than 8 digits
        ["w", "j", "00", "00000001", 5],  # nonce not a string
        [5, "j", "00", "00000001", "00000002"],  # worker not a string
        ["w", "j", "00"],  # too few
    ],
)
def test_submit_rejects_bad_types(params: list[object]) -> None:
    with pytest.raises(ProtocolViolation):
        parse_submit(params)


def test_configure_version_rolling_negotiation() -> None:
    params = configure_params(0xFFFFFFFF, 2)
    assert params == [
        ["version-rolling"],
        {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2},
    ]
    req = parse_configure(params)
    granted = negotiate_version_mask(req, BIP320_VERSION_MASK)
    assert granted == BIP320_VERSION_MASK
    result = configure_result(req, granted)
    assert result == {"version-rolling": True, "version-rolling.mask": "1fffe000"}
    assert parse_configure_result(result) == BIP320_VERSION_MASK
    # A miner asking for bits the pool does not allow gets too few bits: refused.
    req2 = ConfigureRequest(("version-rolling", "minimum-difficulty"), 0x0000000F, 2)
    assert negotiate_version_mask(req2, BIP320_VERSION_MASK) is None
    assert configure_result(req2, None) == {"version-rolling": False, "minimum-difficulty": False}
    assert parse_configure_result({"version-rolling": False}) == 0


def test_subscribe_result_shapes() -> None:
    sub = Subscription(bytes.fromhex("08000002"), 4, "08000002")
    result = subscribe_result(sub)
    assert result == [[["mining.set_difficulty", "08000002"], ["mining.notify", "08000002"]], "08000002", 4]
    assert parse_subscribe_result(result) == sub
    # Older pools send a single pair instead of a list of pairs.
    assert parse_subscribe_result([["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"], "f8002c90", 4]) == (
        Subscription(bytes.fromhex("f8002c90"), 4, "ae6812eb4cd7735a302a8a9dd95cf71f")
    )
    with pytest.raises(ProtocolViolation):
        parse_subscribe_result([[], "00", 99])


def test_difficulty_one_is_truediffone() -> None:
    assert target_from_difficulty(1) == 0xFFFF << 208
    assert target_from_difficulty(2) == (0xFFFF << 208) // 2
    assert target_from_difficulty(0.5) == (0xFFFF << 208) * 2


def test_tiny_difficulties_give_exact_or_capped_targets() -> None:
    assert target_from_difficulty(2.0**-40) == (1 << 256) - 1
    d = 2.0**-32 * 1.5
    assert target_from_difficulty(d) == int(Fraction(0xFFFF << 208) / Fraction(d))
    assert target_from_difficulty(2.0**-31) == (0xFFFF << 208) * 2**31
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ProtocolViolation):
            target_from_difficulty(bad)
