"""cgminer/bmminer JSON API framing (TCP 4028): sans-IO encode and decode, both directions.

The firmware takes one request per TCP connection, answers with JSON followed by one NUL byte
and closes the socket. Clients do not half-close, so a server must decide from the bytes alone
when a request is complete: :class:`RequestBuffer` does that with a bound.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

import orjson

from hashwatt.minerapi import _json
from hashwatt.minerapi.errors import FrameError, FrameTooLarge

__all__ = [
    "MAX_REPLY_BYTES",
    "MAX_REQUEST_BYTES",
    "CgminerRequest",
    "RequestBuffer",
    "decode_reply",
    "encode_reply",
    "encode_request",
    "join_multi",
    "parse_request",
    "split_multi",
]

#: Largest request a server accepts [bytes]: real requests are well under 1 KiB; the AES
#: envelope of a Whatsminer ``update_pools`` with three long pool URLs stays under 4 KiB.
MAX_REQUEST_BYTES = 16 * 1024
#: Largest reply a client should read [bytes]: a multi-command of every report of a 4-board
#: LuxOS machine stays under 64 KiB; 1 MiB leaves room without letting a peer exhaust memory.
MAX_REPLY_BYTES = 1024 * 1024

_TEXT_COMMAND = re.compile(r"[A-Za-z0-9_.+-]{1,64}")


@dataclasses.dataclass(frozen=True, slots=True)
class CgminerRequest:
    """One decoded request: the JSON object as sent (``command``/``parameter`` or Whatsminer's
    ``cmd``/``enc`` keys), and whether it came in cgminer's plain-text ``cmd|param`` form."""

    body: Mapping[str, Any]
    text_form: bool = False

    @property
    def command(self) -> str:
        """The ``command`` field ('' when absent or not a string)."""
        value = self.body.get("command", "")
        return value if isinstance(value, str) else ""

    @property
    def parameter(self) -> str | None:
        """The ``parameter`` field as text (numbers are sent unquoted by some clients)."""
        value = self.body.get("parameter")
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        return json.dumps(value, separators=(",", ":"))


def encode_request(command: str, parameter: str | None = None) -> bytes:
    """The bytes a client sends: ``{"command": ..., "parameter": ...}`` without NUL or newline."""
    body: dict[str, str] = {"command": command}
    if parameter is not None:
        body["parameter"] = parameter
    return json.dumps(body).encode()


def parse_request(data: bytes) -> CgminerRequest | None:
    """Decode a complete request, or ``None`` when ``data`` is a valid but unfinished prefix.

    Trailing NULs and whitespace are ignored. Text that does not start with ``{`` is cgminer's
    ``cmd|param`` form (complete once a newline or NUL ends it). Raises :class:`FrameError` for
    bytes that can never become a request (garbage, a JSON value that is not an object).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) - exc.start < 4 and exc.reason == "unexpected end of data":
            return None  # a multi-byte character split across reads
        raise FrameError("request is not UTF-8") from exc
    stripped = text.strip("\x00 \t\r\n")
    if not stripped:
        return None
    if not stripped.startswith("{"):
        cmd, bar, param = stripped.partition("|")
        if not _TEXT_COMMAND.fullmatch(cmd) or (bar and not param.isprintable()):
            raise FrameError("request is neither JSON nor cmd|param text")
        if not text.rstrip(" \t").endswith(("\n", "\x00")):
            return None
        return CgminerRequest({"command": cmd, "parameter": param} if param else {"command": cmd}, True)
    try:
        body = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string"):
            return None
        raise FrameError(f"request is not valid JSON: {exc.msg}") from exc
    if not isinstance(body, dict):
        raise FrameError("request JSON is not an object")
    return CgminerRequest(body)


class RequestBuffer:
    """Accumulates the bytes of one connection until :func:`parse_request` completes, bounded.

    ``feed`` returns the request once complete, ``None`` while more is needed, and raises
    :class:`FrameTooLarge` past ``max_bytes`` or :class:`FrameError` on garbage.
    """

    __slots__ = ("_buf", "_max")

    def __init__(self, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_bytes

    def feed(self, data: bytes) -> CgminerRequest | None:
        self._buf += data
        if len(self._buf) > self._max:
            raise FrameTooLarge(f"request longer than {self._max} bytes")
        return parse_request(bytes(self._buf))

    @property
    def pending(self) -> bytes:
        """What has been received so far (for a server that answers garbage it saw)."""
        return bytes(self._buf)


def encode_reply(reply: Mapping[str, Any] | str) -> bytes:
    """A reply as the firmware sends it: compact JSON (or raw text) then one NUL byte."""
    data = reply.encode() if isinstance(reply, str) else _json.dumps(reply)
    return data + b"\x00"


def decode_reply(data: bytes, *, max_bytes: int = MAX_REPLY_BYTES) -> dict[str, Any]:
    """Decode a reply read to EOF or to its NUL; tolerates the old bmminer ``}{`` quirk.

    Raises :class:`FrameTooLarge` over ``max_bytes`` and :class:`FrameError` when the bytes are
    not one JSON object (truncated, garbage, empty).
    """
    if len(data) > max_bytes:
        raise FrameTooLarge(f"reply longer than {max_bytes} bytes")
    nul = data.find(b"\x00")
    if nul >= 0:
        data = data[:nul]
    try:
        body = orjson.loads(data)  # the common case: one well-formed object
    except orjson.JSONDecodeError:
        pass
    else:
        if not isinstance(body, dict):
            raise FrameError("reply JSON is not an object")
        return body
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise FrameError("reply is not UTF-8") from exc
    if not text:
        raise FrameError("empty reply")
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        # bmminer before 2020 joins STATS entries with "}{" (missing comma)
        try:
            body = json.loads(text.replace("}{", "},{"))
        except json.JSONDecodeError as exc:
            raise FrameError(f"reply is not valid JSON: {exc.msg} at {exc.pos}") from exc
    if not isinstance(body, dict):
        raise FrameError("reply JSON is not an object")
    return body


def split_multi(command: str) -> tuple[str, ...]:
    """The members of a multi-command ``a+b+c``, in order, duplicates collapsed as cgminer does."""
    seen: dict[str, None] = {}
    for part in command.split("+"):
        seen.setdefault(part, None)
    return tuple(seen)


def join_multi(*commands: str) -> str:
    """The ``command`` field for several parameterless reports in one request."""
    if not commands or any(not c or "+" in c for c in commands):
        raise FrameError(f"cannot join {commands!r} into a multi-command")
    return "+".join(commands)
