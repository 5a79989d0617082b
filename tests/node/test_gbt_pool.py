"""The pool server fed by getblocktemplate: a block candidate from a miner reaches submitblock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hashwatt.chain import validate_block
from hashwatt.node import GbtJobSource, RpcClient
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url
from tests.node._rpcserver import fake_core, real_blocks, template_from_block
from tests.stratum._helpers import RawClient, find_nonce, handshake, job_of


def test_pool_with_node_source_submits_block_candidates(tmp_path: Path) -> None:
    block, height = real_blocks()["testnet3_924634"]
    easy = template_from_block(block, height, bits=0x1F00FFFF)

    async def main(url: str) -> None:
        source = GbtJobSource(
            RpcClient(url), payout="bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", poll_s=0.2
        )
        config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
        server = PoolServer(source, ShareLog(sqlite_url(tmp_path / "s.db")), config)
        await server.start()
        try:
            client = RawClient(*(await asyncio.open_connection("127.0.0.1", server.port)))
            en1, size, diff, notify = await handshake(client, "frank.s9")
            job = job_of(notify, en1, size, diff)
            assert job.height is None and len(job.merkle_branch) == 4  # 14 template txs
            nonce = find_nonce(job, b"\x00\x00\x00\x05", target=job.block_target)
            share = ["frank.s9", job.job_id, "00000005", f"{job.ntime:08x}", f"{nonce:08x}"]
            assert (await client.call("mining.submit", share))["result"] is True
            for _ in range(200):
                if server.blocks:
                    break
                await asyncio.sleep(0.02)
            (result,) = server.blocks
            assert result.accepted and result.message == "accepted by the node" and result.height == height
            await client.close()
        finally:
            await server.close()
            server.share_log.close()

    with fake_core(easy) as (url, state):
        asyncio.run(main(url))
    (submitted,) = state.submitted
    assert validate_block(submitted, height=height, bip34_height=0) == []
    assert len(submitted.transactions) == 15
