"""Header-level proof-of-work checks for coins that do not hash with SHA-256d or scrypt.

Each check recomputes a header's PoW hash and compares it with the target its bits (or the
caller's boundary) encode. The hashes with a well-kept C library (Dash's X11, Ethash) import it
lazily from the ``coins`` extra, so the core installs without a compiler; Equihash needs only
BLAKE2b with a personalisation, which ``hashlib`` has, so its verifier is written here from the
Zcash protocol specification (section "Equihash").
"""

from __future__ import annotations

import hashlib
import importlib
import struct
from types import ModuleType

from hashwatt.chain._codec import ByteReader, check_bytes, check_int, sha256d
from hashwatt.chain._header import HEADER_SIZE
from hashwatt.chain._kawpow import KAWPOW_EPOCH_LENGTH, kawpow_context, kawpow_final_hash, kawpow_mix_hash
from hashwatt.chain._target import bits_to_target, hash_meets_target
from hashwatt.errors import (
    BadEquihashSolution,
    BadMixDigest,
    BadProofOfWork,
    InvalidField,
    PowLibraryMissing,
)

#: Blocks per Ethash epoch before ECIP-1099 (ETH always; ETC until block 11,700,000).
ETHASH_EPOCH_LENGTH = 30_000
#: Etchash (ECIP-1099) doubles the epoch length from ETC block 11,700,000.
ETCHASH_EPOCH_LENGTH = 60_000
#: The last epoch chfast/ethash sizes (ETHASH_MAX_EPOCH_NUMBER); past it the library has no context.
ETHASH_MAX_EPOCH = 32_639
#: Zcash's Equihash parameters (n, k) and its header without the solution, in bytes.
ZCASH_EQUIHASH_N = 200
ZCASH_EQUIHASH_K = 9
ZCASH_HEADER_PREFIX_SIZE = 140
_ZCASH_BITS_OFFSET = 4 + 32 + 32 + 32 + 4
_UINT64 = (0, 2**64 - 1)


def _optional(module: str) -> ModuleType:
    """Import an optional PoW library, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise PowLibraryMissing(
            f"the {module!r} module is needed for this proof of work: pip install hashwatt[coins]",
            module=module,
            extra="coins",
        ) from exc


def x11_hash(header80: bytes) -> bytes:
    """Dash's X11 hash of an 80-byte header, internal byte order (Dash's block hash is this)."""
    check_bytes("DashHeader", "header", header80, HEADER_SIZE)
    digest: bytes = _optional("dash_hash").getPoWHash(header80)
    return digest


def check_x11_header(header80: bytes) -> bytes:
    """Check a Dash header's X11 hash against the target of its own bits; return the hash.

    Raises :class:`BadProofOfWork` when the hash is above the target.
    """
    digest = x11_hash(header80)
    (bits,) = struct.unpack_from("<I", header80, 72)
    target = bits_to_target(bits)
    if not hash_meets_target(digest, target):
        raise BadProofOfWork(f"X11 hash {digest[::-1].hex()} is above the target of bits {bits:08x}")
    return digest


def ethash_epoch(block_number: int, *, epoch_length: int = ETHASH_EPOCH_LENGTH) -> int:
    """The Ethash epoch (which cache and DAG) a block number uses."""
    check_int("Ethash", "block_number", block_number, (0, 2**63 - 1))
    check_int("Ethash", "epoch_length", epoch_length, (1, 2**31 - 1))
    epoch = block_number // epoch_length
    check_int("Ethash", "epoch", epoch, (0, ETHASH_MAX_EPOCH))
    return epoch


def difficulty_to_boundary(difficulty: int) -> int:
    """Ethash's boundary: a result (big-endian) meets ``difficulty`` when it is <= 2**256 // difficulty."""
    check_int("Ethash", "difficulty", difficulty, (1, 2**256))
    return min(2**256 // difficulty, 2**256 - 1)


def check_ethash(
    header_hash: bytes,
    nonce: int,
    mix_digest: bytes,
    block_number: int,
    *,
    boundary: int,
    epoch_length: int = ETHASH_EPOCH_LENGTH,
) -> bytes:
    """Check an Ethash (or, with ``epoch_length=60_000``, Etchash) seal; return the result hash.

    ``header_hash`` is the Keccak-256 of the RLP header without nonce and mix digest, as the
    chain shows it; the result is big-endian and must be <= ``boundary``
    (:func:`difficulty_to_boundary`). Light verification: only the epoch's cache (16 MiB at
    epoch 0, growing ~128 KiB an epoch; built once per epoch and process by the library), never
    the DAG.
    Raises :class:`BadMixDigest` or :class:`BadProofOfWork`.
    """
    check_bytes("Ethash", "header_hash", header_hash, 32)
    check_bytes("Ethash", "mix_digest", mix_digest, 32)
    check_int("Ethash", "nonce", nonce, _UINT64)
    check_int("Ethash", "boundary", boundary, (0, 2**256 - 1))
    epoch = ethash_epoch(block_number, epoch_length=epoch_length)
    result, mix = _optional("ethash").hash(epoch, header_hash, nonce)
    if mix != mix_digest:
        raise BadMixDigest(f"mix digest {mix_digest.hex()} is not {mix.hex()} for this header and nonce")
    if int.from_bytes(result, "big") > boundary:
        raise BadProofOfWork(f"Ethash result {result.hex()} is above the boundary {boundary:064x}")
    return bytes(result)


def check_kawpow(
    header_hash: bytes, nonce: int, mix_hash: bytes, block_number: int, *, boundary: int
) -> bytes:
    """Check a Ravencoin KawPoW seal (light verification); return the final hash.

    ``header_hash`` is the SHA-256d of Ravencoin's 80-byte header input as the node shows it
    byte for byte; ``boundary`` is the target (final hash read big-endian must be <= it).
    The final hash is checked first (cheap), then the mix (about 1 s in pure Python, plus a few
    seconds per epoch and process for the caches). Raises :class:`BadProofOfWork` or
    :class:`BadMixDigest`.
    """
    check_bytes("KawPoW", "header_hash", header_hash, 32)
    check_bytes("KawPoW", "mix_hash", mix_hash, 32)
    check_int("KawPoW", "nonce", nonce, _UINT64)
    check_int("KawPoW", "boundary", boundary, (0, 2**256 - 1))
    epoch = ethash_epoch(block_number, epoch_length=KAWPOW_EPOCH_LENGTH)
    final = kawpow_final_hash(header_hash, nonce, mix_hash)
    if int.from_bytes(final, "big") > boundary:
        raise BadProofOfWork(f"KawPoW final hash {final.hex()} is above the boundary {boundary:064x}")
    context = kawpow_context(epoch, _optional("ethash"), _optional("_ethash"))
    expected = kawpow_mix_hash(context, block_number, header_hash, nonce)
    if expected != mix_hash:
        raise BadMixDigest(f"mix hash {mix_hash.hex()} is not {expected.hex()} for this header and nonce")
    return final


def _equihash_person(n: int, k: int) -> bytes:
    return b"ZcashPoW" + struct.pack("<II", n, k)


def _expand_indices(solution: bytes, count: int, bits: int) -> list[int]:
    """The ``count`` big-endian ``bits``-bit indices packed in ``solution``."""
    value = int.from_bytes(solution, "big")
    mask = (1 << bits) - 1
    return [(value >> (bits * (count - 1 - i))) & mask for i in range(count)]


def check_equihash_solution(
    prefix: bytes, solution: bytes, *, n: int = ZCASH_EQUIHASH_N, k: int = ZCASH_EQUIHASH_K
) -> None:
    """Check an Equihash (n, k) solution for a header prefix (Zcash: the 140 bytes before it).

    Rules (Zcash protocol spec, "Equihash"): 2**k distinct indices of n/(k+1)+1 bits; each
    hash X_i is the i-th n-bit slice of BLAKE2b("ZcashPoW"||n||k) over prefix||le32(i div per);
    in the binary tree, each pair's left subtree starts with the smaller index and the pair's
    XOR has its first 20*height bits zero; the XOR of all 2**k hashes is zero.
    Raises :class:`BadEquihashSolution` naming the rule.
    """
    check_int("Equihash", "k", k, (1, 31))
    check_int("Equihash", "n", n, (8, 512))
    if n % 8 or n % (k + 1) or (n // (k + 1)) % 4:
        raise InvalidField("Equihash", "n", f"({n}, {k}) is not a valid Equihash parameter pair")
    collision_bits = n // (k + 1)
    count = 2**k
    if len(solution) * 8 != count * (collision_bits + 1):
        raise BadEquihashSolution(
            f"solution is {len(solution)} bytes, not {count * (collision_bits + 1) // 8}", rule="size"
        )
    indices = _expand_indices(solution, count, collision_bits + 1)
    if len(set(indices)) != count:
        raise BadEquihashSolution("an index appears twice in the solution", rule="distinct")
    per_blake = 512 // n
    digest_size = per_blake * n // 8
    slice_size = n // 8
    base = hashlib.blake2b(prefix, digest_size=digest_size, person=_equihash_person(n, k))
    cache: dict[int, bytes] = {}

    def leaf(index: int) -> int:
        block = index // per_blake
        if block not in cache:
            h = base.copy()
            h.update(struct.pack("<I", block))
            cache[block] = h.digest()
        start = (index % per_blake) * slice_size
        return int.from_bytes(cache[block][start : start + slice_size], "big")

    level = [leaf(i) for i in indices]
    firsts = list(indices)
    for height in range(1, k + 1):
        zero_bits = n if height == k else collision_bits * height
        merged: list[int] = []
        merged_firsts: list[int] = []
        for pair in range(0, len(level), 2):
            if firsts[pair] >= firsts[pair + 1]:
                raise BadEquihashSolution(f"indices out of order at height {height}", rule="order")
            xor = level[pair] ^ level[pair + 1]
            if xor >> (n - zero_bits):
                rule = "zero" if height == k else "collision"
                raise BadEquihashSolution(f"no {zero_bits}-bit collision at height {height}", rule=rule)
            merged.append(xor)
            merged_firsts.append(firsts[pair])
        level, firsts = merged, merged_firsts


def check_equihash_header(header: bytes) -> bytes:
    """Check a full Zcash header (140 bytes, CompactSize, Equihash solution); return its hash.

    The solution must be valid for the 140-byte prefix and SHA-256d of the whole header must
    meet the target of its bits. Raises :class:`BadEquihashSolution` or :class:`BadProofOfWork`.
    """
    reader = ByteReader(header)
    prefix = reader.read(ZCASH_HEADER_PREFIX_SIZE, "Zcash header")
    solution = reader.read(reader.compact_size("Equihash solution length"), "Equihash solution")
    reader.expect_end("Zcash header")
    check_equihash_solution(prefix, solution)
    digest = sha256d(header)
    (bits,) = struct.unpack_from("<I", header, _ZCASH_BITS_OFFSET)
    if not hash_meets_target(digest, bits_to_target(bits)):
        raise BadProofOfWork(f"block hash {digest[::-1].hex()} is above the target of bits {bits:08x}")
    return digest
