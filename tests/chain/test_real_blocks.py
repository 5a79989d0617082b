"""Real blocks recomputed from raw bytes: hashes, txids, wtxids, merkle roots, commitments."""

from __future__ import annotations

import pytest

from hashwatt.chain import (
    Block,
    block_merkle_root,
    block_txids,
    block_weight,
    block_witness_root,
    block_wtxids,
    find_witness_commitment,
    hash_to_hex,
    header_hash_hex,
    header_meets_target,
    merkle_branch,
    merkle_root_from_branch,
    push_int,
    tx_weight,
    validate_block,
    witness_commitment,
    witness_commitment_script,
    witness_merkle_root,
)
from tests.chain._fixtures import block_vectors, parsed_block, raw_block, witness_commitment_vector


@pytest.mark.parametrize("vector", block_vectors(), ids=lambda v: f"h{v['height']}")
def test_mainnet_vector_block_recomputes(vector: dict[str, object]) -> None:
    raw = bytes.fromhex(str(vector["block_hex"]))
    block = Block.from_bytes(raw)
    assert header_hash_hex(block.header) == vector["block_hash"]
    assert block.header.to_bytes().hex() == vector["header_hex"]
    assert [hash_to_hex(t) for t in block_txids(block)] == vector["txids"]
    assert hash_to_hex(block_merkle_root(block)) == vector["merkle_root"]
    assert block.header.nonce == vector["nonce"]
    assert f"{block.header.bits:08x}" == vector["bits_hex"]
    assert len(block.to_bytes()) == vector["size_bytes"]
    assert block.to_bytes() == raw
    assert header_meets_target(block.header)
    assert validate_block(block, height=int(str(vector["height"]))) == []


def test_block_413567_full() -> None:
    raw = raw_block("block_413567.hex")
    block = parsed_block("block_413567.hex")
    assert len(block.transactions) == 1557
    assert block.to_bytes() == raw
    assert block_merkle_root(block) == block.header.merkle_root
    assert header_meets_target(block.header)
    assert header_hash_hex(block.header).startswith("0000000000000000")
    # Non-segwit block: weight is 4 x size.
    assert block_weight(block) == 4 * len(raw)
    coinbase_script = block.transactions[0].inputs[0].script_sig
    assert coinbase_script.startswith(push_int(413567))
    assert validate_block(block, height=413567) == []


def test_segwit_testnet_block() -> None:
    raw = raw_block("block_testnet3_924634.hex")
    block = parsed_block("block_testnet3_924634.hex")
    assert block.to_bytes() == raw
    assert any(tx.has_witness for tx in block.transactions)
    # txid != wtxid exactly for the transactions carrying witnesses (the coinbase too).
    for tx, tid, wid in zip(block.transactions, block_txids(block), block_wtxids(block), strict=True):
        assert (tid != wid) == tx.has_witness
    commitment = find_witness_commitment(block.transactions[0])
    assert commitment is not None
    reserved = block.transactions[0].inputs[0].witness[0]
    assert witness_commitment(block_witness_root(block), reserved) == commitment
    assert block_merkle_root(block) == block.header.merkle_root
    stripped = len(block.to_bytes(include_witness=False))
    assert block_weight(block) == 3 * stripped + len(raw)
    assert sum(tx_weight(tx) for tx in block.transactions) < block_weight(block)
    assert validate_block(block, height=924634) == []


def test_witness_commitment_of_coinbase_only_block() -> None:
    vector = witness_commitment_vector()
    root = witness_merkle_root([bytes(32)])
    commitment = witness_commitment(root)
    assert commitment.hex() == vector["commitment_hash"]
    assert witness_commitment_script(commitment).hex() == vector["default_witness_commitment_script_hex"]


@pytest.mark.parametrize("name", ["block_413567.hex", "block_testnet3_924634.hex"])
def test_merkle_branch_folds_to_root_for_every_leaf(name: str) -> None:
    block = parsed_block(name)
    txids = block_txids(block)
    indices = sorted({0, 1, len(txids) // 2, len(txids) - 1})
    for index in indices:
        branch = merkle_branch(txids, index)
        assert merkle_root_from_branch(txids[index], branch, index) == block.header.merkle_root
    # A wrong leaf does not fold to the root.
    assert merkle_root_from_branch(txids[1], merkle_branch(txids, 0), 0) != block.header.merkle_root
