"""Value types with fixed-size fields refuse what their wire form cannot carry (issue 10, point 3)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashwatt.chain import BlockHeader, OutPoint, Transaction, TxIn, TxOut
from hashwatt.errors import ChainError, InputError, InvalidField

UINT32 = st.integers(0, 0xFFFFFFFF)
INT32 = st.integers(-(1 << 31), (1 << 31) - 1)
HASH = st.binary(min_size=32, max_size=32)

headers = st.builds(BlockHeader, INT32, HASH, HASH, UINT32, UINT32, UINT32)


@given(headers)
def test_header_round_trips(header: BlockHeader) -> None:
    raw = header.to_bytes()
    assert len(raw) == 80
    assert BlockHeader.from_bytes(raw) == header


@given(st.binary(min_size=80, max_size=80))
def test_any_80_bytes_decode_to_a_header_that_encodes_back(raw: bytes) -> None:
    assert BlockHeader.from_bytes(raw).to_bytes() == raw


@pytest.mark.parametrize("size", [0, 31, 33, 40])
@pytest.mark.parametrize("field", ["prev_hash", "merkle_root"])
def test_header_hash_of_wrong_size_is_refused(field: str, size: int) -> None:
    # Regression: struct's "32s" padded a 31-byte hash and cut a 40-byte one, so
    # from_bytes(to_bytes(h)) != h.
    good = BlockHeader(1, bytes(32), bytes(32), 0, 0x1D00FFFF, 0)
    with pytest.raises(InvalidField) as info:
        dataclasses.replace(good, **{field: b"\x01" * size})
    assert info.value.structure == "BlockHeader"
    assert info.value.field == field
    assert f"got {size}" in str(info.value)
    assert isinstance(info.value, ChainError)
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", 1 << 31),
        ("version", -(1 << 31) - 1),
        ("time", -1),
        ("time", 1 << 32),
        ("bits", 1 << 32),
        ("nonce", -1),
        ("nonce", 1 << 32),
        ("nonce", 1.0),
        ("nonce", True),
    ],
)
def test_header_integer_out_of_wire_range_is_refused(field: str, value: object) -> None:
    good = BlockHeader(1, bytes(32), bytes(32), 0, 0x1D00FFFF, 0)
    with pytest.raises(InvalidField) as info:
        dataclasses.replace(good, **{field: value})
    assert info.value.field == field


def test_header_hash_must_be_bytes() -> None:
    with pytest.raises(InvalidField, match="must be bytes"):
        BlockHeader(1, "00" * 32, bytes(32), 0, 0, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: OutPoint(bytes(31), 0), "txid"),
        (lambda: OutPoint(bytes(32), 1 << 32), "vout"),
        (lambda: TxIn(OutPoint(bytes(32), 0), b"", -1), "sequence"),
        (lambda: TxOut(1 << 63, b""), "value_sat"),
        (lambda: Transaction(1 << 31, (), ()), "version"),
        (lambda: Transaction(1, (), (), 1 << 32), "locktime"),
    ],
)
def test_transaction_parts_check_their_fields(build: object, field: str) -> None:
    with pytest.raises(InvalidField) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field


def test_negative_output_value_is_representable_for_the_consensus_check() -> None:
    # The wire carries int64; check_block, not the constructor, rejects a negative amount.
    assert TxOut(-1, b"\x51").value_sat == -1


outpoints = st.builds(OutPoint, HASH, UINT32)
txins = st.builds(TxIn, outpoints, st.binary(max_size=40), UINT32)
txouts = st.builds(TxOut, st.integers(0, 21_000_000 * 100_000_000), st.binary(max_size=40))
transactions = st.builds(
    Transaction,
    INT32,
    st.lists(txins, min_size=1, max_size=3).map(tuple),
    st.lists(txouts, min_size=1, max_size=3).map(tuple),
    UINT32,
)


@given(transactions)
def test_transaction_round_trips(tx: Transaction) -> None:
    assert Transaction.from_bytes(tx.to_bytes()) == tx
