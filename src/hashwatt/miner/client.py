"""The Stratum mining client loop: pools in, jobs to the search engine, shares back out.

Failover walks the ``-o`` pools in order with exponential backoff; ``client.reconnect`` is
honoured. With ``max_failed_rounds`` the client gives up once every pool has failed that many
times in a row (``stats.gave_up``), so that the caller can report an exhausted failover list. Shares found while disconnected (or unanswered when the link dropped) are kept and,
after reconnecting, resubmitted if their job is still live on the new session, else counted
as stale and discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hashwatt.chain import BTC, ChainParams
from hashwatt.miner.errors import MinerInputError
from hashwatt.stratum import PoolUrl, StratumError, share_rules
from hashwatt.stratum._session import (
    Authorized,
    ClientSession,
    DifficultyChanged,
    Event,
    NewJob,
    ReconnectRequested,
    ServerMessage,
    ShareResult,
    Subscribed,
)
from hashwatt.work import Job, Solution, solution_hash

__all__ = ["ClientStats", "MiningClient", "PoolUrl", "Searcher"]


class Searcher(Protocol):
    """What the client needs from :class:`hashwatt.miner.engine.SearchEngine`."""

    def set_job(self, job: Job) -> None: ...

    def start(self, on_solution: Callable[[Solution], None]) -> None: ...

    def stop(self, timeout_s: float = 1.0) -> None: ...


@dataclass(slots=True)
class ClientStats:
    """Counters the status line shows (mutable: the client updates them as it runs)."""

    pool: str | None = None
    connected: bool = False
    difficulty: float = 0.0
    accepted: int = 0
    rejected: int = 0
    stale_discarded: int = 0
    resubmitted: int = 0
    duplicates_suppressed: int = 0
    block_candidates: int = 0
    connects: int = 0
    jobs: int = 0
    last_message: str = ""
    last_error: str = ""
    gave_up: bool = False
    rejected_by_code: dict[int, int] = field(default_factory=dict)


class MiningClient:
    """Mine ``pools`` (in failover order) with ``engine`` as ``user``/``password``.

    ``coin`` sets the share hash and the meaning of the pool's difficulty (scrypt pools count
    difficulty 65,536 x easier: :func:`hashwatt.stratum.share_rules`); the engine must hash
    the same algorithm.
    """

    def __init__(
        self,
        pools: list[PoolUrl],
        *,
        user: str,
        password: str = "x",
        engine: Searcher,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        version_rolling: bool = True,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        idle_timeout_s: float = 300.0,
        max_failed_rounds: int | None = None,
        coin: ChainParams = BTC,
    ) -> None:
        if not pools:
            raise MinerInputError("at least one pool URL is needed")
        self.rules = share_rules(coin)
        self.pools = pools
        self.user = user
        self.password = password
        self.engine = engine
        self.on_event = on_event
        self.version_rolling = version_rolling
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.connect_timeout_s = connect_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.max_failed_rounds = max_failed_rounds
        self.stats = ClientStats()
        self._stop = asyncio.Event()
        self._found: asyncio.Queue[Solution] | None = None
        self._carry: list[Solution] = []
        self._jobs_by_id: dict[str, Job] = {}
        self._submitted: set[tuple[str, bytes, int, int, int]] = set()
        self._resume: dict[PoolUrl, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _emit(self, kind: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, {"event": kind, "time_unix_s": round(time.time(), 3), **data})

    def stop(self) -> None:
        self._stop.set()

    def _on_solution(self, solution: Solution) -> None:  # engine worker thread
        loop, queue = self._loop, self._found
        if loop is not None and queue is not None:
            loop.call_soon_threadsafe(queue.put_nowait, solution)

    async def run(self) -> ClientStats:
        """Mine until :meth:`stop`; returns the final counters."""
        self._loop = asyncio.get_running_loop()
        self._found = asyncio.Queue()
        self.engine.start(self._on_solution)
        try:
            await self._connect_loop()
        finally:
            self.engine.stop()
        return self.stats

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def _exhausted(self, failures: int) -> bool:
        """Every pool failed ``max_failed_rounds`` times in a row: stop and say so."""
        rounds = self.max_failed_rounds
        if rounds is None or failures < rounds * len(self.pools):
            return False
        self.stats.gave_up = True
        self._emit("gave_up", failures=failures, last_error=self.stats.last_error)
        return True

    async def _connect_loop(self) -> None:
        index = 0
        failures = 0
        override: PoolUrl | None = None
        while not self._stop.is_set():
            pool = override or self.pools[index % len(self.pools)]
            override = None
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(pool.host, pool.port, limit=1 << 16), self.connect_timeout_s
                )
            except (OSError, TimeoutError) as exc:
                failures += 1
                delay = min(self.backoff_initial_s * 2 ** (failures - 1), self.backoff_max_s)
                self.stats.last_error = f"{pool}: {exc or type(exc).__name__}"
                self._emit("connect_failed", pool=str(pool), error=str(exc), retry_in_s=delay)
                if self._exhausted(failures):
                    return
                index += 1
                await self._sleep(delay)
                continue
            self.stats.connects += 1
            self.stats.pool = str(pool)
            self.stats.connected = True
            self._emit("connected", pool=str(pool))
            try:
                outcome, healthy = await self._session(pool, reader, writer)
            finally:
                self.stats.connected = False
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            if healthy:
                failures = 0
            if isinstance(outcome, ReconnectRequested):
                override = PoolUrl(outcome.host or pool.host, outcome.port or pool.port)
                self._emit("reconnect", pool=str(override), wait_s=outcome.wait_s)
                await self._sleep(outcome.wait_s)
            elif not self._stop.is_set():
                failures += 1
                self.stats.last_error = f"{pool}: {outcome}"
                if self._exhausted(failures):
                    return
                delay = min(self.backoff_initial_s * 2 ** (failures - 1), self.backoff_max_s)
                self._emit("disconnected", pool=str(pool), reason=outcome, retry_in_s=delay)
                index += 1
                await self._sleep(delay)

    async def _session(
        self, pool: PoolUrl, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[ReconnectRequested | str, bool]:
        session = ClientSession(
            user=self.user,
            password=self.password,
            version_mask=None if not self.version_rolling else 0x1FFFE000,
            resume_session_id=self._resume.get(pool),
            rules=self.rules,
        )
        session.start()
        writer.write(session.take_outbox())
        assert self._found is not None
        found = self._found
        healthy = False
        read_task: asyncio.Task[bytes] | None = None
        get_task: asyncio.Task[Solution] | None = None
        stop_task = asyncio.ensure_future(self._stop.wait())
        try:
            while not self._stop.is_set():
                if read_task is None:
                    read_task = asyncio.ensure_future(reader.read(65536))
                if get_task is None:
                    get_task = asyncio.ensure_future(found.get())
                done, _ = await asyncio.wait(
                    {read_task, get_task, stop_task},
                    timeout=self.idle_timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if not done:
                    return "idle timeout", healthy
                if get_task in done:
                    solution = get_task.result()
                    get_task = None
                    self._submit_or_discard(session, solution)
                if read_task in done:
                    try:
                        data = read_task.result()
                    except OSError as exc:
                        return f"read error: {exc}", healthy
                    read_task = None
                    if not data:
                        return "closed by pool", healthy
                    try:
                        events = session.receive(data)
                    except StratumError as exc:
                        self.stats.last_error = str(exc)
                        return f"protocol error: {exc}", healthy
                    for event in events:
                        outcome = self._handle(pool, session, event)
                        if isinstance(event, Authorized):
                            if not event.ok:  # wrong credentials here: try the next pool
                                return f"authorization refused: {event.error}", healthy
                            healthy = True
                        if outcome is not None:
                            return outcome, healthy
                out = session.take_outbox()
                if out:
                    writer.write(out)
                    try:
                        await asyncio.wait_for(writer.drain(), 30.0)
                    except (OSError, TimeoutError) as exc:
                        return f"write error: {exc}", healthy
            return "stopped", healthy
        finally:
            # Shares sent but not answered go back to the queue for the next session.
            self._carry.extend(session.pending_submits())
            for task in (read_task, get_task, stop_task):
                if task is not None and not task.done():
                    task.cancel()
            if get_task is not None and get_task.done() and not get_task.cancelled():
                self._carry.append(get_task.result())

    def _submit_or_discard(self, session: ClientSession, solution: Solution) -> None:
        key = (solution.job_id, solution.extranonce2, solution.ntime, solution.nonce, solution.version)
        if key in self._submitted:
            # The engine restarts a job re-issued at a new difficulty; its first hits repeat.
            self.stats.duplicates_suppressed += 1
            return
        if session.authorized and solution.job_id in session.jobs:
            self._submitted.add(key)
            if len(self._submitted) > 100_000:
                self._submitted.clear()
            session.submit(solution)
        elif not session.authorized:
            self._carry.append(solution)
        else:
            self.stats.stale_discarded += 1
            self._emit("stale", job_id=solution.job_id)

    def _flush_carry(self, session: ClientSession) -> None:
        carry, self._carry = self._carry, []
        for solution in carry:
            if solution.job_id in session.jobs:
                self.stats.resubmitted += 1
                session.submit(solution)
            else:
                self.stats.stale_discarded += 1
        if carry:
            self._emit("requeued", resubmitted=self.stats.resubmitted, stale=self.stats.stale_discarded)

    def _handle(self, pool: PoolUrl, session: ClientSession, event: Event) -> ReconnectRequested | None:
        stats = self.stats
        if isinstance(event, Subscribed):
            if event.subscription.session_id:
                self._resume[pool] = event.subscription.session_id
            self._emit(
                "subscribed",
                extranonce1=event.subscription.extranonce1.hex(),
                extranonce2_size=event.subscription.extranonce2_size,
                version_mask=f"{session.version_mask:08x}",
            )
        elif isinstance(event, Authorized):
            self._emit("authorized", ok=event.ok, error=event.error)
            if not event.ok:
                stats.last_error = f"authorization refused: {event.error}"
        elif isinstance(event, DifficultyChanged):
            stats.difficulty = event.difficulty
            self._emit("difficulty", difficulty=event.difficulty)
        elif isinstance(event, NewJob):
            stats.jobs += 1
            if event.clean:
                self._submitted.clear()
            # Jobs are kept past a clean notify (64 at most): a block's own clean job often
            # arrives before the answer to the share that made it, which is still judged on its job.
            self._jobs_by_id[event.job.job_id] = event.job
            while len(self._jobs_by_id) > 64:
                self._jobs_by_id.pop(next(iter(self._jobs_by_id)))
            self.engine.set_job(event.job)
            self._emit("job", job_id=event.job.job_id, clean=event.clean, height=event.job.height)
            if session.authorized and self._carry:
                self._flush_carry(session)
        elif isinstance(event, ShareResult):
            job = self._jobs_by_id.get(event.solution.job_id)
            is_block = (
                job is not None
                and int.from_bytes(solution_hash(job, event.solution), "little") <= job.block_target
            )
            if event.accepted:
                stats.accepted += 1
                if is_block:
                    stats.block_candidates += 1
            else:
                stats.rejected += 1
                if event.error is not None:
                    stats.rejected_by_code[event.error[0]] = stats.rejected_by_code.get(event.error[0], 0) + 1
            self._emit(
                "share",
                accepted=event.accepted,
                job_id=event.solution.job_id,
                nonce=f"{event.solution.nonce:08x}",
                error=event.error,
                block_candidate=is_block,
            )
        elif isinstance(event, ServerMessage):
            stats.last_message = event.text[:200]
            self._emit("message", text=stats.last_message)
        elif isinstance(event, ReconnectRequested):
            return event
        return None
