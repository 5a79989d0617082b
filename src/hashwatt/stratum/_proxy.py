"""Farm proxy: one upstream Stratum session per configured pool, work re-issued downstream.

Each upstream is a connection group on the :class:`PoolServer`: downstream extranonce1 is the
upstream's extranonce1 plus ``sub_size`` bytes per miner, so downstream extranonce2 is
``sub_size`` bytes shorter than upstream's. A downstream share that also meets the upstream
difficulty is forwarded with ``extranonce2 = sub-range || downstream extranonce2``.

New miners go to the live upstream with the lowest (assigned hashrate / weight); when an
upstream drops, its miners move to another live upstream (failover). Miners already connected
are rebalanced too: every ``rebalance_interval_s`` the estimated hashrate split across the live
upstreams is compared with their weights, and once some upstream is off by more than
``rebalance_threshold`` of the total, miners are moved (mining.set_extranonce where they
subscribed to it, else client.reconnect) until the drift is under half that (hysteresis), a
moved miner staying put for ``rebalance_cooldown_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hashwatt.chain import HASHES_PER_DIFFICULTY, Block, hash_to_hex, header_hash
from hashwatt.stratum._codec import BIP320_VERSION_MASK
from hashwatt.stratum._coin import BITCOIN_SHARES, ShareRules
from hashwatt.stratum._server import JobSink, PoolServer
from hashwatt.stratum._session import (
    Authorized,
    ClientSession,
    NewJob,
    ReconnectRequested,
    ShareResult,
    Subscribed,
)
from hashwatt.stratum._shares import ShareRecord
from hashwatt.stratum._url import PoolUrl
from hashwatt.stratum.errors import PoolConfigError, PoolUrlError, StratumError
from hashwatt.work import BlockResult, Job, Solution

if TYPE_CHECKING:
    from hashwatt.stratum._server import StratumServerProtocol

#: How long a connect to an upstream may take [s].
CONNECT_TIMEOUT_S = 10.0

log = logging.getLogger("hashwatt.stratum.proxy")


@dataclass(frozen=True, slots=True)
class Move:
    """Move miner ``key`` from group ``src`` to group ``dst``."""

    key: Hashable
    src: str
    dst: str


def weight_drift(loads_hs: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Largest gap between a group's share of the total hashrate and its share of the weights
    (0 = on target, 1 = everything on the wrong side) [fraction of the total]."""
    total = sum(loads_hs.get(g, 0.0) for g in weights)
    wsum = sum(weights.values())
    if total <= 0 or wsum <= 0:
        return 0.0
    return max(abs(loads_hs.get(g, 0.0) / total - w / wsum) for g, w in weights.items())


def plan_rebalance(
    members: Mapping[str, Sequence[tuple[Hashable, float, bool]]],
    weights: Mapping[str, float],
    *,
    threshold: float = 0.15,
    settle: float | None = None,
    max_moves: int = 64,
) -> list[Move]:
    """Moves that bring the hashrate split across ``weights``' groups back toward the weights.

    ``members[group]`` lists ``(key, hashrate_hs, movable)`` per miner; only groups in
    ``weights`` count. Nothing is planned while the drift (:func:`weight_drift`) is at most
    ``threshold``; otherwise miners move from the most over-served to the most under-served
    group until the drift is at most ``settle`` (default ``threshold / 2``: the hysteresis band
    that keeps the split from flapping). Each move strictly shrinks both groups' errors (a miner
    is moved only if its hashrate is under twice the gap), so planning always ends; movable
    miners whose hashrate is closest to the gap go first, ties in the order given.
    """
    settle = threshold / 2 if settle is None else settle
    live = {g: w for g, w in weights.items() if w > 0}
    if len(live) < 2:
        return []
    load = {g: sum(h for _, h, _ in members.get(g, ())) for g in live}
    total = sum(load.values())
    if total <= 0 or weight_drift(load, live) <= threshold:
        return []
    wsum = sum(live.values())
    target = {g: total * w / wsum for g, w in live.items()}
    pools = {g: [(k, h) for k, h, movable in members.get(g, ()) if movable and h > 0] for g in live}
    moves: list[Move] = []
    while len(moves) < max_moves and weight_drift(load, live) > settle:
        src = max(live, key=lambda g: load[g] - target[g])
        dst = min(live, key=lambda g: load[g] - target[g])
        gap = min(load[src] - target[src], target[dst] - load[dst])
        candidates = [kh for kh in pools[src] if kh[1] < 2 * gap]
        if gap <= 0 or not candidates:
            break
        pick = min(candidates, key=lambda kh: abs(kh[1] - gap))
        pools[src].remove(pick)
        load[src] -= pick[1]
        load[dst] += pick[1]
        moves.append(Move(pick[0], src, dst))
    return moves


@dataclass(frozen=True, slots=True)
class Upstream:
    """An upstream pool ``host:port`` with a routing weight (``stratum+tcp://h:p#3`` = weight 3)."""

    host: str
    port: int
    weight: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Upstream:
        url, _, weight = text.partition("#")
        pool = PoolUrl.parse(url)
        try:
            w = float(weight) if weight else 1.0
        except ValueError as exc:
            raise PoolUrlError(f"upstream weight must be a number: {text!r}", text=text) from exc
        if not (math.isfinite(w) and w > 0):
            raise PoolUrlError(f"upstream weight must be a finite positive number: {text!r}", text=text)
        return cls(pool.host, pool.port, w)

    def __str__(self) -> str:
        return f"stratum+tcp://{self.host}:{self.port}"


class UpstreamLink:
    """One upstream session (with reconnect and backoff); feeds one connection group."""

    def __init__(self, source: UpstreamSource, index: int, upstream: Upstream) -> None:
        self.source = source
        self.index = index
        self.upstream = upstream
        self.group = f"up{index}"
        self.session: ClientSession | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.live = False
        self.forwarded = 0
        self.accepted = 0
        self.rejected = 0
        self.unforwardable = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancellation that races with the connect completing, and stop() then waits
                # on a link that reconnects forever.
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    reader, writer = await asyncio.open_connection(self.upstream.host, self.upstream.port)
            except (OSError, TimeoutError) as exc:
                failures += 1
                log.warning("upstream %s unreachable: %s", self.upstream, exc)
                await asyncio.sleep(self.source.backoff_s(failures))
                continue
            try:
                if await self._session(reader, writer):
                    failures = 0
            finally:
                self._down()
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
            failures += 1
            await asyncio.sleep(self.source.backoff_s(failures))

    def _down(self) -> None:
        was_live = self.live
        self.live = False
        self.session = None
        self.writer = None
        if was_live:
            self.source._upstream_down(self)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        src = self.source
        session = ClientSession(
            user=src.user, password=src.password, version_mask=BIP320_VERSION_MASK, rules=src.rules
        )
        session.start()
        writer.write(session.take_outbox())
        self.session, self.writer = session, writer
        healthy = False
        while True:
            data = await reader.read(65536)
            if not data:
                return healthy
            try:
                events = session.receive(data)
            except StratumError as exc:
                log.warning("upstream %s protocol error: %s", self.upstream, exc)
                return healthy
            for event in events:
                if isinstance(event, Subscribed):
                    sub = event.subscription
                    if sub.extranonce2_size <= src.sub_size:
                        log.warning("upstream %s extranonce2 too small to split", self.upstream)
                        return healthy
                    src.server.set_group(
                        self.group,
                        prefix=sub.extranonce1,
                        sub_size=src.sub_size,
                        extranonce2_size=sub.extranonce2_size - src.sub_size,
                    )
                elif isinstance(event, Authorized):
                    healthy = healthy or event.ok
                elif isinstance(event, NewJob):
                    first = not self.live
                    self.live = True
                    template = dataclasses.replace(
                        event.job,
                        extranonce1=b"",
                        extranonce2_size=event.job.extranonce2_size - src.sub_size,
                        share_target=(1 << 256) - 1,
                        version_mask=0,
                        clean_jobs=event.clean,
                    )
                    src._emit_job(template, self.group)
                    if first:
                        src._upstream_up(self)
                elif isinstance(event, ShareResult):
                    if event.accepted:
                        self.accepted += 1
                    else:
                        self.rejected += 1
                elif isinstance(event, ReconnectRequested):
                    if event.host or event.port:
                        self.upstream = Upstream(
                            event.host or self.upstream.host,
                            event.port or self.upstream.port,
                            self.upstream.weight,
                        )
                    return healthy
            out = session.take_outbox()
            if out:
                writer.write(out)
                await writer.drain()

    def forward(self, record: ShareRecord, job: Job) -> None:
        session, writer = self.session, self.writer
        if session is None or writer is None or session.subscription is None:
            self._unforwardable(record, "upstream down")
            return
        upstream_job = session.jobs.get(record.job_id)
        if upstream_job is None:
            self._unforwardable(record, "job unknown upstream")
            return
        if int(record.share_hash_hex, 16) > upstream_job.share_target:
            return  # below the upstream difficulty: paid by the proxy, not forwarded
        if (record.version ^ upstream_job.version) & ~session.version_mask & 0xFFFFFFFF:
            self._unforwardable(record, "version bits outside the upstream mask")
            return
        sub = record.extranonce1[len(session.subscription.extranonce1) :]
        solution = Solution(
            record.job_id, sub + record.extranonce2, record.ntime, record.nonce, record.version
        )
        session.submit(solution)
        writer.write(session.take_outbox())
        self.forwarded += 1

    def _unforwardable(self, record: ShareRecord, why: str) -> None:
        """A stored share that could not go upstream: counted, and logged (first ones, then sparsely)."""
        self.unforwardable += 1
        if self.unforwardable <= 10 or self.unforwardable % 1000 == 0:
            log.warning(
                "upstream %s: share %s of %s not forwarded (%s); %d so far",
                self.upstream,
                record.share_hash_hex[:16],
                record.worker,
                why,
                self.unforwardable,
            )


class UpstreamSource:
    """A :class:`JobSource` for proxy mode; also the server's share sink and group router."""

    def __init__(
        self,
        upstreams: Sequence[str | Upstream],
        *,
        user: str,
        password: str = "x",
        sub_size: int = 2,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 5.0,
        rebalance_interval_s: float = 30.0,
        rebalance_threshold: float = 0.15,
        rebalance_cooldown_s: float = 300.0,
        rebalance_min_age_s: float = 60.0,
        rebalance_max_moves: int = 64,
        rules: ShareRules = BITCOIN_SHARES,
    ) -> None:
        #: The coin's share convention, for the upstream sessions (scrypt difficulty is 65,536 x easier).
        self.rules = rules
        if not upstreams:
            raise PoolConfigError("upstreams", "proxy mode needs at least one --upstream")
        self.upstreams = [u if isinstance(u, Upstream) else Upstream.parse(u) for u in upstreams]
        self.user = user
        self.password = password
        self.sub_size = sub_size
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.links = [UpstreamLink(self, i, u) for i, u in enumerate(self.upstreams)]
        self.rebalance_interval_s = rebalance_interval_s
        self.rebalance_threshold = rebalance_threshold
        self.rebalance_cooldown_s = rebalance_cooldown_s
        self.rebalance_min_age_s = rebalance_min_age_s
        self.rebalance_max_moves = rebalance_max_moves
        #: Miners moved by rebalancing: by mining.set_extranonce / by client.reconnect; rounds that moved any.
        self.rebalanced: dict[str, int] = {"extranonce": 0, "reconnect": 0, "rounds": 0}
        #: Rebalancing rounds evaluated, whether or not they moved anyone.
        self.rebalance_checks = 0
        self._moved_at: dict[StratumServerProtocol, float] = {}
        self._rebalancer: asyncio.Task[None] | None = None
        self._sinks: list[JobSink] = []
        self._server: PoolServer | None = None

    @property
    def sink(self) -> UpstreamSource:
        return self

    def backoff_s(self, failures: int) -> float:
        """Wait before reconnecting after ``failures`` failures in a row: doubling, at most
        ``backoff_max_s``, so a returning upstream is found promptly [s]."""
        return float(min(self.backoff_initial_s * 2 ** max(failures - 1, 0), self.backoff_max_s))

    def accepting(self, group: str) -> bool:
        """Shares of ``group`` can be forwarded: its upstream is live. Without a live upstream
        the server refuses shares instead of acknowledging work that goes nowhere."""
        for link in self.links:
            if link.group == group:
                return link.live
        return False

    @property
    def unforwardable(self) -> int:
        """Stored shares that met upstream difficulty but could not be forwarded [shares]."""
        return sum(link.unforwardable for link in self.links)

    @property
    def server(self) -> PoolServer:
        if self._server is None:
            raise StratumError("proxy source is not bound to a server")
        return self._server

    def bind(self, server: PoolServer) -> None:
        self._server = server

    def attach(self, on_job: JobSink) -> None:
        self._sinks.append(on_job)

    def _emit_job(self, job: Job, group: str) -> None:
        for sink in self._sinks:
            sink(job, group)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for link in self.links:
            link.task = loop.create_task(link.run())
        if self.rebalance_interval_s > 0:
            self._rebalancer = loop.create_task(self._rebalance_loop())

    async def stop(self) -> None:
        if self._rebalancer is not None:
            self._rebalancer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rebalancer
            self._rebalancer = None
        for link in self.links:
            task = link.task
            if task is not None:
                # Cancel until it is done: a cancellation lost in a race must not hang close().
                while not task.done():
                    task.cancel()
                    await asyncio.wait({task}, timeout=1.0)
                with contextlib.suppress(asyncio.CancelledError):
                    task.result()
                link.task = None

    async def submit_block(self, block: Block, job: Job) -> BlockResult:
        return BlockResult(
            hash_to_hex(header_hash(block.header)), job.height, True, "forwarded upstream as a share"
        )

    # -- routing ---------------------------------------------------------------------------

    @staticmethod
    def connection_hashrate_hs(conn: StratumServerProtocol, now_s: float) -> float:
        """A miner's accepted work per second since it connected, at least one difficulty-1
        share a minute (newcomers) [H/s]."""
        age = max(now_s - conn.connected_at, 60.0)
        return max(conn.accepted_work, 1.0) * HASHES_PER_DIFFICULTY / age

    def assigned_hashrate_hs(self, link: UpstreamLink) -> float:
        """Hashrate of the miners routed to ``link`` (miners asked to reconnect excluded) [H/s]."""
        group = self.server.groups.get(link.group)
        if group is None:
            return 0.0
        now = time.monotonic()
        return sum(self.connection_hashrate_hs(c, now) for c in group.members if not c.leaving)

    def hashrate_split(self) -> dict[str, float]:
        """Estimated hashrate per live upstream group [H/s]."""
        return {
            link.group: self.assigned_hashrate_hs(link)
            for link in self.links
            if link.live and link.group in self.server.groups
        }

    def rebalance(self) -> list[Move]:
        """One rebalancing round: move miners so the split returns toward the weights."""
        self.rebalance_checks += 1
        server = self.server
        live = [link for link in self.links if link.live and link.group in server.groups]
        weights = {link.group: link.upstream.weight for link in live}
        now = time.monotonic()
        members: dict[str, list[tuple[Hashable, float, bool]]] = {}
        for link in live:
            rows: list[tuple[Hashable, float, bool]] = []
            conns = [c for c in server.groups[link.group].members if c.working and not c.leaving]
            # Miners that take mining.set_extranonce first: they move without reconnecting.
            conns.sort(key=lambda c: not c.wants_extranonce)
            for conn in conns:
                movable = (
                    now - conn.connected_at >= self.rebalance_min_age_s
                    and now - self._moved_at.get(conn, -1e18) >= self.rebalance_cooldown_s
                )
                rows.append((conn, self.connection_hashrate_hs(conn, now), movable))
            members[link.group] = rows
        moves = plan_rebalance(
            members, weights, threshold=self.rebalance_threshold, max_moves=self.rebalance_max_moves
        )
        done: list[Move] = []
        for move in moves:
            conn = cast("StratumServerProtocol", move.key)
            how = server.move_connection(conn, move.dst)
            if how:
                self.rebalanced[how] += 1
                self._moved_at[conn] = now
                done.append(move)
        if done:
            self.rebalanced["rounds"] += 1
            log.info("rebalanced %d miners toward the upstream weights", len(done))
        for gone in [c for c in self._moved_at if c.closed]:
            del self._moved_at[gone]
        return done

    async def _rebalance_loop(self) -> None:
        while True:
            await asyncio.sleep(self.rebalance_interval_s)
            if self._server is None:
                continue
            try:
                self.rebalance()
            except Exception:  # one bad round (e.g. an exhausted extranonce space) must not end rebalancing
                log.exception("rebalancing round failed")

    def choose_group(self, server: PoolServer) -> str:
        live = [link for link in self.links if link.live and link.group in server.groups]
        if not live:
            return ""
        best = min(
            live, key=lambda link: (self.assigned_hashrate_hs(link) / link.upstream.weight, link.index)
        )
        return best.group

    def _upstream_up(self, link: UpstreamLink) -> None:
        # Miners parked in the default group (no upstream was live) move to this one.
        if self.server.groups[""].members:
            self.server.move_group("", link.group)

    def _upstream_down(self, link: UpstreamLink) -> None:
        others = [other for other in self.links if other.live and other is not link]
        if others and link.group in self.server.groups:
            best = min(others, key=lambda o: self.assigned_hashrate_hs(o) / o.upstream.weight)
            self.server.move_group(link.group, best.group)

    def on_share(self, record: ShareRecord, job: Job, group: str) -> None:
        for link in self.links:
            if link.group == group:
                link.forward(record, job)
