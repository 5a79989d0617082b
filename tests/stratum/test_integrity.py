"""Share integrity over real loopback TCP: work credited once, every field validated, a floor on difficulty."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import JobBook, PoolConfig, PoolConfigError, VarDiff
from tests.stratum._helpers import RawClient, demo_pool, find_nonce, handshake, job_of


def test_the_same_proof_of_work_under_identical_templates_is_credited_once(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            # Four more live jobs with the very same template (what an unchanged getblocktemplate
            # or a refresh without a per-job value gives), under other ids.
            template = server.book.latest
            assert template is not None
            twins = [f"twin{i}" for i in range(4)]
            for twin in twins:
                server._on_job(dataclasses.replace(template, job_id=twin, clean_jobs=False))
            nonce = find_nonce(job, b"\x00\x00\x00\x07", target=job.share_target)
            tail = ["00000007", f"{job.ntime:08x}", f"{nonce:08x}"]
            first = await client.call("mining.submit", ["alice.rig1", job.job_id, *tail])
            assert first["result"] is True
            for twin in twins:
                again = await client.call("mining.submit", ["alice.rig1", twin, *tail])
                assert again["error"][0] == 22, again
            assert server.share_log.count() == 1
            assert server.stats().accepted == 1
            await client.close()

    asyncio.run(main())


def test_demo_jobs_never_share_a_template_and_ids_differ_across_restarts() -> None:
    first_run, second_run = DemoJobSource(), DemoJobSource()
    a, b = first_run.make_job(clean_jobs=True), first_run.make_job(clean_jobs=False)
    assert a.coinb1 + a.coinb2 != b.coinb1 + b.coinb2  # a per-job value in the coinbase
    restarted = second_run.make_job(clean_jobs=True)
    assert restarted.job_id != a.job_id  # ids are prefixed by a per-process start value
    assert len({a.job_id, b.job_id, restarted.job_id}) == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nonce", "-1"),
        ("nonce", "0x1"),
        ("nonce", "123456789"),
        ("nonce", " 1"),
        ("ntime", "-5"),
        ("ntime", "1_0"),
        ("extranonce2", "zz00"),
        ("extranonce2", "-0"),
        ("extranonce2", "00" * 40),
        ("version_bits", "-1"),
        ("job_id", "j" * 65),
    ],
)
def test_every_submit_field_is_validated_and_answered_with_20(tmp_path: Path, field: str, value: str) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, max_violations=100) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            share = ["alice.rig1", job.job_id, "00000001", f"{job.ntime:08x}", "00000000", "00000000"]
            index = {"job_id": 1, "extranonce2": 2, "ntime": 3, "nonce": 4, "version_bits": 5}[field]
            share[index] = value
            reply = await client.call("mining.submit", share)
            assert reply["result"] is None and reply["error"][0] == 20, reply
            # The connection is still served: a ping is answered.
            assert (await client.call("mining.ping", []))["result"] == "pong"
            assert server.share_log.count() == 0
            await client.close()

    asyncio.run(main())


def test_suggest_difficulty_cannot_go_below_the_floor(tmp_path: Path) -> None:
    async def main() -> None:
        floor = 2.0**-12
        async with demo_pool(tmp_path, start_difficulty=floor, min_difficulty=floor) as server:
            client = await RawClient.connect(server.port)
            _en1, _size, diff, _notify = await handshake(client)
            assert diff == floor
            assert (await client.call("mining.suggest_difficulty", [2.0**-20]))["result"] is True
            await client.call("mining.suggest_difficulty", [2.0**-8])  # above: honoured
            note = await client.wait_note("mining.set_difficulty")
            assert note["params"] == [2.0**-8]
            await client.call("mining.suggest_difficulty", [2.0**-30])
            note = await client.wait_note("mining.set_difficulty")
            assert note["params"] == [floor]
            assert server.config.min_difficulty == floor
            await client.close()

    asyncio.run(main())


def test_vardiff_never_goes_below_the_floor_for_a_slow_miner() -> None:
    vd = VarDiff(start_difficulty=4.0, min_difficulty=1.0, max_difficulty=1e6, retarget_interval_s=60.0)
    now = 0.0
    for _ in range(20):  # no shares at all for 20 minutes
        now += 60.0
        vd.retarget(now)
    assert vd.difficulty == 1.0
    vd.suggest(1e-9)
    assert vd.difficulty == 1.0


def test_pool_config_refuses_a_start_below_the_floor_and_nonsense_numbers() -> None:
    assert PoolConfig().min_difficulty == 1.0  # ckpool's default floor
    with pytest.raises(PoolConfigError, match="floor"):
        PoolConfig(start_difficulty=0.5, min_difficulty=1.0)
    for bad in (float("inf"), float("nan"), 0.0, -1.0):
        with pytest.raises(PoolConfigError):
            PoolConfig(start_difficulty=bad)


def test_low_difficulty_flood_never_enters_the_duplicate_set(tmp_path: Path) -> None:
    async def main() -> None:
        async with demo_pool(tmp_path, start_difficulty=1.0, max_rejects_in_row=10**6) as server:
            client = await RawClient.connect(server.port)
            en1, size, diff, notify = await handshake(client)
            job = job_of(notify, en1, size, diff)
            lines = b"".join(
                (
                    f'{{"id":{i},"method":"mining.submit","params":'
                    f'["alice.rig1","{job.job_id}","{i:08x}","{job.ntime:08x}","{i:08x}"]}}\n'
                ).encode()
                for i in range(300)
            )
            await client.send_raw(lines)
            answers = 0
            while answers < 300:
                msg = await client.read_one(10.0)
                if msg.get("method") is None:
                    answers += 1
                    assert msg["error"][0] == 23
            assert server.book.seen_count == 0
            await client.close()

    asyncio.run(main())


def test_duplicate_set_is_bounded_by_job_lifetime() -> None:
    book = JobBook(max_jobs=2)
    template = DemoJobSource().make_job(clean_jobs=True)
    book.add(template)
    for i in range(50):
        assert book.mark_seen(template.job_id, i.to_bytes(32, "big"))
    assert book.seen_count == 50
    book.add(dataclasses.replace(template, job_id="next", clean_jobs=True))  # the old job goes stale
    assert book.seen_count == 0
    assert book.mark_seen("next", (7).to_bytes(32, "big"))
    book.add(dataclasses.replace(template, job_id="n2", clean_jobs=False))
    book.add(dataclasses.replace(template, job_id="n3", clean_jobs=False))  # "next" leaves the book
    assert book.seen_count == 0
