"""``hashwatt mine``: mine a Stratum pool (with failover), the built-in demo pool, or solo via a node.

A run that cannot mine says why and exits 1: no pool reachable in the time given, every pool
failed ``--give-up-after`` times in a row, or the search engine (its kernel, or the code that
receives its shares) raised. Pool and node messages are shown as plain text, never markup.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.live import Live
from rich.text import Text

from hashwatt.cli._coins import COIN_HELP, MinedCoin
from hashwatt.cli._output import (
    JSON_OPTION,
    MAX_COUNT,
    MAX_DURATION_S,
    CommandFailed,
    console,
    fmt_si,
    to_jsonable,
)
from hashwatt.errors import HashwattError, InputError
from hashwatt.miner.client import ClientStats, MiningClient, PoolUrl
from hashwatt.miner.demo import MAX_DEMO_BLOCK_HASHES
from hashwatt.miner.engine import MAX_THREADS

if TYPE_CHECKING:
    from hashwatt.miner.engine import SearchEngine
    from hashwatt.node import RpcClient
    from hashwatt.work import BlockResult

#: Client events worth a line on a terminal (the status line shows the rest).
_LOGGED_EVENTS = ("connect_failed", "disconnected", "reconnect", "gave_up")


def _event_line(kind: str, data: dict[str, Any]) -> Text:
    """``kind key=value ...`` as plain text: pool and node strings may hold brackets."""
    text = Text(kind, style="bold")
    for key, value in data.items():
        if key not in ("event", "time_unix_s"):
            text.append(f" {key}={value}")
    return text


def _block_line(result: BlockResult) -> Text:
    colour = "green" if result.accepted else "red"
    chain = f"{result.chain} " if result.chain else ""
    text = Text(f"{chain}block {'found' if result.accepted else 'rejected'}", style=f"bold {colour}")
    text.append(f" height {result.height} {result.block_hash_hex}: {result.message}")
    return text


def _engine_failure(engine: SearchEngine) -> str | None:
    """One line for the errors the engine's workers or its share callback raised, if any."""
    errors = engine.errors
    if not errors:
        return None
    first = errors[0]
    more = f" ({engine.error_count} errors in all)" if engine.error_count > 1 else ""
    return f"the search engine failed on {engine.backend}: {type(first).__name__}: {first}{more}"


def _pool_url(text: str) -> PoolUrl:
    """Parse ``-o``; a URL the standard library cannot split is bad input too, not a traceback."""
    try:
        return PoolUrl.parse(text)
    except ValueError as exc:
        raise InputError(
            f"bad pool URL {text!r}: {exc}",
            field="-o",
            value=exc.value if isinstance(exc, InputError) else None,
        ) from exc


def _status_line(stats: ClientStats, engine: Any, blocks: list[Any]) -> Text:
    es = engine.stats
    text = Text()
    text.append("● " if stats.connected else "○ ", style="green" if stats.connected else "red")
    text.append(f"{stats.pool or '-'}  ")
    text.append(
        f"{fmt_si(es.hashrate_hs_5s, 'H/s')} (5s) {fmt_si(es.hashrate_hs_60s, 'H/s')} (60s)  ", style="cyan"
    )
    text.append(f"diff {stats.difficulty:.6g}  ")
    text.append(f"A {stats.accepted} ", style="green")
    text.append(f"R {stats.rejected} ", style="red")
    text.append(f"S {stats.stale_discarded}  ", style="yellow")
    text.append(f"blocks {sum(1 for b in blocks if b.accepted)}  [{es.backend} x{es.threads}]")
    if stats.last_message:
        text.append(f"  pool says: {stats.last_message}", style="magenta")
    return text


async def _mine(
    *,
    pools: list[PoolUrl],
    user: str,
    password: str,
    backend: str,
    threads: int | None,
    demo: bool,
    demo_block_hashes: float | None,
    max_blocks: int | None,
    duration_s: float | None,
    give_up_after: int,
    json_output: bool,
    coin: MinedCoin = MinedCoin.BTC,
) -> dict[str, Any]:
    from hashwatt.miner.engine import SearchEngine

    params = coin.params
    engine = SearchEngine(backend=backend, threads=threads, pow_algorithm=params.pow_algorithm)
    blocks: list[Any] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def emit(kind: str, data: dict[str, Any]) -> None:
        if json_output:
            print(json.dumps(to_jsonable(data)), flush=True)
        elif kind in _LOGGED_EVENTS:
            console.print(_event_line(kind, data))

    server = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if demo:
        from hashwatt.miner.demo_pool import start_demo_pool
        from hashwatt.stratum import ShareLog, sqlite_url

        tmp = tempfile.TemporaryDirectory(prefix="hashwatt-demo-")

        def on_block(result: BlockResult) -> None:
            blocks.append(result)
            emit("block", {"event": "block", **to_jsonable(result)})
            if not json_output:
                console.print(_block_line(result))
            if max_blocks is not None and sum(1 for b in blocks if b.accepted) >= max_blocks:
                loop.call_later(0.5, stop.set)  # let the share's answer reach the client first

        server = await start_demo_pool(
            ShareLog(sqlite_url(Path(tmp.name) / "shares.db")),
            block_expected_hashes=demo_block_hashes,
            on_block=on_block,
            coin=params,
        )
        pools = [PoolUrl("127.0.0.1", server.port)]
        if not json_output:
            chain = (
                "Litecoin demo chain merge-mining a Dogecoin demo chain"
                if coin is MinedCoin.LTC
                else "demo chain from testnet3 block 924,634"
            )
            console.print(f"demo pool on {pools[0]} ({chain})")
    client = MiningClient(
        pools,
        user=user,
        password=password,
        engine=engine,
        on_event=emit,
        max_failed_rounds=give_up_after or None,
        coin=params,
    )
    task = asyncio.create_task(client.run())
    started = time.monotonic()
    try:
        deadline = None if duration_s is None else loop.time() + duration_s

        async def wait_done() -> None:
            while (
                not stop.is_set()
                and not task.done()
                and not engine.error_count
                and (deadline is None or loop.time() < deadline)
            ):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.25)
                if live is not None:
                    live.update(_status_line(client.stats, engine, blocks))

        live: Live | None = None
        if json_output:
            await wait_done()
        else:
            with Live(
                _status_line(client.stats, engine, blocks), console=console, refresh_per_second=4
            ) as live:
                await wait_done()
    finally:
        client.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 5.0)
        if server is not None:
            await server.close()
            server.share_log.close()
        if tmp is not None:
            tmp.cleanup()
    if task.done() and not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        if isinstance(exc, HashwattError):
            raise exc
        raise CommandFailed(f"the mining client failed: {type(exc).__name__}: {exc}") from exc
    failure = _engine_failure(engine)
    if failure is None and client.stats.gave_up:
        failure = (
            f"no pool reachable: every pool failed {give_up_after} times in a row "
            f"(last: {client.stats.last_error})"
        )
    elif failure is None and not demo and client.stats.connects == 0:
        failure = f"no pool reachable in {duration_s:g} s (last: {client.stats.last_error or 'no answer'})"
    es = engine.stats
    summary = {
        "event": "summary",
        "elapsed_s": round(time.monotonic() - started, 3),
        "pool": client.stats.pool,
        "accepted": client.stats.accepted,
        "rejected": client.stats.rejected,
        "stale_discarded": client.stats.stale_discarded,
        "hashes_done": es.hashes_done,
        "hashrate_hs_60s": es.hashrate_hs_60s,
        "backend": es.backend,
        "threads": es.threads,
        "blocks_found": sum(1 for b in blocks if b.accepted),
        "coin": params.ticker,
        "error": failure,
    }
    if json_output:
        print(json.dumps(summary), flush=True)
    else:
        if not console.is_terminal:
            console.print()
        console.print(
            f"done: {summary['accepted']} accepted, {summary['rejected']} rejected, "
            f"{summary['stale_discarded']} stale, {summary['blocks_found']} blocks, "
            f"{fmt_si(float(es.hashes_done), 'H')} hashed on {es.backend} x{es.threads}",
            markup=False,
            highlight=False,
        )
    if failure is not None:
        raise CommandFailed(failure)
    return summary


def mine(
    url: Annotated[
        list[str] | None,
        typer.Option("-o", "--url", help="Pool stratum+tcp://HOST:PORT (repeat for failover)."),
    ] = None,
    user: Annotated[
        str, typer.Option("-u", "--user", help="Pool username (often ADDRESS.WORKER).")
    ] = "hashwatt",
    password: Annotated[str, typer.Option("-p", "--pass", help="Pool password.")] = "x",
    backend: Annotated[
        str,
        typer.Option(
            help="Hash backend: auto, cpu, gpu, cpu-portable, python (--coin ltc: auto or a scrypt backend)."
        ),
    ] = "auto",
    coin: Annotated[MinedCoin, typer.Option("--coin", help=COIN_HELP, case_sensitive=False)] = MinedCoin.BTC,
    threads: Annotated[
        int | None, typer.Option(help="Worker threads (default: one per core).", min=1, max=MAX_THREADS)
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Start a demo pool on loopback and mine it.")] = False,
    node: Annotated[
        str | None, typer.Option(help="Solo: Bitcoin Core RPC URL http://USER:PASS@HOST:PORT.")
    ] = None,
    address: Annotated[str | None, typer.Option(help="Solo: payout address for the coinbase.")] = None,
    blocks: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many found blocks (demo/solo; demo default 3).", min=1, max=MAX_COUNT
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds.", min=0.0, max=MAX_DURATION_S)
    ] = None,
    demo_block_hashes: Annotated[
        float | None,
        typer.Option(
            help="Demo: expected hashes per block (default 2**26, ltc 2**14).",
            min=1.0,
            max=MAX_DEMO_BLOCK_HASHES,
        ),
    ] = None,
    give_up_after: Annotated[
        int,
        typer.Option(
            help="Pools: stop (exit 1) once every pool failed this many times in a row; 0 = never.",
            min=0,
            max=MAX_COUNT,
        ),
    ] = 5,
    json_output: JSON_OPTION = False,
) -> None:
    """Mine with the hashwatt search engine: Stratum pools, the demo pool, or solo via getblocktemplate.

    ``--coin ltc`` mines scrypt: against any scrypt Stratum pool, or with ``--demo`` against a
    hashwatt pool whose Litecoin jobs merge-mine Dogecoin.
    """
    modes = [bool(url), demo, node is not None]
    if sum(modes) != 1:
        raise InputError("choose one: -o stratum+tcp://HOST:PORT (repeatable), --demo, or --node URL")
    if node is not None and coin is not MinedCoin.BTC:
        raise InputError("solo mining (--node) is Bitcoin only; mine --coin ltc through a pool or --demo")
    if node is not None:
        if not address:
            raise InputError("solo mining (--node) needs --address")
        from hashwatt.node import RpcClient

        asyncio.run(
            _mine_solo(
                RpcClient(node),
                address,
                backend=backend,
                threads=threads,
                max_blocks=blocks,
                duration_s=duration,
                json_output=json_output,
            )
        )
        return
    pools = [_pool_url(u) for u in url or []]
    asyncio.run(
        _mine(
            pools=pools,
            user=user,
            password=password,
            backend=backend,
            threads=threads,
            demo=demo,
            demo_block_hashes=demo_block_hashes,
            max_blocks=blocks if blocks is not None else (3 if demo else None),
            duration_s=duration,
            give_up_after=give_up_after,
            json_output=json_output,
            coin=coin,
        )
    )


async def _mine_solo(
    rpc: RpcClient,
    address: str,
    *,
    backend: str,
    threads: int | None,
    max_blocks: int | None,
    duration_s: float | None,
    json_output: bool,
) -> list[BlockResult]:
    """``hashwatt mine --node``: the solo miner, its events printed as they come."""
    from hashwatt.chain import address_to_script
    from hashwatt.miner.engine import SearchEngine
    from hashwatt.miner.solo import SoloMiner

    script = address_to_script(address)

    def show(kind: str, data: dict[str, Any]) -> None:
        if json_output:
            print(json.dumps(to_jsonable(data)), flush=True)
        else:
            console.print(_event_line(kind, data))

    engine = SearchEngine(backend=backend, threads=threads)
    miner = SoloMiner(rpc, script, engine, on_event=show)
    task = asyncio.create_task(miner.run(max_blocks=max_blocks, duration_s=duration_s))
    with contextlib.suppress(KeyboardInterrupt):
        while not task.done():
            await asyncio.wait({task}, timeout=0.25)
            if engine.error_count:  # a failing kernel ends the run; it is reported below
                miner.stop()
        task.result()
    failure = _engine_failure(engine)
    if failure is not None:
        raise CommandFailed(failure)
    return miner.results


def register(app: typer.Typer) -> None:
    app.command("mine")(mine)
