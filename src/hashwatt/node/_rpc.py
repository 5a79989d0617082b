"""A small Bitcoin Core JSON-RPC client over ``http.client``: credentials from the URL or a
cookie file, bounded response reads, errors translated to :class:`NodeError`/:class:`RpcError`."""

from __future__ import annotations

import asyncio
import base64
import http.client
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from hashwatt.node.errors import NodeError, RpcError

#: Largest response body read [bytes]; a full mainnet template is ~2-8 MB of hex.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


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
            raise NodeError(f"node URL must be http://USER:PASS@HOST:PORT, got {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        try:
            self.port = parts.port or 8332
        except ValueError as exc:
            raise NodeError(f"bad port in node URL {url!r}") from exc
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
        if len(raw) > self.max_response_bytes:
            raise NodeError(f"{method}: response larger than {self.max_response_bytes} bytes")
        if resp.status == 401:
            raise NodeError(f"{method}: the node refused the RPC credentials (HTTP 401)")
        try:
            reply = json.loads(raw)
        except ValueError as exc:
            raise NodeError(f"{method}: HTTP {resp.status}, body is not JSON") from exc
        if not isinstance(reply, dict):
            raise NodeError(f"{method}: reply is not a JSON object")
        error = reply.get("error")
        if error:
            if isinstance(error, dict):
                raise RpcError(method, int(error.get("code", 0)), str(error.get("message", "")))
            raise RpcError(method, 0, str(error))
        if resp.status != 200:
            raise NodeError(f"{method}: HTTP {resp.status}")
        return reply.get("result")

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
