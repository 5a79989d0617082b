"""The pool server fed by getblocktemplate: a block candidate from a miner reaches submitblock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hashwatt.chain import validate_block
from hashwatt.node import GbtJobSource, RpcClient
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url
from hashwatt.work import Job
from tests.node._rpcserver import FakeCoreState, fake_core, real_blocks, template_from_block
from tests.stratum._helpers import RawClient, find_nonce, handshake, job_of, until

REGTEST_ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


async def _node_pool(url: str, tmp_path: Path) -> PoolServer:
    """A started pool fed by the emulated node at ``url`` (easy fixed difficulty, 0.2 s polls)."""
    source = GbtJobSource(RpcClient(url), payout=REGTEST_ADDRESS, poll_s=0.2)
    config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
    server = PoolServer(source, ShareLog(sqlite_url(tmp_path / "s.db")), config)
    await server.start()
    return server


def test_pool_with_node_source_submits_block_candidates(tmp_path: Path) -> None:
    block, height = real_blocks()["testnet3_924634"]
    easy = template_from_block(block, height, bits=0x1F00FFFF)

    async def main(url: str) -> None:
        server = await _node_pool(url, tmp_path)
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


def test_a_share_on_an_old_template_is_credited_and_blocked_at_that_templates_value(tmp_path: Path) -> None:
    """#14: a node job carries its own coinbasevalue; the template moves on (fewer fees) while
    the miner still works the old job: its share is stored with the old value and its block,
    built from the old transactions, pays exactly what the node allows for them."""
    block, height = real_blocks()["testnet3_924634"]
    first = template_from_block(block, height, bits=0x1F00FFFF)
    second = dict(first, transactions=first["transactions"][:7], longpollid="second")
    second["coinbasevalue"] = first["coinbasevalue"] - 12_345

    async def main(url: str, state: FakeCoreState) -> None:
        server = await _node_pool(url, tmp_path)
        try:
            client = RawClient(*(await asyncio.open_connection("127.0.0.1", server.port)))
            en1, size, diff, notify = await handshake(client, "frank.s9")
            old = job_of(notify, en1, size, diff)
            state.set_template(second)  # the longpoll answers: a new job, not clean
            new_notify = await client.wait_note("mining.notify")
            new = job_of(new_notify, en1, size, diff)
            assert new.job_id != old.job_id and new_notify["params"][-1] is False
            assert new.job_id[:8] == old.job_id[:8]  # the per-process prefix
            for job, extranonce2 in ((new, b"\x00\x00\x00\x01"), (old, b"\x00\x00\x00\x02")):
                nonce = find_nonce(job, extranonce2, target=job.block_target)
                share = ["frank.s9", job.job_id, extranonce2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
                assert (await client.call("mining.submit", share))["result"] is True
            await until(lambda: len(server.blocks) == 2)
            assert all(r.accepted for r in server.blocks), server.blocks
            await client.close()
        finally:
            await server.close()
            server.share_log.close()

    with fake_core(first) as (url, state):
        asyncio.run(main(url, state))
    records = ShareLog(sqlite_url(tmp_path / "s.db")).records()
    values = {r.extranonce2: r.coinbase_value_sat for r in records}
    assert values == {
        b"\x00\x00\x00\x01": second["coinbasevalue"],
        b"\x00\x00\x00\x02": first["coinbasevalue"],
    }
    by_tx_count = {len(b.transactions): b for b in state.submitted}
    assert set(by_tx_count) == {8, 15}
    paid = {n: sum(o.value_sat for o in b.transactions[0].outputs) for n, b in by_tx_count.items()}
    assert paid == {15: first["coinbasevalue"], 8: second["coinbasevalue"]}


def test_identical_templates_never_share_a_coinbase() -> None:
    """Two jobs of one unchanged template differ in their coinbase, so one header cannot
    answer both (the header-hash dedupe is then a second line of defence, not the only one)."""
    block, height = real_blocks()["testnet3_924634"]
    template = template_from_block(block, height, bits=0x1F00FFFF)
    jobs: list[Job] = []

    async def main(url: str) -> None:
        source = GbtJobSource(
            RpcClient(url), payout="bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", longpoll=False
        )
        source.attach(jobs.append)
        await source.poll_once()
        source.refresh_s = 0.0
        await source.poll_once()

    with fake_core(template) as (url, _):
        asyncio.run(main(url))
    first, second = jobs
    assert first.transactions == second.transactions and first.coinbase_value_sat == second.coinbase_value_sat
    assert first.coinb1 != second.coinb1 and first.job_id != second.job_id
