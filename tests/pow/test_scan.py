"""scan() on every CPU-side backend against real headers and an independent hashlib oracle."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashwatt.chain import bits_to_target, hash_to_hex
from hashwatt.errors import HashwattError, InputError
from hashwatt.pow import (
    GENESIS_HEADER76,
    GENESIS_NONCE,
    MAX_TARGET,
    NONCE_SPACE,
    PowError,
    PowInputError,
    available_backends,
    resolve_backend,
    scan,
    sha256d_header,
)
from hashwatt.pow._cpu import available_kernels, scan_cpu
from tests.pow._fixtures import load_headers, oracle_hash, oracle_scan

BACKENDS = ["cpu", "cpu-portable", "python"]
HEADERS = load_headers()
GENESIS_TARGET = bits_to_target(0x1D00FFFF)


def test_backends_listed() -> None:
    names = available_backends()
    assert {"python", "cpu", "cpu-portable", "numba", "gpu"} <= set(names)  # gpu: the simulator
    # The tests enable numba's simulator; auto must still never pick it.
    assert resolve_backend("auto") == "cpu"


@pytest.mark.parametrize("backend", BACKENDS)
def test_genesis_nonce_found_in_window(backend: str) -> None:
    assert scan(GENESIS_HEADER76, GENESIS_NONCE - 5000, 10_000, GENESIS_TARGET, backend=backend) == [
        GENESIS_NONCE
    ]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("header", HEADERS, ids=[f"h{h.height}" for h in HEADERS])
def test_real_header_nonce_found(backend: str, header: object) -> None:
    from tests.pow._fixtures import RealHeader

    assert isinstance(header, RealHeader)
    target = bits_to_target(header.bits)
    start = max(0, header.nonce - 1500)
    count = min(NONCE_SPACE, header.nonce + 1500) - start
    assert scan(header.header76, start, count, target, backend=backend) == [header.nonce]
    assert hash_to_hex(sha256d_header(header.header76, header.nonce)) == header.block_hash_hex


@pytest.mark.parametrize("backend", BACKENDS)
def test_windows_without_a_solution_are_empty(backend: str) -> None:
    for header in HEADERS[:4]:
        target = bits_to_target(header.bits)
        if header.nonce >= 3000:
            assert scan(header.header76, header.nonce - 3000, 3000, target, backend=backend) == []
        assert scan(header.header76, header.nonce + 1, 3000, target, backend=backend) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_and_no_hash_accepted(backend: str) -> None:
    assert scan(GENESIS_HEADER76, 1000, 777, MAX_TARGET, backend=backend) == list(range(1000, 1777))
    assert scan(GENESIS_HEADER76, GENESIS_NONCE - 100, 200, 0, backend=backend) == []
    assert scan(GENESIS_HEADER76, 5, 0, MAX_TARGET, backend=backend) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_range_ending_exactly_at_2_32(backend: str) -> None:
    last = NONCE_SPACE - 1
    assert scan(GENESIS_HEADER76, NONCE_SPACE - 300, 300, MAX_TARGET, backend=backend)[-1] == last
    target = oracle_hash(GENESIS_HEADER76, last)  # exactly the last nonce's hash: it must be included
    expected = oracle_scan(GENESIS_HEADER76, NONCE_SPACE - 300, 300, target)
    assert last in expected
    assert scan(GENESIS_HEADER76, NONCE_SPACE - 300, 300, target, backend=backend) == expected
    with pytest.raises(PowInputError, match="2\\*\\*32"):
        scan(GENESIS_HEADER76, NONCE_SPACE - 300, 301, target, backend=backend)


def test_more_hits_than_one_kernel_call_returns() -> None:
    # The C wrapper collects at most 4096 hits per call and resumes after the last one.
    assert scan(GENESIS_HEADER76, 3, 10_001, MAX_TARGET, backend="cpu") == list(range(3, 10_004))
    half = 1 << 255  # about half of all hashes
    assert scan(GENESIS_HEADER76, 0, 20_000, half, backend="cpu") == oracle_scan(
        GENESIS_HEADER76, 0, 20_000, half
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"\x00" * 75, 0, 10, 1), "76 bytes"),
        ((b"\x00" * 80, 0, 10, 1), "76 bytes"),
        (("00" * 76, 0, 10, 1), "must be bytes"),
        ((b"\x00" * 76, -1, 10, 1), "nonce_start"),
        ((b"\x00" * 76, NONCE_SPACE, 0, 1), "nonce_start"),
        ((b"\x00" * 76, 0, -1, 1), "count"),
        ((b"\x00" * 76, 0, 10, -1), "target"),
        ((b"\x00" * 76, 0, 10, 1 << 256), "target"),
        ((b"\x00" * 76, 0, 10, 1.5), "target must be an int"),
        ((b"\x00" * 76, NONCE_SPACE - 1, 2, 1), "2\\*\\*32"),
    ],
)
def test_bad_input_raises_typed_error(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(PowInputError, match=message) as info:
        scan(*args)  # type: ignore[arg-type]
    assert isinstance(info.value, InputError) and isinstance(info.value, PowError)
    assert isinstance(info.value, HashwattError)


def test_unknown_backend() -> None:
    with pytest.raises(PowInputError, match="unknown backend"):
        scan(GENESIS_HEADER76, 0, 1, 1, backend="fpga")


def _interesting_target(draw: st.DrawFn, header: bytes, start: int, count: int) -> int:
    kind = draw(st.sampled_from(["random", "all", "none", "exact", "below", "top-limb", "fraction"]))
    if kind == "random":
        return draw(st.integers(0, MAX_TARGET))
    if kind == "all":
        return MAX_TARGET
    if kind == "none":
        return 0
    if count == 0:
        return draw(st.integers(0, MAX_TARGET))
    nonce = draw(st.integers(start, start + count - 1))
    value = oracle_hash(header, nonce)
    if kind == "exact":  # the boundary: hash == target is accepted
        return value
    if kind == "below":  # one less: rejected after the top word already matched
        return max(0, value - 1)
    if kind == "top-limb":  # same top 32 bits, lower bits all zero: a top-word survivor that fails
        return (value >> 224) << 224
    return draw(st.integers(0, 255)) << 248  # accepts a fraction of hashes


@st.composite
def scan_cases(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    header = draw(st.binary(min_size=76, max_size=76))
    count = draw(st.integers(0, 200))
    last_start = NONCE_SPACE - max(count, 1)
    start = draw(st.one_of(st.integers(0, last_start), st.just(last_start)))
    return header, start, count, _interesting_target(draw, header, start, count)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scan_cases(), backend=st.sampled_from(BACKENDS))
def test_scan_agrees_with_hashlib(case: tuple[bytes, int, int, int], backend: str) -> None:
    header, start, count, target = case
    assert scan(header, start, count, target, backend=backend) == oracle_scan(header, start, count, target)


@settings(max_examples=80, deadline=None)
@given(case=scan_cases(), kernel=st.sampled_from(available_kernels()))
def test_every_c_kernel_agrees_with_hashlib(case: tuple[bytes, int, int, int], kernel: str) -> None:
    header, start, count, target = case
    assert scan_cpu(header, start, count, target, kernel=kernel) == oracle_scan(header, start, count, target)


@pytest.mark.slow
def test_numba_backend() -> None:
    # One test: the first compile of the generated kernel takes 10-30 s (then it is cached).
    assert scan(GENESIS_HEADER76, GENESIS_NONCE - 3000, 6000, GENESIS_TARGET, backend="numba") == [
        GENESIS_NONCE
    ]
    assert scan(GENESIS_HEADER76, GENESIS_NONCE + 1, 3000, GENESIS_TARGET, backend="numba") == []
    assert scan(GENESIS_HEADER76, NONCE_SPACE - 5000, 5000, MAX_TARGET, backend="numba") == list(
        range(NONCE_SPACE - 5000, NONCE_SPACE)
    )
    half = 1 << 255
    assert scan(GENESIS_HEADER76, 7, 300, half, backend="numba") == oracle_scan(
        GENESIS_HEADER76, 7, 300, half
    )


@pytest.mark.parametrize("kernel", available_kernels())
def test_every_c_kernel_handles_lane_tails_and_resumes(kernel: str) -> None:
    half = 1 << 255
    for start in (0, 1, 7, NONCE_SPACE - 37):
        for count in range(0, 37):
            if start + count > NONCE_SPACE:
                continue
            assert scan_cpu(GENESIS_HEADER76, start, count, half, kernel=kernel) == oracle_scan(
                GENESIS_HEADER76, start, count, half
            )
    # More hits than one C call returns (4096): the wrapper resumes right after the last hit.
    assert scan_cpu(GENESIS_HEADER76, 5, 9_001, MAX_TARGET, kernel=kernel) == list(range(5, 9_006))
    assert scan_cpu(GENESIS_HEADER76, GENESIS_NONCE - 999, 2_000, GENESIS_TARGET, kernel=kernel) == [
        GENESIS_NONCE
    ]
