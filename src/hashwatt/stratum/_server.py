"""The asyncio Stratum V1 pool server: a thin transport layer around the sans-IO pieces.

One :class:`asyncio.Protocol` per connection (cheaper than streams at 10,000 sockets), one
shared :class:`JobBook`, one group-committing share writer. Every accepted share is durable
in the share log before its ``true`` goes out; replies leave in request order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hashwatt.chain import Block, hash_to_hex, header_hash, target_to_difficulty
from hashwatt.errors import HashwattError
from hashwatt.stratum._codec import (
    BIP320_VERSION_MASK,
    Subscription,
    configure_result,
    negotiate_version_mask,
    notify_params,
    parse_configure,
    parse_difficulty,
    parse_submit,
    subscribe_result,
    target_from_difficulty,
)
from hashwatt.stratum._sharelog import AsyncShareWriter, ShareLog
from hashwatt.stratum._shares import (
    HashrateMeter,
    JobBook,
    Rejected,
    ShareRecord,
    VarDiff,
    share_key,
    validate_share,
)
from hashwatt.stratum._wire import (
    MAX_LINE_BYTES,
    JsonId,
    MessageReader,
    Request,
    encode_error,
    encode_request,
    encode_result,
)
from hashwatt.stratum.errors import ErrorCode, ProtocolViolation
from hashwatt.work import BlockResult, Job

log = logging.getLogger("hashwatt.stratum.server")

SERVER_VERSION = "hashwatt-pool/0.1"


class JobSink(Protocol):
    """The server's intake: a new template, for one group of connections (``""`` = all)."""

    def __call__(self, job: Job, group: str = "") -> None: ...


class GroupRouter(Protocol):
    """Optional: a source with several job streams (proxy upstreams) assigns each miner one."""

    def choose_group(self, server: PoolServer) -> str: ...


class JobSource(Protocol):
    """Where templates come from (getblocktemplate, an upstream pool, the demo chain).

    Templates are :class:`Job` values with ``extranonce1 = b""`` and the pool's extranonce2
    size; the server splices each connection's extranonce1.
    """

    def attach(self, on_job: JobSink) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit_block(self, block: Block, job: Job) -> BlockResult: ...


class ShareSink(Protocol):
    """Optional hook for accepted shares (proxy mode forwards those that meet upstream difficulty)."""

    def on_share(self, record: ShareRecord, job: Job, group: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Server limits and difficulty policy. Times in seconds, sizes in bytes."""

    extranonce1_size: int = 4
    extranonce2_size: int = 4
    extranonce1_prefix: bytes = b""
    start_difficulty: float = 1.0
    min_difficulty: float = 2.0**-20
    max_difficulty: float = 2.0**40
    target_share_interval_s: float = 10.0
    retarget_interval_s: float = 60.0
    vardiff: bool = True
    version_mask: int = BIP320_VERSION_MASK
    max_line_bytes: int = MAX_LINE_BYTES
    max_connections: int = 50_000
    max_connections_per_ip: int = 50_000
    handshake_timeout_s: float = 60.0
    idle_timeout_s: float = 1800.0
    max_write_buffer_bytes: int = 1 << 20
    write_stall_timeout_s: float = 30.0
    max_violations: int = 5
    max_rejects_in_row: int = 500
    sweep_interval_s: float = 1.0
    require_password: str | None = None
    share_log_max_batch: int = 2048


@dataclass(slots=True)
class WorkerStats:
    """Accounting per ``user.worker`` name: counts and a 60 s hashrate from share difficulty."""

    user: str
    worker: str
    accepted: int = 0
    rejected: int = 0
    accepted_work: float = 0.0
    meter: HashrateMeter = field(default_factory=HashrateMeter)


@dataclass(frozen=True, slots=True)
class PoolStats:
    connections: int
    accepted: int
    rejected: int
    rejected_by_code: dict[int, int]
    blocks: tuple[BlockResult, ...]
    hashrate_hs: float
    workers: tuple[tuple[str, str, int, int, float], ...]  # user, worker, accepted, rejected, H/s


@dataclass(slots=True)
class ConnectionGroup:
    """Connections sharing one job stream and extranonce1 prefix (one per proxy upstream)."""

    name: str
    prefix: bytes
    sub_size: int
    extranonce2_size: int
    book: JobBook = field(default_factory=JobBook)
    members: set[StratumServerProtocol] = field(default_factory=set)
    in_use: set[bytes] = field(default_factory=set)
    counter: int = 0
    notify_cache: tuple[str, bool, bytes] | None = None


class _Slot:
    __slots__ = ("data",)

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data


class StratumServerProtocol(asyncio.Protocol):
    """One miner connection: per-connection state lives here, per-job state in the JobBook."""

    def __init__(self, server: PoolServer) -> None:
        self.server = server
        self.cfg = server.config
        self.transport: asyncio.Transport | None = None
        self.peer_ip = "?"
        self.reader = MessageReader(self.cfg.max_line_bytes)
        self.connected_at = time.monotonic()
        self.last_seen = self.connected_at
        self.subscription: Subscription | None = None
        self.group: ConnectionGroup = server.groups[""]
        self.accepted_work = 0.0
        self.authorized: set[str] = set()
        self.user = ""
        self.version_mask = 0
        self.wants_extranonce = False
        self.vardiff = VarDiff(
            start_difficulty=self.cfg.start_difficulty,
            min_difficulty=self.cfg.min_difficulty,
            max_difficulty=self.cfg.max_difficulty,
            target_interval_s=self.cfg.target_share_interval_s,
            retarget_interval_s=self.cfg.retarget_interval_s,
            now_s=self.connected_at,
        )
        self.sent_difficulty: float | None = None
        self.job_targets: OrderedDict[str, int] = OrderedDict()
        self.job_views: dict[tuple[str, bytes, int], Job] = {}
        self._pending_out: list[bytes] = []
        self.violations = 0
        self.rejects_in_row = 0
        self.closed = False
        #: Asked to reconnect (hashrate rebalancing): no longer counted in its group's load.
        self.leaving = False
        self._out: deque[_Slot] = deque()
        self.paused_since: float | None = None

    # -- transport callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]) if isinstance(peer, tuple) else "?"
        transport.set_write_buffer_limits(high=min(64 * 1024, self.cfg.max_write_buffer_bytes // 2))
        if not self.server._admit(self):
            self.closed = True
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server._forget(self)

    def pause_writing(self) -> None:
        # The peer is not reading: stop reading its requests until it drains (slow-reader guard).
        self.paused_since = time.monotonic()
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused_since = None
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.last_seen = time.monotonic()
        try:
            messages = self.reader.feed(data)
        except ProtocolViolation as exc:
            self.drop(str(exc), reply=encode_error(None, ErrorCode.OTHER, str(exc)))
            return
        for message in messages:
            if self.closed:
                return
            if isinstance(message, ProtocolViolation):
                self.violation(None, str(message))
            elif isinstance(message, Request):
                self.handle_request(message)
            # Responses (e.g. to client.get_version) need no action.

    # -- output ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes behind any reply still waiting for the share log."""
        if self._out:
            self._out.append(_Slot(data))
        elif self._pending_out:
            self._pending_out.append(data)
        else:
            self._write(data)

    def reserve(self) -> _Slot:
        slot = _Slot()
        self._out.append(slot)
        return slot

    def fill(self, slot: _Slot, data: bytes) -> None:
        slot.data = data
        if not self._pending_out and self._out and self._out[0].data is not None:
            # Answers released by one share-log commit leave in one write per connection.
            asyncio.get_running_loop().call_soon(self._flush_ready)
        while self._out and self._out[0].data is not None:
            ready = self._out.popleft().data
            assert ready is not None
            self._pending_out.append(ready)

    def _flush_ready(self) -> None:
        if self._pending_out:
            data = b"".join(self._pending_out)
            self._pending_out.clear()
            self._write(data)

    def _write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self.cfg.max_write_buffer_bytes:
            self.server.counters["slow_readers"] += 1
            self.drop("slow reader: write buffer over limit")

    def drop(self, reason: str, *, reply: bytes | None = None) -> None:
        if self.closed:
            return
        log.info("dropping %s: %s", self.peer_ip, reason)
        self.server.counters["dropped"] += 1
        if reply is not None and self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.write(reply)
        self.closed = True
        if self.transport is not None:
            if reply is not None:
                self.transport.close()
            else:
                self.transport.abort()

    def violation(self, msg_id: JsonId, reason: str) -> None:
        self.violations += 1
        self.send(encode_error(msg_id, ErrorCode.OTHER, reason))
        if self.violations >= self.cfg.max_violations:
            self.drop(f"too many protocol violations ({reason})")

    # -- requests --------------------------------------------------------------------------

    def handle_request(self, req: Request) -> None:
        handler = _HANDLERS.get(req.method)
        if handler is None:
            if req.id is not None:
                self.violation(req.id, f"Unknown method {req.method[:64]!r}")
            return
        try:
            handler(self, req)
        except ProtocolViolation as exc:
            self.violation(req.id, f"Invalid params: {exc}")

    def on_subscribe(self, req: Request) -> None:
        if self.subscription is None:
            resume = req.params[1] if len(req.params) > 1 and isinstance(req.params[1], str) else None
            self.server._join_group(self, self.server._route())
            self.subscription = self.server._allocate_extranonce(self.group, resume)
        self.send(encode_result(req.id, subscribe_result(self.subscription)))
        if self.authorized:
            self.start_work()

    def on_authorize(self, req: Request) -> None:
        if not req.params or not isinstance(req.params[0], str) or not req.params[0]:
            raise ProtocolViolation("mining.authorize needs [username, password]")
        name = req.params[0][:128]
        password = req.params[1] if len(req.params) > 1 else None
        if self.cfg.require_password is not None and password != self.cfg.require_password:
            self.send(encode_error(req.id, ErrorCode.UNAUTHORIZED, "Unauthorized worker"))
            return
        first = not self.authorized
        self.authorized.add(name)
        if first:
            self.user = name.split(".", 1)[0]
        self.send(encode_result(req.id, True))
        if first and self.subscription is not None:
            self.start_work()

    def on_configure(self, req: Request) -> None:
        request = parse_configure(req.params)
        granted = negotiate_version_mask(request, self.cfg.version_mask)
        self.version_mask = granted or 0
        self.send(encode_result(req.id, configure_result(request, granted)))

    def on_extranonce_subscribe(self, req: Request) -> None:
        self.wants_extranonce = True
        self.send(encode_result(req.id, True))

    def on_suggest_difficulty(self, req: Request) -> None:
        self.vardiff.suggest(parse_difficulty(req.params))
        if req.id is not None:
            self.send(encode_result(req.id, True))
        if self.working:
            self.send_difficulty()

    def on_ping(self, req: Request) -> None:
        if req.id is not None:
            self.send(encode_result(req.id, "pong"))

    def on_get_transactions(self, req: Request) -> None:
        self.send(encode_result(req.id, []))

    def on_submit(self, req: Request) -> None:
        server = self.server
        if self.subscription is None:
            server._count_reject(ErrorCode.NOT_SUBSCRIBED)
            self.send(encode_error(req.id, ErrorCode.NOT_SUBSCRIBED, "Not subscribed"))
            return
        submit = parse_submit(req.params)
        if submit.worker not in self.authorized:
            server._count_reject(ErrorCode.UNAUTHORIZED)
            self.send(encode_error(req.id, ErrorCode.UNAUTHORIZED, "Unauthorized worker"))
            return
        now = time.time()
        current = target_from_difficulty(self.vardiff.difficulty)
        job_target = self.job_targets.get(submit.job_id, current)
        easier = max(current, job_target)
        outcome = validate_share(
            self.group.book,
            submit,
            user=self.user,
            extranonce1=self.subscription.extranonce1,
            version_mask=self.version_mask,
            share_target=easier,
            now_unix_s=now,
            views=self.job_views,
        )
        stats = server._worker(self.user, submit.worker)
        if isinstance(outcome, Rejected):
            stats.rejected += 1
            server._count_reject(outcome.code)
            self.send(encode_error(req.id, outcome.code, outcome.reason))
            self.rejects_in_row += 1
            if self.rejects_in_row >= self.cfg.max_rejects_in_row:
                self.drop("too many rejected shares in a row")
            return
        self.rejects_in_row = 0
        record = outcome.record
        harder = min(current, job_target)
        if harder != easier and int(record.share_hash_hex, 16) <= harder:
            record = dataclasses.replace(record, difficulty=target_to_difficulty(harder))
        slot = self.reserve()
        msg_id = req.id
        received = time.perf_counter()
        book = self.group.book
        group_name = self.group.name
        job = book.get(submit.job_id)

        def done(error: BaseException | None) -> None:
            if error is not None:
                # Not stored, so not accepted: answer 20 and forget the share, so the miner's
                # resend is judged afresh instead of being refused as a duplicate.
                log.error("share log write failed: %s", error)
                book.forget_seen(record.job_id, share_key(record))
                stats.rejected += 1
                server._count_reject(ErrorCode.OTHER)
                server.counters["share_log_failures"] = server.counters.get("share_log_failures", 0) + 1
                self.fill(slot, encode_error(msg_id, ErrorCode.OTHER, "Share log unavailable"))
                return
            server._count_accept(stats, record)
            self.accepted_work += record.difficulty
            self.fill(slot, encode_result(msg_id, True))
            server.ack_latency_s.append(time.perf_counter() - received)
            # Only stored shares go upstream (a failed one will come back as a resend).
            if server.share_sink is not None and job is not None:
                server.share_sink.on_share(record, job, group_name)
            if self.cfg.vardiff and self.vardiff.on_share(time.monotonic()) is not None:
                self.send_difficulty()
                server._renotify(self)

        server.writer.submit(record, done)
        if outcome.block is not None and job is not None:
            server._block_found(outcome.block, job)

    # -- work ------------------------------------------------------------------------------

    @property
    def working(self) -> bool:
        return self.subscription is not None and bool(self.authorized) and not self.closed

    def send_difficulty(self) -> None:
        difficulty = self.vardiff.difficulty
        if difficulty != self.sent_difficulty:
            self.sent_difficulty = difficulty
            self.send(encode_request(None, "mining.set_difficulty", [difficulty]))

    def start_work(self) -> None:
        self.send_difficulty()
        job = self.group.book.latest
        if job is not None:
            self.send_job(job.job_id, self.server._notify_line(self.group, job, force_clean=True))

    def send_job(self, job_id: str, line: bytes) -> None:
        target = target_from_difficulty(self.vardiff.difficulty)
        # A job re-sent after a difficulty change keeps accepting shares at the old (easier)
        # target too: they were in flight when the change was sent.
        self.job_targets[job_id] = max(target, self.job_targets.get(job_id, 0))
        while len(self.job_targets) > self.group.book.max_jobs:
            self.job_targets.popitem(last=False)
        self.send(line)

    def send_extranonce(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.send(
            encode_request(
                None,
                "mining.set_extranonce",
                [subscription.extranonce1.hex(), subscription.extranonce2_size],
            )
        )


_HANDLERS: dict[str, Callable[[StratumServerProtocol, Request], None]] = {
    "mining.subscribe": StratumServerProtocol.on_subscribe,
    "mining.authorize": StratumServerProtocol.on_authorize,
    "mining.configure": StratumServerProtocol.on_configure,
    "mining.submit": StratumServerProtocol.on_submit,
    "mining.extranonce.subscribe": StratumServerProtocol.on_extranonce_subscribe,
    "mining.suggest_difficulty": StratumServerProtocol.on_suggest_difficulty,
    "mining.suggest_target": lambda conn, req: conn.send(encode_result(req.id, True)),
    "mining.ping": StratumServerProtocol.on_ping,
    "mining.get_transactions": StratumServerProtocol.on_get_transactions,
    "mining.multi_version": lambda conn, req: conn.send(encode_result(req.id, True)),
}


class PoolServer:
    """Serve Stratum V1 on ``host:port`` from one :class:`JobSource`, logging shares durably."""

    def __init__(
        self,
        source: JobSource,
        share_log: ShareLog,
        config: PoolConfig | None = None,
        *,
        share_sink: ShareSink | None = None,
        on_block: Callable[[BlockResult], None] | None = None,
    ) -> None:
        self.source = source
        self.share_log = share_log
        self.config = config or PoolConfig()
        self.share_sink = share_sink
        self.on_block = on_block
        self.groups: dict[str, ConnectionGroup] = {}
        self.groups[""] = ConnectionGroup(
            "",
            self.config.extranonce1_prefix,
            self.config.extranonce1_size - len(self.config.extranonce1_prefix),
            self.config.extranonce2_size,
            counter=int.from_bytes(os.urandom(4), "big"),
        )
        self.writer = AsyncShareWriter(share_log, max_batch=self.config.share_log_max_batch)
        self.connections: set[StratumServerProtocol] = set()
        self.per_ip: dict[str, int] = {}
        self.counters: dict[str, int] = {"accepted": 0, "rejected": 0, "dropped": 0, "slow_readers": 0}
        self.rejected_by_code: dict[int, int] = {}
        self.workers: dict[tuple[str, str], WorkerStats] = {}
        self.pool_meter = HashrateMeter()
        #: Accepted-share latency, request parsed -> answer written (share log commit included) [s].
        self.ack_latency_s: deque[float] = deque(maxlen=200_000)
        self.blocks: list[BlockResult] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._sessions: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 4096) -> None:
        loop = asyncio.get_running_loop()
        self.writer.start()
        bind = getattr(self.source, "bind", None)
        if callable(bind):
            bind(self)
        self.source.attach(self._on_job)
        await self.source.start()
        self._server = await loop.create_server(
            lambda: StratumServerProtocol(self), host, port, backlog=backlog, reuse_address=True
        )
        self._sweeper = loop.create_task(self._sweep())

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.source.stop()
        await self.writer.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def __aenter__(self) -> PoolServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connections -----------------------------------------------------------------------

    def _admit(self, conn: StratumServerProtocol) -> bool:
        count = self.per_ip.get(conn.peer_ip, 0)
        if len(self.connections) >= self.config.max_connections or (
            count >= self.config.max_connections_per_ip
        ):
            self.counters["refused"] = self.counters.get("refused", 0) + 1
            return False
        self.connections.add(conn)
        self.per_ip[conn.peer_ip] = count + 1
        return True

    def _forget(self, conn: StratumServerProtocol) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            left = self.per_ip.get(conn.peer_ip, 1) - 1
            if left > 0:
                self.per_ip[conn.peer_ip] = left
            else:
                self.per_ip.pop(conn.peer_ip, None)
        conn.group.members.discard(conn)
        if conn.subscription is not None:
            en1 = conn.subscription.extranonce1
            conn.group.in_use.discard(en1)
            self._sessions[en1.hex()] = (conn.group.name, en1)
            while len(self._sessions) > 100_000:
                self._sessions.popitem(last=False)

    @property
    def book(self) -> JobBook:
        """The default group's job book (the only one unless a proxy source adds groups)."""
        return self.groups[""].book

    def _route(self) -> str:
        chooser = getattr(self.source, "choose_group", None)
        return str(chooser(self)) if callable(chooser) else ""

    def _join_group(self, conn: StratumServerProtocol, name: str) -> None:
        conn.group.members.discard(conn)
        conn.group = self.groups.get(name, self.groups[""])
        conn.group.members.add(conn)

    def set_group(self, name: str, *, prefix: bytes, sub_size: int, extranonce2_size: int) -> ConnectionGroup:
        """Create or re-key a group; members of a re-keyed group get new extranonces
        (mining.set_extranonce where they asked for it, else a disconnect so they resubscribe)."""
        if sub_size <= 0 or extranonce2_size < 0:
            raise HashwattError("a group needs at least one extranonce1 byte per connection")
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = ConnectionGroup(name, prefix, sub_size, extranonce2_size)
            return group
        if (group.prefix, group.sub_size, group.extranonce2_size) == (prefix, sub_size, extranonce2_size):
            return group
        group.prefix, group.sub_size, group.extranonce2_size = prefix, sub_size, extranonce2_size
        group.in_use.clear()
        group.book = JobBook()
        group.notify_cache = None
        for conn in list(group.members):
            self._rekey(conn, group)
        return group

    def move_group(self, src: str, dst: str) -> None:
        """Move every connection of group ``src`` to ``dst`` (upstream failover)."""
        target = self.groups[dst]
        for conn in list(self.groups[src].members):
            self._join_group(conn, dst)
            self._rekey(conn, target)

    def move_connection(
        self, conn: StratumServerProtocol, name: str, *, reconnect_grace_s: float = 10.0
    ) -> str:
        """Move one miner to group ``name`` (hashrate rebalancing between upstreams).

        A miner that sent mining.extranonce.subscribe gets mining.set_extranonce and a clean
        mining.notify on the new group, keeping its connection and statistics
        (``"extranonce"``). Any other miner is sent ``client.reconnect`` back to this server,
        where the router places it afresh; it is closed after ``reconnect_grace_s`` if it has
        not gone by then (``"reconnect"``). ``""``: nothing to move.
        """
        if conn.closed or conn.leaving or conn.subscription is None or not conn.working:
            return ""
        target = self.groups.get(name)
        if target is None or conn.group is target:
            return ""
        if conn.wants_extranonce:
            conn.group.in_use.discard(conn.subscription.extranonce1)
            self._join_group(conn, name)
            self._rekey(conn, target)
            return "extranonce"
        conn.leaving = True
        conn.send(encode_request(None, "client.reconnect", ["", "", 0]))

        def close_if_still_here() -> None:
            if not conn.closed:
                conn.drop("asked to reconnect (rebalancing) and did not")

        asyncio.get_running_loop().call_later(reconnect_grace_s, close_if_still_here)
        return "reconnect"

    def _rekey(self, conn: StratumServerProtocol, group: ConnectionGroup) -> None:
        if conn.subscription is None or conn.closed:
            return
        if not conn.wants_extranonce:
            conn.drop("extranonce changed (miner did not subscribe to mining.set_extranonce)")
            return
        conn.send_extranonce(self._allocate_extranonce(group, None))
        conn.job_targets.clear()
        job = group.book.latest
        if job is not None and conn.working:
            conn.send_job(job.job_id, self._notify_line(group, job, force_clean=True))

    def _allocate_extranonce(self, group: ConnectionGroup, resume: str | None) -> Subscription:
        if resume is not None and resume in self._sessions:
            name, en1 = self._sessions[resume]
            if name == group.name and en1 not in group.in_use and en1.startswith(group.prefix):
                del self._sessions[resume]
                group.in_use.add(en1)
                return Subscription(en1, group.extranonce2_size, en1.hex())
        space = 1 << (8 * group.sub_size)
        for _ in range(min(space, 1 << 20)):
            group.counter = (group.counter + 1) % space
            en1 = group.prefix + group.counter.to_bytes(group.sub_size, "big")
            if en1 not in group.in_use:
                group.in_use.add(en1)
                self._sessions.pop(en1.hex(), None)
                return Subscription(en1, group.extranonce2_size, en1.hex())
        raise ProtocolViolation("extranonce1 space exhausted")

    # -- jobs ------------------------------------------------------------------------------

    def _notify_line(self, group: ConnectionGroup, job: Job, *, force_clean: bool = False) -> bytes:
        clean = job.clean_jobs or force_clean
        cached = group.notify_cache
        if cached is not None and cached[0] == job.job_id and cached[1] == clean:
            return cached[2]
        params = notify_params(job)
        params[-1] = clean
        line = encode_request(None, "mining.notify", params)
        group.notify_cache = (job.job_id, clean, line)
        return line

    def _on_job(self, job: Job, group: str = "") -> None:
        """A new template: remember it and send it to every working connection of its group."""
        target = self.groups.get(group)
        if target is None:
            raise HashwattError(f"job for unknown connection group {group!r}")
        target.book.add(job)
        line = self._notify_line(target, job)
        members = self.connections if group == "" and len(self.groups) == 1 else target.members
        for conn in list(members):
            if conn.working and conn.group is target:
                conn.send_difficulty()
                conn.send_job(job.job_id, line)

    def _renotify(self, conn: StratumServerProtocol) -> None:
        job = conn.group.book.latest
        if job is not None and conn.working:
            conn.send_job(job.job_id, self._notify_line(conn.group, job))

    def broadcast_message(self, text: str) -> None:
        """client.show_message to every working connection (maintenance notices)."""
        line = encode_request(None, "client.show_message", [text])
        for conn in list(self.connections):
            if conn.working:
                conn.send(line)

    def broadcast_reconnect(self, host: str = "", port: int | None = None, wait_s: int = 0) -> None:
        """client.reconnect [host, port, wait]: move miners elsewhere (or back here after a restart)."""
        line = encode_request(None, "client.reconnect", [host, port if port is not None else "", wait_s])
        for conn in list(self.connections):
            conn.send(line)

    # -- accounting ------------------------------------------------------------------------

    def _worker(self, user: str, worker: str) -> WorkerStats:
        key = (user, worker)
        stats = self.workers.get(key)
        if stats is None:
            stats = self.workers[key] = WorkerStats(user, worker)
        return stats

    def _count_accept(self, stats: WorkerStats, record: ShareRecord) -> None:
        now = time.monotonic()
        self.counters["accepted"] += 1
        stats.accepted += 1
        stats.accepted_work += record.difficulty
        stats.meter.add(now, record.difficulty)
        self.pool_meter.add(now, record.difficulty)

    def _count_reject(self, code: ErrorCode) -> None:
        self.counters["rejected"] += 1
        self.rejected_by_code[int(code)] = self.rejected_by_code.get(int(code), 0) + 1

    def _block_found(self, block: Block, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._submit_block(block, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit_block(self, block: Block, job: Job) -> None:
        try:
            result = await self.source.submit_block(block, job)
        except HashwattError as exc:
            result = BlockResult(hash_to_hex(header_hash(block.header)), job.height, False, str(exc))
        self.blocks.append(result)
        log.info("block candidate %s: %s", result.block_hash_hex, result.message)
        if self.on_block is not None:
            self.on_block(result)

    def user_hashrate_hs(self) -> dict[str, float]:
        """Per-user hashrate over the last 60 s [H/s]."""
        now = time.monotonic()
        out: dict[str, float] = {}
        for (user, _), stats in self.workers.items():
            out[user] = out.get(user, 0.0) + stats.meter.hashrate_hs(now)
        return out

    def stats(self) -> PoolStats:
        now = time.monotonic()
        return PoolStats(
            connections=len(self.connections),
            accepted=self.counters["accepted"],
            rejected=self.counters["rejected"],
            rejected_by_code=dict(self.rejected_by_code),
            blocks=tuple(self.blocks),
            hashrate_hs=self.pool_meter.hashrate_hs(now),
            workers=tuple(
                (s.user, s.worker, s.accepted, s.rejected, s.meter.hashrate_hs(now))
                for s in self.workers.values()
            ),
        )

    # -- housekeeping ----------------------------------------------------------------------

    async def _sweep(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.sweep_interval_s)
            now = time.monotonic()
            for i, conn in enumerate(list(self.connections)):
                if i % 512 == 511:
                    await asyncio.sleep(0)  # long sweeps yield so share answers are not held up
                if conn.closed:
                    continue
                if not conn.working and now - conn.connected_at > cfg.handshake_timeout_s:
                    conn.drop("handshake timeout")
                elif conn.paused_since is not None and now - conn.paused_since > cfg.write_stall_timeout_s:
                    self.counters["slow_readers"] += 1
                    conn.drop("slow reader: not draining its replies")
                elif now - conn.last_seen > cfg.idle_timeout_s:
                    conn.drop("idle timeout")
                elif cfg.vardiff and conn.working and conn.vardiff.retarget(now) is not None:
                    conn.send_difficulty()
                    self._renotify(conn)
