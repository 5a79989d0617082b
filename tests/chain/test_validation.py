"""Each consensus check fails on a block built to break exactly that rule."""

from __future__ import annotations

import dataclasses

import pytest

from hashwatt.chain import (
    BadCoinbase,
    BadCoinbaseHeight,
    BadCoinbaseValue,
    BadMerkleRoot,
    BadProofOfWork,
    BadTimestamp,
    BadTransaction,
    BadWeight,
    BadWitnessCommitment,
    Block,
    BlockInvalid,
    DuplicateTransaction,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    block_fees_sat,
    block_merkle_root,
    check_block,
    validate_block,
)
from tests.chain._fixtures import block_vectors, parsed_block


def _vector_block(height: int) -> Block:
    vector = next(v for v in block_vectors() if v["height"] == height)
    return Block.from_hex(vector["block_hex"])


def _with_txs(block: Block, txs: tuple[Transaction, ...]) -> Block:
    """Replace transactions and fix the merkle root, so only the intended rule breaks."""
    rebuilt = Block(block.header, txs)
    return Block(dataclasses.replace(block.header, merkle_root=block_merkle_root(rebuilt)), txs)


def _kinds(errors: list[BlockInvalid]) -> list[type[BlockInvalid]]:
    return [type(e) for e in errors]


def test_real_blocks_pass() -> None:
    assert validate_block(_vector_block(170), height=170, now=1231731025) == []
    check_block(parsed_block("block_413567.hex"), height=413567)


def test_proof_of_work() -> None:
    block = _vector_block(1)
    bad = Block(dataclasses.replace(block.header, nonce=block.header.nonce + 1), block.transactions)
    assert _kinds(validate_block(bad)) == [BadProofOfWork]
    assert validate_block(bad, check_pow=False) == []
    neg_bits = Block(dataclasses.replace(block.header, bits=0x04923456), block.transactions)
    with pytest.raises(BadProofOfWork, match="invalid bits"):
        check_block(neg_bits)


def test_merkle_root_mismatch() -> None:
    block = _vector_block(170)
    bad = Block(dataclasses.replace(block.header, merkle_root=bytes(32)), block.transactions)
    assert BadMerkleRoot in _kinds(validate_block(bad, check_pow=False))


def test_duplicate_transactions() -> None:
    block = _vector_block(170)
    dup = _with_txs(block, (*block.transactions, block.transactions[1]))
    assert DuplicateTransaction in _kinds(validate_block(dup, check_pow=False))


def test_coinbase_position() -> None:
    block = _vector_block(170)
    swapped = _with_txs(block, (block.transactions[1], block.transactions[0]))
    kinds = _kinds(validate_block(swapped, check_pow=False))
    assert kinds.count(BadCoinbase) == 2  # first is not a coinbase, and a second coinbase exists
    empty = Block(block.header, ())
    assert _kinds(validate_block(empty, check_pow=False)) == [BadCoinbase]


def test_coinbase_value_with_fees_from_spent_outputs() -> None:
    block = _vector_block(170)
    spend = block.transactions[1]
    # Block 170's transaction spends block 9's 50 BTC coinbase output and pays 10 + 40 BTC: no fee.
    spent = {spend.inputs[0].prevout: 50 * 100_000_000}
    assert block_fees_sat(block, spent) == 0
    assert block_fees_sat(block, {}) is None
    assert validate_block(block, height=170, spent_values_sat=spent, check_pow=False) == []
    coinbase = block.transactions[0]
    greedy_out = (TxOut(coinbase.outputs[0].value_sat + 1, coinbase.outputs[0].script_pubkey),)
    greedy = _with_txs(block, (dataclasses.replace(coinbase, outputs=greedy_out), spend))
    errors = validate_block(greedy, height=170, spent_values_sat=spent, check_pow=False)
    assert _kinds(errors) == [BadCoinbaseValue]
    # With a 1-satoshi fee the same coinbase is allowed.
    assert validate_block(greedy, height=170, fees_sat=1, check_pow=False) == []


def test_bip34_height() -> None:
    block = parsed_block("block_413567.hex")
    assert _kinds(validate_block(block, height=413568, check_pow=False)) == [BadCoinbaseHeight]
    # Before BIP 34 activation the height is not required.
    assert validate_block(_vector_block(170), height=170) == []


def test_weight_limit() -> None:
    block = _vector_block(170)
    coinbase, spend = block.transactions
    huge_script = b"\x6a" + b"\x00" * 1_000_001
    bloated = dataclasses.replace(spend, outputs=(*spend.outputs, TxOut(0, huge_script)))
    heavy = _with_txs(block, (coinbase, bloated))
    assert _kinds(validate_block(heavy, check_pow=False)) == [BadWeight]


def test_witness_commitment_required_and_checked() -> None:
    block = parsed_block("block_testnet3_924634.hex")
    coinbase = block.transactions[0]
    stripped_outputs = tuple(
        o for o in coinbase.outputs if not o.script_pubkey.startswith(b"\x6a\x24\xaa\x21")
    )
    no_commit = _with_txs(
        block, (dataclasses.replace(coinbase, outputs=stripped_outputs), *block.transactions[1:])
    )
    assert BadWitnessCommitment in _kinds(validate_block(no_commit, check_pow=False))
    # Drop a transaction: the witness root changes (wtxid = txid without witness), the commitment breaks.
    mismatched = _with_txs(block, block.transactions[:-1])
    assert _kinds(validate_block(mismatched, check_pow=False)) == [BadWitnessCommitment]
    # A wrong reserved value also breaks it.
    bad_reserved = dataclasses.replace(coinbase.inputs[0], witness=(b"\x01" * 32,))
    bad = _with_txs(block, (dataclasses.replace(coinbase, inputs=(bad_reserved,)), *block.transactions[1:]))
    assert BadWitnessCommitment in _kinds(validate_block(bad, check_pow=False))


def test_future_timestamp() -> None:
    block = _vector_block(170)
    t = block.header.time
    assert validate_block(block, now=t - 7200) == []
    assert _kinds(validate_block(block, now=t - 7201)) == [BadTimestamp]


def test_transaction_shape() -> None:
    block = _vector_block(170)
    coinbase, spend = block.transactions
    no_outputs = dataclasses.replace(spend, outputs=())
    assert BadTransaction in _kinds(validate_block(_with_txs(block, (coinbase, no_outputs)), check_pow=False))
    negative = dataclasses.replace(spend, outputs=(TxOut(-1, b"\x51"),))
    assert BadTransaction in _kinds(validate_block(_with_txs(block, (coinbase, negative)), check_pow=False))
    # A second transaction spending the null outpoint is a second coinbase.
    second_coinbase = dataclasses.replace(spend, inputs=(TxIn(OutPoint(bytes(32), 0xFFFFFFFF), b"\x01\x02"),))
    assert BadCoinbase in _kinds(
        validate_block(_with_txs(block, (coinbase, second_coinbase)), check_pow=False)
    )
