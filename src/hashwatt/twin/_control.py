"""The site runner: the server, a scenario clock and a small HTTP control API on loopback.

Control API (JSON over HTTP, loopback only, no auth: it can do nothing a local shell cannot):

- ``GET /twins``: every twin's state (address, firmware, mode, hashrate, power, temperature).
- ``POST /fault`` ``{"hosts": "127.0.1.1-127.0.1.5", "fault": "fan", "value": 1}``.
- ``POST /clock`` ``{"jump_s": 600}``: move site time forward (ramps, thermal lag, counters).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import h11
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hashwatt.twin._server import SiteServer, _encode_http, _read_http
from hashwatt.twin._site import Fault, ScenarioEvent, apply_fault, due_events, expand_range
from hashwatt.twin._stratum import StratumLink
from hashwatt.twin._twin import Twin
from hashwatt.twin._web import HttpRequest, HttpResponse
from hashwatt.twin.errors import SiteFileError, TwinError

__all__ = ["ControlApi", "run_site", "twin_state"]

SCENARIO_TICK_S = 0.25


def twin_state(twin: Twin, now_s: float) -> dict[str, Any]:
    """A twin as the control API and ``--json`` report it."""
    twin.advance(now_s)
    p = twin.physics
    return {
        "host": twin.host,
        "model": twin.hardware.model.model,
        "firmware": twin.firmware.value,
        "up": twin.is_up(now_s),
        "mode": p.mode.value,
        "stop": p.stop.value,
        "hashrate_ths": round(p.hashrate_ths, 3),
        "power_w": round(p.power_w, 1),
        "chip_temp_c": round(p.chip_c, 1),
        "fan_rpm": p.fan_rpms(),
        "accepted": p.accepted,
        "net_fault": twin.net_fault.value,
    }


class _FaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hosts: str
    fault: Fault
    value: str | float | int | None = None


class _ClockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    jump_s: float = Field(ge=0, le=86400 * 365)


def _json(obj: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(obj).encode())


class ControlApi:
    """Sans-IO handler of the control API."""

    def __init__(self, server: SiteServer) -> None:
        self.server = server

    def handle(self, req: HttpRequest) -> HttpResponse:
        clock = self.server.clock
        if req.method == "GET" and req.path == "/twins":
            return _json([twin_state(t, clock.now()) for t in self.server.twins.values()])
        if req.method == "POST" and req.path in ("/fault", "/clock"):
            try:
                body = json.loads(req.body or b"{}")
                if req.path == "/clock":
                    clock.jump(_ClockBody.model_validate(body).jump_s)
                    return _json({"now_s": clock.now()})
                fault = _FaultBody.model_validate(body)
                hosts = expand_range(fault.hosts)
                twins = [self.server.twins[h] for h in hosts if h in self.server.twins]
                if not twins:
                    return _json({"error": f"no twin in {fault.hosts}"}, 404)
                for twin in twins:
                    apply_fault(twin, fault.fault, fault.value, clock.now())
                return _json({"applied": len(twins)})
            except (ValueError, ValidationError, SiteFileError) as exc:
                first = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                return _json({"error": first}, 400)
        return _json({"error": "not found"}, 404)

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            request = await _read_http(conn, reader)
            if request is not None:
                resp = request if isinstance(request, HttpResponse) else self.handle(request)
                writer.write(_encode_http(conn, resp))
                await writer.drain()
        except (TimeoutError, OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def run_site(
    server: SiteServer,
    *,
    scenario: Sequence[ScenarioEvent] = (),
    control_port: int | None = None,
    inventory_out: Path | None = None,
    duration_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int | None], None] | None = None,
    share_interval_s: float = 10.0,
) -> None:
    """Serve until ``stop`` is set or ``duration_s`` passes, applying scenario events on time."""
    stop = stop or asyncio.Event()
    await server.start()
    control: asyncio.Server | None = None
    links = [
        StratumLink(t, server.clock.now, share_interval_s=share_interval_s)
        for t in server.twins.values()
        if t.stratum
    ]
    link_tasks = [asyncio.create_task(link.run(stop)) for link in links]
    try:
        bound_port: int | None = None
        if control_port is not None:
            api = ControlApi(server)
            try:
                control = await asyncio.start_server(api.serve_connection, "127.0.0.1", control_port)
            except OSError as exc:
                raise TwinError(
                    f"cannot listen on 127.0.0.1:{control_port} for the control API: {exc.strerror}"
                ) from exc
            bound_port = control.sockets[0].getsockname()[1]
        if inventory_out is not None:
            try:
                inventory_out.write_text(json.dumps({"twins": server.inventory()}, indent=1))
            except OSError as exc:
                raise TwinError(f"cannot write the inventory to {inventory_out}: {exc.strerror}") from exc
        if on_ready is not None:
            on_ready(bound_port)
        events = list(scenario)
        done = 0
        loop = asyncio.get_running_loop()
        end = None if duration_s is None else loop.time() + duration_s
        while not stop.is_set():
            now = server.clock.now()
            for event in due_events(events, done, now):
                done += 1
                for host in expand_range(event.hosts):
                    twin = server.twins.get(host)
                    if twin is not None:
                        apply_fault(twin, event.fault, event.value, now)
            if end is not None and loop.time() >= end:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SCENARIO_TICK_S)
    finally:
        stop.set()
        await asyncio.gather(*link_tasks, return_exceptions=True)
        if control is not None:
            control.close()
        await server.close()
