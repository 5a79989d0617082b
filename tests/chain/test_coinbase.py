"""Coinbase construction: BIP 34 height push, tag, extranonce split, outputs, commitment."""

from __future__ import annotations

import pytest

from hashwatt.chain import (
    BadCoinbaseValue,
    Block,
    BlockHeader,
    OutPoint,
    Transaction,
    TxIn,
    TxOut,
    block_subsidy_sat,
    block_wtxids,
    build_coinbase,
    coinbase_outputs,
    find_witness_commitment,
    merkle_branch,
    merkle_root,
    merkle_root_from_branch,
    push_int,
    script_num_bytes,
    sha256d,
    txid,
    validate_block,
    witness_commitment,
    witness_merkle_root,
)
from hashwatt.errors import InputError
from tests.chain._fixtures import parsed_block

P2WPKH = bytes.fromhex("0014") + bytes(range(20))


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, ""),
        (1, "01"),
        (127, "7f"),
        (128, "8000"),
        (255, "ff00"),
        (256, "0001"),
        (-1, "81"),
        (-128, "8080"),
    ],
)
def test_script_num(n: int, encoded: str) -> None:
    assert script_num_bytes(n).hex() == encoded


def test_bip34_height_push_matches_real_coinbases() -> None:
    assert push_int(1) == b"\x51" and push_int(16) == b"\x60"
    assert push_int(17).hex() == "0111"
    assert push_int(413_567).hex() == "037f4f06"
    real = parsed_block("block_413567.hex").transactions[0].inputs[0].script_sig
    assert real.startswith(push_int(413_567))
    testnet = parsed_block("block_testnet3_924634.hex").transactions[0].inputs[0].script_sig
    assert testnet.startswith(push_int(924_634))


def test_split_coinbase_round_trips() -> None:
    outputs = coinbase_outputs(P2WPKH, 312_500_000, witness_commitment=bytes(32))
    parts = build_coinbase(
        840_000, outputs, tag=b"/hashwatt/", extranonce1_size=4, extranonce2_size=8, segwit=True
    )
    en1, en2 = bytes.fromhex("deadbeef"), bytes(range(8))
    raw = parts.assemble(en1, en2)
    tx = Transaction.from_bytes(raw)
    assert tx.is_coinbase
    script = tx.inputs[0].script_sig
    assert script.startswith(push_int(840_000) + b"\x0a/hashwatt/")
    assert script.endswith(en1 + en2)
    assert [o.value_sat for o in tx.outputs] == [312_500_000, 0]
    assert find_witness_commitment(tx) == bytes(32)
    full = parts.transaction(en1, en2)
    assert full.inputs[0].witness == (bytes(32),)
    assert txid(full) == sha256d(raw)  # the witness does not change the txid
    with pytest.raises(InputError):
        parts.assemble(en1, en2[:4])


def test_coinbase_limits() -> None:
    with pytest.raises(InputError, match="scriptSig"):
        build_coinbase(1, [TxOut(0, b"\x51")], tag=b"x" * 95)
    with pytest.raises(InputError):
        build_coinbase(1, [])
    with pytest.raises(InputError):
        coinbase_outputs(b"\x51", -1)


def test_built_segwit_block_with_real_transactions_validates() -> None:
    """Rebuild the real segwit testnet block's coinbase ourselves: commitment and merkle root check out."""
    real = parsed_block("block_testnet3_924634.hex")
    others = real.transactions[1:]
    real_coinbase = real.transactions[0]
    wtxids = [bytes(32), *block_wtxids(real)[1:]]
    commitment = witness_commitment(witness_merkle_root(wtxids))
    assert commitment == find_witness_commitment(real_coinbase)  # same commitment as the real miner's
    reward = sum(o.value_sat for o in real_coinbase.outputs)
    parts = build_coinbase(
        924_634, coinbase_outputs(P2WPKH, reward, witness_commitment=commitment), tag=b"hw", segwit=True
    )
    coinbase = parts.transaction(b"\x00" * 4, b"\x01" * 4)
    txids = [txid(coinbase), *(txid(tx) for tx in others)]
    branch = merkle_branch(txids, 0)
    root = merkle_root_from_branch(txid(coinbase), branch)
    assert root == merkle_root(txids)
    header = BlockHeader(
        real.header.version, real.header.prev_hash, root, real.header.time, real.header.bits, 0
    )
    block = Block(header, (coinbase, *others))
    fees = reward - block_subsidy_sat(924_634)
    assert validate_block(block, height=924_634, check_pow=False, fees_sat=fees) == []
    errors = validate_block(block, height=924_634, check_pow=False, fees_sat=fees - 1)
    assert [type(e) for e in errors] == [BadCoinbaseValue]


def test_coinbase_with_other_inputs_is_not_a_coinbase() -> None:
    fake = Transaction(1, (TxIn(OutPoint(bytes(32), 0), b"\x01\x02"),), (TxOut(1, b"\x51"),))
    assert not fake.is_coinbase
