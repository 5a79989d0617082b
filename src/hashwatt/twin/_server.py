"""The asyncio transport of a twin site: one listener per firmware port, dispatch by address.

Ten thousand twins cannot hold three listening sockets each under a 20,000 open-file limit.
In ``shared`` mode each port has ONE socket bound to 0.0.0.0 and pinned to the loopback
device (``SO_BINDTODEVICE lo``: unprivileged since Linux 5.7), and each accepted connection
is routed to the twin whose address it was made to (``getsockname``). ``per-address`` mode
binds one socket per twin and port (for tests and for running beside other listeners).
Every read is bounded in size and time; misbehaving clients are dropped, never the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import h11

from hashwatt.minerapi import FrameError, RequestBuffer, V3FrameReader, encode_reply
from hashwatt.twin._cgminer import handle_cgminer
from hashwatt.twin._twin import Firmware, NetFault, Twin
from hashwatt.twin._web import HttpRequest, HttpResponse, handle_http
from hashwatt.twin._whatsminer import handle_v2, handle_v3
from hashwatt.twin.errors import TwinError

__all__ = ["FIRMWARE_PORTS", "Clock", "Ports", "SiteServer"]

#: The fixed ports of real firmware.
FIRMWARE_PORTS = {"rpc": 4028, "web": 80, "v3": 4433}
#: A client must finish its request within this long [s] (half-open connections are dropped).
REQUEST_DEADLINE_S = 10.0
#: Keep-alive HTTP and API 3.x connections idle longer than this are closed [s].
IDLE_S = 15.0
#: Longest time a black-holed connection is held before the server lets it go [s].
BLACKHOLE_HOLD_S = 120.0
MAX_HTTP_BYTES = 64 * 1024
MAX_HTTP_REQUESTS_PER_CONNECTION = 100
MAX_CONNECTIONS = 8192
GARBAGE = b"\x8b\x1f<html>\xff\xfe{{{{ not json"


class Clock:
    """Model time [s since start, shiftable for scenarios] and wall time [unix s]."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()
        self.offset_s = 0.0

    def now(self) -> float:
        return time.monotonic() - self._t0 + self.offset_s

    def wall(self) -> float:
        """Real unix time: clients sign with their own clock (Whatsminer 3.x ``ts``), so a
        fast-forward moves the model, never the wall clock."""
        return time.time()

    def jump(self, seconds: float) -> None:
        """Move model time forward (ramps, temperatures, counters), not the wall clock."""
        self.offset_s += max(0.0, seconds)


@dataclasses.dataclass(frozen=True, slots=True)
class Ports:
    """The port of each service; real firmware ports unless offset for unprivileged use."""

    rpc: int = 4028
    web: int = 80
    v3: int = 4433

    @classmethod
    def offset(cls, offset: int) -> Ports:
        return cls(4028 + offset, 80 + offset, 4433 + offset)

    def get(self, service: str) -> int:
        return int(getattr(self, service))


Handler = Callable[[Twin, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _listen_socket(host: str, port: int, *, bind_device: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if bind_device:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo\x00")
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise TwinError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class SiteServer:
    """Serves every twin of a site. Start with :meth:`start`, stop with :meth:`close`."""

    def __init__(
        self,
        twins: list[Twin],
        *,
        ports: Ports = Ports(),
        clock: Clock | None = None,
        mode: str = "shared",
    ) -> None:
        if mode not in ("shared", "per-address"):
            raise TwinError(f"unknown listener mode {mode!r} (shared or per-address)")
        self.twins = {t.host: t for t in twins}
        if len(self.twins) != len(twins):
            raise TwinError("two twins share an address")
        self.ports = ports
        self.clock = clock or Clock()
        self.mode = mode
        self._servers: list[asyncio.Server] = []
        self._connections = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.dropped = 0

    async def start(self) -> None:
        services: dict[str, Handler] = {"rpc": self._serve_rpc, "web": self._serve_web, "v3": self._serve_v3}
        wanted = {s for t in self.twins.values() for s in t.firmware.ports}
        try:
            for service in sorted(wanted):
                port = self.ports.get(service)
                handler = services[service]
                if self.mode == "shared":
                    socks = [_listen_socket("0.0.0.0", port, bind_device=True)]
                else:
                    socks = [_listen_socket(host, port, bind_device=False) for host in self.twins]
                for sock in socks:
                    self._servers.append(await asyncio.start_server(self._accept(handler), sock=sock))
        except BaseException:
            await self.close()
            raise

    def inventory(self) -> list[dict[str, Any]]:
        """What a fleet service needs to reach each twin: address, ports, firmware, model."""
        return [
            {
                "host": t.host,
                "ports": {s: self.ports.get(s) for s in t.firmware.ports},
                "firmware": t.firmware.value,
                "model": t.hardware.model.model,
            }
            for t in self.twins.values()
        ]

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self._servers.clear()

    # --- connections -----------------------------------------------------------------------
    def _accept(
        self, handler: Handler
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            local = writer.get_extra_info("sockname")
            twin = self.twins.get(local[0]) if local else None
            if twin is None or self._connections >= MAX_CONNECTIONS:
                self.dropped += 1
                writer.transport.abort()
                return
            now = self.clock.now()
            if not twin.is_up(now) or twin.net_fault is NetFault.REFUSE:
                writer.transport.abort()
                return
            self._connections += 1
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                if twin.net_fault is NetFault.BLACKHOLE:
                    with contextlib.suppress(TimeoutError, OSError):
                        await asyncio.wait_for(reader.read(MAX_HTTP_BYTES), BLACKHOLE_HOLD_S)
                        while await asyncio.wait_for(reader.read(4096), BLACKHOLE_HOLD_S):
                            pass
                    return
                await handler(twin, reader, writer)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # a slow, vanished or shut-down peer: drop the connection, keep serving
            finally:
                self._connections -= 1
                if task is not None:
                    self._tasks.discard(task)
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

        return on_connection

    async def _send(self, twin: Twin, writer: asyncio.StreamWriter, data: bytes) -> None:
        if twin.slow_s > 0:
            await asyncio.sleep(twin.slow_s)
        if twin.net_fault is NetFault.GARBAGE:
            data = GARBAGE
        elif twin.net_fault is NetFault.TRUNCATED:
            data = data[: max(1, len(data) // 2)]
        writer.write(data)
        await writer.drain()

    async def _serve_rpc(
        self, twin: Twin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        now = self.clock.now()
        if twin.firmware is Firmware.STOCK and twin.physics.process_start_s > now:
            return  # bmminer is restarting: nothing listens on 4028
        buf = RequestBuffer()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REQUEST_DEADLINE_S
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), max(0.01, deadline - loop.time()))
            if not chunk:
                return
            try:
                req = buf.feed(chunk)
            except FrameError:
                await self._send(twin, writer, encode_reply(_invalid_json(twin, self.clock.wall())))
                return
            if req is not None:
                break
        now, wall = self.clock.now(), self.clock.wall()
        if twin.firmware in (Firmware.WHATSMINER, Firmware.WHATSMINER_V3):
            data = handle_v2(twin, req, now, wall)
        else:
            data = handle_cgminer(twin, req, now, wall)
        await self._send(twin, writer, data)

    async def _serve_v3(self, twin: Twin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if twin.firmware is not Firmware.WHATSMINER_V3:
            return
        frames = V3FrameReader()
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), IDLE_S)
            if not chunk:
                return
            try:
                messages = frames.feed(chunk)
            except FrameError:
                return
            for msg in messages:
                await self._send(twin, writer, handle_v3(twin, msg, self.clock.now(), self.clock.wall()))

    async def _serve_web(
        self, twin: Twin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if "web" not in twin.firmware.ports:
            return
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HTTP_BYTES)
        for _ in range(MAX_HTTP_REQUESTS_PER_CONNECTION):
            request = await _read_http(conn, reader)
            if request is None:
                return
            if isinstance(request, HttpResponse):
                await self._send(twin, writer, _encode_http(conn, request))
                return
            response = handle_http(twin, request, self.clock.now(), self.clock.wall())
            await self._send(twin, writer, _encode_http(conn, response))
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return


def _invalid_json(twin: Twin, wall: float) -> dict[str, Any]:
    desc = "cgminer 4.9.2" if twin.hardware.vendor == "whatsminer" else "cgminer 1.0.0"
    status = {"STATUS": "E", "When": int(wall), "Code": 23, "Msg": "Invalid JSON", "Description": desc}
    return {"STATUS": [status], "id": 1}


async def _read_http(conn: h11.Connection, reader: asyncio.StreamReader) -> HttpRequest | HttpResponse | None:
    """The next request, a 4xx to answer for a malformed one, or None when the peer left."""
    method = path = ""
    headers: dict[str, str] = {}
    body = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IDLE_S
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint
            return HttpResponse(status, [("Content-Type", "text/html")], f"<h1>{status}</h1>".encode())
        if event is h11.NEED_DATA:
            data = await asyncio.wait_for(reader.read(8192), max(0.01, deadline - loop.time()))
            conn.receive_data(data)
            if not data and conn.their_state is h11.IDLE:
                return None
            continue
        if isinstance(event, h11.Request):
            method, path = event.method.decode("ascii", "replace"), event.target.decode("ascii", "replace")
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_HTTP_BYTES:
                return HttpResponse(413, [("Content-Type", "text/html")], b"<h1>413</h1>")
        elif isinstance(event, h11.EndOfMessage):
            return HttpRequest(method, path, headers, bytes(body))
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


def _encode_http(conn: h11.Connection, resp: HttpResponse) -> bytes:
    headers = [*resp.headers, ("Content-Length", str(len(resp.body))), ("Server", "lighttpd")]
    try:
        out = conn.send(h11.Response(status_code=resp.status, headers=headers)) or b""
        out += conn.send(h11.Data(data=resp.body)) or b""
        out += conn.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError:
        return b""
    return out
