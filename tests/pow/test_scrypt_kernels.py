"""Every scrypt C kernel this CPU runs against hashlib.scrypt: the Litecoin vectors, random
headers, hits in the first and last lane of a group, ranges ending at 2**32, a full output
buffer; the measured choice, its cache and the ``HASHWATT_SCRYPT_KERNEL`` override."""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashwatt.pow import (
    MAX_TARGET,
    NONCE_SPACE,
    SCRYPT_BACKEND_NAMES,
    BackendUnavailable,
    KernelError,
    PowInputError,
    _cpu,
    _scrypt,
    scan_scrypt,
    scrypt_hash_value,
)

VECTORS = Path(__file__).resolve().parents[1] / "data" / "chain" / "ltc_scrypt_vectors.json"
SCRYPT = _cpu.SCRYPT
RUNNABLE = _cpu.available_kernels(family=SCRYPT)
#: A header no kernel was tuned on (fixed seed: a failure reproduces).
HEADER = random.Random(17).randbytes(76)
START = 1_000
#: Two full groups of the widest kernel this CPU runs and a tail for every width.
COUNT = 2 * max(SCRYPT.kernels[name].lanes for name in RUNNABLE) + 1


@functools.cache
def reference() -> tuple[int, ...]:
    """hashlib.scrypt of HEADER at nonces START .. START+COUNT-1 (computed once for all kernels)."""
    return tuple(scrypt_hash_value(HEADER, n) for n in range(START, START + COUNT))


def oracle(target: int) -> list[int]:
    return [START + i for i, value in enumerate(reference()) if value <= target]


def kernel_scan(kernel: str, header: bytes, start: int, count: int, target: int) -> list[int]:
    return _cpu.scan_cpu(header, start, count, target, kernel=kernel, family=SCRYPT)


def test_runnable_kernels_follow_the_cpu_features() -> None:
    expected = {"scalar", "sse2-x1", "sse2-x2", "sse2-x3", "sse2-x4"}
    if "avx2" in _cpu.cpu_features():
        expected |= {"avx2-x2", "avx2-x4", "avx2-x6", "avx2-x8", "avx2-q8"}
    if "avx512" in _cpu.cpu_features():
        expected |= {"avx512-x8", "avx512-x12", "avx512-x16"}
    assert set(RUNNABLE) == expected


def test_the_c_hash_matches_the_litecoin_vectors() -> None:
    library = _cpu._load(SCRYPT)
    digest = library.ffi.new("uint8_t[32]")
    for vector in json.loads(VECTORS.read_text())["scrypt_vectors"]:
        library.lib.hw_scrypt_hash(bytes.fromhex(vector["header_hex"]), digest)
        assert bytes(library.ffi.buffer(digest, 32))[::-1].hex() == vector["scrypt_hash_display"]


def test_scrypt_and_sha256d_are_separate_libraries() -> None:
    # Bitcoin-only users build and load no scrypt code, and the scrypt build leaves out the
    # SHA-256d scan kernels: each library exports its own family's functions only.
    sha, scrypt = _cpu._load(_cpu.SHA256D), _cpu._load(SCRYPT)
    assert sha.path != scrypt.path and scrypt.path.name.startswith("hw_scrypt-")
    assert sha.features == scrypt.features  # one cpuid probe, compiled into both
    for library, missing in (
        (sha, ("hw_scrypt_scan", "hw_scrypt_hash")),
        (scrypt, ("hw_scan", "hw_sha256d")),
    ):
        for symbol in missing:
            with pytest.raises(AttributeError):
                getattr(library.lib, symbol)


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_each_litecoin_vector_is_found_at_its_own_hash_and_missed_below(kernel: str) -> None:
    lanes = SCRYPT.kernels[kernel].lanes
    for vector in json.loads(VECTORS.read_text())["scrypt_vectors"]:
        header = bytes.fromhex(vector["header_hex"])
        nonce = int.from_bytes(header[76:], "little")
        value = int(vector["scrypt_hash_display"], 16)
        # The real nonce in the middle of one full group, and one tail nonce after it.
        start = nonce - lanes // 2
        assert kernel_scan(kernel, header[:76], start, lanes + 1, value) == [nonce]
        assert kernel_scan(kernel, header[:76], start, lanes + 1, value - 1) == []


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_a_random_header_agrees_with_hashlib(kernel: str) -> None:
    median = sorted(reference())[COUNT // 2]
    found = kernel_scan(kernel, HEADER, START, COUNT, median)
    assert found == oracle(median) and len(found) == COUNT // 2 + 1


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_hits_in_the_first_and_the_last_lane_of_a_group(kernel: str) -> None:
    lanes = SCRYPT.kernels[kernel].lanes
    for lane in (0, lanes - 1):
        value = reference()[lane]
        found = kernel_scan(kernel, HEADER, START, lanes, value)
        assert START + lane in found and found == [n for n in oracle(value) if n < START + lanes]
        assert START + lane not in kernel_scan(kernel, HEADER, START, lanes, value - 1)


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_a_range_ending_at_2_32(kernel: str) -> None:
    count = SCRYPT.kernels[kernel].lanes + 3
    start = NONCE_SPACE - count
    assert kernel_scan(kernel, HEADER, start, count, MAX_TARGET) == list(range(start, NONCE_SPACE))
    last = scrypt_hash_value(HEADER, NONCE_SPACE - 1)
    assert NONCE_SPACE - 1 in kernel_scan(kernel, HEADER, start, count, last)


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_resumes_after_a_full_output_buffer(kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A 3-nonce buffer fills inside a group: the wrapper resumes right after the last hit.
    monkeypatch.setattr(_cpu, "_OUT_CAP", 3)
    assert kernel_scan(kernel, HEADER, 40, 19, MAX_TARGET) == list(range(40, 59))


@pytest.mark.parametrize("kernel", RUNNABLE)
def test_the_pbkdf2_blocks_agree_with_and_without_sha_ni(kernel: str) -> None:
    library = _cpu._load(SCRYPT)
    kernel_id = SCRYPT.kernels[kernel].kernel_id
    median = sorted(reference())[COUNT // 2]
    for flags in (0, _cpu.SCRYPT_NO_SHA_NI):
        found = _cpu._scan_with(library, kernel_id | flags, HEADER, START, COUNT, median, family=SCRYPT)
        assert found == oracle(median)


@settings(max_examples=8, deadline=None)
@given(
    header=st.binary(min_size=76, max_size=76),
    start=st.integers(0, NONCE_SPACE - 1),
    count=st.integers(0, 10),
    top=st.integers(0, 255),
)
def test_the_cpu_backend_agrees_with_the_python_backend(
    header: bytes, start: int, count: int, top: int
) -> None:
    count = min(count, NONCE_SPACE - start)
    target = (top << 248) | ((1 << 248) - 1)
    assert scan_scrypt(header, start, count, target, backend="cpu") == scan_scrypt(
        header, start, count, target, backend="python"
    )


# ---------------------------------------------------------------- backends, choice, override


def test_auto_is_the_c_kernel_here_and_ranges_past_2_32_are_refused() -> None:
    assert SCRYPT_BACKEND_NAMES == ("cpu", "python")
    assert _scrypt.resolve_scrypt_backend("auto") == "cpu"
    with pytest.raises(PowInputError, match="2\\*\\*32"):
        scan_scrypt(HEADER, NONCE_SPACE - 2, 3, MAX_TARGET)
    with pytest.raises(BackendUnavailable, match="unknown scrypt backend"):
        scan_scrypt(HEADER, 0, 1, MAX_TARGET, backend="gpu")


def test_a_kernel_hit_that_misses_the_target_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A miscompiled kernel reporting a nonce that misses: the host-side hashlib check stops it.
    liar = dataclasses.replace(_scrypt.SCRYPT_BACKENDS["cpu"], scan=lambda h, s, c, t: [s])
    monkeypatch.setitem(_scrypt.SCRYPT_BACKENDS, "cpu", liar)
    with pytest.raises(KernelError, match="misses the target"):
        scan_scrypt(HEADER, START, 1, 0, backend="cpu")


def test_the_choice_is_measured_per_family_then_read_from_the_cache(tmp_path: Path) -> None:
    library = _cpu._load(SCRYPT)
    path = _cpu.choice_cache_path(library, tmp_path, family=SCRYPT)
    assert path != _cpu.choice_cache_path(library, tmp_path)  # SHA-256d keeps its own file
    first = _cpu.choose_kernel(library, path, family=SCRYPT)
    assert first.source == "measured" and set(first.rates_hs) == set(RUNNABLE)
    assert first.kernel == max(first.rates_hs, key=lambda k: first.rates_hs[k])
    stored = json.loads(path.read_text())
    assert stored["family"] == "scrypt" and stored["kernel"] == first.kernel
    path.write_text(json.dumps({**stored, "kernel": "scalar"}))
    assert _cpu.choose_kernel(library, path, family=SCRYPT).kernel == "scalar"
    # A SHA-256d kernel name in a scrypt cache file is not believed.
    path.write_text(json.dumps({**stored, "kernel": "sha-ni-x2"}))
    assert _cpu.choose_kernel(library, path, family=SCRYPT).source == "measured"


def test_the_override_forces_a_kernel_and_refuses_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_cpu.SCRYPT_KERNEL_ENV, "sse2")
    assert _cpu.best_kernel(family=SCRYPT) == "sse2-x3"
    assert _cpu.best_kernel() == _cpu.best_kernel(family=_cpu.SHA256D)  # SHA-256d untouched
    assert "sse2-x3" in _scrypt.SCRYPT_BACKENDS["cpu"].status()[1]
    monkeypatch.setenv(_cpu.SCRYPT_KERNEL_ENV, "avx1024")
    with pytest.raises(PowInputError, match="HASHWATT_SCRYPT_KERNEL=avx1024"):
        scan_scrypt(HEADER, 0, 1, MAX_TARGET, backend="cpu")


def test_a_scrypt_library_that_cannot_build_leaves_bitcoin_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a failed scrypt build (an older compiler, say) is remembered as: auto falls back to
    # hashlib, cpu is refused with the reason, and the SHA-256d library is unaffected.
    monkeypatch.delitem(_cpu._libraries, "scrypt", raising=False)
    monkeypatch.setitem(_cpu._load_errors, "scrypt", "compiling the C kernel with cc failed: (test)")
    assert _scrypt.resolve_scrypt_backend("auto") == "python"
    with pytest.raises(BackendUnavailable, match="compiling the C kernel"):
        _scrypt.check_scrypt_backend("cpu")
    assert _cpu.cpu_available()[0]
    assert scan_scrypt(HEADER, START, 2, MAX_TARGET) == [START, START + 1]  # auto: hashlib
