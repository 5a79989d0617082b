"""Scrypt mining end to end on loopback: the miner engine and Stratum client (coin LTC) over real
TCP against the hashwatt pool serving merged-mining demo jobs. Shares, a Litecoin block and a
Dogecoin block are found; each block is checked again here by hashwatt's consensus code."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hashwatt.chain import (
    AuxPowBlock,
    PowAlgorithm,
    find_merged_mining_commitment,
    header_hash,
    validate_auxpow_block,
    validate_block,
)
from hashwatt.miner.client import MiningClient
from hashwatt.miner.demo_pool import start_demo_pool
from hashwatt.miner.engine import SearchEngine
from hashwatt.miner.errors import EngineInputError
from hashwatt.miner.merged import DOGE_DEMO, LTC_DEMO, MergedDemoJobSource
from hashwatt.pow import scan_scrypt
from hashwatt.stratum import (
    PoolConfig,
    PoolServer,
    PoolUrl,
    ShareLog,
    UpstreamSource,
    share_rules,
    sqlite_url,
)
from hashwatt.work import header_prefix


async def _mine_until(
    done: Callable[[], bool], client_task: asyncio.Task[Any], timeout_s: float = 120
) -> None:
    """Wait for ``done`` while the mining client runs (it must not end first)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        assert not client_task.done(), client_task
        await asyncio.sleep(0.05)


def test_engine_scans_scrypt_jobs_like_scan_scrypt() -> None:
    job = dataclasses.replace(
        MergedDemoJobSource().make_job(clean_jobs=True), extranonce1=b"\x00" * 4, share_target=(1 << 252) - 1
    )
    engine = SearchEngine(threads=2, batch_nonces=64, pow_algorithm=PowAlgorithm.SCRYPT)
    found = engine.search(job, hashes=256)
    expected = scan_scrypt(header_prefix(job, bytes(4)), 0, 256, job.share_target)
    assert [s.nonce for s in found] == expected and expected  # ~16 hits expected, same order
    with pytest.raises(EngineInputError):
        SearchEngine(threads=1).search(job, hashes=1)  # a SHA256d engine refuses scrypt work


def test_miner_finds_shares_a_litecoin_and_a_merged_dogecoin_block(tmp_path: Path) -> None:
    async def main() -> tuple[MergedDemoJobSource, MiningClient, ShareLog]:
        log = ShareLog(sqlite_url(tmp_path / "shares.db"))
        server = await start_demo_pool(
            log,
            coin=LTC_DEMO,
            block_expected_hashes=2.0**9,
            aux_block_expected_hashes=2.0**7,
            share_difficulty=2.0**-10,
            target_share_interval_s=1.0,
        )
        source = server.source
        assert isinstance(source, MergedDemoJobSource)
        engine = SearchEngine(threads=2, pow_algorithm=PowAlgorithm.SCRYPT)
        client = MiningClient(
            [PoolUrl("127.0.0.1", server.port)], user="alice.rig", engine=engine, coin=LTC_DEMO
        )
        task = asyncio.create_task(client.run())
        try:
            await _mine_until(
                lambda: (
                    bool(source.blocks and source.aux_blocks)
                    and client.stats.accepted >= 3
                    and client.stats.block_candidates >= 1
                ),  # the block's share answered too
                task,
            )
        finally:
            client.stop()
            await task
            await server.close()
        assert not engine.errors
        return source, client, log

    source, client, log = asyncio.run(main())
    try:
        assert client.stats.accepted >= 3 and client.stats.block_candidates >= 1
        ltc = source.blocks[0]
        assert validate_block(ltc, height=1, fees_sat=0, params=LTC_DEMO) == []
        assert ltc.header.prev_hash == LTC_DEMO.genesis_hash
        doge = AuxPowBlock.from_bytes(source.aux_blocks[0].to_bytes())  # as relayed: bytes and back
        assert validate_auxpow_block(doge, DOGE_DEMO, height=1, fees_sat=0) == []
        assert doge.header.prev_hash == DOGE_DEMO.genesis_hash
        commitment = find_merged_mining_commitment(doge.auxpow.coinbase_tx.inputs[0].script_sig)
        assert commitment is not None and commitment.chain_root == header_hash(doge.header)
        # The share log credits both chains with the same work, and marks each chain's block.
        records = log.records()
        assert {(r.chain, r.aux_chain) for r in records} == {("LTC", "DOGE")}
        assert any(r.is_block for r in records) and any(r.aux_is_block for r in records)
        credit = log.credit_by_chain()
        assert credit["LTC"] == credit["DOGE"] == {"alice": pytest.approx(sum(r.difficulty for r in records))}
        results = {(r.chain, r.accepted) for r in source.results}
        assert ("LTC", True) in results and ("DOGE", True) in results
    finally:
        log.close()


def test_farm_proxy_forwards_scrypt_shares_to_a_merged_mining_pool(tmp_path: Path) -> None:
    """Proxy mode with ``rules`` for LTC: miners mine scrypt through the proxy; shares that meet
    the upstream's scrypt difficulty go upstream, where the merged-mining pool credits both chains."""

    async def main() -> tuple[ShareLog, ShareLog, MiningClient, UpstreamSource]:
        upstream_log = ShareLog(sqlite_url(tmp_path / "upstream.db"))
        upstream = await start_demo_pool(
            upstream_log, coin=LTC_DEMO, block_expected_hashes=2.0**30, share_difficulty=2.0**-9
        )
        source = UpstreamSource(
            [f"stratum+tcp://127.0.0.1:{upstream.port}"], user="farm.proxy", rules=share_rules(LTC_DEMO)
        )
        proxy_log = ShareLog(sqlite_url(tmp_path / "proxy.db"))
        config = PoolConfig(coin=LTC_DEMO, start_difficulty=2.0**-11, min_difficulty=2.0**-11, vardiff=False)
        proxy = PoolServer(source, proxy_log, config, share_sink=source)
        await proxy.start("127.0.0.1", 0)
        engine = SearchEngine(threads=1, pow_algorithm=PowAlgorithm.SCRYPT)
        client = MiningClient(
            [PoolUrl("127.0.0.1", proxy.port)], user="bob.rig", engine=engine, coin=LTC_DEMO
        )
        task = asyncio.create_task(client.run())
        try:
            await _mine_until(lambda: upstream_log.count() >= 2, task)
        finally:
            client.stop()
            await task
            await proxy.close()
            await upstream.close()
        return upstream_log, proxy_log, client, source

    upstream_log, proxy_log, client, source = asyncio.run(main())
    try:
        assert client.stats.rejected == 0 and source.links[0].accepted >= 2
        proxied = proxy_log.records()
        upstream_records = upstream_log.records()
        # Every share is hashed with scrypt at both hops; only the harder ones went upstream.
        assert {r.chain for r in proxied} == {"LTC"} and all(r.difficulty == 2.0**-11 for r in proxied)
        assert {(r.chain, r.aux_chain) for r in upstream_records} == {("LTC", "DOGE")}
        assert all(
            int(r.share_hash_hex, 16) <= share_rules(LTC_DEMO).target(2.0**-9) for r in upstream_records
        )
    finally:
        upstream_log.close()
        proxy_log.close()
