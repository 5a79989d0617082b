"""Scrypt proof of work (Litecoin, Dogecoin): the same ``scan`` contract as SHA-256d.

``scan_scrypt(header76, nonce_start, count, target)`` returns the nonces whose
``scrypt_1024_1_1_256(header76 || nonce)`` meets ``target`` (read little-endian, as Litecoin
compares it). Backends, fastest first (one table, :data:`SCRYPT_BACKENDS`):

- ``cpu``: the scrypt C kernels, a library of their own (``_kernel_scrypt.c``, built,
  cached and self-tested by :mod:`hashwatt.pow._cpu` like the SHA-256d one): several nonces interleaved per call in
  128-bit (SSE2) or 256-bit (AVX2) vectors, SHA-NI for the PBKDF2 blocks; the kernel is the
  fastest in a short measurement cached per CPU model, or the one ``HASHWATT_SCRYPT_KERNEL``
  forces.
- ``python``: the standard library's OpenSSL scrypt once per nonce; the reference every
  faster backend is checked against, and the fallback where no C compiler exists.

Every hit of a faster backend is recomputed with hashlib before it is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hashwatt.pow._common import scrypt_header, validate_scan_args
from hashwatt.pow.errors import BackendUnavailable, KernelError


@dataclass(frozen=True, slots=True)
class ScryptBackend:
    """One scrypt backend: whether it runs here (and why not), its scan, its work size."""

    name: str
    description: str
    status: Callable[[], tuple[bool, str]]
    #: ``scan(header76, nonce_start, count, target) -> nonces`` on validated inputs.
    scan: Callable[[bytes, int, int, int], list[int]]
    #: Nonces per search-engine work item: a fraction of a second of one worker.
    batch_nonces: int


def scrypt_hash_value(header76: bytes, nonce: int) -> int:
    """The scrypt PoW hash of ``header76 || nonce`` as the number compared with the target."""
    return int.from_bytes(scrypt_header(header76, nonce), "little")


def _python_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    return [n for n in range(nonce_start, nonce_start + count) if scrypt_hash_value(header76, n) <= target]


def _cpu_status() -> tuple[bool, str]:
    from hashwatt.pow import _cpu

    usable, reason = _cpu.cpu_available(family=_cpu.SCRYPT)
    if usable:
        # A misspelt or unrunnable HASHWATT_SCRYPT_KERNEL raises here, never a silent fallback.
        reason += f"; scrypt kernel {_cpu.best_kernel(family=_cpu.SCRYPT)}"
    return usable, reason


def _cpu_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    from hashwatt.pow import _cpu

    return _cpu.scan_cpu(header76, nonce_start, count, target, family=_cpu.SCRYPT)


def _always() -> tuple[bool, str]:
    return True, "hashlib.scrypt (always available)"


#: The scrypt backend table, in the order ``auto`` prefers them.
SCRYPT_BACKENDS: dict[str, ScryptBackend] = {
    b.name: b
    for b in (
        ScryptBackend("cpu", "C kernel chosen by measurement (SSE2/AVX2 lanes, SHA-NI)", _cpu_status, _cpu_scan, 4096),
        ScryptBackend("python", "hashlib.scrypt once per nonce", _always, _python_scan, 256),
    )
}  # fmt: skip
#: Scrypt backends, fastest first; ``auto`` picks the first that runs here.
SCRYPT_BACKEND_NAMES: tuple[str, ...] = tuple(SCRYPT_BACKENDS)


def resolve_scrypt_backend(backend: str) -> str:
    """``auto`` -> the fastest scrypt backend that runs here; a named one must exist."""
    if backend == "auto":
        return next(name for name, entry in SCRYPT_BACKENDS.items() if entry.status()[0])
    if backend not in SCRYPT_BACKENDS:
        raise BackendUnavailable(
            f"unknown scrypt backend {backend!r}; choose from auto, {', '.join(SCRYPT_BACKEND_NAMES)}"
        )
    return backend


def check_scrypt_backend(backend: str) -> str:
    """Resolve ``backend`` and make sure it runs here; raises :class:`BackendUnavailable`."""
    name = resolve_scrypt_backend(backend)
    usable, reason = SCRYPT_BACKENDS[name].status()
    if not usable:
        raise BackendUnavailable(reason)
    return name


def default_scrypt_batch_nonces(backend: str = "auto") -> int:
    """Nonces per search-engine work item on ``backend`` (about 0.1-0.5 s of one core)."""
    return SCRYPT_BACKENDS[resolve_scrypt_backend(backend)].batch_nonces


def scan_scrypt(
    header76: bytes, nonce_start: int, count: int, target: int, *, backend: str = "auto"
) -> list[int]:
    """Nonces in ``[nonce_start, nonce_start + count)`` whose scrypt hash is ``<= target``, ascending.

    The range may end exactly at ``2**32`` but not wrap past it (raises
    :class:`~hashwatt.pow.errors.PowInputError`).
    """
    header = validate_scan_args(header76, nonce_start, count, target)
    name = resolve_scrypt_backend(backend)
    if count == 0:
        return []
    found = SCRYPT_BACKENDS[name].scan(header, nonce_start, count, target)
    if name == "python":  # the reference itself
        return found
    for nonce in found:  # host-side check: a miscompiled kernel must not report shares
        if scrypt_hash_value(header, nonce) > target:
            raise KernelError(f"scrypt backend {name} reported nonce {nonce}, whose hash misses the target")
    return found
