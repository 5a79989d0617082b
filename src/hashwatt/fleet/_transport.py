"""The socket side of the device adapters: one bounded request per connection, under a deadline.

cgminer-family firmware (bmminer, LuxOS, Whatsminer 2.x) answers one JSON request per TCP
connection with JSON, usually NUL-terminated, then closes. Reads stop at the NUL, at EOF or
at ``max_bytes``; whatever the device does, the call ends by its deadline with a typed error.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from hashwatt.fleet.errors import DeviceReplyInvalid, DeviceTimeout, DeviceUnreachable
from hashwatt.minerapi import (
    MAX_REPLY_BYTES,
    V3_MAX_FRAME_BYTES,
    FrameError,
    FrameTooLarge,
    V3FrameReader,
    decode_reply,
    encode_request,
    encode_v3_frame,
    join_multi,
)

__all__ = [
    "MAX_REPLY_BYTES",
    "cgminer_multi",
    "cgminer_request",
    "parse_cgminer_reply",
    "repair_json",
    "status_ok",
    "v3_request",
]


T = TypeVar("T")

# Each vendor quirk repaired here, one line each (the same set pyasic and asic-rs repair).
_QUIRKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\}\s*\{"), "},{"),  # old bmminer: STATS entries without a comma between them
    (re.compile(r",\s*([}\]])"), r"\1"),  # trailing commas before a closing brace or bracket
    (re.compile(r"\[\s*,"), "["),  # a list that starts with a comma
    (re.compile(r'""(?=temp\d)'), '","'),  # Avalon-style: missing comma between two string keys
    (re.compile(r"(?<=[:\[,])\s*-?\b(?:inf|nan)\b"), "0"),  # bare inf/nan numbers are not JSON
)


def repair_json(text: str) -> str:
    """Repair the known firmware JSON quirks (a no-op on well-formed replies)."""
    text = text.strip().rstrip("\x00").strip()
    if text.startswith(","):
        text = text[1:]  # some firmware puts a stray comma first
    for pattern, replacement in _QUIRKS:
        text = pattern.sub(replacement, text)
    return text


def parse_cgminer_reply(raw: bytes, *, address: str, max_bytes: int = MAX_REPLY_BYTES) -> dict[str, Any]:
    """Bytes of one reply -> its JSON object; anything else is :class:`DeviceReplyInvalid`.

    The shared codec (:func:`hashwatt.minerapi.decode_reply`) decodes; replies it refuses get
    one more try after :func:`repair_json` mends the rarer vendor quirks.
    """
    try:
        return decode_reply(raw, max_bytes=max_bytes)
    except FrameTooLarge as exc:
        raise DeviceReplyInvalid(f"reply exceeds {max_bytes} bytes", address=address) from exc
    except FrameError as first:
        try:
            value = json.loads(repair_json(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            raise DeviceReplyInvalid(
                f"reply is not JSON ({len(raw)} bytes): {first}", address=address
            ) from first
    if not isinstance(value, dict):
        raise DeviceReplyInvalid("reply is not a JSON object", address=address)
    return value


def status_ok(reply: Mapping[str, Any]) -> bool:
    """True when a cgminer-style reply's STATUS is success or info (list, dict or flat forms)."""
    status: Any = reply.get("STATUS")
    if isinstance(status, list):
        status = status[0] if status else None
    if isinstance(status, dict):
        status = status.get("STATUS")
    return status in ("S", "I")


async def _read_bounded(reader: asyncio.StreamReader, max_bytes: int, address: str) -> bytes:
    buf = bytearray()
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return bytes(buf)
        buf += chunk
        nul = buf.find(b"\x00")
        if nul >= 0:
            return bytes(buf[:nul])
        if len(buf) > max_bytes:
            raise DeviceReplyInvalid(f"reply exceeds {max_bytes} bytes", address=address)


async def _exchange(
    host: str,
    port: int,
    payload: bytes,
    read_reply: Callable[[asyncio.StreamReader, str], Awaitable[T]],
    *,
    timeout_s: float,
) -> T:
    """Connect, send ``payload``, read one reply with ``read_reply``, close; all within ``timeout_s``."""
    address = f"{host}:{port}"
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout_s):
            try:
                reader, writer = await asyncio.open_connection(host, port, limit=65536)
            except OSError as exc:
                raise DeviceUnreachable(
                    f"cannot connect ({exc.strerror or type(exc).__name__})", address=address
                ) from exc
            try:
                writer.write(payload)
                await writer.drain()
                return await read_reply(reader, address)
            except (ConnectionError, OSError) as exc:
                raise DeviceUnreachable("connection dropped before a reply", address=address) from exc
    except TimeoutError as exc:
        raise DeviceTimeout(f"no reply within {timeout_s:g} s", address=address) from exc
    finally:
        if writer is not None:
            writer.close()


async def exchange(
    host: str,
    port: int,
    payload: bytes,
    *,
    timeout_s: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> bytes:
    """Connect, send ``payload``, read one bounded reply to the NUL or EOF, close."""

    async def read(reader: asyncio.StreamReader, address: str) -> bytes:
        return await _read_bounded(reader, max_bytes, address)

    return await _exchange(host, port, payload, read, timeout_s=timeout_s)


async def cgminer_request(
    host: str,
    port: int,
    command: str,
    parameter: str | None = None,
    *,
    timeout_s: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> dict[str, Any]:
    """One cgminer API command; the parsed reply (its STATUS is the caller's to judge)."""
    raw = await exchange(
        host, port, encode_request(command, parameter), timeout_s=timeout_s, max_bytes=max_bytes
    )
    return parse_cgminer_reply(raw, address=f"{host}:{port}", max_bytes=max_bytes)


async def cgminer_multi(
    host: str,
    port: int,
    commands: Sequence[str],
    *,
    timeout_s: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> dict[str, dict[str, Any]]:
    """Several parameterless report commands in one request (``a+b+c``), split per command.

    The multi-report reply is ``{"a": [reply], "b": [reply], "id": 1}``; a single command is
    sent plainly. A member missing from the reply is :class:`DeviceReplyInvalid`.
    """
    address = f"{host}:{port}"
    unique = list(dict.fromkeys(commands))
    if len(unique) == 1:
        return {
            unique[0]: await cgminer_request(host, port, unique[0], timeout_s=timeout_s, max_bytes=max_bytes)
        }
    reply = await cgminer_request(host, port, join_multi(*unique), timeout_s=timeout_s, max_bytes=max_bytes)
    out: dict[str, dict[str, Any]] = {}
    for cmd in unique:
        part = reply.get(cmd)
        if isinstance(part, list) and part and isinstance(part[0], dict):
            out[cmd] = part[0]
        elif isinstance(part, dict):
            out[cmd] = part
        else:
            raise DeviceReplyInvalid(f"multi-command reply lacks {cmd!r}", address=address)
    return out


async def v3_request(
    host: str,
    port: int,
    message: Mapping[str, Any],
    *,
    timeout_s: float,
    max_bytes: int = V3_MAX_FRAME_BYTES,
) -> dict[str, Any]:
    """One Whatsminer API 3.x exchange: a length-prefixed JSON frame out, one frame back."""

    async def read(reader: asyncio.StreamReader, address: str) -> dict[str, Any]:
        frames = V3FrameReader(max_bytes)
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    raise DeviceReplyInvalid("connection closed before a whole frame", address=address)
                messages = frames.feed(chunk)
                if messages:
                    first: dict[str, Any] = messages[0]
                    return first
        except FrameError as exc:
            raise DeviceReplyInvalid(f"bad API 3.x frame: {exc}", address=address) from exc

    return await _exchange(host, port, encode_v3_frame(message), read, timeout_s=timeout_s)
