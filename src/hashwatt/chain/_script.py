"""The few script encodings consensus code needs: data pushes and CScriptNum."""

from __future__ import annotations

import struct

from hashwatt.errors import ChainInputError

OP_0 = 0x00
OP_PUSHDATA1 = 0x4C
OP_PUSHDATA2 = 0x4D
OP_PUSHDATA4 = 0x4E
OP_1NEGATE = 0x4F
OP_1 = 0x51
OP_RETURN = 0x6A


def script_num_bytes(value: int) -> bytes:
    """CScriptNum encoding: minimal little-endian magnitude with a sign bit in the last byte."""
    if value == 0:
        return b""
    negative = value < 0
    magnitude = -value if negative else value
    out = bytearray()
    while magnitude:
        out.append(magnitude & 0xFF)
        magnitude >>= 8
    if out[-1] & 0x80:
        out.append(0x80 if negative else 0x00)
    elif negative:
        out[-1] |= 0x80
    return bytes(out)


def push_data(data: bytes) -> bytes:
    """Minimal push of ``data`` (direct length byte, or PUSHDATA1/2/4)."""
    size = len(data)
    if size < OP_PUSHDATA1:
        return bytes((size,)) + data
    if size <= 0xFF:
        return bytes((OP_PUSHDATA1, size)) + data
    if size <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + struct.pack("<H", size) + data
    if size <= 0xFFFFFFFF:
        return bytes((OP_PUSHDATA4,)) + struct.pack("<I", size) + data
    raise ChainInputError(f"a push of {size} bytes is too large", field="data", value=size)


def push_int(value: int) -> bytes:
    """Push an integer the way Core's ``CScript() << value`` does (OP_0, OP_1..OP_16, OP_1NEGATE or data)."""
    if value == 0:
        return bytes((OP_0,))
    if value == -1:
        return bytes((OP_1NEGATE,))
    if 1 <= value <= 16:
        return bytes((OP_1 + value - 1,))
    return push_data(script_num_bytes(value))
