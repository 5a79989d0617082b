"""The CUDA kernel, run on numba's CUDA simulator (tests/pow/conftest.py enables it).

The simulator executes the very kernel source a GPU compiles, in Python threads: slow, so
every range here is tiny.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.chain import bits_to_target
from hashwatt.miner.engine import SearchEngine
from hashwatt.pow import GENESIS_HEADER76, GENESIS_NONCE, MAX_TARGET, NONCE_SPACE, _gpu, resolve_backend, scan
from hashwatt.pow._kernelgen import SECOND_HASH_ROUNDS, generate
from tests._support.work import make_job
from tests.pow._fixtures import load_headers, oracle_hash, oracle_scan


def test_simulator_is_used_but_never_chosen_by_auto() -> None:
    # Fails (rather than skips) if numba.cuda was imported before conftest set the flag.
    ok, simulated, why = _gpu.gpu_status()
    assert ok and simulated and "simulator" in why
    assert resolve_backend("auto") != "gpu"


def test_genesis_and_real_headers() -> None:
    assert scan(GENESIS_HEADER76, GENESIS_NONCE - 40, 80, bits_to_target(0x1D00FFFF), backend="gpu") == [
        GENESIS_NONCE
    ]
    for header in load_headers()[3:9:2]:
        target = bits_to_target(header.bits)
        assert scan(header.header76, header.nonce - 16, 33, target, backend="gpu") == [header.nonce]
        assert scan(header.header76, header.nonce + 1, 40, target, backend="gpu") == []


def test_all_none_and_the_end_of_the_nonce_space() -> None:
    assert scan(GENESIS_HEADER76, NONCE_SPACE - 37, 37, MAX_TARGET, backend="gpu") == list(
        range(NONCE_SPACE - 37, NONCE_SPACE)
    )
    assert scan(GENESIS_HEADER76, 0, 50, 0, backend="gpu") == []


def test_candidate_buffer_overflow_rescans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_gpu, "_SIM_OUT_CAP", 8)
    assert scan(GENESIS_HEADER76, 1000, 45, MAX_TARGET, backend="gpu") == list(range(1000, 1045))
    half = 1 << 255
    assert scan(GENESIS_HEADER76, 0, 60, half, backend="gpu") == oracle_scan(GENESIS_HEADER76, 0, 60, half)


@st.composite
def small_cases(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    header = draw(st.binary(min_size=76, max_size=76))
    count = draw(st.integers(1, 24))
    start = draw(st.integers(0, NONCE_SPACE - count))
    nonce = draw(st.integers(start, start + count - 1))
    value = oracle_hash(header, nonce)
    target = draw(st.sampled_from([value, max(0, value - 1), (value >> 224) << 224, MAX_TARGET >> 1, 0]))
    return header, start, count, target


@settings(max_examples=12, deadline=None)
@given(case=small_cases())
def test_kernel_agrees_with_hashlib(case: tuple[bytes, int, int, int]) -> None:
    header, start, count, target = case
    assert scan(header, start, count, target, backend="gpu") == oracle_scan(header, start, count, target)


def test_engine_on_the_gpu_backend_matches_the_cpu() -> None:
    job = make_job(share_target=MAX_TARGET >> 3, extranonce2_size=1)
    gpu = SearchEngine(backend="gpu", batch_nonces=32, nonces_per_header=64)
    cpu = SearchEngine(backend="cpu", threads=1, batch_nonces=32, nonces_per_header=64)
    assert gpu.threads == 1
    solutions = gpu.search(job, hashes=192, timeout_s=60)
    assert solutions == cpu.search(job, hashes=192)
    assert len({s.extranonce2 for s in solutions}) == 3


def test_kernel_is_straight_line_with_an_early_reject() -> None:
    source = _gpu.kernel_source()
    gen = generate()
    assert "for i in range(per_thread)" in source and source.count("for ") == 1  # rounds unrolled
    assert "[" not in "\n".join(gen.body)  # no array in the per-nonce body: registers only
    assert SECOND_HASH_ROUNDS == 61
    # The job-invariant prologue carries rounds 0..2 and the invariant schedule.
    assert len(gen.prologue) > 40
