"""One ``scan`` for every backend; the caller never knows which one runs.

Backends register in one table, :data:`BACKENDS` (name, availability check, scan function,
description, work sizes), in the order ``auto`` prefers them; ``available_backends``,
``resolve_backend``, ``check_backend``, ``scan``, the search engine and ``hashwatt bench``
all read it instead of listing the backends again (uvicorn's ``HTTP_PROTOCOLS`` table).

- ``gpu``: the numba.cuda kernel (:mod:`hashwatt.pow._gpu`); on a real CUDA device, or on
  numba's CUDA simulator when ``NUMBA_ENABLE_CUDASIM=1`` (tests only: ``auto`` never picks it).
- ``cpu``: the C kernel (:mod:`hashwatt.pow._cpu`), compiled on first use; the kernel is the
  fastest of those this CPU runs in a short measurement, cached per CPU model and kernel
  build, or the one ``HASHWATT_POW_KERNEL`` forces.
- ``cpu-portable``: the portable C kernel even on a CPU with SHA-NI (for tests and benchmarks).
- ``numba``: the GPU kernel's generated sha256d compiled for the CPU with ``numba.njit``
  (no SHA instructions: about the portable C kernel's speed; kept as a measured alternative).
- ``python``: hashlib with a copied midstate; about 1 MH/s per core; always available.
- ``auto``: the first entry marked ``auto`` that runs here (and is not a simulator).

Every hit is recomputed with hashlib and compared with the target before it is returned.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from hashwatt.pow._common import hash_value, scan_python, validate_scan_args
from hashwatt.pow.errors import BackendUnavailable, KernelError, PowInputError

#: ``scan_fn(header76, nonce_start, count, target) -> candidate nonces`` (inputs validated).
ScanFn = Callable[[bytes, int, int, int], list[int]]


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """Whether a backend runs here, why (or why not), and whether it is only a simulator."""

    usable: bool
    reason: str
    #: Runs correctly but is no measure of speed (numba's CUDA simulator): never ``auto``,
    #: listed last, not timed by ``hashwatt bench``.
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class Backend:
    """One entry of the backend table."""

    name: str
    description: str
    status: Callable[[], BackendStatus]
    scan: ScanFn
    #: Nonces per search-engine work item: about 0.05-0.5 s of one worker.
    batch_nonces: Callable[[], int]
    #: Nonces per call when ``hashwatt bench`` times it.
    bench_chunk: int
    #: Whether ``auto`` may pick it (``cpu-portable`` and ``numba`` are measured alternatives).
    auto: bool


def _gpu_status() -> BackendStatus:
    from hashwatt.pow import _gpu

    usable, simulated, reason = _gpu.gpu_status()
    return BackendStatus(usable, reason, simulated)


def _gpu_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    from hashwatt.pow import _gpu

    return _gpu.scan_gpu(header76, nonce_start, count, target)


def _gpu_batch() -> int:
    from hashwatt.pow import _gpu

    return _gpu.default_batch_nonces()


def _cpu_status() -> BackendStatus:
    from hashwatt.pow import _cpu

    usable, reason = _cpu.cpu_available()
    if usable:
        # A misspelt or unrunnable HASHWATT_POW_KERNEL raises here (PowInputError,
        # BackendUnavailable): a forced kernel is never silently replaced by another backend.
        reason += f"; kernel {_cpu.best_kernel()}"
    return BackendStatus(usable, reason)


def _cpu_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    from hashwatt.pow import _cpu

    return _cpu.scan_cpu(header76, nonce_start, count, target)


def _cpu_batch() -> int:
    from hashwatt.pow import _cpu

    return 1 << 20 if _cpu.best_kernel() != "portable" else 1 << 18


def _cpu_portable_status() -> BackendStatus:
    from hashwatt.pow import _cpu

    usable, reason = _cpu.cpu_available()
    return BackendStatus(usable, reason)


def _cpu_portable_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    from hashwatt.pow import _cpu

    return _cpu.scan_cpu(header76, nonce_start, count, target, kernel="portable")


def _numba_status() -> BackendStatus:
    if importlib.util.find_spec("numba") is None:
        return BackendStatus(False, "the numba backend needs the 'numba' package")
    return BackendStatus(True, "numba.njit of the generated sha256d (compiled on first use)")


def _numba_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    from hashwatt.pow import _numba_cpu

    # The numba kernel reports top-word survivors; the full 256-bit compare happens here.
    candidates = _numba_cpu.scan_numba(header76, nonce_start, count, target)
    return [n for n in candidates if hash_value(header76, n) <= target]


def _always() -> BackendStatus:
    return BackendStatus(True, "hashlib (always available)")


def _fixed(nonces: int) -> Callable[[], int]:
    return lambda: nonces


#: The backend table, in the order ``auto`` prefers them.
BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("gpu", "numba.cuda kernel on a CUDA device", _gpu_status, _gpu_scan, _gpu_batch, 1 << 30, True),
        Backend(
            "cpu", "C kernel chosen by measurement (SHA-NI, AVX2, AVX-512)", _cpu_status, _cpu_scan, _cpu_batch,
            1 << 20, True,
        ),
        Backend(
            "cpu-portable", "portable C kernel (no SIMD, no SHA-NI)", _cpu_portable_status, _cpu_portable_scan,
            _fixed(1 << 18), 1 << 17, False,
        ),
        Backend(
            "numba", "generated sha256d, numba.njit on the CPU", _numba_status, _numba_scan, _fixed(1 << 18),
            1 << 17, False,
        ),
        Backend("python", "hashlib with a copied midstate", _always, scan_python, _fixed(1 << 15), 1 << 13, True),
    )
}  # fmt: skip

#: Names ``backend=`` accepts.
BACKEND_NAMES = ("auto", *BACKENDS)

_lock = threading.Lock()
_warned_fallback = False


def backend_status(name: str) -> BackendStatus:
    """The table's availability check for ``name`` (a concrete backend, not ``auto``)."""
    return _entry(name).status()


def available_backends() -> list[str]:
    """Backends that can run here, fastest first (``auto`` is not listed; it picks the first).

    A simulator (numba's CUDA simulator) runs but is the slowest of all: listed last.
    """
    statuses = {name: backend.status() for name, backend in BACKENDS.items()}
    usable = [name for name, status in statuses.items() if status.usable]
    return [n for n in usable if not statuses[n].simulated] + [n for n in usable if statuses[n].simulated]


def default_batch_nonces(backend: str) -> int:
    """Nonces per search-engine work item on ``backend``, from the table."""
    return _entry(resolve_backend(backend)).batch_nonces()


def bench_chunk(backend: str) -> int:
    """Nonces per scan call when timing ``backend``, from the table."""
    return _entry(resolve_backend(backend)).bench_chunk


def _entry(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise PowInputError(
            f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}", field="backend", value=name
        ) from None


def resolve_backend(backend: str) -> str:
    """The concrete backend ``backend`` names; ``auto`` is resolved, unknown names raise."""
    global _warned_fallback
    if backend != "auto":
        return _entry(backend).name
    reasons: list[str] = []
    for name, entry in BACKENDS.items():
        if not entry.auto:
            continue
        status = entry.status()
        if status.usable and not status.simulated:
            if reasons and name == "python":
                with _lock:
                    if not _warned_fallback:
                        _warned_fallback = True
                        warnings.warn(
                            f"hashwatt.pow: {reasons[-1]}; using the slow python backend",
                            RuntimeWarning,
                            stacklevel=3,
                        )
            return name
        if name != "gpu":  # no GPU is the normal case, not worth a warning
            reasons.append(status.reason)
    raise BackendUnavailable("no backend can run here")  # pragma: no cover - python always can


def scan(header76: bytes, nonce_start: int, count: int, target: int, *, backend: str = "auto") -> list[int]:
    """Nonces ``n`` in ``[nonce_start, nonce_start + count)`` whose block hash meets ``target``.

    The hash is ``sha256d(header76 || n as 4 little-endian bytes)`` read as a little-endian
    number, as Bitcoin compares it; a hit means ``hash <= target``. Nonces come back in
    ascending order. The range may end exactly at ``2**32`` but not wrap past it (raises
    :class:`~hashwatt.pow.errors.PowInputError`); roll extranonce2 or the version instead.
    """
    header = validate_scan_args(header76, nonce_start, count, target)
    name = resolve_backend(backend)
    if count == 0:
        return []
    found = BACKENDS[name].scan(header, nonce_start, count, target)
    if name == "python":  # the reference itself
        return found
    return _verified(header, found, target, name)


def _verified(header76: bytes, found: list[int], target: int, backend: str) -> list[int]:
    """Host-side hashlib check of every hit: a miscompiled kernel must not report shares."""
    for nonce in found:
        if hash_value(header76, nonce) > target:
            raise KernelError(f"backend {backend} reported nonce {nonce}, whose hash misses the target")
    return found


def check_backend(backend: str) -> str:
    """Resolve ``backend`` and make sure it can run here; raises :class:`BackendUnavailable`."""
    name = resolve_backend(backend)
    status = BACKENDS[name].status()
    if not status.usable:
        raise BackendUnavailable(status.reason)
    return name
