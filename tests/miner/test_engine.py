"""The search engine: every share verified, deterministic partitioning, rolling, stop, stats."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from hashwatt.miner.engine import MAX_KEPT_ERRORS, EngineStats, SearchEngine, work_item
from hashwatt.pow import MAX_TARGET, NONCE_SPACE, PowError, PowInputError, scan
from hashwatt.work import Job, Solution, header_prefix, solution_hash
from tests._support.work import make_job

# Version bits 13 and 14 may roll (a two-bit BIP 310 mask): four versions per extranonce2.
MASK = 0b11 << 13


def hash_int(job: Job, solution: Solution) -> int:
    return int.from_bytes(solution_hash(job, solution), "little")


def expected_solutions(job: Job, hashes: int, batch: int, per_header: int) -> list[Solution]:
    """What the first items must yield, computed item by item with the python backend."""
    out: list[Solution] = []
    for k in range(-(-hashes // batch)):
        spec = work_item(job, k, batch, per_header)
        if spec is None:
            break
        header = header_prefix(job, spec.extranonce2, version=spec.version)
        for nonce in scan(header, spec.nonce_start, spec.nonce_count, job.share_target, backend="python"):
            out.append(Solution(job.job_id, spec.extranonce2, job.ntime, nonce, spec.version))
    return out


def test_search_reports_exactly_the_shares_and_each_verifies() -> None:
    job = make_job(share_target=MAX_TARGET >> 10)
    engine = SearchEngine(backend="cpu", threads=2, batch_nonces=1 << 12)
    solutions = engine.search(job, hashes=1 << 16, timeout_s=30)
    assert solutions == expected_solutions(job, 1 << 16, 1 << 12, NONCE_SPACE)
    assert len(solutions) > 20  # ~64 expected at 1 in 1024
    for solution in solutions:
        assert hash_int(job, solution) <= job.share_target
        assert solution.job_id == job.job_id and solution.extranonce2 == b"\x00\x00\x00\x00"
    assert engine.stats.hashes_done == 1 << 16
    assert engine.stats.solutions == len(solutions)


@pytest.mark.parametrize("backend", ["cpu", "python"])
def test_same_results_whatever_the_thread_count(backend: str) -> None:
    job = make_job(share_target=MAX_TARGET >> 9, extranonce2_size=1, version_mask=MASK)
    hashes = 1 << 16 if backend == "cpu" else 1 << 13
    runs = []
    for threads in (1, 2, 3):
        engine = SearchEngine(
            backend=backend, threads=threads, batch_nonces=1 << 9, nonces_per_header=1 << 11
        )
        runs.append(engine.search(job, hashes=hashes, timeout_s=60))
    assert runs[0] == runs[1] == runs[2]
    assert runs[0] == expected_solutions(job, hashes, 1 << 9, 1 << 11)
    assert len({s.extranonce2 for s in runs[0]}) > 1  # extranonce2 rolled


def test_rolls_extranonce2_then_version_bits_over_the_whole_space() -> None:
    # 256 extranonce2 values x 4 versions x 1024 nonces = 2**20 hashes: the whole space.
    job = make_job(share_target=MAX_TARGET >> 6, extranonce2_size=1, version_mask=MASK, version=0x20000000)
    engine = SearchEngine(backend="cpu", threads=2, batch_nonces=1 << 10, nonces_per_header=1 << 10)
    solutions = engine.search(job, hashes=1 << 22, timeout_s=60)  # asks for more than exists
    assert engine.stats.hashes_done == 1 << 20
    keys = {(s.extranonce2, s.version, s.nonce) for s in solutions}
    assert len(keys) == len(solutions)  # no duplicate work
    assert {s.version for s in solutions} == {0x20000000 | (v << 13) for v in range(4)}
    assert {s.extranonce2 for s in solutions} == {bytes([i]) for i in range(256)}
    assert all((s.version ^ job.version) & ~MASK == 0 for s in solutions)
    assert all(s.nonce < 1 << 10 for s in solutions)
    assert all(hash_int(job, s) <= job.share_target for s in solutions)
    # extranonce2 is the fast dimension: the first 256 headers keep the job's own version.
    assert work_item(job, 255, 1 << 10, 1 << 10) is not None
    assert work_item(job, 255, 1 << 10, 1 << 10).version == job.version  # type: ignore[union-attr]
    assert work_item(job, 256, 1 << 10, 1 << 10).version == job.version | (1 << 13)  # type: ignore[union-attr]
    assert work_item(job, 4 * 256, 1 << 10, 1 << 10) is None


def test_work_items_tile_the_nonce_space() -> None:
    job = make_job()
    batch = 3_000_000_000  # does not divide 2**32: the last batch is shorter
    first, second, third = (work_item(job, k, batch) for k in range(3))
    assert first is not None and second is not None and third is not None
    assert (first.nonce_start, first.nonce_count) == (0, batch)
    assert (second.nonce_start, second.nonce_count) == (batch, NONCE_SPACE - batch)
    assert second.extranonce2 == first.extranonce2 == bytes(4)
    assert third.nonce_start == 0 and third.extranonce2 == b"\x01\x00\x00\x00"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    """Poll ``condition`` until it holds (the timeout only bounds a broken run)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _stop_finishes_at_most_one_batch_per_worker(engine: SearchEngine) -> None:
    """Promptness without a wall clock: after stop() no worker starts another batch.

    A batch is sized to 0.05-0.5 s of one worker (``default_batch_nonces``), so at most one
    more batch per worker bounds the stop latency whatever the machine's load.
    """
    before = engine.stats.hashes_done
    engine.stop(timeout_s=60.0)
    assert not engine.running
    # One batch in flight per worker, plus one more that may finish between the read and the flag.
    assert engine.stats.hashes_done - before <= 2 * engine.threads * engine.batch_nonces


def test_live_engine_finds_shares_switches_jobs_and_stops_promptly() -> None:
    found: list[Solution] = []
    lock = threading.Lock()

    def on_solution(solution: Solution) -> None:
        with lock:
            found.append(solution)

    engine = SearchEngine(backend="cpu", threads=2)
    job_a = make_job("a", share_target=MAX_TARGET >> 16)
    engine.set_job(job_a)
    engine.start(on_solution)
    try:
        assert _wait_for(lambda: len(found) >= 3)
        job_b = make_job("b", share_target=MAX_TARGET >> 16)
        engine.set_job(job_b)
        assert _wait_for(lambda: any(s.job_id == "b" for s in found))
        stats = engine.stats
    finally:
        _stop_finishes_at_most_one_batch_per_worker(engine)
    assert engine.errors == []
    b_solutions = [s for s in found if s.job_id == "b"]
    assert b_solutions and b_solutions[0].extranonce2 == bytes(4)  # the counter restarted
    jobs = {"a": job_a, "b": job_b}
    assert all(hash_int(jobs[s.job_id], s) <= MAX_TARGET >> 16 for s in found)
    assert isinstance(stats, EngineStats)
    assert stats.backend == "cpu" and stats.threads == 2
    assert stats.hashes_done > 0 and stats.hashrate_hs_5s > 0 and stats.hashrate_hs_60s > 0
    assert engine.stats.solutions == len(found)  # after stop() every counted share was reported


def test_stop_is_prompt_on_the_slow_python_backend() -> None:
    engine = SearchEngine(backend="python", threads=2)
    engine.set_job(make_job(share_target=MAX_TARGET >> 20))
    engine.start(lambda s: None)
    assert _wait_for(lambda: engine.stats.hashes_done > 0)
    _stop_finishes_at_most_one_batch_per_worker(engine)


def test_callback_errors_are_kept_and_the_search_goes_on() -> None:
    engine = SearchEngine(backend="cpu", threads=1, batch_nonces=1 << 12)
    calls: list[Solution] = []

    def broken(solution: Solution) -> None:
        calls.append(solution)
        raise RuntimeError("consumer bug")

    engine.set_job(make_job(share_target=MAX_TARGET >> 4))
    engine.start(broken)
    assert _wait_for(lambda: engine.error_count > MAX_KEPT_ERRORS + 5)
    engine.stop()
    assert len(calls) >= engine.error_count > MAX_KEPT_ERRORS + 5  # the search went on
    errors = engine.errors
    assert len(errors) == MAX_KEPT_ERRORS  # bounded: the latest kept, the rest counted
    assert all(isinstance(e, RuntimeError) and str(e) == "consumer bug" for e in errors)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threads": 0},
        {"threads": 2.5},
        {"batch_nonces": 0},
        {"batch_nonces": NONCE_SPACE + 1},
        {"nonces_per_header": 0},
        {"backend": "abacus"},
    ],
)
def test_bad_settings_raise_input_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(PowInputError):
        SearchEngine(**kwargs)  # type: ignore[arg-type]


def test_engine_refuses_to_start_twice() -> None:
    engine = SearchEngine(backend="cpu", threads=1)
    engine.start(lambda s: None)
    try:
        with pytest.raises(PowError, match="already running"):
            engine.start(lambda s: None)
        with pytest.raises(PowError, match="idle engine"):
            engine.search(make_job(), hashes=10)
    finally:
        engine.stop()


def test_expected_time_to_a_share() -> None:
    from hashwatt.chain import DIFFICULTY_1_TARGET
    from hashwatt.miner.engine import expected_hashes_per_share, expected_seconds_to_share

    assert expected_hashes_per_share(MAX_TARGET) == 1.0
    assert expected_hashes_per_share(MAX_TARGET >> 8) == pytest.approx(256.0)
    # Difficulty 1 needs 2**32 hashes on average (0xffff * 2**208 + 1 ~ 2**224).
    assert expected_hashes_per_share(DIFFICULTY_1_TARGET) == pytest.approx(2**32, rel=1e-4)
    assert expected_seconds_to_share(DIFFICULTY_1_TARGET, 25e6) == pytest.approx(2**32 / 25e6, rel=1e-4)
    assert expected_seconds_to_share(MAX_TARGET, 0.0) == float("inf")
    # The engine's measured share rate agrees with the expectation (1 in 64, 2**16 hashes: ~1024).
    solutions = SearchEngine(backend="cpu", threads=2, batch_nonces=1 << 12).search(
        make_job(share_target=MAX_TARGET >> 6), hashes=1 << 16
    )
    assert 850 < len(solutions) < 1200


def test_easy_targets_get_small_batches_so_stop_stays_prompt() -> None:
    from hashwatt.miner.engine import effective_batch_nonces

    assert effective_batch_nonces(1 << 20, MAX_TARGET) == 1024  # every hash a share
    assert effective_batch_nonces(1 << 20, MAX_TARGET >> 10) == 1 << 16  # 64 shares of 1 in 1024
    assert effective_batch_nonces(1 << 20, MAX_TARGET >> 40) == 1 << 20  # a real target: unchanged
    engine = SearchEngine(backend="cpu", threads=2)
    found: list[Solution] = []
    engine.set_job(make_job(share_target=MAX_TARGET))  # every hash is a share
    engine.start(found.append)
    assert _wait_for(lambda: engine.stats.hashes_done > 0)
    before = engine.stats.hashes_done
    engine.stop(timeout_s=60.0)
    assert not engine.running
    # Each worker finishes at most its current 1,024-nonce batch (plus one racing the read).
    assert engine.stats.hashes_done - before <= 2 * 2 * 1024
    assert len(found) == engine.stats.solutions == engine.stats.hashes_done > 0


def test_a_resent_job_with_a_new_difficulty_continues_without_duplicates() -> None:
    import dataclasses

    found: list[Solution] = []
    engine = SearchEngine(backend="cpu", threads=2, batch_nonces=1 << 14)
    job = make_job("same", share_target=MAX_TARGET >> 12)
    engine.set_job(job)
    engine.start(found.append)
    try:
        assert _wait_for(lambda: engine.stats.hashes_done >= 1 << 21)
        # The pool re-sends the same job at a new difficulty: same headers, new share target.
        engine.set_job(dataclasses.replace(job, share_target=MAX_TARGET >> 11, clean_jobs=True))
        before = engine.stats.hashes_done
        assert _wait_for(lambda: engine.stats.hashes_done >= before + (1 << 21))
    finally:
        engine.stop()
    keys = [(s.extranonce2, s.version, s.nonce) for s in found]
    assert len(keys) == len(set(keys))  # no header scanned twice, so no duplicate share
    assert max(s.nonce for s in found) > 1 << 21  # the search went on past the first stretch
    # A different job (new id) does restart the counter.
    other = dataclasses.replace(job, job_id="other")
    assert engine._queue.update_job(other) is False
