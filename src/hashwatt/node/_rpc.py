"""A small Bitcoin Core JSON-RPC client over ``http.client``: credentials from the URL or a
cookie file, bounded response reads, errors translated to :class:`NodeError`/:class:`RpcError`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import http.client
import itertools
import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from hashwatt.node.errors import NodeError, RpcError

#: Largest response body read [bytes]; a full mainnet template is ~2-8 MB of hex.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs (no secrets in errors)."""
    scheme, sep, rest = url.rpartition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}" if ":" in userinfo else url


class RpcClient:
    """``call(method, *params)`` against ``http://USER:PASS@HOST:PORT[/wallet/..]``."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 30.0,
        cookie_file: Path | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise NodeError(f"node URL must be http://USER:PASS@HOST:PORT, got {redact_url(url)!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port or 8332
        except ValueError as exc:
            raise NodeError(f"bad port in node URL {redact_url(url)!r}") from exc
        self.path = parts.path or "/"
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        if cookie_file is not None:
            try:
                user, _, password = cookie_file.read_text().strip().partition(":")
            except OSError as exc:
                raise NodeError(f"cannot read the RPC cookie file {cookie_file}: {exc}") from exc
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = f"Basic {token}" if user or password else None
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"RpcClient({self.scheme}://{self.host}:{self.port}{self.path})"

    def call(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """One JSON-RPC 1.0 call (what Bitcoin Core speaks); returns ``result``."""
        body = json.dumps({"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)})
        headers = {"Content-Type": "application/json"}
        if self._auth:
            headers["Authorization"] = self._auth
        conn_cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self.host, self.port, timeout=timeout_s or self.timeout_s)
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(self.max_response_bytes + 1)
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise NodeError(f"{method}: cannot reach the node at {self.host}:{self.port}: {exc}") from exc
        finally:
            conn.close()
        return self._decode(method, resp.status, raw)

    def _decode(self, method: str, status: int, raw: bytes) -> Any:
        if len(raw) > self.max_response_bytes:
            raise NodeError(f"{method}: response larger than {self.max_response_bytes} bytes")
        if status == 401:
            raise NodeError(f"{method}: the node refused the RPC credentials (HTTP 401)")
        try:
            reply = json.loads(raw)
        except ValueError as exc:
            raise NodeError(f"{method}: HTTP {status}, body is not JSON") from exc
        if not isinstance(reply, dict):
            raise NodeError(f"{method}: reply is not a JSON object")
        error = reply.get("error")
        if error:
            if isinstance(error, dict):
                raise RpcError(method, int(error.get("code", 0)), str(error.get("message", "")))
            raise RpcError(method, 0, str(error))
        if status != 200:
            raise NodeError(f"{method}: HTTP {status}")
        return reply.get("result")

    def at(self, uri: str) -> RpcClient:
        """The same node and credentials at another path or URL (BIP 22 ``longpolluri``)."""
        twin = copy.copy(self)
        twin._ids = itertools.count(1)
        parts = urlsplit(uri)
        if parts.scheme:
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise NodeError(f"unusable RPC URI {uri!r}")
            twin.scheme, twin.host = parts.scheme, parts.hostname
            try:
                twin.port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError as exc:
                raise NodeError(f"bad port in RPC URI {uri!r}") from exc
        twin.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return twin

    async def acall_stream(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """:meth:`call` on its own asyncio connection: cancelling it closes the socket at once
        (a longpoll held open for minutes must not pin a worker thread past shutdown)."""
        body = json.dumps(
            {"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)}
        ).encode()
        head = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if self._auth:
            head.append(f"Authorization: {self._auth}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + body

        async def exchange() -> tuple[int, bytes]:
            ssl_ctx = ssl.create_default_context() if self.scheme == "https" else None
            reader, writer = await asyncio.open_connection(self.host, self.port, ssl=ssl_ctx, limit=1 << 16)
            try:
                writer.write(request)
                await writer.drain()
                return await _read_http_response(reader, self.max_response_bytes)
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        try:
            status, raw = await asyncio.wait_for(exchange(), timeout_s or self.timeout_s)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            raise NodeError(f"{method}: cannot reach the node at {self.host}:{self.port}: {exc!r}") from exc
        return self._decode(method, status, raw)

    async def acall(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """:meth:`call` in a worker thread, for asyncio callers."""
        return await asyncio.to_thread(self.call, method, *params, timeout_s=timeout_s)

    def getblocktemplate(self, *, longpollid: str | None = None, timeout_s: float | None = None) -> Any:
        request: dict[str, Any] = {"rules": ["segwit"], "capabilities": ["coinbasetxn", "workid", "longpoll"]}
        if longpollid:
            request["longpollid"] = longpollid
        return self.call("getblocktemplate", request, timeout_s=timeout_s)

    def submitblock(self, block_hex: str) -> str | None:
        """``None`` when the node accepted the block, else its reason (``duplicate``, ``inconclusive``, ...)."""
        result = self.call("submitblock", block_hex)
        return None if result is None else str(result)


async def _read_http_response(reader: asyncio.StreamReader, limit: int) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response (Content-Length, chunked, or until EOF)."""
    status_line = await reader.readline()
    fields = status_line.split()
    if len(fields) < 2 or not fields[0].startswith(b"HTTP/"):
        raise ValueError(f"not an HTTP response: {status_line[:80]!r}")
    status = int(fields[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        size = 0
        while True:
            size_line = await reader.readline()
            n = int(size_line.split(b";")[0].strip() or b"0", 16)
            if n == 0:
                break
            size += n
            if size > limit:
                raise NodeError(f"response larger than {limit} bytes")
            chunks.append(await reader.readexactly(n))
            await reader.readline()
        return status, b"".join(chunks)
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > limit:
            raise NodeError(f"response larger than {limit} bytes")
        return status, await reader.readexactly(length)
    body = bytearray()
    while chunk := await reader.read(1 << 16):
        body += chunk
        if len(body) > limit:
            raise NodeError(f"response larger than {limit} bytes")
    return status, bytes(body)
