"""Pool attribution on real coinbases, address encoding against python-bitcoinlib and BIP vectors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from bitcoin.core.script import CScript
from bitcoin.wallet import CBitcoinAddress

from hashwatt.chain import (
    Block,
    BlockHeader,
    Transaction,
    hash_from_hex,
    header_hash_hex,
    merkle_root_from_branch,
    txid,
)
from hashwatt.data.pools import Pool, load_pools, parse_pools_json
from hashwatt.network import (
    NetworkError,
    attribute_block,
    attribute_blocks_from_node,
    attribute_coinbase,
    attribute_full_block,
    coinbase_height,
    coinbase_payout_addresses,
    script_to_address,
)
from hashwatt.network.errors import NetworkInputError
from hashwatt.node import RpcClient
from tests.network._fixtures import real_coinbases
from tests.network._rpcserver import block_server


def _verified_coinbase(name: str) -> Transaction:
    """The fixture's coinbase, after proving it is committed by the real block header."""
    entry = real_coinbases()[name]
    header = BlockHeader.from_bytes(bytes.fromhex(entry["header_hex"]))
    assert header_hash_hex(header) == entry["block_hash"]
    coinbase = Transaction.from_bytes(bytes.fromhex(entry["coinbase_hex"]))
    branch = [bytes.fromhex(h) for h in entry["merkle_branch_hex"]]
    assert merkle_root_from_branch(txid(coinbase), branch, 0) == header.merkle_root
    return coinbase


def test_shipped_pool_list_loads_and_every_tag_compiles() -> None:
    pools = load_pools()
    assert len(pools) == 168
    assert len({p.id for p in pools}) == len(pools)
    for pool in pools:
        for tag in pool.tags:
            re.compile(tag, re.IGNORECASE)
    f2pool = next(p for p in pools if p.name == "F2Pool")
    assert "1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY" in f2pool.addresses


def test_block_413567_is_f2pool_by_tag_and_by_address() -> None:
    coinbase = _verified_coinbase("block_413567")
    script_sig = coinbase.inputs[0].script_sig
    assert "七彩神仙鱼".encode() in script_sig  # F2Pool's "discus fish" tag, UTF-8
    addresses = coinbase_payout_addresses(coinbase)
    assert addresses == ["1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY"]
    by_both = attribute_coinbase(coinbase)
    assert by_both is not None and by_both.name == "F2Pool"
    by_tag = attribute_block(script_sig, [])
    assert by_tag is not None and by_tag.name == "F2Pool"
    by_address = attribute_block(b"\x03\x7fO\x06 no tag here", addresses)
    assert by_address is not None and by_address.name == "F2Pool"


def test_satoshi_era_blocks_have_no_pool() -> None:
    for name in ("block_0", "block_1", "block_2", "block_3", "block_169", "block_170", "block_181"):
        coinbase = _verified_coinbase(name)
        assert coinbase_payout_addresses(coinbase) == []  # bare public keys (P2PK) have no address
        assert attribute_coinbase(coinbase) is None, name


def test_testnet_block_uses_testnet_addresses_and_matches_no_mainnet_pool() -> None:
    coinbase = _verified_coinbase("testnet3_block_924634")
    # scriptSig says "ckpool" and "/NinjaPool/SEGWIT/": neither is a mainnet tag ("/ckpool.org/" is)
    assert b"ckpool" in coinbase.inputs[0].script_sig
    addresses = coinbase_payout_addresses(coinbase, chain="testnet")
    assert len(addresses) == 1 and addresses[0][0] in "mn"  # testnet P2PKH; the OP_RETURN output has none
    assert attribute_coinbase(coinbase, chain="testnet") is None
    # with the real tag present it would be CKPool
    pool = attribute_block(b"\x03\xda\x1b\x0e/ckpool.org/", [])
    assert pool is not None and pool.name == "CKPool"


def test_address_beats_a_misleading_tag_and_custom_pool_lists_work() -> None:
    pools = parse_pools_json(
        '[{"id": 1, "name": "A", "addresses": ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"], "tags": ["/a/"], "link": ""},'
        ' {"id": 2, "name": "B", "addresses": [], "tags": ["/b/"], "link": ""}]'
    )
    assert isinstance(pools[0], Pool)
    chosen = attribute_block(b"/b/", ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"], pools=pools)
    assert chosen is not None and chosen.name == "A"
    tagged = attribute_block(b"xx/B/xx", ["1BoatSLRHtKNngkdXEeobR76b53LETtpyT"], pools=pools)
    assert tagged is not None and tagged.name == "B"  # case-insensitive
    assert attribute_block(b"nothing", [], pools=pools) is None
    with pytest.raises(NetworkInputError):
        attribute_block("text", [])  # type: ignore[arg-type]


def test_addresses_agree_with_python_bitcoinlib_on_real_outputs() -> None:
    scripts = [
        out.script_pubkey
        for name in real_coinbases()
        if real_coinbases()[name]["chain"] == "mainnet"
        for out in _verified_coinbase(name).outputs
    ]
    scripts += [
        bytes.fromhex("a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87"),  # P2SH
        bytes.fromhex("0014751e76e8199196d454941c45d1b3a323f1433bd6"),  # P2WPKH
        bytes.fromhex("00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"),  # P2WSH
    ]
    compared = 0
    for script in scripts:
        ours = script_to_address(script)
        if len(script) == 67 and script[0] == 0x41 and script[-1] == 0xAC:
            # bare public key (P2PK): bitcoinlib maps it to the key's P2PKH address; it has none
            assert ours is None
            continue
        try:
            oracle = str(CBitcoinAddress.from_scriptPubKey(CScript(script)))
        except Exception:  # no standard address for the oracle; none for us either
            assert ours is None
            continue
        assert ours == oracle
        compared += 1
    assert compared >= 4


def test_bech32_and_bech32m_bip_vectors() -> None:
    # BIP 173 and BIP 350 test vectors (lowercase forms)
    assert (
        script_to_address(bytes.fromhex("0014751e76e8199196d454941c45d1b3a323f1433bd6"))
        == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )
    taproot = "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    assert (
        script_to_address(bytes.fromhex(taproot))
        == "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    )
    assert script_to_address(bytes.fromhex("6a24aa21a9ed" + "00" * 32)) is None  # OP_RETURN
    assert hash_from_hex("00" * 32) == bytes(32)


CHAIN_DATA = Path(__file__).resolve().parent.parent / "data" / "chain"


def _genesis_block_hex() -> tuple[str, str]:
    entry = real_coinbases()["block_0"]
    # genesis has one transaction: header + tx count 1 + coinbase is the whole block
    return entry["block_hash"], entry["header_hex"] + "01" + entry["coinbase_hex"]


def test_blocks_fetched_from_a_node_over_rpc_are_verified_and_attributed() -> None:
    raw_413567 = (CHAIN_DATA / "block_413567.hex").read_text().strip()
    hash_413567 = real_coinbases()["block_413567"]["block_hash"]
    blocks = {413_567: (hash_413567, raw_413567), 0: _genesis_block_hex()}
    with block_server(blocks) as url:
        results = attribute_blocks_from_node(RpcClient(url), [413_567, 0])
    f2pool, genesis = results
    assert f2pool.pool == "F2Pool" and f2pool.matched_by == "address" and f2pool.height == 413_567
    assert f2pool.block_hash == hash_413567
    assert f2pool.payout_addresses == ("1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY",)
    assert "Mined by chenguanghai" in f2pool.coinbase_ascii
    assert f2pool.time_utc.year == 2016
    assert genesis.pool is None and genesis.matched_by is None
    assert "The Times 03/Jan/2009" in genesis.coinbase_ascii


def test_node_answers_that_do_not_verify_are_rejected() -> None:
    genesis_hash, genesis_raw = _genesis_block_hex()
    wrong_hash = "00" * 32
    with (
        block_server({1: (wrong_hash, genesis_raw)}) as url,
        pytest.raises(NetworkError, match="does not hash"),
    ):
        attribute_blocks_from_node(RpcClient(url), [1])
    # the coinbase swapped for block 1's: the merkle root no longer matches
    other = real_coinbases()["block_1"]["coinbase_hex"]
    tampered = genesis_raw[: 160 + 2] + other
    with block_server({0: (genesis_hash, tampered)}) as url, pytest.raises(NetworkError, match="merkle"):
        attribute_blocks_from_node(RpcClient(url), [0])
    with pytest.raises(NetworkInputError):
        attribute_blocks_from_node(RpcClient("http://127.0.0.1:1"), [-1])


def test_attribute_full_block_matches_by_tag_when_no_address_is_listed() -> None:
    block = Block.from_hex((CHAIN_DATA / "block_413567.hex").read_text().strip())
    pools = tuple(replace(p, addresses=()) for p in load_pools())
    result = attribute_full_block(block, pools=pools)
    assert result.pool == "F2Pool" and result.matched_by == "tag"
    assert result.height == 413_567  # from the BIP 34 push in the coinbase


def test_bip34_height_from_real_coinbases() -> None:
    assert coinbase_height(Block.from_hex((CHAIN_DATA / "block_413567.hex").read_text().strip())) == 413_567
    testnet = Block.from_hex((CHAIN_DATA / "block_testnet3_924634.hex").read_text().strip())
    assert coinbase_height(testnet) == 924_634
    _, genesis_raw = _genesis_block_hex()
    assert coinbase_height(Block.from_hex(genesis_raw)) is None  # version 1: "04ffff001d" is not a height
