"""Proof of work: one ``scan`` interface, several hash backends (SHA-256d; scrypt in ``scan_scrypt``).

``scan(header76, nonce_start, count, target)`` returns the nonces whose block hash meets the
target; ``available_backends()`` lists what runs here. The search engine that rolls nonce,
extranonce2 and version bits over a :class:`~hashwatt.work.Job` lives in
:mod:`hashwatt.miner.engine`.
"""

from hashwatt.chain import MAX_TARGET
from hashwatt.pow._common import (
    GENESIS_HEADER76,
    GENESIS_NONCE,
    HEADER_PREFIX_SIZE,
    NONCE_SPACE,
    hash_value,
    sha256d_header,
)
from hashwatt.pow._scan import (
    BACKEND_NAMES,
    BACKENDS,
    Backend,
    BackendStatus,
    available_backends,
    backend_status,
    check_backend,
    default_batch_nonces,
    resolve_backend,
    scan,
)
from hashwatt.pow._scrypt import SCRYPT_BACKEND_NAMES, resolve_scrypt_backend, scan_scrypt, scrypt_hash_value
from hashwatt.pow.errors import BackendUnavailable, KernelError, PowError, PowInputError

__all__ = [
    "BACKENDS",
    "BACKEND_NAMES",
    "GENESIS_HEADER76",
    "GENESIS_NONCE",
    "HEADER_PREFIX_SIZE",
    "MAX_TARGET",
    "NONCE_SPACE",
    "SCRYPT_BACKEND_NAMES",
    "Backend",
    "BackendStatus",
    "BackendUnavailable",
    "KernelError",
    "PowError",
    "PowInputError",
    "available_backends",
    "backend_status",
    "check_backend",
    "default_batch_nonces",
    "hash_value",
    "resolve_backend",
    "resolve_scrypt_backend",
    "scan",
    "scan_scrypt",
    "scrypt_hash_value",
    "sha256d_header",
]
