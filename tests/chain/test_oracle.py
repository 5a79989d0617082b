"""python-bitcoinlib as an independent oracle: parsing, txids, merkle roots and block checks."""

from __future__ import annotations

import dataclasses

import bitcoin.core as bc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashwatt.chain import (
    MAX_MONEY_SAT,
    Block,
    BlockHeader,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    block_merkle_root,
    header_hash,
    push_data,
    simple_coinbase,
    tx_weight,
    txid,
    validate_block,
    wtxid,
)
from tests.chain._fixtures import block_vectors, raw_block

# Push-only scripts: well-formed, so bitcoinlib's sigop counter can parse them.
scripts = st.lists(st.binary(max_size=20), max_size=3).map(
    lambda items: b"".join(push_data(i) for i in items)
)
outpoints = st.builds(OutPoint, st.binary(min_size=32, max_size=32), st.integers(0, 0xFFFFFFFE))
witness_stacks = st.lists(st.binary(max_size=40), max_size=3).map(tuple)


@st.composite
def transactions(draw: st.DrawFn, *, segwit: bool | None = None) -> Transaction:
    n_in = draw(st.integers(1, 4))
    prevouts = draw(st.lists(outpoints, min_size=n_in, max_size=n_in, unique=True))
    use_witness = draw(st.booleans()) if segwit is None else segwit
    inputs = []
    for prevout in prevouts:
        witness = draw(witness_stacks) if use_witness else ()
        inputs.append(TxIn(prevout, draw(scripts), draw(st.integers(0, 0xFFFFFFFF)), witness))
    if use_witness and not any(i.witness for i in inputs):
        inputs[0] = dataclasses.replace(inputs[0], witness=(b"\x01",))
    outputs = draw(
        st.lists(st.builds(TxOut, st.integers(0, MAX_MONEY_SAT // 8), scripts), min_size=1, max_size=4)
    )
    return Transaction(
        draw(st.integers(-(2**31), 2**31 - 1)),
        tuple(inputs),
        tuple(outputs),
        draw(st.integers(0, 0xFFFFFFFF)),
    )


@given(transactions())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_transaction_round_trip_and_ids_agree_with_bitcoinlib(tx: Transaction) -> None:
    raw = tx.to_bytes()
    assert Transaction.from_bytes(raw) == tx
    assert Transaction.from_bytes(raw).to_bytes() == raw
    theirs = bc.CTransaction.deserialize(raw)
    assert theirs.serialize() == raw
    assert theirs.GetTxid() == txid(tx)
    assert theirs.GetHash() == wtxid(tx)
    assert theirs.has_witness() == tx.has_witness
    assert theirs.calc_weight() == tx_weight(tx)


@given(st.binary(min_size=80, max_size=80))
def test_header_round_trip_and_hash_agree(raw: bytes) -> None:
    header = BlockHeader.from_bytes(raw)
    assert header.to_bytes() == raw
    assert bc.CBlockHeader.deserialize(raw).GetHash() == header_hash(header)


def _block_from(height: int, txs: list[Transaction], time: int) -> Block:
    coinbase = simple_coinbase(height, [TxOut(50 * 100_000_000, b"\x51")], script_suffix=b"\x08hashwatt")
    draft = Block(BlockHeader(0x20000000, bytes(32), bytes(32), time, 0x1D00FFFF, 0), (coinbase, *txs))
    return Block(dataclasses.replace(draft.header, merkle_root=block_merkle_root(draft)), draft.transactions)


@given(
    st.lists(transactions(segwit=False), max_size=6, unique_by=lambda t: txid(t)),
    st.integers(1, 2_000_000_000),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_blocks_checked_alike(txs: list[Transaction], time: int) -> None:
    block = _block_from(500, txs, time)
    theirs = bc.CBlock.deserialize(block.to_bytes())
    assert theirs.calc_merkle_root() == block.header.merkle_root
    assert theirs.GetHash() == header_hash(block.header)
    bc.CheckBlock(theirs, fCheckPoW=False, cur_time=time)
    assert validate_block(block, check_pow=False, now=time) == []
    # Break the merkle root: both reject.
    broken = Block(dataclasses.replace(block.header, merkle_root=bytes(32)), block.transactions)
    with pytest.raises(bc.ValidationError):
        bc.CheckBlock(bc.CBlock.deserialize(broken.to_bytes()), fCheckPoW=False, cur_time=time)
    assert validate_block(broken, check_pow=False) != []
    if txs:
        # Coinbase not first: both reject.
        swapped = _block_from(500, [], time)
        swapped = Block(block.header, (txs[0], *swapped.transactions))
        swapped = Block(
            dataclasses.replace(swapped.header, merkle_root=block_merkle_root(swapped)), swapped.transactions
        )
        with pytest.raises(bc.ValidationError):
            bc.CheckBlock(bc.CBlock.deserialize(swapped.to_bytes()), fCheckPoW=False, cur_time=time)
        assert validate_block(swapped, check_pow=False) != []


def test_duplicate_input_rejected_by_both() -> None:
    prevout = OutPoint(b"\x11" * 32, 0)
    tx = Transaction(1, (TxIn(prevout, b""), TxIn(prevout, b"")), (TxOut(1, b"\x51"),))
    block = _block_from(500, [tx], 1_600_000_000)
    with pytest.raises(bc.ValidationError):
        bc.CheckBlock(bc.CBlock.deserialize(block.to_bytes()), fCheckPoW=False)
    assert validate_block(block, check_pow=False) != []


@pytest.mark.parametrize("index", range(7))
def test_real_vector_blocks_pass_bitcoinlib(index: int) -> None:
    vector = block_vectors()[index]
    raw = bytes.fromhex(vector["block_hex"])
    theirs = bc.CBlock.deserialize(raw)
    bc.CheckBlock(theirs, cur_time=2_000_000_000)
    ours = Block.from_bytes(raw)
    assert theirs.calc_merkle_root() == block_merkle_root(ours)
    assert validate_block(ours, height=vector["height"]) == []


def test_real_large_block_agrees_with_bitcoinlib() -> None:
    raw = raw_block("block_413567.hex")
    theirs = bc.CBlock.deserialize(raw)
    ours = Block.from_bytes(raw)
    assert theirs.GetHash() == header_hash(ours.header)
    assert [t.GetTxid() for t in theirs.vtx] == [txid(t) for t in ours.transactions]
    assert theirs.calc_merkle_root() == block_merkle_root(ours)
    bc.CheckBlock(theirs, cur_time=2_000_000_000)


def test_real_segwit_block_agrees_with_bitcoinlib() -> None:
    raw = raw_block("block_testnet3_924634.hex")
    theirs = bc.CBlock.deserialize(raw)
    ours = Block.from_bytes(raw)
    assert [t.GetHash() for t in theirs.vtx] == [wtxid(t) for t in ours.transactions]
    assert theirs.GetWeight() == sum(tx_weight(t) for t in ours.transactions) + 4 * 81
