"""The socket side of the device adapters: one bounded request per connection, under a deadline.

cgminer-family firmware (bmminer, LuxOS, Whatsminer 2.x) answers one JSON request per TCP
connection with JSON, usually NUL-terminated, then closes. Reads stop at the NUL, at EOF or
at ``max_bytes``; whatever the device does, the call ends by its deadline with a typed error.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from hashwatt.fleet.errors import DeviceError, DeviceReplyInvalid, DeviceTimeout, DeviceUnreachable
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
    "V3Connection",
    "cgminer_multi",
    "cgminer_payload",
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


class _NulReplies:
    """cgminer framing, client side: a reply ends at its NUL byte, or at EOF (sans-IO)."""

    __slots__ = ("_address", "_buf", "_max")

    def __init__(self, max_bytes: int, address: str) -> None:
        self._buf = bytearray()
        self._max = max_bytes
        self._address = address

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        nul = self._buf.find(b"\x00")
        if nul >= 0:
            reply = bytes(self._buf[:nul])
            del self._buf[: nul + 1]
            return [reply]
        if len(self._buf) > self._max:
            raise DeviceReplyInvalid(f"reply exceeds {self._max} bytes", address=self._address)
        return []

    def at_eof(self) -> list[bytes]:
        reply, self._buf = bytes(self._buf), bytearray()
        return [reply]


class _V3Replies:
    """API 3.x framing, client side: length-prefixed JSON frames; EOF mid-frame is an error."""

    __slots__ = ("_address", "_frames")

    def __init__(self, max_bytes: int, address: str) -> None:
        self._frames = V3FrameReader(max_bytes)
        self._address = address

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        try:
            return self._frames.feed(data)
        except FrameError as exc:
            raise DeviceReplyInvalid(f"bad API 3.x frame: {exc}", address=self._address) from exc

    def at_eof(self) -> list[dict[str, Any]]:
        if not self._frames.pending:
            raise DeviceUnreachable("connection closed before a reply", address=self._address)
        raise DeviceReplyInvalid("connection closed before a whole frame", address=self._address)


class _Framing(Protocol[T]):
    def feed(self, data: bytes) -> list[T]: ...

    def at_eof(self) -> list[T]: ...


class _Client(asyncio.Protocol, Generic[T]):
    """One client connection without streams: requests written, replies split by ``framing``.

    A device poll opens and closes thousands of connections a minute; a bare protocol costs
    a fraction of a :class:`asyncio.StreamReader`/``StreamWriter`` pair and its tasks.
    """

    def __init__(self, framing: _Framing[T], address: str) -> None:
        self._framing = framing
        self._address = address
        self._replies: collections.deque[T] = collections.deque()
        self._waiter: asyncio.Future[T] | None = None
        self._error: DeviceError | None = None
        self._eof = False
        self.transport: asyncio.Transport | None = None
        self.served = 0  # replies handed out on this connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._replies.extend(self._framing.feed(data))
        except DeviceError as exc:
            self._error = exc
            if self.transport is not None:
                self.transport.abort()
        self._wake()

    def eof_received(self) -> bool:
        self._end()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self._eof and self._error is None:  # reset, not a clean close
            self._eof = True
            self._error = DeviceUnreachable("connection dropped before a reply", address=self._address)
        self._end()

    @property
    def open(self) -> bool:
        return not self._eof and self._error is None

    def _end(self) -> None:
        if not self._eof:
            self._eof = True
            if self._waiter is not None and not self._replies and self._error is None:
                try:
                    self._replies.extend(self._framing.at_eof())
                except DeviceError as exc:
                    self._error = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._replies:
            waiter.set_result(self._replies.popleft())
        elif self._error is not None:
            waiter.set_exception(self._error)
        elif self._eof:
            waiter.set_exception(
                DeviceUnreachable("connection dropped before a reply", address=self._address)
            )

    async def request(self, payload: bytes) -> T:
        """Send ``payload`` and wait for the next reply (the caller bounds the wait)."""
        if self.transport is None or not self.open:
            raise DeviceUnreachable("connection dropped before a reply", address=self._address)
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        self._wake()
        try:
            reply = await self._waiter
        finally:
            self._waiter = None
        self.served += 1
        return reply

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _name_command(exc: DeviceError, command: str) -> None:
    """Set ``exc.command`` where the layer that raised it (connect, framing) did not know it."""
    if not exc.command:
        exc.command = command


async def _connect(host: str, port: int, framing: _Framing[T]) -> _Client[T]:
    address = f"{host}:{port}"
    loop = asyncio.get_running_loop()
    try:
        _transport, client = await loop.create_connection(lambda: _Client(framing, address), host, port)
    except OSError as exc:
        raise DeviceUnreachable(
            f"cannot connect ({exc.strerror or type(exc).__name__})", address=address
        ) from exc
    return client


async def exchange(
    host: str,
    port: int,
    payload: bytes,
    *,
    timeout_s: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> bytes:
    """Connect, send ``payload``, read one bounded reply to the NUL or EOF, close; all within ``timeout_s``."""
    address = f"{host}:{port}"
    client: _Client[bytes] | None = None
    try:
        async with asyncio.timeout(timeout_s):
            client = await _connect(host, port, _NulReplies(max_bytes, address))
            return await client.request(payload)
    except TimeoutError as exc:
        raise DeviceTimeout(f"no reply within {timeout_s:g} s", address=address) from exc
    finally:
        if client is not None:
            client.close()


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
    return await cgminer_payload(
        host,
        port,
        encode_request(command, parameter),
        command=command,
        timeout_s=timeout_s,
        max_bytes=max_bytes,
    )


async def cgminer_payload(
    host: str,
    port: int,
    payload: bytes,
    *,
    command: str,
    timeout_s: float,
    max_bytes: int = MAX_REPLY_BYTES,
) -> dict[str, Any]:
    """``payload`` (a request already encoded: plain, or Whatsminer 2.x's encrypted envelope)
    sent on the cgminer port; its reply as a JSON object. A :class:`DeviceError` on the way
    (connect, timeout, framing, JSON) names ``command``."""
    try:
        raw = await exchange(host, port, payload, timeout_s=timeout_s, max_bytes=max_bytes)
        return parse_cgminer_reply(raw, address=f"{host}:{port}", max_bytes=max_bytes)
    except DeviceError as exc:
        _name_command(exc, command)
        raise


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
            raise DeviceReplyInvalid(f"multi-command reply lacks {cmd!r}", address=address, command=cmd)
    return out


class V3Connection:
    """Whatsminer API 3.x requests over one connection, one after the other.

    The firmware (like MicroBT's own client) keeps the connection open between requests, so
    a read of three reports costs one connect. Should a device close after a reply, the next
    request opens a new connection. Each request is bounded by ``timeout_s``.
    """

    def __init__(
        self, host: str, port: int, *, timeout_s: float, max_bytes: int = V3_MAX_FRAME_BYTES
    ) -> None:
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._client: _Client[dict[str, Any]] | None = None

    async def request(self, message: Mapping[str, Any]) -> dict[str, Any]:
        """One request and its reply; a :class:`DeviceError` names the message's ``cmd``."""
        try:
            return await self._request(message)
        except DeviceError as exc:
            _name_command(exc, str(message.get("cmd", "")))
            raise

    async def _request(self, message: Mapping[str, Any]) -> dict[str, Any]:
        payload = encode_v3_frame(message)
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._client is None or not self._client.open:
                    self._client = await self._reconnect()
                try:
                    return await self._client.request(payload)
                except DeviceUnreachable:
                    if not self._client.served:
                        raise
                # it closed after an earlier reply, before reading this request: once more, afresh
                self._client = await self._reconnect()
                return await self._client.request(payload)
        except TimeoutError as exc:
            self.close()
            raise DeviceTimeout(f"no reply within {self.timeout_s:g} s", address=self.address) from exc
        except DeviceError:
            self.close()
            raise

    async def _reconnect(self) -> _Client[dict[str, Any]]:
        self.close()
        return await _connect(self.host, self.port, _V3Replies(self.max_bytes, self.address))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def __aenter__(self) -> V3Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def v3_request(
    host: str,
    port: int,
    message: Mapping[str, Any],
    *,
    timeout_s: float,
    max_bytes: int = V3_MAX_FRAME_BYTES,
) -> dict[str, Any]:
    """One Whatsminer API 3.x exchange on its own connection: a length-prefixed JSON frame out, one frame back."""
    async with V3Connection(host, port, timeout_s=timeout_s, max_bytes=max_bytes) as conn:
        return await conn.request(message)
