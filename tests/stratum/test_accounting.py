"""Vardiff, hashrate meters and the job book, as pure functions of time and shares."""

from __future__ import annotations

import dataclasses

import pytest

from hashwatt.chain import HASHES_PER_DIFFICULTY, hash_to_hex
from hashwatt.miner.demo import DemoJobSource
from hashwatt.stratum import HashrateMeter, JobBook, VarDiff
from hashwatt.stratum._codec import Submit, rolled_version
from hashwatt.stratum._shares import Accepted, validate_share
from hashwatt.work import Job, Solution, solution_hash


def _vardiff(**kw: float) -> VarDiff:
    args = {
        "start_difficulty": 8.0,
        "min_difficulty": 1.0,
        "max_difficulty": 1024.0,
        "target_interval_s": 10.0,
        "retarget_interval_s": 60.0,
    }
    args.update(kw)
    return VarDiff(**args)


def test_vardiff_converges_to_target_interval_for_a_steady_miner() -> None:
    # A miner doing 100 difficulty-1 shares per 10 s: the right difficulty is 100.
    vd = _vardiff()
    now = 0.0
    for _ in range(200):
        rate_per_s = 10.0 / vd.difficulty  # shares/s at the current difficulty
        now += 1.0 / rate_per_s
        vd.on_share(now)
    assert 60 <= vd.difficulty <= 140


def test_vardiff_steps_are_bounded_and_clamped() -> None:
    vd = _vardiff()
    # Shares 1 ms apart: far too fast, but one retarget moves at most 4x (after 2x the
    # expected count, 12 shares), and repeated retargets stop at the maximum.
    steps = [r for i in range(1000) if (r := vd.on_share(i / 1000)) is not None]
    assert steps[:3] == [32.0, 128.0, 512.0]
    assert steps[-1] == 1024.0 and len(steps) == 4
    vd2 = _vardiff(start_difficulty=2.0)
    # No shares at all for a retarget interval: down by at most 4x, never below the minimum.
    assert vd2.retarget(61.0) == 1.0
    assert vd2.retarget(200.0) is None


def test_vardiff_hysteresis_keeps_difficulty_within_40_percent() -> None:
    vd = _vardiff()
    for i in range(7):  # 7 shares in 60 s against 6 expected
        vd.on_share(i * 60 / 7 + 1)
    assert vd.retarget(61.0) is None and vd.difficulty == 8.0


def test_hashrate_meter_from_share_difficulty() -> None:
    meter = HashrateMeter(window_s=60.0)
    for t in range(60):
        meter.add(float(t), 2.0)
    assert meter.hashrate_hs(59.0) == pytest.approx(120 * HASHES_PER_DIFFICULTY / 60)
    # Shares age out of the window.
    assert meter.hashrate_hs(200.0) == 0.0


def _job(job_id: str, clean: bool) -> Job:
    return Job(job_id, bytes(32), b"", b"", (), 1, 0x207FFFFF, 0, b"", 4, 1, clean_jobs=clean)


def test_job_book_stale_after_clean_jobs_and_bounded() -> None:
    book = JobBook(max_jobs=3)
    book.add(_job("a", True))
    book.add(_job("b", False))
    assert not book.is_stale("a")
    book.add(_job("c", True))
    assert book.is_stale("a") and book.is_stale("b") and not book.is_stale("c")
    book.add(_job("d", False))
    assert book.get("a") is None and book.get("d") is not None
    assert book.latest is not None and book.latest.job_id == "d"
    assert book.mark_seen("d", b"h" * 32) and not book.mark_seen("d", b"h" * 32)


def test_share_hash_is_the_solution_hash_of_the_miners_view() -> None:
    """The share path hashes the header bytes directly: the same hash as ``work.solution_hash``."""
    job = DemoJobSource(block_expected_hashes=2.0**64).make_job(clean_jobs=True)
    book = JobBook()
    book.add(job)
    en1, mask = b"\x00\x00\x00\x07", 0x1FFFE000
    view = dataclasses.replace(job, extranonce1=en1, version_mask=mask)
    views: dict[tuple[str, bytes, int], tuple[Job, int]] = {}
    for nonce, bits in [(0, None), (0xFFFFFFFF, 0x00006000), (12345, 0x1FFFE000)]:
        submit = Submit("w.1", job.job_id, b"\x01\x02\x03\x04", job.ntime + 5, nonce, bits)
        outcome = validate_share(
            book, submit, user="w", extranonce1=en1, version_mask=mask,
            share_target=2**256 - 1, now_unix_s=float(job.ntime), views=views,
        )  # fmt: skip
        assert isinstance(outcome, Accepted)
        version = rolled_version(job.version, bits, mask)
        expected = solution_hash(view, Solution(job.job_id, submit.extranonce2, submit.ntime, nonce, version))
        assert outcome.digest == expected
        assert outcome.record.share_hash_hex == hash_to_hex(expected)
        assert outcome.block is None  # the demo's block target is out of reach of three nonces
    assert list(views.values()) == [(view, view.block_target)]  # one view per connection, reused
