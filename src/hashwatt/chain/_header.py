"""The 80-byte block header (Core: CBlockHeader)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hashwatt.chain._codec import ByteReader, hash_to_hex, sha256d
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
    ``nonce`` (nNonce).
    """

    version: int
    prev_hash: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

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
