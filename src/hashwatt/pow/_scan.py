"""One ``scan`` for every backend; the caller never knows which one runs.

Backends:

- ``cpu``: the C kernel, chosen at run time: SHA-NI with two nonces interleaved where the
  CPU has it, else AVX2 with eight nonces per vector, else portable C; compiled on first
  use (see :mod:`hashwatt.pow._cpu`).
- ``cpu-portable``: the portable C kernel even on a CPU with SHA-NI (for tests and benchmarks).
- ``numba``: the GPU kernel's generated sha256d compiled for the CPU with ``numba.njit``
  (no SHA instructions: about the portable C kernel's speed; kept as a measured alternative).
- ``gpu``: the numba.cuda kernel (:mod:`hashwatt.pow._gpu`); on a real CUDA device, or on
  numba's CUDA simulator when ``NUMBA_ENABLE_CUDASIM=1`` (tests only: ``auto`` never picks it).
- ``python``: hashlib with a copied midstate; about 1 MH/s per core; always available.
- ``auto``: ``gpu`` on a real CUDA device, else ``cpu``, else ``python``.

Every hit is recomputed with hashlib and compared with the target before it is returned.
"""

from __future__ import annotations

import threading
import warnings

from hashwatt.pow._common import hash_value, scan_python, validate_scan_args
from hashwatt.pow.errors import BackendUnavailable, KernelError, PowInputError

#: Names ``backend=`` accepts.
BACKEND_NAMES = ("auto", "cpu", "cpu-portable", "numba", "gpu", "python")

_lock = threading.Lock()
_warned_fallback = False


def available_backends() -> list[str]:
    """Backends that can run here, fastest first (``auto`` is not listed; it picks the first)."""
    from hashwatt.pow import _cpu, _gpu

    names: list[str] = []
    gpu_ok, gpu_simulated, _ = _gpu.gpu_status()
    if gpu_ok and not gpu_simulated:
        names.append("gpu")
    cpu_ok, _ = _cpu.cpu_available()
    if cpu_ok:
        names += ["cpu", "cpu-portable"]
    names.append("numba")
    if gpu_ok and gpu_simulated:
        names.append("gpu")
    names.append("python")
    return names


def resolve_backend(backend: str) -> str:
    """The concrete backend ``backend`` names; ``auto`` is resolved, unknown names raise."""
    global _warned_fallback
    from hashwatt.pow import _cpu, _gpu

    if backend not in BACKEND_NAMES:
        raise PowInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_NAMES)}")
    if backend != "auto":
        return backend
    gpu_ok, gpu_simulated, _ = _gpu.gpu_status()
    if gpu_ok and not gpu_simulated:
        return "gpu"
    cpu_ok, why = _cpu.cpu_available()
    if cpu_ok:
        return "cpu"
    with _lock:
        if not _warned_fallback:
            _warned_fallback = True
            warnings.warn(f"hashwatt.pow: {why}; using the slow python backend", RuntimeWarning, stacklevel=3)
    return "python"


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
    if name == "python":
        return scan_python(header, nonce_start, count, target)
    if name in ("cpu", "cpu-portable"):
        from hashwatt.pow import _cpu

        found = _cpu.scan_cpu(
            header, nonce_start, count, target, kernel="portable" if name == "cpu-portable" else None
        )
    elif name == "numba":
        from hashwatt.pow import _numba_cpu

        candidates = _numba_cpu.scan_numba(header, nonce_start, count, target)
        found = [n for n in candidates if hash_value(header, n) <= target]
    else:
        from hashwatt.pow import _gpu

        found = _gpu.scan_gpu(header, nonce_start, count, target)
    return _verified(header, found, target, name)


def _verified(header76: bytes, found: list[int], target: int, backend: str) -> list[int]:
    """Host-side hashlib check of every hit: a miscompiled kernel must not report shares."""
    for nonce in found:
        if hash_value(header76, nonce) > target:
            raise KernelError(f"backend {backend} reported nonce {nonce}, whose hash misses the target")
    return found


def check_backend(backend: str) -> str:
    """Resolve ``backend`` and make sure it can run here; raises :class:`BackendUnavailable`."""
    from hashwatt.pow import _cpu, _gpu

    name = resolve_backend(backend)
    if name in ("cpu", "cpu-portable"):
        ok, why = _cpu.cpu_available()
        if not ok:
            raise BackendUnavailable(why)
    elif name == "gpu":
        ok, _, why = _gpu.gpu_status()
        if not ok:
            raise BackendUnavailable(why)
    return name
