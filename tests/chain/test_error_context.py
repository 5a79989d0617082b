"""Decode and input errors carry their context as attributes, not only in their message."""

from __future__ import annotations

import pytest

from hashwatt.chain import (
    MAX_BLOCK_HEIGHT,
    Block,
    Transaction,
    block_subsidy_sat,
    build_coinbase,
    bytes_from_hex,
    coin,
    coinbase_outputs,
    compact_size_bytes,
)
from hashwatt.chain._codec import read_compact_size
from hashwatt.errors import ChainInputError, InvalidHex, NonCanonical, TrailingBytes, Truncated
from tests.chain._fixtures import parsed_block, raw_block

BLOCK = "block_413567.hex"


def test_truncated_block_says_where_and_how_much() -> None:
    raw = raw_block(BLOCK)
    cut = raw[: len(raw) - 7]
    with pytest.raises(Truncated) as info:
        Block.from_bytes(cut)
    err = info.value
    assert err.offset is not None and 0 < err.offset <= len(cut)
    assert err.what  # names the structure being read
    if err.needed is not None and err.got is not None:
        assert err.needed > err.got


def test_truncated_script_reports_needed_and_got() -> None:
    raw = parsed_block(BLOCK).transactions[0].to_bytes(include_witness=False)
    script_len_at = 4 + 1 + 36  # version, input count, outpoint
    claimed = raw[script_len_at]
    cut = raw[: script_len_at + 1 + claimed - 3]
    with pytest.raises(Truncated) as info:
        Transaction.from_bytes(cut)
    assert (info.value.what, info.value.offset) == ("scriptSig", script_len_at + 1)
    assert (info.value.needed, info.value.got) == (claimed, claimed - 3)


def test_non_canonical_compact_size_carries_value_offset_and_limit() -> None:
    with pytest.raises(NonCanonical) as info:
        read_compact_size(b"\x00\x00\xfd\x10\x00", 2, "count")
    assert (info.value.value, info.value.offset, info.value.what, info.value.limit) == (
        0x10,
        2,
        "count",
        None,
    )
    with pytest.raises(NonCanonical) as info:
        read_compact_size(compact_size_bytes(5000), 0, "count", limit=4000)
    assert (info.value.value, info.value.limit) == (5000, 4000)
    with pytest.raises(Truncated) as trunc:
        read_compact_size(b"\xfe\x01", 0, "count")
    assert (trunc.value.offset, trunc.value.needed, trunc.value.got) == (0, 5, 2)


def test_trailing_bytes_and_hex_errors_carry_their_numbers() -> None:
    raw = raw_block(BLOCK)
    with pytest.raises(TrailingBytes) as info:
        Block.from_bytes(raw + b"\x00\x00\x00")
    assert info.value.extra == 3 and info.value.offset == len(raw)
    with pytest.raises(InvalidHex) as hex_info:
        bytes_from_hex("00zz")
    assert hex_info.value.position == 2
    with pytest.raises(InvalidHex) as odd:
        bytes_from_hex("abc")
    assert odd.value.length == 3 and odd.value.position is None


@pytest.mark.parametrize("height", [-1, MAX_BLOCK_HEIGHT + 1, 2**70])
def test_height_errors_name_the_field_and_value(height: int) -> None:
    with pytest.raises(ChainInputError) as info:
        block_subsidy_sat(height)
    assert (info.value.field, info.value.value) == ("height", height)
    assert block_subsidy_sat(MAX_BLOCK_HEIGHT) == 0


def test_coinbase_and_coin_errors_name_the_field() -> None:
    with pytest.raises(ChainInputError) as info:
        coinbase_outputs(b"\x51", -5)
    assert (info.value.field, info.value.value) == ("reward_sat", -5)
    with pytest.raises(ChainInputError) as info:
        build_coinbase(1, [], extranonce1_size=4, extranonce2_size=4)
    assert info.value.field == "outputs"
    with pytest.raises(ChainInputError) as info:
        coin("zec")
    assert (info.value.field, info.value.value) == ("coin", "zec")
