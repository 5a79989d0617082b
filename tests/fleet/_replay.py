"""Loopback servers that replay replies captured from real miners (asic-rs fixtures).

Real sockets and real bytes: a cgminer-style API server (one request per connection, reply +
NUL, close; multi-commands answered as the firmware does) and a Digest-protected HTTP server
for the stock Antminer CGI. They stand in for the device twins until those land, and stay for
exact capture parsing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fleet" / "asic-rs"

Handler = Callable[[str | None], dict[str, Any]]


def load(vendor_path: str) -> dict[str, Any]:
    value = json.loads((FIXTURES / vendor_path).read_text())
    assert isinstance(value, dict)
    return value


def captured(folder: str) -> dict[str, dict[str, Any]]:
    """Every capture of a folder, keyed by command name (file stem)."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob("*.json"))}


@dataclass
class ApiServer:
    """A cgminer-style API on 127.0.0.1 answering from ``replies`` (command -> reply or handler)."""

    replies: dict[str, dict[str, Any] | Handler]
    mode: str = "ok"  # ok | hang | garbage | truncated | close
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"
    peak_connections: int = 0
    _server: asyncio.Server | None = None
    _conns: set[asyncio.StreamWriter] = field(default_factory=set)

    def _answer(self, command: str, parameter: str | None) -> dict[str, Any]:
        handler = self.replies.get(command)
        if handler is None:
            return {
                "STATUS": [
                    {"STATUS": "E", "When": 0, "Code": 14, "Msg": "Invalid command", "Description": "cgminer"}
                ],
                "id": 1,
            }
        return handler(parameter) if callable(handler) else handler

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns.add(writer)
        self.peak_connections = max(self.peak_connections, len(self._conns))
        try:
            raw = b""
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    return
                raw += chunk
                try:
                    request = json.loads(raw)
                    break
                except ValueError:
                    if len(raw) > 65536:
                        return
            self.requests.append(request)
            if self.mode == "hang":
                await asyncio.sleep(3600)
            if self.mode == "close":
                return
            if self.mode == "garbage":
                writer.write(b"\x8f\x01<html>not json at all\x00")
            else:
                command = str(request.get("command", ""))
                parameter = request.get("parameter")
                if "enc" in request:  # Whatsminer 2.x privileged envelope: the handler decrypts
                    reply = self._answer("__enc__", str(request.get("data", "")))
                elif "+" in command:
                    reply: dict[str, Any] = {c: [self._answer(c, None)] for c in command.split("+")}
                    reply["id"] = 1
                else:
                    reply = self._answer(command, parameter)
                data = json.dumps(reply).encode()
                if self.mode == "truncated":
                    data = data[: len(data) // 2]
                writer.write(data + b"\x00")
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._conns.discard(writer)
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._conns):
                w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)


@dataclass
class DigestCgiServer:
    """HTTP/1.1 on 127.0.0.1 with Digest auth (realm antMiner Configuration) over ``/cgi-bin/*.cgi``."""

    routes: dict[str, Callable[[dict[str, Any] | None], bytes | dict[str, Any]]]
    user: str = "root"
    password: str = "root"
    port: int = 0
    host: str = "127.0.0.1"
    realm: str = "antMiner Configuration"
    hits: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    def _check(self, method: str, header: str) -> bool:
        if not header.startswith("Digest "):
            return False
        parts: dict[str, str] = {}
        for item in header[7:].split(","):
            key, _, value = item.strip().partition("=")
            parts[key] = value.strip('"')
        ha1 = hashlib.md5(f"{self.user}:{self.realm}:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{parts.get('uri', '')}".encode()).hexdigest()
        expected = hashlib.md5(
            f"{ha1}:{parts.get('nonce')}:{parts.get('nc')}:{parts.get('cnonce')}:{parts.get('qop')}:{ha2}".encode()
        ).hexdigest()
        return secrets.compare_digest(expected, parts.get("response", ""))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                if not self._check(method, headers.get("authorization", "")):
                    nonce = secrets.token_hex(8)
                    writer.write(
                        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                        + f'WWW-Authenticate: Digest realm="{self.realm}", nonce="{nonce}", qop="auth"\r\n\r\n'.encode()
                    )
                    await writer.drain()
                    continue
                name = path.removeprefix("/cgi-bin/").removesuffix(".cgi")
                self.hits.append(name)
                route = self.routes.get(name)
                if route is None:
                    payload, status = b"<html>404 Not Found</html>", "404 Not Found"
                else:
                    result = route(json.loads(body) if body else None)
                    payload = result if isinstance(result, bytes) else json.dumps(result).encode()
                    status = "200 OK"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
                )
                await writer.drain()
        except (ConnectionError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


@contextlib.asynccontextmanager
async def running(*servers: ApiServer | DigestCgiServer | V3Server) -> AsyncIterator[None]:
    for s in servers:
        await s.start()
    try:
        yield
    finally:
        for s in servers:
            await s.stop()


class StockState:
    """A stock Antminer's replayed replies plus the mutable bits its controls change."""

    def __init__(self) -> None:
        self.rpc = captured("antminer/v2020")
        self.system_info = self.rpc.pop("system_info")
        self.conf: dict[str, Any] = {
            "pools": [
                {
                    "url": "stratum+tcp://btc.global.luxor.tech:700",
                    "user": "satokierepair.H04YK",
                    "pass": "secret1",
                },
                {"url": "stratum+tcp://backup.example:3333", "user": "w2", "pass": "x"},
                {"url": "", "user": "", "pass": ""},
            ],
            "api-listen": True,
            "bitmain-fan-ctrl": False,
            "bitmain-fan-pwm": "100",
            "bitmain-freq-level": "100",
            "bitmain-work-mode": "0",
        }
        self.blink = False
        self.reboots = 0
        self.posted: list[dict[str, Any]] = []

    def api_replies(self) -> dict[str, dict[str, Any] | Handler]:
        return {k: (lambda _p, k=k: self._rpc(k)) for k in self.rpc}

    def _rpc(self, command: str) -> dict[str, Any]:
        reply = json.loads(json.dumps(self.rpc[command]))
        if self.conf["bitmain-work-mode"] == "1":  # sleeping: no hashrate, as the firmware shows it
            if command == "summary":
                reply["SUMMARY"][0]["GHS 5s"] = 0.0
            if command == "stats":
                for n in (1, 2, 3):
                    reply["STATS"][1][f"chain_rate{n}"] = "0.00"
        return reply

    def cgi_routes(self) -> dict[str, Callable[[dict[str, Any] | None], bytes | dict[str, Any]]]:
        def set_conf(body: dict[str, Any] | None) -> dict[str, Any]:
            assert body is not None
            self.posted.append(body)
            self.conf["pools"] = body["pools"]
            self.conf["bitmain-work-mode"] = str(body["miner-mode"])
            self.conf["bitmain-fan-pwm"] = body["bitmain-fan-pwm"]
            return {"stats": "success", "code": "M000", "msg": "OK!"}

        def blink(body: dict[str, Any] | None) -> dict[str, Any]:
            assert body is not None
            self.blink = body["blink"] == "true"
            return {"code": "B000" if self.blink else "B100"}

        def reboot(_b: dict[str, Any] | None) -> bytes:
            self.reboots += 1
            return b"<html>rebooting</html>"

        return {
            "get_system_info": lambda _b: self.system_info,
            "get_miner_conf": lambda _b: self.conf,
            "set_miner_conf": set_conf,
            "blink": blink,
            "get_blink_status": lambda _b: {"blink": self.blink},
            "reboot": reboot,
        }


@dataclass
class V3Server:
    """Whatsminer API 3.x on 127.0.0.1: length-prefixed JSON frames, one reply per request frame."""

    handler: Callable[[dict[str, Any]], dict[str, Any]]
    port: int = 0
    host: str = "127.0.0.1"
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(4)
                body = await reader.readexactly(int.from_bytes(head, "little"))
                request = json.loads(body)
                self.requests.append(request)
                out = json.dumps(self.handler(request)).encode()
                writer.write(len(out).to_bytes(4, "little") + out)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


class LuxState:
    """Replayed LuxOS replies with the session lock, curtail and profiles it controls."""

    def __init__(self, *, obey: bool = True) -> None:
        self.rpc = captured("luxminer/v1")
        self.session = ""
        self.config = self.rpc["config"]
        self.obey = obey  # False: accepts curtail and profileset, changes nothing (a disobeying device)
        self.curtail_times: list[float] = []

    def replies(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.rpc)

        def session(_p: str | None) -> dict[str, Any]:
            return {
                "SESSION": [{"SessionID": self.session}],
                "STATUS": [{"STATUS": "S", "Code": 319}],
                "id": 1,
            }

        def logon(_p: str | None) -> dict[str, Any]:
            if self.session:
                return {"STATUS": [{"STATUS": "E", "Code": 402, "Msg": "Another session is active"}], "id": 1}
            self.session = "yJN2nlj1"
            return {
                "SESSION": [{"SessionID": self.session}],
                "STATUS": [{"STATUS": "S", "Code": 316}],
                "id": 1,
            }

        def write(fn: Any) -> Any:
            def handler(p: str | None) -> dict[str, Any]:
                sid, _, rest = (p or "").partition(",")
                if sid != self.session:
                    return {"STATUS": [{"STATUS": "E", "Code": 401, "Msg": "Invalid session"}], "id": 1}
                result: dict[str, Any] = fn(rest)
                return result

            return handler

        def curtail(arg: str) -> dict[str, Any]:
            self.curtail_times.append(time.monotonic())
            if self.obey:
                self.config["CONFIG"][0]["CurtailMode"] = "Sleep" if arg == "sleep" else "None"
            return {"CURTAIL": [{"Action": arg}], "STATUS": [{"STATUS": "S", "Code": 335}], "id": 1}

        def profileset(name: str) -> dict[str, Any]:
            if self.obey:
                self.config["CONFIG"][0]["Profile"] = name
            return {"PROFILE": [{"Profile": name}], "STATUS": [{"STATUS": "S", "Code": 321}], "id": 1}

        out.update(
            session=session,
            logon=logon,
            curtail=write(curtail),
            profileset=write(profileset),
            ledset=write(lambda _a: {"STATUS": [{"STATUS": "S"}], "id": 1}),
        )
        return out
