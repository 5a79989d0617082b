"""``hashwatt twin``: serve a site of emulated miners (device twins) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import signal
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from hashwatt._aio import run as run_loop
from hashwatt.cli._output import console
from hashwatt.twin import (
    EXAMPLE_SCENARIO,
    EXAMPLE_SITE,
    Clock,
    Firmware,
    GroupSpec,
    Ports,
    SiteFileError,
    SiteServer,
    SiteSpec,
    build_twins,
    load_scenario,
    load_site,
    run_site,
)

twin_app = typer.Typer(
    help="Device twins: emulated ASIC miners that answer like real firmware.", no_args_is_help=True
)


class FirmwareChoice(enum.StrEnum):
    STOCK = "stock"
    LUXOS = "luxos"
    WHATSMINER = "whatsminer"
    WHATSMINER_V3 = "whatsminer-v3"


class ListenMode(enum.StrEnum):
    SHARED = "shared"
    PER_ADDRESS = "per-address"


@twin_app.command("serve")
def serve(
    site: Annotated[
        Path | None,
        typer.Option("--site", exists=True, dir_okay=False, readable=True, help="TOML site file."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Catalog model (as `hashwatt profit` takes).")
    ] = None,
    firmware: Annotated[FirmwareChoice, typer.Option("--firmware")] = FirmwareChoice.STOCK,
    count: Annotated[int, typer.Option("--count", min=1, max=65536)] = 1,
    address_range: Annotated[str, typer.Option("--range", help="Loopback addresses, taken in order.")] = (
        "127.0.1.1-127.0.1.254"
    ),
    ramp_seconds: Annotated[float, typer.Option("--ramp-seconds", min=0, max=3600)] = 120.0,
    reboot_seconds: Annotated[float, typer.Option("--reboot-seconds", min=0, max=3600)] = 60.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    ambient_c: Annotated[float, typer.Option("--ambient-c", min=-40, max=60)] = 25.0,
    ambient_swing_c: Annotated[
        float, typer.Option("--ambient-swing-c", min=0, max=30, help="Daily intake swing (sine amplitude).")
    ] = 0.0,
    pool: Annotated[str, typer.Option("--pool", help="Pool URL every twin is configured with.")] = (
        "stratum+tcp://127.0.0.1:3333"
    ),
    port_offset: Annotated[
        int,
        typer.Option("--port-offset", min=0, max=60000, help="Add to 80/4028/4433 (for unprivileged users)."),
    ] = 0,
    listen: Annotated[
        ListenMode, typer.Option("--listen", help="One socket per port, or per twin and port.")
    ] = (ListenMode.SHARED),
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", exists=True, dir_okay=False, readable=True, help="TOML fault script."),
    ] = None,
    control_port: Annotated[
        int | None, typer.Option("--control-port", min=0, max=65535, help="HTTP control API on 127.0.0.1.")
    ] = None,
    inventory_out: Annotated[
        Path | None, typer.Option("--inventory-out", dir_okay=False, help="Write host:port per twin as JSON.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", min=0, help="Stop after this many seconds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the inventory as JSON when ready.")] = False,
    stratum: Annotated[
        bool,
        typer.Option("--stratum", help="Connect each twin to its pool (Stratum V1, shares at a low rate)."),
    ] = False,
) -> None:
    """Serve a site from --site, or one group from --model/--firmware/--count/--range."""
    if site is not None and model is not None:
        raise SiteFileError("give either --site or --model, not both")
    if site is not None:
        spec = load_site(site)
    elif model is not None:
        try:
            group = GroupSpec(
                model=model, firmware=Firmware(firmware.value), count=count, range=address_range, pool=pool
            )
            spec = SiteSpec(
                seed=seed,
                ambient_c=ambient_c,
                ambient_swing_c=ambient_swing_c,
                ramp_seconds=ramp_seconds,
                reboot_seconds=reboot_seconds,
                group=[group],
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise SiteFileError(f"{where}: {first['msg']}" if where else first["msg"]) from exc
    else:
        raise SiteFileError("give --site FILE or --model NAME (see `hashwatt twin example`)")
    events = load_scenario(scenario) if scenario is not None else []
    clock = Clock()
    twins = build_twins(spec, now_s=clock.now())
    server = SiteServer(twins, ports=Ports.offset(port_offset), clock=clock, mode=listen.value)

    def ready(port: int | None) -> None:
        if as_json:
            print(json.dumps({"control_port": port, "twins": server.inventory()}), flush=True)
            return
        where = f"{twins[0].host}..{twins[-1].host}" if len(twins) > 1 else twins[0].host
        console.print(
            f"serving {len(twins)} twins on {escape(where)} "
            f"(rpc {server.ports.rpc}, web {server.ports.web}, v3 {server.ports.v3}, {listen.value} listeners)"
            + (f"; control API on 127.0.0.1:{port}" if port is not None else ""),
            highlight=False,
        )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # non-Unix loops
                loop.add_signal_handler(sig, stop.set)
        await run_site(
            server,
            scenario=events,
            control_port=control_port,
            inventory_out=inventory_out,
            duration_s=duration,
            stop=stop,
            on_ready=ready,
        )

    run_loop(main())


@twin_app.command("example")
def example(
    scenario: Annotated[
        bool, typer.Option("--scenario", help="Print the example scenario file instead.")
    ] = False,
) -> None:
    """Print the documented example site (or scenario) file."""
    path = EXAMPLE_SCENARIO if scenario else EXAMPLE_SITE
    typer.echo(path.read_text(encoding="utf-8"), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(twin_app, name="twin")


__all__ = ["register"]
