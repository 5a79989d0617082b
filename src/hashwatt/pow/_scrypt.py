"""Scrypt proof of work (Litecoin, Dogecoin): the same ``scan`` contract as SHA-256d.

``scan_scrypt(header76, nonce_start, count, target)`` returns the nonces whose
``scrypt_1024_1_1_256(header76 || nonce)`` meets ``target`` (read little-endian, as Litecoin
compares it). The ``python`` backend calls the standard library's OpenSSL scrypt once per nonce;
it is the reference every faster backend is checked against.
"""

from __future__ import annotations

import struct

from hashwatt.chain import scrypt_1024_1_1_256
from hashwatt.pow._common import validate_scan_args
from hashwatt.pow.errors import BackendUnavailable, KernelError

_NONCE = struct.Struct("<I")

#: Scrypt backends, fastest first; ``auto`` picks the first that runs here.
SCRYPT_BACKEND_NAMES: tuple[str, ...] = ("python",)


def scrypt_hash_value(header76: bytes, nonce: int) -> int:
    """The scrypt PoW hash of ``header76 || nonce`` as the number compared with the target."""
    return int.from_bytes(scrypt_1024_1_1_256(header76 + _NONCE.pack(nonce)), "little")


def _python_scan(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    return [n for n in range(nonce_start, nonce_start + count) if scrypt_hash_value(header76, n) <= target]


def resolve_scrypt_backend(backend: str) -> str:
    """``auto`` -> the fastest scrypt backend that runs here; a named one must exist."""
    if backend == "auto":
        return SCRYPT_BACKEND_NAMES[0]
    if backend not in SCRYPT_BACKEND_NAMES:
        raise BackendUnavailable(
            f"unknown scrypt backend {backend!r}; choose from auto, {', '.join(SCRYPT_BACKEND_NAMES)}"
        )
    return backend


def scan_scrypt(
    header76: bytes, nonce_start: int, count: int, target: int, *, backend: str = "auto"
) -> list[int]:
    """Nonces in ``[nonce_start, nonce_start + count)`` whose scrypt hash is ``<= target``, ascending."""
    header = validate_scan_args(header76, nonce_start, count, target)
    name = resolve_scrypt_backend(backend)
    if count == 0:
        return []
    found = _python_scan(header, nonce_start, count, target)
    if name != "python":  # pragma: no cover - only the reference exists yet
        for nonce in found:
            if scrypt_hash_value(header, nonce) > target:
                raise KernelError(
                    f"scrypt backend {name} reported nonce {nonce}, whose hash misses the target"
                )
    return found
