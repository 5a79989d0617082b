"""Pieces every backend shares: input validation, the hashlib references, the genesis vectors."""

from __future__ import annotations

import hashlib
import struct

from hashwatt.chain import MAX_TARGET, scrypt_1024_1_1_256
from hashwatt.pow.errors import PowInputError

#: Size of the header without its nonce [bytes].
HEADER_PREFIX_SIZE = 76
#: The nonce space [nonces].
NONCE_SPACE = 1 << 32

#: Genesis block header (mainnet height 0) without its nonce, and the nonce Satoshi found.
GENESIS_HEADER76 = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e"
    "67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d"
)
GENESIS_NONCE = 2083236893
#: Litecoin's genesis header without its nonce, and its nonce (scrypt PoW hash 0000050c...1e00;
#: litecoin src/chainparams.cpp, tests/data/chain/ltc_scrypt_vectors.json).
LTC_GENESIS_HEADER76 = bytes.fromhex(
    "010000000000000000000000000000000000000000000000000000000000000000000000d9ced4ed1130f7b7faad9be2"
    "5323ffafa33232a17c3edf6cfd97bee6bafbdd97b9aa8e4ef0ff0f1e"
)
LTC_GENESIS_NONCE = 2084524493

_NONCE = struct.Struct("<I")
_WORDS16 = struct.Struct(">16I")
_MASK32 = 0xFFFFFFFF


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _MASK32


def midstate_words(header76: bytes) -> tuple[int, ...]:
    """SHA-256 state after the first 64 header bytes (8 words), in pure Python.

    hashlib hides its internal state, and the GPU and numba kernels need it; once per job.
    """
    from hashwatt.pow._kernelgen import IV, K

    w = list(_WORDS16.unpack(header76[:64]))
    for i in range(16, 64):
        s0 = _rotr(w[i - 15], 7) ^ _rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        s1 = _rotr(w[i - 2], 17) ^ _rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w.append((w[i - 16] + s0 + w[i - 7] + s1) & _MASK32)
    a, b, c, d, e, f, g, h = IV
    for i in range(64):
        t1 = (h + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) & _MASK32
        t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & _MASK32
        h, g, f, e, d, c, b, a = g, f, e, (d + t1) & _MASK32, c, b, a, (t1 + t2) & _MASK32
    return tuple((x + y) & _MASK32 for x, y in zip(IV, (a, b, c, d, e, f, g, h), strict=True))


def kernel_params(header76: bytes) -> tuple[int, ...]:
    """What the numba kernels read: midstate (8 words) then header bytes 64..75 as 3 big-endian words."""
    return (*midstate_words(header76), *struct.unpack(">3I", header76[64:76]))


def sha256d_header(header76: bytes, nonce: int) -> bytes:
    """Block hash (internal byte order) of ``header76 || nonce``, with hashlib: the reference."""
    return hashlib.sha256(hashlib.sha256(header76 + _NONCE.pack(nonce)).digest()).digest()


def scrypt_header(header76: bytes, nonce: int) -> bytes:
    """Scrypt PoW hash (internal byte order) of ``header76 || nonce``, with hashlib: the reference."""
    return scrypt_1024_1_1_256(header76 + _NONCE.pack(nonce))


def hash_value(header76: bytes, nonce: int) -> int:
    """The block hash read as a little-endian number (what a target is compared with)."""
    return int.from_bytes(sha256d_header(header76, nonce), "little")


def validate_scan_args(header76: object, nonce_start: object, count: object, target: object) -> bytes:
    """Check a scan request; return the header as ``bytes``. Raises :class:`PowInputError`."""
    if not isinstance(header76, bytes | bytearray | memoryview):
        raise PowInputError(
            f"header prefix must be bytes, got {type(header76).__name__}",
            field="header76",
            value=type(header76).__name__,
        )
    header = bytes(header76)
    if len(header) != HEADER_PREFIX_SIZE:
        raise PowInputError(
            f"header prefix must be {HEADER_PREFIX_SIZE} bytes (80 minus the nonce), got {len(header)}",
            field="header76",
            value=len(header),
        )
    start, n, tgt = _as_int("nonce_start", nonce_start), _as_int("count", count), _as_int("target", target)
    if not 0 <= start < NONCE_SPACE:
        raise PowInputError(
            f"nonce_start must lie in [0, 2**32), got {nonce_start}", field="nonce_start", value=nonce_start
        )
    if n < 0:
        raise PowInputError(f"count must be >= 0, got {n}", field="count", value=n)
    if start + n > NONCE_SPACE:
        raise PowInputError(
            f"nonce range [{start}, {start + n}) runs past 2**32; "
            "split it and roll extranonce2 or the version instead of wrapping",
            field="nonce_start,count",
            value=(start, n),
        )
    if not 0 <= tgt <= MAX_TARGET:
        raise PowInputError("target must lie in [0, 2**256)", field="target", value=tgt)
    return header


def _as_int(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PowInputError(
            f"{name} must be an int, got {type(value).__name__}", field=name, value=type(value).__name__
        )
    return value


def scan_python(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    """Reference backend: hashlib with the midstate of the first 64 bytes copied per nonce.

    About 1 MH/s per core; used where no C compiler exists and as the oracle in tests.
    """
    midstate = hashlib.sha256(header76[:64])
    tail = header76[64:]
    sha256 = hashlib.sha256
    pack = _NONCE.pack
    top_byte = target >> 248
    found: list[int] = []
    for nonce in range(nonce_start, nonce_start + count):
        inner = midstate.copy()
        inner.update(tail + pack(nonce))
        digest = sha256(inner.digest()).digest()
        if digest[31] <= top_byte and int.from_bytes(digest, "little") <= target:
            found.append(nonce)
    return found
