"""Serialization: CompactSize, exact reads, hex, and typed errors on bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashwatt.chain import (
    Block,
    BlockHeader,
    ByteReader,
    InvalidHex,
    NonCanonical,
    TrailingBytes,
    Transaction,
    Truncated,
    bytes_from_hex,
    compact_size_bytes,
    hash_from_hex,
    hash_to_hex,
)
from hashwatt.errors import ChainError, DecodeError
from tests.chain._fixtures import block_vectors, raw_block


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, "00"),
        (0xFC, "fc"),
        (0xFD, "fdfd00"),
        (0xFFFF, "fdffff"),
        (0x10000, "fe00000100"),
        (0xFFFFFFFF, "feffffffff"),
        (0x100000000, "ff0000000001000000"),
    ],
)
def test_compact_size_encoding(n: int, encoded: str) -> None:
    assert compact_size_bytes(n).hex() == encoded
    assert ByteReader(bytes.fromhex(encoded)).compact_size(limit=1 << 64) == n


@pytest.mark.parametrize("encoded", ["fd0000", "fdfc00", "feffff0000", "ffffffffff00000000"])
def test_non_minimal_compact_size_rejected(encoded: str) -> None:
    with pytest.raises(NonCanonical, match="non-minimal"):
        ByteReader(bytes.fromhex(encoded)).compact_size(limit=1 << 64)


def test_oversized_compact_size_rejected() -> None:
    with pytest.raises(NonCanonical, match="above the limit"):
        ByteReader(bytes.fromhex("fe01000002")).compact_size()  # 0x02000001 > MAX_SIZE


@given(st.integers(min_value=0, max_value=(1 << 64) - 1))
def test_compact_size_round_trip(n: int) -> None:
    reader = ByteReader(compact_size_bytes(n))
    assert reader.compact_size(limit=1 << 64) == n
    reader.expect_end()


def test_hash_display_order() -> None:
    genesis = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    internal = hash_from_hex(genesis)
    assert internal[-1] == 0 and internal[0] == 0x6F
    assert hash_to_hex(internal) == genesis
    with pytest.raises(InvalidHex):
        hash_from_hex("00ff")


def test_bad_hex_is_typed() -> None:
    with pytest.raises(InvalidHex, match="odd length"):
        bytes_from_hex("abc")
    with pytest.raises(InvalidHex, match="position 2"):
        bytes_from_hex("00zz")
    assert bytes_from_hex(" 00ff\n") == b"\x00\xff"


def test_truncated_block_everywhere() -> None:
    raw = bytes.fromhex(block_vectors()[5]["block_hex"])  # block 170: two transactions
    for cut in (0, 1, 79, 80, 81, 100, len(raw) // 2, len(raw) - 1):
        with pytest.raises(Truncated):
            Block.from_bytes(raw[:cut])


def test_trailing_bytes_rejected() -> None:
    raw = bytes.fromhex(block_vectors()[0]["block_hex"])
    with pytest.raises(TrailingBytes):
        Block.from_bytes(raw + b"\x00")
    with pytest.raises(TrailingBytes):
        BlockHeader.from_bytes(raw[:81])
    tx_raw = raw[81:]
    Transaction.from_bytes(tx_raw)
    with pytest.raises(TrailingBytes):
        Transaction.from_bytes(tx_raw + b"\x01")


def test_absurd_transaction_count_rejected_without_allocating() -> None:
    raw = bytes.fromhex(block_vectors()[0]["block_hex"])
    forged = raw[:80] + bytes.fromhex("fe00000002") + raw[81:]  # claims 33,554,432 transactions
    with pytest.raises(Truncated, match="cannot fit"):
        Block.from_bytes(forged)
    oversized = raw[:80] + bytes.fromhex("ff0000000001000000") + raw[81:]  # above MAX_SIZE
    with pytest.raises(DecodeError, match="above the limit"):
        Block.from_bytes(oversized)


def test_segwit_superfluous_and_unknown_flags() -> None:
    block = Block.from_bytes(raw_block("block_testnet3_924634.hex"))
    segwit_tx = next(tx for tx in block.transactions if tx.has_witness)
    raw = segwit_tx.to_bytes()
    assert raw[4:6] == b"\x00\x01"
    with pytest.raises(DecodeError, match="flags"):
        Transaction.from_bytes(raw[:5] + b"\x03" + raw[6:])
    # Same transaction with all witnesses emptied but the flag kept: superfluous witness.
    legacy = segwit_tx.to_bytes(include_witness=False)
    n_in = len(segwit_tx.inputs)
    body = legacy[4:-4]
    superfluous = legacy[:4] + b"\x00\x01" + body + b"\x00" * n_in + legacy[-4:]
    with pytest.raises(NonCanonical, match="superfluous"):
        Transaction.from_bytes(superfluous)


def test_every_decode_error_is_a_chain_error() -> None:
    for exc in (InvalidHex, Truncated, TrailingBytes, NonCanonical):
        assert issubclass(exc, ChainError)


def test_decoded_encoding_is_not_carried_into_changed_values() -> None:
    import dataclasses

    block = Block.from_bytes(raw_block("block_testnet3_924634.hex"))
    for tx in block.transactions[:3]:
        changed = dataclasses.replace(tx, locktime=tx.locktime + 1)
        assert changed.to_bytes()[-4:] != tx.to_bytes()[-4:]
        assert Transaction.from_bytes(changed.to_bytes()) == changed
        # A freshly built equal value encodes exactly like the decoded one.
        rebuilt = Transaction(tx.version, tx.inputs, tx.outputs, tx.locktime)
        assert rebuilt == tx
        assert rebuilt.to_bytes() == tx.to_bytes()
        assert rebuilt.to_bytes(include_witness=False) == tx.to_bytes(include_witness=False)
