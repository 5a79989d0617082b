"""``hashwatt serve``: the web dashboard over the fleet database (``--demo``: a whole demo site).

Binds 127.0.0.1 unless told otherwise; ``--tls-cert``/``--tls-key`` serve HTTPS and mark
the session cookie Secure. There is no default user: create the first admin with
``hashwatt users add NAME --role admin``. ``--demo`` prints one line per demo user.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hashwatt.cli._output import console
from hashwatt.cli.fleet import DB_OPTION
from hashwatt.errors import HashwattError

if TYPE_CHECKING:
    from hashwatt.web import PoolGroup


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8080,
    demo: Annotated[bool, typer.Option("--demo", help="Temporary database, twin site, demo users.")] = False,
    port_offset: Annotated[
        int,
        typer.Option(
            "--twin-port-offset", min=1024, max=60000, help="Demo twins' port offset (4028+N, 80+N)."
        ),
    ] = 20000,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", exists=True, dir_okay=False)] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", exists=True, dir_okay=False)] = None,
    db: DB_OPTION = None,
    share_log: Annotated[
        str | None,
        typer.Option(
            "--share-log",
            help="Database URL of a running hashwatt pool's share log, for the Pool page.",
        ),
    ] = None,
    pool_groups: Annotated[
        Path | None,
        typer.Option(
            "--pool-groups",
            help="TOML file of [[group]] tables (name, url, user) the devices page's pool action offers.",
        ),
    ] = None,
) -> None:
    """Serve the web dashboard (Ctrl-C stops it cleanly)."""
    if (tls_cert is None) != (tls_key is None):
        raise HashwattError("--tls-cert and --tls-key go together")
    if share_log is not None and demo:
        raise HashwattError("--share-log is for a pool of your own; --demo runs its pool")
    if pool_groups is not None and demo:
        raise HashwattError("--pool-groups is for a site of your own; --demo has its pool groups")
    from hashwatt.web import load_pool_groups

    groups = load_pool_groups(pool_groups) if pool_groups is not None else ()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("hashwatt.web").setLevel(logging.INFO)
    asyncio.run(_serve(host, port, demo, port_offset, tls_cert, tls_key, db, share_log, groups))


async def _serve(
    host: str,
    port: int,
    demo: bool,
    port_offset: int,
    cert: Path | None,
    key: Path | None,
    db: str | None,
    share_log_url: str | None = None,
    pool_groups: tuple[PoolGroup, ...] = (),
) -> None:
    import socket

    import uvicorn

    from hashwatt.fleet._config import database_url
    from hashwatt.fleet._store import FleetStore
    from hashwatt.web import WebConfig, create_app
    from hashwatt.web._demo import demo_site
    from hashwatt.web._pool import PoolView

    scheme = "https" if cert else "http"
    try:
        sock = socket.create_server((host, port))
    except OSError as exc:
        raise HashwattError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_port = sock.getsockname()[1]

    async def run_server(
        store: FleetStore,
        note: str | None,
        pool: PoolView | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        web_config = WebConfig(secure_cookies=cert is not None, demo_note=note, **(options or {}))
        app = create_app(store, web_config, pool=pool)
        config = uvicorn.Config(
            app,
            log_level="warning",
            ssl_certfile=str(cert) if cert else None,
            ssl_keyfile=str(key) if key else None,
            limit_concurrency=200,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=3,  # open event streams end here instead of holding Ctrl-C
            h11_max_incomplete_event_size=16 * 1024,
        )
        server = _quiet_server_class()(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        console.print(f"hashwatt dashboard: {scheme}://{host}:{bound_port}/", highlight=False)
        try:
            await server.serve(sockets=[sock])
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    if not demo:
        from hashwatt.stratum import ShareLog

        shares = ShareLog(share_log_url) if share_log_url else None
        store = FleetStore.open(database_url(db))
        try:
            view = None if shares is None else PoolView(shares.engine, shares.shown_url)
            await run_server(store, None, view, {"pool_groups": pool_groups} if pool_groups else None)
        finally:
            store.close()
            if shares is not None:
                shares.close()
        return
    async with demo_site(port_offset=port_offset) as site:
        for name in ("admin", "operator", "viewer"):
            console.print(f"user: {name} password: {site.passwords[name]} role: {name}", highlight=False)
        if site.pool is not None:
            console.print(f"pool: {site.pool.url} (the twins mine on it)", highlight=False)
        await run_server(
            site.store,
            "Demo site: the user lines were printed where hashwatt serve --demo started.",
            site.pool,
        )
    console.print("stopped", highlight=False)


def _quiet_server_class() -> Any:
    import uvicorn

    class QuietServer(uvicorn.Server):
        """uvicorn without its own signal handling: Ctrl-C and SIGTERM stop the server, and the
        demo site around it (agent, twins, temporary database) then shuts down in order."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        def stop(self) -> None:
            self.should_exit = True

    return QuietServer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


__all__ = ["register", "serve"]
