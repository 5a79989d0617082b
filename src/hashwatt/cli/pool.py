"""``hashwatt pool serve``: a Stratum V1 pool endpoint (demo chain, Bitcoin Core, or proxy)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from hashwatt.cli._coins import COIN_HELP, MinedCoin
from hashwatt.cli._output import JSON_OPTION, MAX_DURATION_S, console, fmt_si, to_jsonable
from hashwatt.errors import InputError
from hashwatt.miner.demo import DEMO_BLOCK_EXPECTED_HASHES, DEMO_SHARE_DIFFICULTY, MAX_DEMO_BLOCK_HASHES
from hashwatt.miner.merged import (
    LTC_DEMO,
    MERGED_DEMO_BLOCK_EXPECTED_HASHES,
    MERGED_DEMO_SHARE_DIFFICULTY,
)
from hashwatt.stratum import (
    MAX_SHARE_DIFFICULTY,
    PoolConfig,
    PoolServer,
    ShareLog,
    redact_url,
    share_rules,
    sqlite_url,
)
from hashwatt.work import BlockResult

#: Difficulty floor when none is given (ckpool's default): 2**32 hashes per share at least.
DEFAULT_MIN_DIFFICULTY = 1.0
#: Longest vardiff share interval and proxy rebalance period: one day [s].
MAX_INTERVAL_S = 86_400.0

pool_app = typer.Typer(help="Run a Stratum V1 pool server or farm proxy.", no_args_is_help=True)


def share_log_url(value: str) -> str:
    """A SQLAlchemy URL as given, or a file path turned into a SQLite URL."""
    return value if "://" in value else sqlite_url(Path(value).expanduser())


def _without_password(database_url: str) -> str:
    """The share-log URL for display (the one redaction rule: :func:`hashwatt.stratum.redact_url`)."""
    return redact_url(database_url)


def _finite_positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a finite positive number, got {value!r}", field=name, value=value)
    return value


def _stats_table(server: PoolServer, started: float, label: str) -> Table:
    stats = server.stats()
    table = Table(title=f"hashwatt pool: {label}", title_justify="left")
    for col in ("connections", "accepted", "rejected", "hashrate 60 s", "blocks", "up"):
        table.add_column(col)
    table.add_row(
        str(stats.connections),
        str(stats.accepted),
        str(stats.rejected),
        fmt_si(stats.hashrate_hs, "H/s"),
        f"{sum(b.accepted for b in stats.blocks)}/{len(stats.blocks)}",
        f"{time.monotonic() - started:,.0f} s",
    )
    for row in stats.workers:
        table.add_row(
            f"  {escape(row.worker)}",
            str(row.accepted),
            str(row.rejected),
            fmt_si(row.hashrate_hs, "H/s"),
            "",
            escape(row.user),
        )
    if stats.workers_total > len(stats.workers):
        table.add_row(f"  ... {stats.workers_total - len(stats.workers)} more workers", "", "", "", "", "")
    return table


def _stats_json(server: PoolServer) -> dict[str, Any]:
    stats = server.stats()
    return {
        "event": "stats",
        "time_unix_s": round(time.time(), 3),
        "connections": stats.connections,
        "accepted": stats.accepted,
        "rejected": stats.rejected,
        "rejected_by_code": stats.rejected_by_code,
        "hashrate_hs": stats.hashrate_hs,
        "blocks_found": len(stats.blocks),
        "workers_total": stats.workers_total,
        # The busiest workers only: one line per worker would grow with what clients choose.
        "top_workers": [row._asdict() for row in stats.workers],
    }


def _emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(to_jsonable(obj)), flush=True)


async def _serve(
    *,
    host: str,
    port: int,
    source_kind: str,
    source_args: dict[str, Any],
    log_url: str,
    config: PoolConfig,
    duration_s: float | None,
    json_output: bool,
) -> None:
    share_log = ShareLog(log_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def on_block(result: BlockResult) -> None:
        if json_output:
            _emit_json({"event": "block", **to_jsonable(result)})
        else:
            colour = "green" if result.accepted else "red"
            chain = f"{escape(result.chain)} " if result.chain else ""
            console.print(
                f"[bold {colour}]{chain}block candidate[/] {result.block_hash_hex} height {result.height}: "
                f"{escape(result.message)}"
            )

    if source_kind == "demo" and config.coin.ticker == "LTC":
        from hashwatt.miner.merged import MergedDemoJobSource

        source: Any = MergedDemoJobSource(
            block_expected_hashes=float(source_args["block_hashes"]),
            aux_block_expected_hashes=source_args["aux_block_hashes"],
            extranonce2_size=config.extranonce2_size,
        )
    elif source_kind == "demo":
        from hashwatt.miner.demo import DemoJobSource

        source = DemoJobSource(
            block_expected_hashes=float(source_args["block_hashes"]),
            extranonce2_size=config.extranonce2_size,
        )
    elif source_kind == "node":
        from hashwatt.node import GbtJobSource

        source = GbtJobSource(
            source_args["rpc"],
            payout=str(source_args["address"]),
            extranonce1_size=config.extranonce1_size,
            extranonce2_size=config.extranonce2_size,
            longpoll=bool(source_args.get("longpoll", True)),
        )
    else:
        from hashwatt.stratum import UpstreamSource

        source = UpstreamSource(
            source_args["upstreams"],
            user=str(source_args["user"]),
            password=str(source_args["password"]),
            rebalance_interval_s=float(source_args.get("rebalance_interval_s", 30.0)),
            rules=share_rules(config.coin),
        )
    server = PoolServer(
        source, share_log, config, on_block=on_block, share_sink=getattr(source, "sink", None)
    )
    await server.start(host, port)
    started = time.monotonic()
    shown_log = share_log.shown_url
    coin = config.coin.ticker
    label = f"{coin} {source_kind} on {host}:{server.port}, shares -> {shown_log}"
    if json_output:
        _emit_json(
            {"event": "listening", "host": host, "port": server.port, "source": source_kind, "coin": coin}
        )
    else:
        merged = " merge-mining DOGE" if source_kind == "demo" and coin == "LTC" else ""
        console.print(
            f"listening on stratum+tcp://{host}:{server.port} ({coin} {source_kind}{merged}); "
            f"shares -> {shown_log}"
        )
    try:
        deadline = None if duration_s is None else loop.time() + duration_s
        if json_output:
            while not stop.is_set() and (deadline is None or loop.time() < deadline):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        stop.wait(), 5.0 if deadline is None else min(5.0, max(deadline - loop.time(), 0.01))
                    )
                _emit_json(_stats_json(server))
        else:
            with Live(_stats_table(server, started, label), console=console, refresh_per_second=2) as live:
                while not stop.is_set() and (deadline is None or loop.time() < deadline):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.5)
                    live.update(_stats_table(server, started, label))
    finally:
        await server.close()
        share_log.close()


@pool_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).", min=0, max=65535)] = 3333,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Serve the built-in demo chain (easy target; with --coin ltc, Litecoin jobs that "
            "merge-mine a Dogecoin demo chain).",
        ),
    ] = False,
    coin: Annotated[MinedCoin, typer.Option("--coin", help=COIN_HELP, case_sensitive=False)] = MinedCoin.BTC,
    node: Annotated[
        str | None, typer.Option(help="Bitcoin Core RPC URL http://USER:PASS@HOST:PORT (getblocktemplate).")
    ] = None,
    address: Annotated[str | None, typer.Option(help="Payout address for --node mode.")] = None,
    upstream: Annotated[
        list[str] | None, typer.Option(help="Proxy mode: upstream pool URL[#weight] (repeat for failover).")
    ] = None,
    upstream_user: Annotated[str, typer.Option(help="Username for the upstream pools.")] = "hashwatt",
    upstream_password: Annotated[str, typer.Option(help="Password for the upstream pools.")] = "x",
    rebalance_interval: Annotated[
        float,
        typer.Option(
            help="Proxy: seconds between moves of connected miners toward the weights (0 = off).",
            min=0.0,
            max=MAX_INTERVAL_S,
        ),
    ] = 30.0,
    longpoll: Annotated[
        bool, typer.Option(help="--node: keep a BIP 22 getblocktemplate longpoll open (polling stays on).")
    ] = True,
    share_log: Annotated[
        str, typer.Option(help="Share log: SQLite file path or SQLAlchemy URL (postgresql+psycopg://...).")
    ] = "hashwatt-shares.db",
    difficulty: Annotated[
        float | None,
        typer.Option(help="Starting share difficulty (default: the floor, or 1).", max=MAX_SHARE_DIFFICULTY),
    ] = None,
    min_difficulty: Annotated[
        float | None,
        typer.Option(
            help="Difficulty floor: vardiff and mining.suggest_difficulty never go below it "
            "(default 1; --demo: the demo's own difficulty).",
            max=MAX_SHARE_DIFFICULTY,
        ),
    ] = None,
    share_interval: Annotated[
        float, typer.Option(help="Vardiff target seconds per share.", min=0.1, max=MAX_INTERVAL_S)
    ] = 10.0,
    demo_block_hashes: Annotated[
        float | None,
        typer.Option(
            help="Demo: expected hashes per block (sets the demo target; default 2**26, ltc 2**14).",
            min=1.0,
            max=MAX_DEMO_BLOCK_HASHES,
        ),
    ] = None,
    demo_aux_block_hashes: Annotated[
        float | None,
        typer.Option(
            help="Demo --coin ltc: expected hashes per merged Dogecoin block (default a quarter of "
            "--demo-block-hashes).",
            min=1.0,
            max=MAX_DEMO_BLOCK_HASHES,
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds.", min=0.0, max=MAX_DURATION_S)
    ] = None,
    json_output: JSON_OPTION = False,
) -> None:
    """Serve Stratum V1 to miners; every accepted share is committed to the share log first.

    --coin ltc serves scrypt work (difficulty as Scrypt miners count it); with --demo its
    Litecoin jobs merge-mine a Dogecoin demo chain, and both chains' blocks are validated.
    """
    for name, value in (("--difficulty", difficulty), ("--min-difficulty", min_difficulty)):
        if value is not None:
            _finite_positive(name, value)
    _finite_positive("--share-interval", share_interval)
    scrypt = coin is MinedCoin.LTC
    if demo_block_hashes is None:
        demo_block_hashes = MERGED_DEMO_BLOCK_EXPECTED_HASHES if scrypt else DEMO_BLOCK_EXPECTED_HASHES
    _finite_positive("--demo-block-hashes", demo_block_hashes)
    if demo_aux_block_hashes is not None:
        _finite_positive("--demo-aux-block-hashes", demo_aux_block_hashes)
        if not (demo and scrypt):
            raise InputError("--demo-aux-block-hashes needs --demo --coin ltc (merged mining)")
    if duration is not None and not math.isfinite(duration):
        raise InputError(
            f"--duration must be a finite number of seconds, got {duration!r}",
            field="--duration",
            value=duration,
        )
    modes = [demo, node is not None, bool(upstream)]
    if sum(modes) != 1:
        raise InputError("choose exactly one job source: --demo, --node URL or --upstream URL")
    if node is not None and not address:
        raise InputError("--node needs --address for the coinbase payout")
    if node is not None and scrypt:
        raise InputError(
            "--coin ltc serves --demo or --upstream (a Litecoin node's templates are not wired yet)"
        )
    args: dict[str, Any]
    if demo:
        kind, args = "demo", {"block_hashes": demo_block_hashes, "aux_block_hashes": demo_aux_block_hashes}
        demo_floor = MERGED_DEMO_SHARE_DIFFICULTY if scrypt else DEMO_SHARE_DIFFICULTY
        floor = min_difficulty if min_difficulty is not None else demo_floor
    elif node is not None:
        from hashwatt.node import RpcClient

        # The URL is parsed here, before the share log is opened: a bad one is one line.
        kind, args = "node", {"rpc": RpcClient(node), "address": address, "longpoll": longpoll}
        floor = min_difficulty if min_difficulty is not None else DEFAULT_MIN_DIFFICULTY
    else:
        kind = "proxy"
        args = {
            "upstreams": upstream,
            "user": upstream_user,
            "password": upstream_password,
            "rebalance_interval_s": rebalance_interval,
        }
        floor = min_difficulty if min_difficulty is not None else DEFAULT_MIN_DIFFICULTY
    start_difficulty = difficulty if difficulty is not None else (floor if demo else max(floor, 1.0))
    if start_difficulty < floor:
        raise InputError(
            f"--difficulty {start_difficulty:g} is below the difficulty floor {floor:g} "
            "(lower it with --min-difficulty)",
            field="--difficulty",
            value=start_difficulty,
        )
    config = PoolConfig(
        start_difficulty=start_difficulty,
        min_difficulty=floor,
        target_share_interval_s=share_interval,
        retarget_interval_s=max(30.0, 6 * share_interval),
        coin=(LTC_DEMO if demo else coin.params) if scrypt else coin.params,
    )
    asyncio.run(
        _serve(
            host=host,
            port=port,
            source_kind=kind,
            source_args=args,
            log_url=share_log_url(share_log),
            config=config,
            duration_s=duration,
            json_output=json_output,
        )
    )


def register(app: typer.Typer) -> None:
    app.add_typer(pool_app, name="pool")
