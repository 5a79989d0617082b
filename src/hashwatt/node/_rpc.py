"""A small Bitcoin Core JSON-RPC client over httpx (sync for the CLI, async for the job source):
credentials from the URL or a cookie file, bounded response reads, errors translated to the
:mod:`hashwatt.node.errors` family with every URL redacted."""

from __future__ import annotations

import asyncio
import base64
import copy
import ipaddress
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from hashwatt._redact import redact_url, redact_urls_in
from hashwatt.node.errors import (
    NodeAuthFailed,
    NodeError,
    NodeReplyInvalid,
    NodeUnreachable,
    NodeUrlError,
    ResponseTooLarge,
    RpcError,
)

#: Largest response body read [bytes]; a full mainnet template is ~2-8 MB of hex.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024

#: Bitcoin Core's mainnet RPC port: the port of a node URL that names none.
DEFAULT_RPC_PORT = 8332

_SCHEME_PORTS = {"http": 80, "https": 443}
#: A registered name: letters, digits, dots, hyphens, underscores (IDNs in their ASCII form).
_HOSTNAME = re.compile(r"[A-Za-z0-9._-]+")
_HINT = "write http://USER:PASS@HOST:PORT (an IPv6 host in brackets: http://[::1]:8332)"


@dataclass(frozen=True, slots=True)
class NodeUrl:
    """A node's RPC URL taken apart: the one parser every ``--node`` and ``longpolluri`` goes
    through, so a bad URL is always one :class:`NodeUrlError` (redacted), never a traceback.

    ``path`` keeps the query (Core's ``/wallet/NAME``); the credentials never appear in
    :attr:`address` or in the ``repr``.
    """

    scheme: str
    host: str
    port: int
    path: str = "/"
    user: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @classmethod
    def parse(cls, text: str, *, default_port: int | None = DEFAULT_RPC_PORT) -> NodeUrl:
        """Parse ``[http[s]://][USER[:PASS]@]HOST[:PORT][/PATH]``; ``default_port=None`` means the
        scheme's own (80/443). The last ``@`` ends the user info (the redaction rule's reading)."""
        raw = text.strip()
        if "://" not in raw:
            raw = "http://" + raw
        shown = redact_url(raw)

        def bad(problem: str) -> NodeUrlError:
            return NodeUrlError(shown, problem, hint=_HINT)

        scheme, _, rest = raw.partition("://")
        scheme = scheme.lower()
        if scheme not in _SCHEME_PORTS:
            raise bad(f"scheme {scheme!r} is not http or https")
        userinfo, _, rest = rest.rpartition("@")
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        hostport, path = rest[:cut], rest[cut:].partition("#")[0]
        if path.startswith("?"):
            path = "/" + path
        host, port_text = _split_host_port(hostport, bad)
        if port_text is None:
            port = default_port if default_port is not None else _SCHEME_PORTS[scheme]
        elif (
            port_text.isascii() and port_text.isdigit() and len(port_text) <= 5 and 0 < int(port_text) < 65536
        ):
            port = int(port_text)
        else:
            raise bad(f"port {port_text!r} is not a number in 1..65535")
        user, _, password = userinfo.partition(":")
        return cls(scheme, host, port, path or "/", unquote(user), unquote(password))

    @property
    def address(self) -> str:
        """The URL requests go to, without credentials (they travel in the Authorization header)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


def _split_host_port(hostport: str, bad: Callable[[str], NodeUrlError]) -> tuple[str, str | None]:
    """``HOST[:PORT]`` or ``[IPV6][:PORT]`` -> (host, port text or None)."""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0:
            raise bad("the IPv6 host has no closing bracket")
        host, after = hostport[1:close], hostport[close + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} in brackets is not an IPv6 address") from None
        if after and not after.startswith(":"):
            raise bad(f"unexpected {after!r} after the IPv6 host")
        return host, after[1:] if after else None
    if hostport.count(":") > 1:
        raise bad("an IPv6 host goes in brackets")
    host, colon, port_text = hostport.partition(":")
    if not host:
        raise bad("no host")
    if not _HOSTNAME.fullmatch(host):
        raise bad(f"host {host!r} holds characters a host name cannot")
    return host, port_text if colon else None


class _BoundedBody:
    """A response body collected up to ``limit`` bytes and a total deadline; the sync and async
    paths feed it the chunks httpx yields, so both stop reading at the same bound."""

    __slots__ = ("_chunks", "_deadline", "_limit", "_method", "_size", "_status", "_url")

    def __init__(self, method: str, url: str, response: httpx.Response, limit: int, deadline: float) -> None:
        self._method, self._url, self._limit, self._deadline = method, url, limit, deadline
        self._status = response.status_code
        self._chunks: list[bytes] = []
        self._size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(method, limit, status=self._status)

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise ResponseTooLarge(self._method, self._limit, status=self._status)
        if time.monotonic() > self._deadline:
            raise NodeUnreachable(self._method, self._url, "the reply did not finish within the timeout")
        self._chunks.append(chunk)

    @property
    def data(self) -> bytes:
        return b"".join(self._chunks)


class RpcClient:
    """``call(method, *params)`` against ``http://USER:PASS@HOST:PORT[/wallet/..]``.

    Each call opens its own connection (as bitcoin-cli does), so cancelling :meth:`acall`
    closes its socket at once: a longpoll held open for minutes never outlives its task.
    """

    def __init__(
        self,
        url: str | NodeUrl,
        *,
        timeout_s: float = 30.0,
        cookie_file: Path | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        parsed = url if isinstance(url, NodeUrl) else NodeUrl.parse(url)
        self.scheme, self.host, self.port, self.path = parsed.scheme, parsed.host, parsed.port, parsed.path
        user, password = parsed.user, parsed.password
        if cookie_file is not None:
            try:
                user, _, password = cookie_file.read_text().strip().partition(":")
            except OSError as exc:
                raise NodeError(f"cannot read the RPC cookie file {cookie_file}: {exc}") from exc
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = f"Basic {token}" if user or password else None
        if not timeout_s > 0 or max_response_bytes < 1:
            raise NodeError("timeout_s and max_response_bytes must be positive")
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        """Where requests go, without credentials (they travel in the Authorization header)."""
        return NodeUrl(self.scheme, self.host, self.port, self.path).address

    def __repr__(self) -> str:
        return f"RpcClient({self.url})"

    def _request(self, method: str, params: tuple[Any, ...]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"jsonrpc": "1.0", "id": next(self._ids), "method": method, "params": list(params)})
        headers = {"Content-Type": "application/json"}
        if self._auth:
            headers["Authorization"] = self._auth
        return body.encode(), headers

    def _client_options(self, timeout_s: float) -> dict[str, Any]:
        # trust_env=False: no proxy from the environment and no .netrc sees the node's credentials.
        return {"timeout": httpx.Timeout(timeout_s), "trust_env": False, "follow_redirects": False}

    def call(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """One JSON-RPC 1.0 call (what Bitcoin Core speaks); returns ``result``."""
        content, headers = self._request(method, params)
        timeout = timeout_s or self.timeout_s
        deadline = time.monotonic() + timeout
        try:
            with (
                httpx.Client(**self._client_options(timeout)) as client,
                client.stream("POST", self.url, content=content, headers=headers) as response,
            ):
                body = _BoundedBody(method, self.url, response, self.max_response_bytes, deadline)
                for chunk in response.iter_bytes():
                    body.feed(chunk)
        except httpx.HTTPError as exc:
            raise NodeUnreachable(method, self.url, _reason(exc)) from exc
        return self._decode(method, response.status_code, body.data)

    async def acall(self, method: str, *params: Any, timeout_s: float | None = None) -> Any:
        """:meth:`call` for asyncio callers, on its own connection; cancelling it closes the socket."""
        content, headers = self._request(method, params)
        timeout = timeout_s or self.timeout_s
        deadline = time.monotonic() + timeout

        async def exchange() -> tuple[int, bytes]:
            async with (
                httpx.AsyncClient(**self._client_options(timeout)) as client,
                client.stream("POST", self.url, content=content, headers=headers) as response,
            ):
                body = _BoundedBody(method, self.url, response, self.max_response_bytes, deadline)
                async for chunk in response.aiter_bytes():
                    body.feed(chunk)
                return response.status_code, body.data

        try:
            status, raw = await asyncio.wait_for(exchange(), timeout)
        except TimeoutError as exc:
            raise NodeUnreachable(method, self.url, f"no reply within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise NodeUnreachable(method, self.url, _reason(exc)) from exc
        return self._decode(method, status, raw)

    def _decode(self, method: str, status: int, raw: bytes) -> Any:
        if status == 401:
            raise NodeAuthFailed(method, self.url)
        try:
            reply = json.loads(raw)
        except ValueError as exc:
            raise NodeReplyInvalid(method, f"HTTP {status}, body is not JSON", status=status) from exc
        if not isinstance(reply, dict):
            raise NodeReplyInvalid(method, "reply is not a JSON object", status=status)
        error = reply.get("error")
        if error:
            if isinstance(error, dict):
                raise RpcError(method, int(error.get("code", 0)), str(error.get("message", "")))
            raise RpcError(method, 0, str(error))
        if status != 200:
            raise NodeReplyInvalid(method, f"HTTP {status}", status=status)
        return reply.get("result")

    def at(self, uri: str) -> RpcClient:
        """The same node and credentials at another path or URL (BIP 22 ``longpolluri``)."""
        twin = copy.copy(self)
        twin._ids = itertools.count(1)
        if "://" in uri:
            parsed = NodeUrl.parse(uri, default_port=None)
            twin.scheme, twin.host, twin.port, twin.path = (
                parsed.scheme,
                parsed.host,
                parsed.port,
                parsed.path,
            )
        else:
            path = uri.partition("#")[0]
            twin.path = path if path.startswith("/") else "/" + path
        return twin

    def getblocktemplate(self, *, longpollid: str | None = None, timeout_s: float | None = None) -> Any:
        request: dict[str, Any] = {"rules": ["segwit"], "capabilities": ["coinbasetxn", "workid", "longpoll"]}
        if longpollid:
            request["longpollid"] = longpollid
        return self.call("getblocktemplate", request, timeout_s=timeout_s)

    def submitblock(self, block_hex: str) -> str | None:
        """``None`` when the node accepted the block, else its reason (``duplicate``, ``inconclusive``, ...)."""
        result = self.call("submitblock", block_hex)
        return None if result is None else str(result)


def _reason(exc: httpx.HTTPError) -> str:
    """A short cause for a transport failure; httpx's text names no credential (none is in the
    URL), and any URL in it is redacted all the same."""
    return redact_urls_in(str(exc) or type(exc).__name__)
