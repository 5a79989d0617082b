"""KawPoW (Ravencoin): ProgPoW 0.9.4 with Ravencoin's Keccak padding, light verification.

Why written here: PyPI ``kawpow`` 0.9.4.4 hashes without the block number, so it cannot choose
ProgPoW's program (block // 3) and disagrees with all of Ravencoin's test vectors. The light cache
of an epoch is Ethash's (same sizes and seed per epoch number), so it is borrowed from chfast's
``ethash`` library; the rest (KISS99, the random program, 2048-bit DAG items with ProgPoW's 512
parents, Keccak-f[800]) follows Ravencoin's ``progpow.cpp``. Pure Python: about 1 s a hash.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from types import ModuleType
from typing import Any

from hashwatt.errors import InvalidField, PowLibraryMissing

_M32 = 0xFFFFFFFF
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
#: Blocks per KawPoW epoch (Ravencoin's ETHASH_EPOCH_LENGTH).
KAWPOW_EPOCH_LENGTH = 7_500
_PERIOD = 3
_REGS = 32
_LANES = 16
_CACHE_ACCESSES = 11
_MATH_OPS = 18
_DAG_LOADS = 4
_ROUNDS = 64
_L1_WORDS = 4096
_ITEM_PARENTS = 512
#: "rAVENCOINKAWPOW" as 32-bit words: Ravencoin's padding of both Keccak-f[800] inputs.
_RAVENCOIN_KAWPOW = (0x72, 0x41, 0x56, 0x45, 0x4E, 0x43, 0x4F, 0x49, 0x4E, 0x4B, 0x41, 0x57, 0x50, 0x4F, 0x57)
_KECCAK_RC = (
    0x00000001, 0x00008082, 0x0000808A, 0x80008000, 0x0000808B, 0x80000001, 0x80008081, 0x00008009,
    0x0000008A, 0x00000088, 0x80008009, 0x8000000A, 0x8000808B, 0x0000008B, 0x00008089, 0x00008003,
    0x00008002, 0x00000080, 0x0000800A, 0x8000000A, 0x80008081, 0x00008080,
)  # fmt: skip
#: Keccak rotation offsets r[x][y].
_KECCAK_ROT = (
    (0, 36, 3, 41, 18),
    (1, 44, 10, 45, 2),
    (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56),
    (27, 20, 39, 8, 14),
)


def _rotl(value: int, count: int) -> int:
    count &= 31
    return ((value << count) | (value >> (32 - count))) & _M32 if count else value


def keccak_f800(state: list[int]) -> list[int]:
    """The Keccak-f[800] permutation (22 rounds) of 25 32-bit words, index x + 5y."""
    a = list(state)
    for rc in _KECCAK_RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(a[x + 5 * y], _KECCAK_ROT[x][y])
        a = [b[i] ^ (~b[(i + 1) % 5 + i - i % 5] & b[(i + 2) % 5 + i - i % 5]) for i in range(25)]
        a[0] ^= rc
    return a


def _fnv1a(u: int, v: int) -> int:
    return ((u ^ v) * _FNV_PRIME) & _M32


class _Kiss99:
    """Marsaglia's KISS99 generator, as ProgPoW seeds it."""

    __slots__ = ("jcong", "jsr", "w", "z")

    def __init__(self, z: int, w: int, jsr: int, jcong: int) -> None:
        self.z, self.w, self.jsr, self.jcong = z, w, jsr, jcong

    def copy(self) -> _Kiss99:
        return _Kiss99(self.z, self.w, self.jsr, self.jcong)

    def __call__(self) -> int:
        self.z = (36969 * (self.z & 0xFFFF) + (self.z >> 16)) & _M32
        self.w = (18000 * (self.w & 0xFFFF) + (self.w >> 16)) & _M32
        jsr = self.jsr
        jsr ^= (jsr << 17) & _M32
        jsr ^= jsr >> 13
        jsr ^= (jsr << 5) & _M32
        self.jsr = jsr
        self.jcong = (69069 * self.jcong + 1234567) & _M32
        return ((((self.z << 16) + self.w) & _M32 ^ self.jcong) + jsr) & _M32


def _math(a: int, b: int, selector: int) -> int:
    op = selector % 11
    if op == 0:
        return (a + b) & _M32
    if op == 1:
        return (a * b) & _M32
    if op == 2:
        return (a * b) >> 32
    if op == 3:
        return min(a, b)
    if op == 4:
        return _rotl(a, b)
    if op == 5:
        return _rotl(a, 32 - (b & 31))
    if op == 6:
        return a & b
    if op == 7:
        return a | b
    if op == 8:
        return a ^ b
    if op == 9:
        return 64 - a.bit_length() - b.bit_length()
    return a.bit_count() + b.bit_count()


def _merge(a: int, b: int, selector: int) -> int:
    shift = (selector >> 16) % 31 + 1
    op = selector % 4
    if op == 0:
        return (a * 33 + b) & _M32
    if op == 1:
        return ((a ^ b) * 33) & _M32
    if op == 2:
        return _rotl(a, shift) ^ b
    return _rotl(a, 32 - shift) ^ b


class KawpowContext:
    """An epoch's light cache (from the ethash library) and ProgPoW's 16 KiB L1 cache."""

    def __init__(self, ethash_lib: Any, ffi: Any, keccak_512: Any, epoch: int) -> None:
        handle = ethash_lib.ethash_get_global_epoch_context(epoch)
        if handle == ffi.NULL:
            raise InvalidField("KawPoW", "epoch", f"the ethash library has no context for epoch {epoch}")
        # struct ethash_epoch_context (ethash.h): int epoch_number; int light_cache_num_items;
        # const ethash_hash512* light_cache; int full_dataset_num_items (1024-bit items).
        raw = bytes(ffi.buffer(ffi.cast("uint8_t *", handle), 20))
        number, self.cache_items = struct.unpack_from("<ii", raw, 0)
        if number != epoch:
            raise PowLibraryMissing(
                f"this ethash build's epoch context is not the documented layout (epoch {number} for {epoch})",
                module="ethash",
                extra="coins",
            )
        (pointer,) = struct.unpack_from("<Q", raw, 8)
        (full_items_1024,) = struct.unpack_from("<i", raw, 16)
        self.dag_items_2048 = full_items_1024 // 2
        blob = bytes(ffi.buffer(ffi.cast("uint8_t *", pointer), self.cache_items * 64))
        self._cache = [struct.unpack_from("<16I", blob, 64 * i) for i in range(self.cache_items)]
        self._keccak_512 = keccak_512
        self.l1 = [word for i in range(_L1_WORDS // 16) for word in self._item_512(i)]

    def _item_512(self, index: int) -> tuple[int, ...]:
        cache, count = self._cache, self.cache_items
        mix = list(cache[index % count])
        mix[0] ^= index & _M32
        mix = list(struct.unpack("<16I", self._keccak_512(struct.pack("<16I", *mix))))
        for parent in range(_ITEM_PARENTS):
            row = cache[((((index ^ parent) & _M32) * _FNV_PRIME & _M32) ^ mix[parent % 16]) % count]
            mix = [((m * _FNV_PRIME) & _M32) ^ r for m, r in zip(mix, row, strict=True)]
        words: tuple[int, ...] = struct.unpack("<16I", self._keccak_512(struct.pack("<16I", *mix)))
        return words

    def item_2048(self, index: int) -> list[int]:
        return [word for j in range(4) for word in self._item_512(index * 4 + j)]


def _program(block_number: int) -> tuple[_Kiss99, list[int], list[int]]:
    number = block_number // _PERIOD
    lo, hi = number & _M32, number >> 32
    z = _fnv1a(_FNV_OFFSET, lo)
    w = _fnv1a(z, hi)
    jsr = _fnv1a(w, lo)
    rng = _Kiss99(z, w, jsr, _fnv1a(jsr, hi))
    dst, src = list(range(_REGS)), list(range(_REGS))
    for i in range(_REGS, 1, -1):
        k = rng() % i
        dst[i - 1], dst[k] = dst[k], dst[i - 1]
        k = rng() % i
        src[i - 1], src[k] = src[k], src[i - 1]
    return rng, dst, src


def _hash_mix(context: KawpowContext, block_number: int, seed: tuple[int, int]) -> bytes:
    z = _fnv1a(_FNV_OFFSET, seed[0])
    w = _fnv1a(z, seed[1])
    mix: list[list[int]] = []
    for lane in range(_LANES):
        jsr = _fnv1a(w, lane)
        rng = _Kiss99(z, w, jsr, _fnv1a(jsr, lane))
        mix.append([rng() for _ in range(_REGS)])
    start, dst_seq, src_seq = _program(block_number)
    l1 = context.l1
    for r in range(_ROUNDS):
        item = context.item_2048(mix[r % _LANES][0] % context.dag_items_2048)
        rng, d_count, s_count = start.copy(), 0, 0  # every round replays the same program
        for i in range(max(_CACHE_ACCESSES, _MATH_OPS)):
            if i < _CACHE_ACCESSES:
                src, dst = src_seq[s_count % _REGS], dst_seq[d_count % _REGS]
                s_count, d_count = s_count + 1, d_count + 1
                sel = rng()
                for regs in mix:
                    regs[dst] = _merge(regs[dst], l1[regs[src] % _L1_WORDS], sel)
            if i < _MATH_OPS:
                pick = rng() % (_REGS * (_REGS - 1))
                src1, src2 = pick % _REGS, pick // _REGS
                src2 += src2 >= src1
                sel1 = rng()
                dst = dst_seq[d_count % _REGS]
                d_count += 1
                sel2 = rng()
                for regs in mix:
                    regs[dst] = _merge(regs[dst], _math(regs[src1], regs[src2], sel1), sel2)
        dsts, sels = [], []
        for i in range(_DAG_LOADS):
            if i == 0:
                dsts.append(0)
            else:
                dsts.append(dst_seq[d_count % _REGS])
                d_count += 1
            sels.append(rng())
        for lane, regs in enumerate(mix):
            offset = ((lane ^ r) % _LANES) * _DAG_LOADS
            for i in range(_DAG_LOADS):
                regs[dsts[i]] = _merge(regs[dsts[i]], item[offset + i], sels[i])
    digest = [_FNV_OFFSET] * 8
    for lane, regs in enumerate(mix):
        lane_hash = _FNV_OFFSET
        for value in regs:
            lane_hash = _fnv1a(lane_hash, value)
        digest[lane % 8] = _fnv1a(digest[lane % 8], lane_hash)
    return struct.pack("<8I", *digest)


def _seed_state(header_hash: bytes, nonce: int) -> list[int]:
    words = [*struct.unpack("<8I", header_hash), nonce & _M32, nonce >> 32, *_RAVENCOIN_KAWPOW]
    return keccak_f800(words)[:8]


def kawpow_final_hash(header_hash: bytes, nonce: int, mix_hash: bytes) -> bytes:
    """The final hash from a claimed mix: cheap, but proves nothing until the mix is checked."""
    state = [*_seed_state(header_hash, nonce), *struct.unpack("<8I", mix_hash), *_RAVENCOIN_KAWPOW[:9]]
    return struct.pack("<8I", *keccak_f800(state)[:8])


def kawpow_mix_hash(context: KawpowContext, block_number: int, header_hash: bytes, nonce: int) -> bytes:
    """The mix hash a header hash, nonce and block number produce (the expensive part)."""
    seed = _seed_state(header_hash, nonce)
    return _hash_mix(context, block_number, (seed[0], seed[1]))


@lru_cache(maxsize=2)
def kawpow_context(epoch: int, ethash_module: ModuleType, ethash_cffi: ModuleType) -> KawpowContext:
    """One context per epoch and process (the cache copy and the L1 build take a few seconds)."""
    return KawpowContext(ethash_cffi.lib, ethash_cffi.ffi, ethash_module.keccak_512, epoch)
