"""An in-process site of device twins on loopback for the fleet tests.

The twins (``hashwatt.twin``) answer on real sockets exactly as the firmware does; the fleet
code reaches them only through the network. Each test site takes its own 127.77.N.0/24 block
and offset ports, with one listener per address, so parallel test runs never collide.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from hashwatt.fleet import Endpoint
from hashwatt.fleet._control import Controller
from hashwatt.fleet._device_layer import NetworkDeviceLayer
from hashwatt.fleet._store import FleetStore
from hashwatt.twin import Clock, GroupSpec, Ports, SiteServer, SiteSpec, Twin, build_twins
from hashwatt.twin import Firmware as TwinFirmware

_BLOCKS = itertools.count((os.getpid() % 200) + 20)

#: (model, firmware) of a small mixed site: every firmware hashwatt speaks.
MIXED = (
    ("Antminer S19 Pro", "stock"),
    ("Antminer S19j Pro", "luxos"),
    ("Whatsminer M30S+", "whatsminer"),
    ("Whatsminer M60S", "whatsminer-v3"),
)


@dataclass
class Site:
    server: SiteServer
    twins: list[Twin]
    clock: Clock
    ports: Ports

    def endpoint(self, host: str) -> Endpoint:
        return Endpoint(host, api_port=self.ports.rpc, http_port=self.ports.web, v3_port=self.ports.v3)

    def twin(self, host: str) -> Twin:
        return next(t for t in self.twins if t.host == host)


@contextlib.asynccontextmanager
async def twin_site(
    groups: tuple[tuple[str, str], ...] = MIXED,
    *,
    count: int = 1,
    reboot_s: float = 1.0,
    restart_s: float = 0.3,
) -> AsyncIterator[Site]:
    """``count`` twins of each (model, firmware), ramp 0, on a fresh loopback block."""
    block = next(_BLOCKS) % 250
    specs = []
    for g, (model, firmware) in enumerate(groups):
        first = 1 + g * count
        specs.append(
            GroupSpec(
                model=model,
                firmware=TwinFirmware(firmware),
                count=count,
                range=f"127.77.{block}.{first}-127.77.{block}.{first + count - 1}",
            )
        )
    spec = SiteSpec(ramp_seconds=0, reboot_seconds=reboot_s, restart_seconds=restart_s, group=specs)
    clock = Clock()
    twins = build_twins(spec, now_s=clock.now())
    ports = Ports.offset(20000 + (os.getpid() % 5000) * 2 + block % 2)
    server = SiteServer(twins, ports=ports, clock=clock, mode="per-address")
    await server.start()
    try:
        yield Site(server, twins, clock, ports)
    finally:
        await server.close()


@contextlib.contextmanager
def twin_site_in_thread(
    groups: tuple[tuple[str, str], ...] = MIXED, *, count: int = 1
) -> Iterator[tuple[Site, asyncio.AbstractEventLoop]]:
    """:func:`twin_site` served by its own event loop in a thread, for code that runs
    ``asyncio.run`` itself (the CLI). Change twins through ``loop.call_soon_threadsafe``."""
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[Site] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def serve() -> None:
        try:
            async with twin_site(groups, count=count) as site:
                ready.set_result(site)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=30), loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


def network_layer(store: FleetStore, site: str = "north") -> NetworkDeviceLayer:
    """The agent's device layer with test-sized deadlines and quick read-back."""
    return NetworkDeviceLayer(
        store,
        site,
        deadline_s=15.0,
        timeout_s=5.0,
        controller=Controller(confirm_interval_s=0.2, confirm_timeout_s=15.0),
        step_interval_s=0.0,
    )
