"""The 80-byte block header (Core: CBlockHeader)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hashwatt.chain._codec import (
    INT32_RANGE,
    UINT32_RANGE,
    ByteReader,
    check_bytes,
    check_int,
    hash_to_hex,
    sha256d,
)
from hashwatt.chain._target import bits_to_target, hash_meets_target

#: Serialized header size [bytes].
HEADER_SIZE = 80
_HEADER = struct.Struct("<i32s32sIII")
assert _HEADER.size == HEADER_SIZE  # pinned at import: a header is 80 bytes


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """Header fields in wire order; hashes in internal byte order.

    ``version`` (nVersion, int32), ``prev_hash`` (hashPrevBlock), ``merkle_root``
    (hashMerkleRoot), ``time`` (nTime, unix seconds), ``bits`` (nBits, compact target),
    ``nonce`` (nNonce). Sizes and ranges are checked on construction
    (:class:`~hashwatt.errors.InvalidField`), so every header that exists encodes to 80 bytes
    and decodes back to itself.
    """

    version: int
    prev_hash: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

    def __post_init__(self) -> None:
        check_int("BlockHeader", "version", self.version, INT32_RANGE)
        check_bytes("BlockHeader", "prev_hash", self.prev_hash, 32)
        check_bytes("BlockHeader", "merkle_root", self.merkle_root, 32)
        check_int("BlockHeader", "time", self.time, UINT32_RANGE)
        check_int("BlockHeader", "bits", self.bits, UINT32_RANGE)
        check_int("BlockHeader", "nonce", self.nonce, UINT32_RANGE)

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.version, self.prev_hash, self.merkle_root, self.time, self.bits, self.nonce)

    @classmethod
    def read_from(cls, reader: ByteReader) -> BlockHeader:
        version, prev_hash, merkle_root, time, bits, nonce = _HEADER.unpack(
            reader.read(HEADER_SIZE, "header")
        )
        return cls(version, prev_hash, merkle_root, time, bits, nonce)

    @classmethod
    def from_bytes(cls, data: bytes) -> BlockHeader:
        reader = ByteReader(data)
        header = cls.read_from(reader)
        reader.expect_end("header")
        return header


def header_hash(header: BlockHeader) -> bytes:
    """Block hash: SHA256d of the 80 serialized bytes (internal order)."""
    return sha256d(header.to_bytes())


def header_hash_hex(header: BlockHeader) -> str:
    """Block hash in display order."""
    return hash_to_hex(header_hash(header))


def header_meets_target(header: BlockHeader) -> bool:
    """Proof-of-work check: the header hash is at or below the target its bits encode."""
    return hash_meets_target(header_hash(header), bits_to_target(header.bits))
