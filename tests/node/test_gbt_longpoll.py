"""BIP 22 longpoll against a real HTTP JSON-RPC server on loopback that holds the request."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from hashwatt.chain import hash_from_hex, hash_to_hex, header_hash
from hashwatt.node import GbtJobSource, RpcClient
from hashwatt.stratum import PoolConfig, PoolServer, ShareLog, sqlite_url
from tests.node._rpcserver import FakeCoreState, fake_core, real_blocks, template_from_block
from tests.stratum._helpers import RawClient, handshake, job_of

PAYOUT = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def _templates() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Tip A, then a new block on top of it (B), then B's mempool changing (C, same tip)."""
    block, height = real_blocks()["testnet3_924634"]
    a = template_from_block(block, height, bits=0x1F00FFFF)
    a["longpollid"] = "tip-a-1"
    a["longpolluri"] = "/longpoll"
    b = dict(a, previousblockhash=hash_to_hex(header_hash(block.header)), height=height + 1)
    b["longpollid"] = "tip-b-1"
    c = dict(b, transactions=b["transactions"][:-1], longpollid="tip-b-2")
    return a, b, c


async def _wait_for(predicate: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _pool(url: str, tmp_path: Path, poll_s: float) -> tuple[PoolServer, GbtJobSource]:
    source = GbtJobSource(RpcClient(url), payout=PAYOUT, poll_s=poll_s)
    config = PoolConfig(start_difficulty=2.0**-24, min_difficulty=2.0**-30, vardiff=False)
    server = PoolServer(source, ShareLog(sqlite_url(tmp_path / "s.db")), config)
    await server.start()
    return server, source


def test_longpoll_publishes_new_work_at_once(tmp_path: Path) -> None:
    a, b, c = _templates()
    poll_s = 30.0  # no poll happens during the test: only the longpoll can bring new work

    async def main(url: str, state: FakeCoreState) -> None:
        server, source = await _pool(url, tmp_path, poll_s)
        try:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            assert job_of(notify, en1, size, diff).prev_hash == hash_from_hex(a["previousblockhash"])
            await _wait_for(lambda: len(state.longpoll_paths) == 1)  # held by the node
            assert state.longpoll_paths == ["/longpoll"]  # sent to longpolluri

            # A new block: the held longpoll returns and a clean job goes out well before a poll.
            changed = time.monotonic()
            state.set_template(b)
            note = await client.wait_note("mining.notify", timeout=5.0)
            elapsed_s = time.monotonic() - changed
            assert elapsed_s < 1.0, elapsed_s
            job = job_of(note, en1, size, diff)
            assert job.prev_hash == hash_from_hex(b["previousblockhash"]) and note["params"][8] is True
            assert source.counters["longpoll"] == 1 and source.counters["poll"] == 1  # the start
            assert source.template is not None and source.template.height == a["height"] + 1

            # Mempool change on the same tip: new transactions at once, without clean_jobs.
            await _wait_for(lambda: len(state.longpoll_paths) == 2)  # re-armed with tip-b-1
            changed = time.monotonic()
            state.set_template(c)
            note = await client.wait_note("mining.notify", timeout=5.0)
            assert time.monotonic() - changed < 1.0
            assert note["params"][8] is False
            assert len(job_of(note, en1, size, diff).merkle_branch) == 4
            assert source.template is not None and len(source.template.transactions) == 13
            await client.close()
        finally:
            stopping = time.monotonic()
            await server.close()  # a longpoll is held right now: closing must not wait for it
            assert time.monotonic() - stopping < 2.0
            server.share_log.close()

    with fake_core(a) as (url, state):
        asyncio.run(main(url, state))


def test_longpoll_errors_fall_back_to_polling(tmp_path: Path) -> None:
    a, b, _ = _templates()

    async def main(url: str, state: FakeCoreState) -> None:
        server, source = await _pool(url, tmp_path, 0.2)
        try:
            client = await RawClient.connect(server.port)
            en1, size, diff, _ = await handshake(client)
            await _wait_for(lambda: source.counters["longpoll_errors"] >= 1)
            state.set_template(b)
            note = await client.wait_note("mining.notify", timeout=5.0)
            assert job_of(note, en1, size, diff).prev_hash == hash_from_hex(b["previousblockhash"])
            assert source.counters["longpoll"] == 0 and source.counters["poll"] >= 2
            await client.close()
        finally:
            await server.close()
            server.share_log.close()

    with fake_core(a) as (url, state):
        state.longpoll_error = True
        asyncio.run(main(url, state))


def test_longpolluri_may_be_an_absolute_url() -> None:
    rpc = RpcClient("http://u:p@127.0.0.1:18443/")
    twin = rpc.at("http://127.0.0.1:18444/lp?x=1")
    assert (twin.host, twin.port, twin.path) == ("127.0.0.1", 18444, "/lp?x=1")
    assert rpc.at("/longpoll").path == "/longpoll" and rpc.port == 18443
