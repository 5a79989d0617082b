"""Wire codec: a bounded exact reader, CompactSize, little-endian integers, hash display order.

Bitcoin serializes integers little-endian and hashes in "internal" byte order; block
explorers show hashes byte-reversed ("display order"). Values here keep internal order and
convert only at the edges through :func:`hash_to_hex` / :func:`hash_from_hex`.
"""

from __future__ import annotations

import hashlib
import struct

from hashwatt.errors import InvalidField, InvalidHex, NonCanonical, TrailingBytes, Truncated

#: Largest CompactSize a decoder accepts as a count (Bitcoin Core's MAX_SIZE, 0x02000000).
MAX_COMPACT_SIZE = 0x02000000

#: Wire ranges of the fixed-width integer fields, by Core's C type.
INT32_RANGE = (-(1 << 31), (1 << 31) - 1)
UINT32_RANGE = (0, 0xFFFFFFFF)
INT64_RANGE = (-(1 << 63), (1 << 63) - 1)

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")


def check_bytes(structure: str, field: str, value: object, size: int) -> None:
    """Raise :class:`InvalidField` unless ``value`` is exactly ``size`` bytes.

    ``struct``'s ``32s`` pads a short string and cuts a long one: a value type checks the
    size itself so that ``from_bytes(to_bytes(v)) == v`` for every value that exists.
    """
    if not isinstance(value, bytes):
        raise InvalidField(structure, field, f"must be bytes, got {type(value).__name__}")
    if len(value) != size:
        raise InvalidField(structure, field, f"must be {size} bytes, got {len(value)}")


def check_int(structure: str, field: str, value: object, bounds: tuple[int, int]) -> None:
    """Raise :class:`InvalidField` unless ``value`` is an int within ``bounds`` (inclusive)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidField(structure, field, f"must be an integer, got {type(value).__name__}")
    low, high = bounds
    if not low <= value <= high:
        raise InvalidField(structure, field, f"must lie in [{low}, {high}], got {value}")


def sha256d(data: bytes | bytearray | memoryview) -> bytes:
    """Bitcoin's double SHA-256, in internal byte order."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash_to_hex(hash32: bytes) -> str:
    """Display-order hex of an internal-order hash (the form explorers show)."""
    return hash32[::-1].hex()


def hash_from_hex(display_hex: str) -> bytes:
    """Internal-order bytes of a display-order 64-character hex hash."""
    raw = bytes_from_hex(display_hex)
    if len(raw) != 32:
        raise InvalidHex(f"a hash is 32 bytes (64 hex characters), got {len(raw)} bytes", length=len(raw))
    return raw[::-1]


def bytes_from_hex(text: str) -> bytes:
    """Decode hex, tolerating surrounding whitespace, raising :class:`InvalidHex` otherwise."""
    cleaned = "".join(text.split())
    if len(cleaned) % 2:
        raise InvalidHex(f"hex string has odd length {len(cleaned)}", length=len(cleaned))
    try:
        return bytes.fromhex(cleaned)
    except ValueError as exc:
        bad = next((i for i, ch in enumerate(cleaned) if ch not in "0123456789abcdefABCDEF"), -1)
        raise InvalidHex(
            f"not hexadecimal: unexpected character at position {bad}", position=bad, length=len(cleaned)
        ) from exc


def read_compact_size(
    buf: bytes, pos: int, what: str = "CompactSize", limit: int = MAX_COMPACT_SIZE
) -> tuple[int, int]:
    """The CompactSize at ``buf[pos]`` and the offset after it: minimal and at most ``limit``.

    The one decoder: :meth:`ByteReader.compact_size` and the transaction parser both call it
    (the parser inlines only the one-byte case, a plain ``buf[pos] < 0xFD`` test).
    """
    try:
        first = buf[pos]
        if first < 0xFD:
            return first, pos + 1
        if first == 0xFD:
            value, end, floor = _U16.unpack_from(buf, pos + 1)[0], pos + 3, 0xFD
        elif first == 0xFE:
            value, end, floor = _U32.unpack_from(buf, pos + 1)[0], pos + 5, 0x10000
        else:
            value, end, floor = _U64.unpack_from(buf, pos + 1)[0], pos + 9, 0x100000000
    except (IndexError, struct.error) as exc:
        width = {0xFD: 3, 0xFE: 5, 0xFF: 9}.get(buf[pos], 1) if pos < len(buf) else 1
        raise Truncated(
            f"truncated {what}: the CompactSize at offset {pos} runs past the end",
            what=what,
            offset=pos,
            needed=width,
            got=max(len(buf) - pos, 0),
        ) from exc
    if value < floor:
        raise NonCanonical(
            f"non-minimal CompactSize for {what}: {value} in {end - pos} bytes",
            what=what,
            offset=pos,
            value=value,
        )
    if value > limit:
        raise NonCanonical(
            f"CompactSize for {what} is {value}, above the limit {limit}",
            what=what,
            offset=pos,
            value=value,
            limit=limit,
        )
    return value, end


class ByteReader:
    """Reads exact-length slices from a buffer; every read is bounds-checked.

    ``what`` names the structure being read so a :class:`Truncated` error says where
    the input ended.
    """

    __slots__ = ("_buf", "_pos")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._buf = bytes(data)
        self._pos = 0

    @property
    def data(self) -> bytes:
        """The whole underlying buffer (for parsers that index it directly)."""
        return self._buf

    @property
    def position(self) -> int:
        """Offset of the next unread byte."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self._buf) - self._pos

    def seek(self, position: int) -> None:
        """Move to ``position`` (after a direct parse of :attr:`data`); bounds-checked."""
        if not 0 <= position <= len(self._buf):
            raise Truncated(
                f"position {position} outside a buffer of {len(self._buf)} bytes",
                offset=position,
                got=len(self._buf),
            )
        self._pos = position

    def read(self, size: int, what: str = "data") -> bytes:
        """Read exactly ``size`` bytes."""
        end = self._pos + size
        if size < 0 or end > len(self._buf):
            raise Truncated(
                f"truncated {what}: needed {size} bytes at offset {self._pos}, {self.remaining} left",
                what=what,
                offset=self._pos,
                needed=size,
                got=self.remaining,
            )
        out = self._buf[self._pos : end]
        self._pos = end
        return out

    def slice_since(self, start: int) -> bytes:
        """The bytes from ``start`` to the current position (already read)."""
        return self._buf[start : self._pos]

    def peek(self, size: int) -> bytes:
        """Up to ``size`` bytes without consuming them."""
        return self._buf[self._pos : self._pos + size]

    def u8(self, what: str = "byte") -> int:
        return self.read(1, what)[0]

    def u16(self, what: str = "uint16") -> int:
        return int(_U16.unpack(self.read(2, what))[0])

    def u32(self, what: str = "uint32") -> int:
        return int(_U32.unpack(self.read(4, what))[0])

    def i32(self, what: str = "int32") -> int:
        return int(_I32.unpack(self.read(4, what))[0])

    def u64(self, what: str = "uint64") -> int:
        return int(_U64.unpack(self.read(8, what))[0])

    def i64(self, what: str = "int64") -> int:
        return int(_I64.unpack(self.read(8, what))[0])

    def compact_size(self, what: str = "CompactSize", *, limit: int = MAX_COMPACT_SIZE) -> int:
        """A minimally encoded CompactSize no larger than ``limit``."""
        value, self._pos = read_compact_size(self._buf, self._pos, what, limit)
        return value

    def var_bytes(self, what: str = "byte string") -> bytes:
        """A CompactSize length followed by that many bytes."""
        n = self.compact_size(f"{what} length")
        return self.read(n, what)

    def expect_end(self, what: str = "input") -> None:
        """Raise :class:`TrailingBytes` unless everything was consumed."""
        if self.remaining:
            raise TrailingBytes(
                f"{self.remaining} trailing bytes after {what}",
                what=what,
                offset=self._pos,
                extra=self.remaining,
            )


def compact_size_bytes(value: int) -> bytes:
    """Minimal CompactSize encoding of ``value``."""
    if value < 0:
        raise NonCanonical(f"CompactSize cannot encode a negative number ({value})", value=value, limit=0)
    if value < 0xFD:
        return bytes((value,))
    if value <= 0xFFFF:
        return b"\xfd" + _U16.pack(value)
    if value <= 0xFFFFFFFF:
        return b"\xfe" + _U32.pack(value)
    if value <= 0xFFFFFFFFFFFFFFFF:
        return b"\xff" + _U64.pack(value)
    raise NonCanonical(f"CompactSize cannot encode {value} (over 64 bits)", value=value, limit=2**64 - 1)


def var_bytes(data: bytes) -> bytes:
    """CompactSize length prefix followed by ``data``."""
    return compact_size_bytes(len(data)) + data


def u32_le(value: int) -> bytes:
    return _U32.pack(value)


def i32_le(value: int) -> bytes:
    return _I32.pack(value)


def u64_le(value: int) -> bytes:
    return _U64.pack(value)


def i64_le(value: int) -> bytes:
    return _I64.pack(value)
