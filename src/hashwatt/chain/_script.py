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


def script_num_bytes(n: int) -> bytes:
    """CScriptNum encoding: minimal little-endian magnitude with a sign bit in the last byte."""
    if n == 0:
        return b""
    negative = n < 0
    magnitude = -n if negative else n
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
    n = len(data)
    if n < OP_PUSHDATA1:
        return bytes((n,)) + data
    if n <= 0xFF:
        return bytes((OP_PUSHDATA1, n)) + data
    if n <= 0xFFFF:
        return bytes((OP_PUSHDATA2,)) + struct.pack("<H", n) + data
    if n <= 0xFFFFFFFF:
        return bytes((OP_PUSHDATA4,)) + struct.pack("<I", n) + data
    raise ChainInputError("push too large")


def push_int(n: int) -> bytes:
    """Push an integer the way Core's ``CScript() << n`` does (OP_0, OP_1..OP_16, OP_1NEGATE or data)."""
    if n == 0:
        return bytes((OP_0,))
    if n == -1:
        return bytes((OP_1NEGATE,))
    if 1 <= n <= 16:
        return bytes((OP_1 + n - 1,))
    return push_data(script_num_bytes(n))
