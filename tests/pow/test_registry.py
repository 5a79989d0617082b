"""The backend table is the one list: a new entry is usable everywhere, a broken one is caught."""

from __future__ import annotations

import pytest

from hashwatt.miner.engine import default_batch_nonces as engine_batch_nonces
from hashwatt.pow import (
    BACKEND_NAMES,
    BACKENDS,
    GENESIS_HEADER76,
    MAX_TARGET,
    Backend,
    BackendStatus,
    BackendUnavailable,
    KernelError,
    PowInputError,
    available_backends,
    backend_status,
    check_backend,
    default_batch_nonces,
    resolve_backend,
    scan,
)
from hashwatt.pow._bench import backend_rate
from hashwatt.pow._common import scan_python
from tests.pow._fixtures import oracle_scan


def test_names_come_from_the_table() -> None:
    assert ("auto", *BACKENDS) == BACKEND_NAMES
    assert {"gpu", "cpu", "cpu-portable", "numba", "python"} == set(BACKENDS)
    for name, entry in BACKENDS.items():
        assert entry.name == name and entry.description
        assert isinstance(backend_status(name), BackendStatus)
    assert default_batch_nonces("python") == BACKENDS["python"].batch_nonces()
    assert engine_batch_nonces("cpu") == BACKENDS["cpu"].batch_nonces()


def _reference_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    return scan_python(header76, nonce_start, count, target)


def test_a_registered_backend_is_usable_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
        calls.append(count)
        return scan_python(header76, nonce_start, count, target)

    entry = Backend(
        "fpga", "test double", lambda: BackendStatus(True, "ok"), counting_scan, lambda: 4096, 1024, False
    )
    monkeypatch.setitem(BACKENDS, "fpga", entry)
    assert "fpga" in available_backends()
    assert resolve_backend("fpga") == "fpga" and check_backend("fpga") == "fpga"
    assert default_batch_nonces("fpga") == 4096
    half = 1 << 255
    assert scan(GENESIS_HEADER76, 10, 300, half, backend="fpga") == oracle_scan(
        GENESIS_HEADER76, 10, 300, half
    )
    assert calls == [300]
    rate = backend_rate("fpga", 1, 0.05)  # the benchmark reads the table's chunk too
    assert rate.hashes % 1024 == 0 and rate.hashes > 0
    assert resolve_backend("auto") != "fpga"  # auto=False: never picked by auto


def test_a_lying_backend_is_caught_and_an_unusable_one_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def lying_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
        return [nonce_start]

    monkeypatch.setitem(
        BACKENDS,
        "liar",
        Backend("liar", "x", lambda: BackendStatus(True, "ok"), lying_scan, lambda: 1, 1, False),
    )
    with pytest.raises(KernelError, match="liar"):
        scan(GENESIS_HEADER76, 0, 10, 0, backend="liar")
    monkeypatch.setitem(
        BACKENDS,
        "broken",
        Backend(
            "broken",
            "x",
            lambda: BackendStatus(False, "no such device"),
            _reference_scan,
            lambda: 1,
            1,
            False,
        ),
    )
    assert "broken" not in available_backends()
    with pytest.raises(BackendUnavailable, match="no such device"):
        check_backend("broken")
    with pytest.raises(PowInputError, match="unknown backend"):
        scan(GENESIS_HEADER76, 0, 1, MAX_TARGET, backend="asic")


def test_a_simulator_is_listed_last_and_never_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        BACKENDS,
        "gpu",
        Backend(
            "gpu",
            "sim",
            lambda: BackendStatus(True, "simulator", simulated=True),
            _reference_scan,
            lambda: 64,
            64,
            True,
        ),
    )
    names = available_backends()
    assert names[-1] == "gpu"
    assert resolve_backend("auto") != "gpu"
