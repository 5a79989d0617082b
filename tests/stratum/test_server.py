"""The pool server over real TCP on loopback: handshake, share validation, share log, blocks."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

from hashwatt.chain import Block, validate_block
from hashwatt.stratum import BIP320_VERSION_MASK, ShareLog, sqlite_url, target_from_difficulty
from tests.stratum._helpers import EASY_DIFFICULTY, RawClient, demo_pool, find_nonce, handshake, job_of


def test_handshake_shapes_and_valid_share_is_logged_before_ack(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            sub = await client.call("mining.subscribe", ["cgminer/4.10.0"])
            subs, en1_hex, size = sub["result"]
            assert sub["error"] is None
            assert [s[0] for s in subs] == ["mining.set_difficulty", "mining.notify"]
            assert len(bytes.fromhex(en1_hex)) == 4 and size == 4
            assert (await client.call("mining.authorize", ["alice.rig1", "x"]))["result"] is True
            diff = await client.wait_note("mining.set_difficulty")
            assert diff["id"] is None and diff["params"] == [EASY_DIFFICULTY]
            notify = await client.wait_note("mining.notify")
            params = notify["params"]
            assert len(params) == 9 and params[8] is True
            job = job_of(notify, bytes.fromhex(en1_hex), size, EASY_DIFFICULTY)
            en2 = bytes.fromhex("00000001")
            nonce = find_nonce(job, en2, target=job.share_target)
            share = ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
            ack = await client.call("mining.submit", share)
            assert ack["result"] is True and ack["error"] is None
            # Durable before the ack: an independent reader of the file already sees it.
            other = ShareLog(sqlite_url(tmp_path / "shares.db"))
            try:
                (rec,) = other.records()
            finally:
                other.close()
            assert (rec.user, rec.worker, rec.job_id, rec.nonce, rec.extranonce2) == (
                "alice",
                "alice.rig1",
                job.job_id,
                nonce,
                en2,
            )
            assert rec.difficulty == EASY_DIFFICULTY
            assert server.share_log.journal_mode == "wal"
            # The same share again: duplicate (22).
            dup = await client.call("mining.submit", share)
            assert dup["error"][0] == 22
            # A hash above the share target: low difficulty (23).
            bad_nonce = find_nonce(job, en2, target=job.share_target, want_below=False)
            low = await client.call("mining.submit", [*share[:4], f"{bad_nonce:08x}"])
            assert low["error"][0] == 23
            # Unknown job (21), ntime too far ahead (20), wrong extranonce2 size (20).
            assert (await client.call("mining.submit", ["alice.rig1", "nope", *share[2:]]))["error"][0] == 21
            far = f"{job.ntime + 3 * 3600 + 10**6:08x}"
            assert (await client.call("mining.submit", [*share[:3], far, share[4]]))["error"][0] == 20
            past = f"{job.ntime - 1:08x}"
            assert (await client.call("mining.submit", [*share[:3], past, share[4]]))["error"][0] == 20
            assert (await client.call("mining.submit", [share[0], share[1], "00", *share[3:]]))["error"][
                0
            ] == 20
            # A worker this connection never authorized (24).
            assert (await client.call("mining.submit", ["mallory", *share[1:]]))["error"][0] == 24
            stats = server.stats()
            assert stats.accepted == 1 and stats.rejected == 7
            assert stats.rejected_by_code == {22: 1, 23: 1, 21: 1, 20: 3, 24: 1}
            assert server.share_log.count() == 1
            assert stats.workers[0][:4] == ("alice", "alice.rig1", 1, 6)
            await client.close()

    asyncio.run(main())


def test_submit_before_subscribe_and_before_authorize(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            share = ["w", "1", "00000000", "00000000", "00000000"]
            assert (await client.call("mining.submit", share))["error"][0] == 25
            await client.call("mining.subscribe", [])
            assert (await client.call("mining.submit", share))["error"][0] == 24
            assert server.share_log.count() == 0
            await client.close()

    asyncio.run(main())


def test_version_rolling_configure_and_mask_enforced(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            conf = await client.call(
                "mining.configure",
                [
                    ["version-rolling"],
                    {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2},
                ],
            )
            assert conf["result"] == {"version-rolling": True, "version-rolling.mask": "1fffe000"}
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff, BIP320_VERSION_MASK)
            en2 = b"\x00\x00\x00\x07"
            version = job.version | 0x00002000
            nonce = find_nonce(job, en2, target=job.share_target, version=version)
            share = ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}", "00002000"]
            assert (await client.call("mining.submit", share))["result"] is True
            (rec,) = server.share_log.records()
            assert rec.version == version
            # Bits outside the negotiated mask are refused.
            outside = [*share[:5], "00000001"]
            assert (await client.call("mining.submit", outside))["error"][0] == 20
            await client.close()

    asyncio.run(main())


def test_block_candidate_validated_and_chain_advances(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, block_expected_hashes=2.0**9) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            en2 = b"\x00\x00\x00\x02"
            nonce = find_nonce(job, en2, target=job.block_target)
            share = ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
            assert (await client.call("mining.submit", share))["result"] is True
            # The found block becomes the new tip: a clean job on top of it follows.
            new = await client.wait_note("mining.notify")
            assert new["params"][8] is True
            assert server.blocks and server.blocks[0].accepted, server.blocks
            (rec,) = server.share_log.records()
            assert rec.is_block and rec.height == 924634
            source = server.source
            (block,) = source.chain.blocks  # type: ignore[attr-defined]
            assert isinstance(block, Block)
            assert len(block.transactions) == 15
            assert validate_block(block, height=924634, bip34_height=0) == []
            new_job = job_of(new, en1, size, diff)
            assert new_job.prev_hash == bytes.fromhex(server.blocks[0].block_hash_hex)[::-1]
            # The old job is now stale (21).
            stale = ["alice.rig1", job.job_id, "00000003", f"{job.ntime:08x}", f"{nonce:08x}"]
            assert (await client.call("mining.submit", stale))["error"] == [21, "Stale job", None]
            await client.close()

    asyncio.run(main())


def test_same_id_for_every_submit_gets_answers_in_order(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            lines = []
            expected = []
            for i in range(20):
                en2 = i.to_bytes(4, "big")
                good = i % 3 != 0
                nonce = find_nonce(job, en2, target=job.share_target, want_below=good)
                lines.append(
                    f'{{"id": 4, "method": "mining.submit", "params": ["alice.rig1", "{job.job_id}", '
                    f'"{en2.hex()}", "{job.ntime:08x}", "{nonce:08x}"]}}\n'
                )
                expected.append(good)
            await client.send_raw("".join(lines).encode())
            got = [(await client.read_one()) for _ in range(20)]
            assert [m["result"] is True for m in got] == expected
            assert server.share_log.count() == sum(expected)
            await client.close()

    asyncio.run(main())


def test_quirky_methods_tolerated_and_session_resume(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            assert (await client.call("mining.extranonce.subscribe", []))["result"] is True
            assert (await client.call("mining.ping", []))["result"] == "pong"
            sub = await client.call("mining.subscribe", ["bmminer/2.0"])
            en1_hex = sub["result"][1]
            await client.call("mining.suggest_difficulty", [0.001])
            await client.call("mining.authorize", ["bob", ""])
            diff = await client.wait_note("mining.set_difficulty")
            assert diff["params"] == [0.001]
            # An answer to a server request (e.g. client.get_version) is ignored, not an error.
            await client.send_raw(b'{"id": 99, "result": "bmminer/2.0", "error": null}\n')
            assert (await client.call("mining.ping", []))["result"] == "pong"
            await client.close()
            await asyncio.sleep(0.05)
            again = await RawClient.connect(server.port)
            sub2 = await again.call("mining.subscribe", ["bmminer/2.0", en1_hex])
            assert sub2["result"][1] == en1_hex
            await again.close()

    asyncio.run(main())


def test_share_log_survives_server_restart(tmp_path: Path) -> None:
    async def main() -> None:
        acked = 0
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            for i in range(10):
                en2 = i.to_bytes(4, "big")
                nonce = find_nonce(job, en2, target=target_from_difficulty(diff))
                reply = await client.call(
                    "mining.submit", ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
                )
                acked += reply["result"] is True
            await client.close()
        assert acked == 10
        async with demo_pool(tmp_path) as server2:
            assert server2.share_log.count() == 10
            assert server2.share_log.work_by_user() == {"alice": 10 * EASY_DIFFICULTY}

    asyncio.run(main())


def test_difficulty_change_accepts_in_flight_shares_at_the_old_target(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            await client.call("mining.suggest_difficulty", [1.0])
            assert (await client.wait_note("mining.set_difficulty"))["params"] == [1.0]
            # A share for the job sent at the old difficulty still counts, at the old difficulty.
            nonce = find_nonce(job, b"\x00\x00\x00\x04", target=job.share_target)
            share = ["alice.rig1", job.job_id, "00000004", f"{job.ntime:08x}", f"{nonce:08x}"]
            assert (await client.call("mining.submit", share))["result"] is True
            (rec,) = server.share_log.records()
            assert rec.difficulty == EASY_DIFFICULTY
            # Jobs sent after the change need the new difficulty.
            latest = server.book.latest
            assert latest is not None
            server._on_job(dataclasses.replace(latest, job_id="later", clean_jobs=False))
            later = await client.wait_note("mining.notify")
            job2 = job_of(later, en1, size, diff)
            low = find_nonce(job2, b"\x00\x00\x00\x05", target=job2.share_target)
            share2 = ["alice.rig1", "later", "00000005", f"{job2.ntime:08x}", f"{low:08x}"]
            reply = await client.call("mining.submit", share2)
            assert reply["error"][0] == 23  # (a 2**-24 share meets difficulty 1 with p = 2**-24)
            await client.close()

    asyncio.run(main())


def test_vardiff_raises_difficulty_for_a_fast_miner_and_resends_work(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(
            tmp_path, vardiff=True, target_share_interval_s=1.0, retarget_interval_s=60.0
        ) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            # Expected: 60 shares per retarget interval; 2x that arriving at once forces a retarget.
            for i in range(120):
                en2 = i.to_bytes(4, "big")
                nonce = find_nonce(job, en2, target=job.share_target)
                share = ["alice.rig1", job.job_id, en2.hex(), f"{job.ntime:08x}", f"{nonce:08x}"]
                await client.send_raw(
                    (json.dumps({"id": i, "method": "mining.submit", "params": share}) + "\n").encode()
                )
            new_diff = await client.wait_note("mining.set_difficulty")
            assert new_diff["params"][0] == 4 * diff  # bounded step: x4 at most
            resent = await client.wait_note("mining.notify")
            assert resent["params"][0] == job.job_id
            await client.close()

    asyncio.run(main())
