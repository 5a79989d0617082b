"""Stratum V1 framing, sans-IO: bytes in -> messages out, messages in -> bytes out.

Stratum V1 is JSON-RPC 1.0-ish over TCP, one JSON object per ``\\n``-terminated line.
Requests carry ``id``/``method``/``params``; notifications are requests whose ``id`` is
``null``; responses carry ``id``/``result``/``error`` with ``error`` = ``[code, message,
traceback]`` or ``null``. Every buffer here is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hashwatt.stratum.errors import ErrorCode, ProtocolViolation

#: Default bound on one JSON line [bytes]; real messages stay well under 8 KiB (a notify with a
#: 12-level merkle branch and a 200-byte coinbase is ~1.3 KiB).
MAX_LINE_BYTES = 16_384

JsonId = int | str | None


@dataclass(frozen=True, slots=True)
class Request:
    """A method call; ``id is None`` makes it a notification (no answer expected)."""

    id: JsonId
    method: str
    params: list[Any]


@dataclass(frozen=True, slots=True)
class Response:
    """An answer to a request: ``error`` is ``(code, message)`` or ``None``."""

    id: JsonId
    result: Any
    error: tuple[int, str] | None = None


Message = Request | Response


def _check_id(value: Any) -> JsonId:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():  # some miners send 1.0
        return int(value)
    raise ProtocolViolation(f"message id must be a number, a string or null, got {type(value).__name__}")


def _parse_error(value: Any) -> tuple[int, str] | None:
    if value is None or value is False:
        return None
    # Quirk: most pools send [code, "message", null]; a few send {"code": .., "message": ..}.
    if isinstance(value, list | tuple) and value:
        code = value[0] if isinstance(value[0], int) else int(ErrorCode.OTHER)
        message = str(value[1]) if len(value) > 1 else ""
        return code, message
    if isinstance(value, dict):
        code = value.get("code", ErrorCode.OTHER)
        return (code if isinstance(code, int) else int(ErrorCode.OTHER)), str(value.get("message", ""))
    return int(ErrorCode.OTHER), str(value)


def parse_message(line: bytes | str) -> Message:
    """Decode one line into a :class:`Request` or :class:`Response`; :class:`ProtocolViolation` if malformed."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolViolation(f"malformed JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolViolation("a Stratum message must be a JSON object")
    msg_id = _check_id(obj.get("id"))
    method = obj.get("method")
    if method is not None:
        if not isinstance(method, str):
            raise ProtocolViolation("method must be a string")
        params = obj.get("params", [])
        if params is None:
            params = []
        if isinstance(params, dict):  # quirk: a few clients send named params; keep the values in order
            params = list(params.values())
        if not isinstance(params, list):
            raise ProtocolViolation("params must be a list")
        return Request(msg_id, method, params)
    if "result" in obj or "error" in obj:
        return Response(msg_id, obj.get("result"), _parse_error(obj.get("error")))
    raise ProtocolViolation("message is neither a request (method) nor a response (result/error)")


def encode_request(msg_id: JsonId, method: str, params: Sequence[Any]) -> bytes:
    """One request line; ``msg_id=None`` gives a notification."""
    return (
        json.dumps({"id": msg_id, "method": method, "params": list(params)}, separators=(",", ":")) + "\n"
    ).encode()


def _id_json(msg_id: JsonId) -> str:
    if msg_id is None:
        return "null"
    if isinstance(msg_id, int):
        return str(msg_id)
    return json.dumps(msg_id)


def encode_result(msg_id: JsonId, result: Any) -> bytes:
    """A successful response line (``error: null``, as cgminer expects the key present)."""
    if result is True:  # the hot path: an accepted share
        return f'{{"id":{_id_json(msg_id)},"result":true,"error":null}}\n'.encode()
    return (
        json.dumps({"id": msg_id, "result": result, "error": None}, separators=(",", ":")) + "\n"
    ).encode()


def encode_error(msg_id: JsonId, code: int, message: str) -> bytes:
    """An error response line ``{"id":..,"result":null,"error":[code,"message",null]}``."""
    return (
        json.dumps({"id": msg_id, "result": None, "error": [code, message, None]}, separators=(",", ":"))
        + "\n"
    ).encode()


def encode_message(message: Message) -> bytes:
    if isinstance(message, Request):
        return encode_request(message.id, message.method, message.params)
    if message.error is not None:
        return encode_error(message.id, message.error[0], message.error[1])
    return encode_result(message.id, message.result)


class LineBuffer:
    """Splits a byte stream into lines, refusing any line longer than ``max_line_bytes``.

    ``feed`` returns complete lines (without the terminator, ``\\r`` stripped, blank lines
    dropped). A partial line is kept until its newline arrives; one that outgrows the bound
    raises :class:`ProtocolViolation` so the caller can drop the peer.
    """

    __slots__ = ("_buf", "max_line_bytes")

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self._buf = b""

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished line held [bytes]."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else data
        if b"\n" not in buf:
            if len(buf) > self.max_line_bytes:
                self._buf = b""
                raise ProtocolViolation(f"line longer than {self.max_line_bytes} bytes")
            self._buf = buf
            return []
        *lines, rest = buf.split(b"\n")
        if len(rest) > self.max_line_bytes:
            self._buf = b""
            raise ProtocolViolation(f"line longer than {self.max_line_bytes} bytes")
        self._buf = rest
        out: list[bytes] = []
        for line in lines:
            if len(line) > self.max_line_bytes:
                raise ProtocolViolation(f"line longer than {self.max_line_bytes} bytes")
            line = line.rstrip(b"\r")
            if line.strip():
                out.append(line)
        return out


class MessageReader:
    """A :class:`LineBuffer` plus :func:`parse_message`: bytes in, messages out.

    A malformed line yields a :class:`ProtocolViolation` in place of a message so the caller
    can answer it (or count strikes) and keep reading the following lines.
    """

    __slots__ = ("_lines",)

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._lines = LineBuffer(max_line_bytes)

    def feed(self, data: bytes) -> list[Message | ProtocolViolation]:
        out: list[Message | ProtocolViolation] = []
        for line in self._lines.feed(data):
            try:
                out.append(parse_message(line))
            except ProtocolViolation as exc:
                out.append(exc)
        return out
