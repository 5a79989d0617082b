"""The demo site (twins, agent, dashboard) served by uvicorn in a background thread, for the
browser tests: the same code path as ``hashwatt serve --demo``, on ports of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

from hashwatt.web import WebConfig, create_app
from hashwatt.web._demo import DemoSite, demo_site


@dataclass
class Live:
    url: str = ""
    passwords: dict[str, str] = field(default_factory=dict)
    site: DemoSite | None = None


@contextmanager
def live_demo(*, interval_s: float = 1.0, curtail: bool = False) -> Iterator[Live]:
    live = Live()
    ready = threading.Event()
    failure: list[BaseException] = []
    holder: dict[str, uvicorn.Server] = {}
    sock = socket.create_server(("127.0.0.1", 0))
    live.url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def main() -> None:
        block = 100 + os.getpid() % 120
        async with demo_site(
            port_offset=31000 + os.getpid() % 2000, block=block, interval_s=interval_s, curtail=curtail
        ) as site:
            live.site = site
            live.passwords = dict(site.passwords)
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(site.store, WebConfig(**site.web_options()), pool=site.pool),
                    log_level="warning",
                    timeout_graceful_shutdown=3,
                )
            )
            holder["server"] = server
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                await asyncio.sleep(0.05)
            ready.set()
            await serving

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the test below
            failure.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="live-demo", daemon=True)
    thread.start()
    if not ready.wait(120) or failure:
        raise RuntimeError(f"demo site did not start: {failure[0] if failure else 'timeout'}")
    try:
        yield live
    finally:
        holder["server"].should_exit = True
        thread.join(60)
