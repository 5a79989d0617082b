"""getblocktemplate over real HTTP JSON-RPC: parsing, assembly, real blocks byte for byte."""

from __future__ import annotations

import asyncio
from pathlib import Path

import bitcoin
import bitcoin.core
import pytest

from hashwatt.chain import (
    CoinbaseParts,
    address_to_script,
    block_merkle_root,
    block_subsidy_sat,
    find_witness_commitment,
    hash_to_hex,
    header_hash,
    validate_block,
)
from hashwatt.miner.engine import SearchEngine
from hashwatt.miner.solo import SoloMiner
from hashwatt.node import (
    NodeError,
    RpcClient,
    RpcError,
    TemplateError,
    fetch_template,
    job_from_template,
    parse_template,
    submit_block,
    template_coinbase,
)
from hashwatt.work import Solution, assemble_block
from tests.node._rpcserver import fake_core, real_blocks, recorded_template, template_from_block
from tests.stratum._helpers import find_nonce

REGTEST_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def test_recorded_testnet_template_parses_and_assembles() -> None:
    with fake_core(recorded_template()) as (url, state):
        template = fetch_template(RpcClient(url))
    assert state.calls == ["getblocktemplate"]
    assert template.height == 1038222 and template.bits == 0x1A171448
    assert (
        hash_to_hex(template.prev_hash) == "0000000000000047e5bda122407654b25d52e0f3eeb00c152f631f70e9803772"
    )
    assert len(template.transactions) == 3 and template.fees_sat == 77_400
    assert template.segwit and template.coinbase_value_sat == 319_367_518
    script = address_to_script("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn")
    parts = template_coinbase(template, script)
    job = job_from_template(template, parts, job_id="t", extranonce1=b"\x00\x00\x00\x01")
    block = assemble_block(job, Solution("t", b"\x00" * 4, job.ntime, 0, job.version))
    coinbase = block.transactions[0]
    assert coinbase.outputs[0].value_sat == 319_367_518
    assert coinbase.outputs[0].script_pubkey == script
    assert block_merkle_root(block) == block.header.merkle_root
    assert find_witness_commitment(coinbase) is not None
    assert block.header.time == template.curtime and block.header.bits == 0x1A171448
    # Every consensus check except proof of work (we did not mine it) and the value check
    # (the fixture's transaction list was trimmed, so fees cannot be re-derived).
    assert validate_block(block, height=1038222, check_pow=False, bip34_height=0) == []


@pytest.mark.parametrize("name", ["170", "169", "testnet3_924634"])
def test_real_block_rebuilt_byte_for_byte_from_its_template(name: str) -> None:
    block, height = real_blocks()[name]
    with fake_core(template_from_block(block, height)) as (url, _):
        template = fetch_template(RpcClient(url))
    cb = block.transactions[0].to_bytes(include_witness=False)
    k = 42  # start of the scriptSig: version(4) + count(1) + outpoint(36) + length(1)
    parts = CoinbaseParts(cb[:k], cb[k + 6 :], 3, 3, segwit=block.transactions[0].has_witness)
    job = job_from_template(template, parts, job_id="r", extranonce1=cb[k : k + 3], ntime=block.header.time)
    h = block.header
    rebuilt = assemble_block(job, Solution("r", cb[k + 3 : k + 6], h.time, h.nonce, h.version & 0xFFFFFFFF))
    assert rebuilt.to_bytes() == block.to_bytes()
    assert header_hash(rebuilt.header) == header_hash(block.header)
    assert template.coinbase_value_sat == block_subsidy_sat(height) + (
        template.coinbase_value_sat - block_subsidy_sat(height)
    )


def test_block_mined_at_demo_target_passes_both_validators_and_submitblock() -> None:
    block, height = real_blocks()["testnet3_924634"]
    easy = template_from_block(block, height, bits=0x1F00FFFF)
    with fake_core(easy) as (url, state):
        rpc = RpcClient(url)
        template = fetch_template(rpc)
        parts = template_coinbase(
            template, address_to_script(REGTEST_ADDRESS), extranonce1_size=0, extranonce2_size=8
        )
        job = job_from_template(template, parts, job_id="m")
        en2 = bytes(8)
        nonce = find_nonce(job, en2, target=job.block_target)
        mined = assemble_block(job, Solution("m", en2, job.ntime, nonce, job.version))
        fees = template.coinbase_value_sat - block_subsidy_sat(height)
        assert validate_block(mined, height=height, fees_sat=fees, bip34_height=0) == []
        bitcoin.SelectParams("regtest")
        try:
            bitcoin.core.CheckBlock(bitcoin.core.CBlock.deserialize(mined.to_bytes()))
        finally:
            bitcoin.SelectParams("mainnet")
        result = submit_block(rpc, mined)
        assert result.accepted and result.block_hash_hex == hash_to_hex(header_hash(mined.header))
        assert state.submitted == [mined]
        assert len(mined.transactions) == 15 and mined.transactions[0].has_witness


def test_solo_miner_finds_and_submits_a_block() -> None:
    block, height = real_blocks()["testnet3_924634"]
    easy = template_from_block(block, height, bits=0x1F00FFFF)
    events: list[str] = []
    with fake_core(easy) as (url, state):
        miner = SoloMiner(
            RpcClient(url),
            address_to_script(REGTEST_ADDRESS),
            SearchEngine(backend="auto", threads=1, batch_nonces=1 << 12),
            on_event=lambda kind, data: events.append(kind),
        )
        results = asyncio.run(miner.run(max_blocks=1, duration_s=20))
    assert results and results[0].accepted, results
    assert len(state.submitted) >= 1
    assert state.submitted[0].transactions[0].outputs[0].script_pubkey == address_to_script(REGTEST_ADDRESS)
    assert "template" in events and "block" in events


def test_rpc_errors_are_typed(tmp_path: Path) -> None:
    with fake_core(recorded_template()) as (url, _):
        bad_auth = url.replace("s3cret", "wrong")
        with pytest.raises(NodeError, match="401"):
            RpcClient(bad_auth).call("getblocktemplate", {"rules": ["segwit"]})
        with pytest.raises(RpcError) as info:
            RpcClient(url).call("getblocktemplate", {})
        assert info.value.code == -8
        with pytest.raises(RpcError):
            RpcClient(url).call("nosuchmethod")
        tiny = RpcClient(url, max_response_bytes=100)
        with pytest.raises(NodeError, match="larger than"):
            tiny.getblocktemplate()
    with pytest.raises(NodeError, match="cannot reach"):
        RpcClient(url, timeout_s=2).call("getblockcount")


def test_malformed_templates_are_refused() -> None:
    good = recorded_template()
    for broken in (
        {**good, "bits": "zz"},
        {**good, "previousblockhash": "00"},
        {**good, "height": "1"},
        {**good, "transactions": [{"data": "00"}]},
        {**good, "transactions": [{**good["transactions"][0], "txid": "00" * 32}]},
    ):
        with pytest.raises(TemplateError):
            parse_template(broken)
    assert parse_template(good).height == 1038222


def test_node_url_errors_never_show_the_password() -> None:
    from hashwatt._redact import redact_url

    assert redact_url("http://alice:s3cret@127.0.0.1:8332") == "http://alice:***@127.0.0.1:8332"
    assert redact_url("http://127.0.0.1:8332") == "http://127.0.0.1:8332"
    for bad in ("ftp://alice:s3cret@host:8332", "http://alice:s3cret@host:notaport"):
        with pytest.raises(NodeError) as info:
            RpcClient(bad)
        assert "s3cret" not in str(info.value)
        assert "alice" in str(info.value)
