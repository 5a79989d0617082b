"""The asyncio Stratum V1 pool server: a thin transport around :class:`ServerSession`.

One :class:`asyncio.Protocol` per connection (cheaper than streams at 10,000 sockets) feeding
its sans-IO session, one shared :class:`JobBook` per connection group, one group-committing
share writer. Every accepted share is durable in the share log before its ``true`` goes out;
replies leave in request order. The server owns what is pool-wide: admission (global and
per-address caps under the descriptor limit, an accept loop that backs off on EMFILE),
extranonce allocation, per-address message budgets, the bounded worker table and statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import os
import resource
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from hashwatt.chain import AuxPowBlock, Block, hash_to_hex, header_hash
from hashwatt.errors import HashwattError
from hashwatt.stratum._codec import Subscription
from hashwatt.stratum._coin import share_rules
from hashwatt.stratum._flow import TokenBucket
from hashwatt.stratum._pool_session import (
    CloseConnection,
    PoolConfig,
    ServerEvent,
    ServerSession,
    ShareAccepted,
    ShareRejected,
    SubscribeRequested,
)
from hashwatt.stratum._sharelog import AsyncShareWriter, ShareLog
from hashwatt.stratum._shares import HashrateMeter, JobBook, ShareRecord, WorkerRow, WorkerTable
from hashwatt.stratum._wire import encode_request
from hashwatt.stratum.errors import ErrorCode, ExtranonceExhausted, ListenError, StratumError
from hashwatt.work import BlockResult, Job

log = logging.getLogger("hashwatt.stratum.server")

#: How long close() waits for connection tasks before cancelling them [s].
CLOSE_GRACE_S = 5.0

SERVER_VERSION = "hashwatt-pool/0.1"
#: Descriptors kept free for the share log, the upstreams and the process itself [fds].
FD_RESERVE = 64
#: Connections taken per accept wake-up [connections].
ACCEPT_BATCH = 256
_ACCEPT_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


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


class AuxBlockSink(Protocol):
    """Optional: a merged-mining source takes the child blocks its jobs' shares make (AuxPoW)."""

    async def submit_aux_block(self, block: AuxPowBlock, job: Job) -> BlockResult: ...


class ShareSink(Protocol):
    """Optional hook for shares (proxy mode forwards those that meet upstream difficulty).

    ``accepting(group)`` false means nowhere to send the group's shares (no live upstream):
    they are refused, not acknowledged.
    """

    def on_share(self, record: ShareRecord, job: Job, group: str) -> None: ...

    def accepting(self, group: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PoolStats:
    """A summary: totals plus the ``PoolConfig.stats_top_workers`` busiest workers, never all."""

    connections: int
    accepted: int
    rejected: int
    rejected_by_code: dict[int, int]
    blocks: tuple[BlockResult, ...]
    hashrate_hs: float
    workers: tuple[WorkerRow, ...]
    workers_total: int = 0


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


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (as servers do at start); returns it [fds]."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return int(soft if soft != resource.RLIM_INFINITY else hard)


def _set_keepalive(sock: socket.socket, idle_s: int) -> None:
    """TCP keepalive, so a peer that vanished without a FIN is found in minutes, not hours."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(idle_s // 4, 1))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 4)


class StratumServerProtocol(asyncio.Protocol):
    """One miner connection: the transport for its :class:`ServerSession`."""

    __slots__ = (
        "_backlog_paused",
        "_flush_soon",
        "_resume",
        "connected_at",
        "group",
        "leaving",
        "paused_since",
        "peer_ip",
        "server",
        "session",
        "transport",
    )

    def __init__(self, server: PoolServer, peer_ip: str = "?") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer_ip = peer_ip
        self.connected_at = time.monotonic()
        self.group: ConnectionGroup = server.groups[""]
        self.session = ServerSession(server.config, book=self.group.book, now_s=self.connected_at)
        #: Asked to reconnect (hashrate rebalancing): no longer counted in its group's load.
        self.leaving = False
        self.paused_since: float | None = None
        self._backlog_paused = False
        self._resume: asyncio.Handle | None = None
        self._flush_soon = False

    # -- what the proxy and the tests read -------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.session.closed

    @property
    def working(self) -> bool:
        return self.session.working

    @property
    def subscription(self) -> Subscription | None:
        return self.session.subscription

    @property
    def authorized(self) -> set[str]:
        return self.session.authorized

    @property
    def wants_extranonce(self) -> bool:
        return self.session.wants_extranonce

    @property
    def accepted_work(self) -> float:
        return self.session.accepted_work

    # -- transport callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.peer_ip == "?":
            peer = transport.get_extra_info("peername")
            self.peer_ip = str(peer[0]) if isinstance(peer, tuple) else "?"
        cfg = self.server.config
        transport.set_write_buffer_limits(high=min(64 * 1024, cfg.max_write_buffer_bytes // 2))
        self.session.address_bucket = self.server._address_bucket(self.peer_ip)
        if not self.server._admit(self):
            self.session.close("connection limit", graceful=False)
            transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.session.closed:
            self.session.close("connection lost", graceful=False)
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        self.server._forget(self)

    def pause_writing(self) -> None:
        # The peer is not reading: stop reading its requests until it drains (slow-reader guard).
        self.paused_since = time.monotonic()
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused_since = None
        if self.transport is not None and not self.closed and not self._backlog_paused:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self._run(data)

    # -- driving the session ---------------------------------------------------------------

    def _run(self, data: bytes) -> None:
        if self.session.closed:
            return
        now = time.monotonic()
        self.dispatch(self.session.receive(data, now_s=now, unix_s=time.time()))
        self.flush()
        self._schedule_backlog(now)

    def _schedule_backlog(self, now_s: float) -> None:
        """Messages left after a turn: stop reading and come back after the others had theirs."""
        transport = self.transport
        if transport is None or self.session.closed:
            return
        if self.session.backlog:
            if not self._backlog_paused:
                self._backlog_paused = True
                transport.pause_reading()
            if self._resume is None:
                loop = asyncio.get_running_loop()
                wait = self.session.throttle_wait_s(now_s)
                self._resume = (
                    loop.call_later(wait, self._continue) if wait > 0 else loop.call_soon(self._continue)
                )
        elif self._backlog_paused:
            self._backlog_paused = False
            if self.paused_since is None:
                transport.resume_reading()

    def _continue(self) -> None:
        self._resume = None
        self._run(b"")

    def dispatch(self, events: list[ServerEvent]) -> None:
        """Answer the session's events (the pool-wide half of the protocol)."""
        for event in events:
            if isinstance(event, ShareAccepted):
                self.server._store_share(self, event)
            elif isinstance(event, ShareRejected):
                self.server._count_reject(event.code, event.user, event.worker)
            elif isinstance(event, SubscribeRequested):
                self.dispatch(self.server._subscribe(self, event.resume_id))
            elif isinstance(event, CloseConnection):
                self._close(event)

    def flush(self) -> None:
        data = self.session.data_to_send()
        transport = self.transport
        if not data or transport is None or transport.is_closing():
            return
        transport.write(data)
        if transport.get_write_buffer_size() > self.server.config.max_write_buffer_bytes:
            self.server.counters["slow_readers"] += 1
            self.drop("slow reader: write buffer over limit")

    def flush_soon(self) -> None:
        """Answers released by one share-log commit leave in one write per connection."""
        if not self._flush_soon:
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._flush_later)

    def _flush_later(self) -> None:
        self._flush_soon = False
        self.flush()
        if self.session.backlog and self._resume is None:
            self._schedule_backlog(time.monotonic())

    def send(self, data: bytes) -> None:
        self.session.send(data)
        self.flush()

    def drop(self, reason: str, *, graceful: bool = False) -> None:
        """Close this connection (a timer, a slow reader, a rebalance)."""
        self.dispatch(self.session.close(reason, graceful=graceful))

    def _close(self, event: CloseConnection) -> None:
        log.info("dropping %s: %s", self.peer_ip, event.reason)
        self.server.counters["dropped"] += 1
        transport = self.transport
        if transport is None:
            return
        if event.graceful:
            data = self.session.data_to_send()
            if data:
                with contextlib.suppress(Exception):
                    transport.write(data)
            transport.close()
        else:
            transport.abort()


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
        self.address_buckets: dict[str, TokenBucket] = {}
        self.counters: dict[str, int] = {
            "accepted": 0,
            "rejected": 0,
            "dropped": 0,
            "slow_readers": 0,
            "refused": 0,
            "accept_backoffs": 0,
            "unforwardable": 0,
        }
        self.rejected_by_code: dict[int, int] = {}
        self.workers = WorkerTable(max_workers=self.config.max_workers, ttl_s=self.config.worker_ttl_s)
        self.pool_meter = HashrateMeter()
        #: Bitcoin difficulty-1 units per unit of this coin's share difficulty (1 on SHA256d).
        self._work_scale = share_rules(self.config.coin).bitcoin_difficulty_per_difficulty
        #: Accepted-share latency, request parsed -> answer written (share log commit included) [s].
        self.ack_latency_s: deque[float] = deque(maxlen=200_000)
        self.blocks: list[BlockResult] = []
        #: Connections allowed at once: ``config.max_connections`` under the descriptor limit.
        self.max_connections = self.config.max_connections
        self._listener: socket.socket | None = None
        self._acceptor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._sessions: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, backlog: int = 4096) -> None:
        """Listen on ``host:port``; :class:`ListenError` if that address cannot be had."""
        loop = asyncio.get_running_loop()
        fd_limit = raise_fd_limit()
        self.max_connections = max(min(self.config.max_connections, fd_limit - FD_RESERVE), 1)
        self._listener = await self._listen(host, port, backlog)
        self.writer.start()
        bind = getattr(self.source, "bind", None)
        if callable(bind):
            bind(self)
        self.source.attach(self._on_job)
        try:
            await self.source.start()
        except BaseException:
            self._listener.close()
            raise
        self._acceptor = loop.create_task(self._accept_loop(self._listener))
        self._sweeper = loop.create_task(self._sweep())

    @staticmethod
    async def _listen(host: str, port: int, backlog: int) -> socket.socket:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except (OSError, UnicodeError) as exc:
            raise ListenError(host, port, f"cannot resolve the address ({exc})") from exc
        last: OSError | None = None
        for family, kind, proto, _name, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            return sock
        reason = last.strerror if last is not None and last.strerror else str(last)
        raise ListenError(host, port, reason or "no usable address")

    async def _accept_loop(self, listener: socket.socket) -> None:
        """Accept connections; on EMFILE and friends log once and back off instead of spinning.

        After each wake-up, up to ``ACCEPT_BATCH`` pending connections are taken without
        waiting again (as asyncio's own server does), so a burst of miners is cheap.
        """
        loop = asyncio.get_running_loop()
        backoff_s = 0.0
        while True:
            try:
                sock, address = await loop.sock_accept(listener)
                accepted = [(sock, address)]
                with contextlib.suppress(BlockingIOError, InterruptedError):
                    for _ in range(ACCEPT_BATCH):
                        sock, address = listener.accept()
                        accepted.append((sock, address))
            except OSError as exc:
                if exc.errno not in _ACCEPT_RESOURCE_ERRNOS:
                    log.warning("accept failed: %s", exc)
                    await asyncio.sleep(0.1)
                    continue
                self.counters["accept_backoffs"] += 1
                if backoff_s == 0.0:
                    log.warning(
                        "accept: out of descriptors (%s); backing off (%d connections)",
                        exc.strerror,
                        len(self.connections),
                    )
                backoff_s = min(max(backoff_s * 2, 0.05), 1.0)
                await asyncio.sleep(backoff_s)
                continue
            backoff_s = 0.0
            for sock, address in accepted:
                self._take(sock, address)

    def _take(self, sock: socket.socket, address: Any) -> None:
        peer_ip = str(address[0]) if isinstance(address, tuple) else "?"
        if not self._may_admit(peer_ip):
            self.counters["refused"] += 1
            sock.close()
            return
        sock.setblocking(False)
        _set_keepalive(sock, self.config.tcp_keepalive_s)
        task = asyncio.get_running_loop().create_task(self._connect(sock, peer_ip))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, sock: socket.socket, peer_ip: str) -> None:
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                functools.partial(StratumServerProtocol, self, peer_ip), sock
            )
        except OSError as exc:
            log.warning("could not set up a connection from %s: %s", peer_ip, exc)
            sock.close()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise StratumError("server not started")
        return int(self._listener.getsockname()[1])

    async def close(self) -> None:
        for task in (self._sweeper, self._acceptor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._listener is not None:
            self._listener.close()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        if self._tasks:
            # Connection and block tasks end once their transports are aborted; one that does
            # not (a peer stuck mid-handshake) is cancelled after a grace period, so close()
            # never hangs on a client.
            _done, pending = await asyncio.wait(set(self._tasks), timeout=CLOSE_GRACE_S)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("close: cancelled %d connection task(s) still running", len(pending))
                await asyncio.gather(*pending, return_exceptions=True)
        await self.source.stop()
        await self.writer.close()
        await asyncio.sleep(0)  # let the aborted transports report connection_lost

    async def __aenter__(self) -> PoolServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connections -----------------------------------------------------------------------

    def _may_admit(self, peer_ip: str) -> bool:
        return len(self.connections) < self.max_connections and (
            self.per_ip.get(peer_ip, 0) < self.config.max_connections_per_ip
        )

    def _admit(self, conn: StratumServerProtocol) -> bool:
        if not self._may_admit(conn.peer_ip):
            self.counters["refused"] += 1
            return False
        self.connections.add(conn)
        self.per_ip[conn.peer_ip] = self.per_ip.get(conn.peer_ip, 0) + 1
        return True

    def _address_bucket(self, peer_ip: str) -> TokenBucket:
        """The message budget every connection from one source address shares."""
        bucket = self.address_buckets.get(peer_ip)
        if bucket is None:
            cfg = self.config
            bucket = self.address_buckets[peer_ip] = TokenBucket(
                cfg.address_message_rate_per_s, cfg.address_message_burst, now_s=time.monotonic()
            )
        return bucket

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

    def _subscribe(self, conn: StratumServerProtocol, resume: str | None) -> list[ServerEvent]:
        self._join_group(conn, self._route())
        try:
            subscription = self._allocate_extranonce(conn.group, resume)
        except ExtranonceExhausted as exc:
            log.warning("%s", exc)
            return conn.session.subscribe_refused("Server full, try again later")
        conn.session.subscribed(subscription, conn.group.book)
        return []

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
            raise StratumError("a group needs at least one extranonce1 byte per connection")
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = ConnectionGroup(name, prefix, sub_size, extranonce2_size)
            return group
        if (group.prefix, group.sub_size, group.extranonce2_size) == (prefix, sub_size, extranonce2_size):
            return group
        group.prefix, group.sub_size, group.extranonce2_size = prefix, sub_size, extranonce2_size
        group.in_use.clear()
        group.book = JobBook()
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
        try:
            subscription = self._allocate_extranonce(group, None)
        except ExtranonceExhausted as exc:
            conn.drop(str(exc), graceful=True)
            return
        conn.session.rekey(subscription, group.book)
        conn.flush()

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
        raise ExtranonceExhausted(group.name)

    # -- jobs ------------------------------------------------------------------------------

    def _on_job(self, job: Job, group: str = "") -> None:
        """A new template: remember it and send it to every working connection of its group."""
        target = self.groups.get(group)
        if target is None:
            raise StratumError(f"job for unknown connection group {group!r}")
        target.book.add(job)
        line = target.book.notify_line(job, clean=job.clean_jobs)
        for conn in list(target.members):
            if conn.working and conn.group is target:
                conn.session.new_job(job, line)
                conn.flush()

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

    # -- shares ----------------------------------------------------------------------------

    def _store_share(self, conn: StratumServerProtocol, event: ShareAccepted) -> None:
        record, session, group_name = event.record, conn.session, conn.group.name
        sink = self.share_sink
        if sink is not None and not sink.accepting(group_name):
            # Nowhere to send it (no live upstream): refused, so the miner does not count on it.
            self.counters["unforwardable"] += 1
            if (
                self.counters["unforwardable"] in {1, 10, 100, 1000}
                or self.counters["unforwardable"] % 10_000 == 0
            ):
                log.warning("no live upstream: %d shares refused so far", self.counters["unforwardable"])
            session.share_stored(
                event.token,
                StratumError("no live upstream"),
                now_s=time.monotonic(),
                reason="No live upstream, wait",
            )
            self._count_reject(ErrorCode.OTHER, record.user, record.worker)
            conn.flush()
            return
        received = time.perf_counter()

        def done(error: BaseException | None) -> None:
            now = time.monotonic()
            if not session.share_stored(event.token, error, now_s=now):
                if error is not None:
                    log.error("share log write failed: %s", error)
                    self.counters["share_log_failures"] = self.counters.get("share_log_failures", 0) + 1
                    self._count_reject(ErrorCode.OTHER, record.user, record.worker)
                conn.flush_soon()
                return
            self._count_accept(record, now)
            session.accepted_work += record.difficulty
            conn.flush_soon()
            self.ack_latency_s.append(time.perf_counter() - received)
            # Only stored shares go upstream (a failed one will come back as a resend).
            if sink is not None:
                sink.on_share(record, event.job, group_name)

        self.writer.submit(record, done)
        if event.block is not None:
            self._block_found(event.block, event.job)
        if event.aux_block is not None:
            self._aux_block_found(event.aux_block, event.job)

    def _count_accept(self, record: ShareRecord, now_s: float) -> None:
        self.counters["accepted"] += 1
        stats = self.workers.touch(record.user, record.worker, now_s)
        stats.accepted += 1
        stats.accepted_work += record.difficulty
        work = record.difficulty * self._work_scale  # meters count Bitcoin difficulty-1 work
        stats.meter.add(now_s, work)
        self.pool_meter.add(now_s, work)

    def _count_reject(self, code: ErrorCode, user: str = "", worker: str = "") -> None:
        self.counters["rejected"] += 1
        self.rejected_by_code[int(code)] = self.rejected_by_code.get(int(code), 0) + 1
        if worker:
            self.workers.touch(user, worker, time.monotonic()).rejected += 1

    def _block_found(self, block: Block, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._submit_block(block, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _aux_block_found(self, block: AuxPowBlock, job: Job) -> None:
        sink = self.source
        if not hasattr(sink, "submit_aux_block"):
            log.warning("a share met a merged-mined target but the job source takes no such blocks")
            return
        task = asyncio.get_running_loop().create_task(
            self._submit_block(block.block, job, cast("AuxBlockSink", sink).submit_aux_block(block, job))
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _submit_block(
        self, block: Block, job: Job, submission: Awaitable[BlockResult] | None = None
    ) -> None:
        try:
            result = await (self.source.submit_block(block, job) if submission is None else submission)
        except HashwattError as exc:
            result = BlockResult(hash_to_hex(header_hash(block.header)), job.height, False, str(exc))
        self.blocks.append(result)
        log.info("block candidate %s: %s", result.block_hash_hex, result.message)
        if self.on_block is not None:
            self.on_block(result)

    # -- statistics ------------------------------------------------------------------------

    def user_hashrate_hs(self) -> dict[str, float]:
        """Per-user hashrate over the last 60 s [H/s]."""
        now = time.monotonic()
        out: dict[str, float] = {}
        for stats in self.workers.values():
            out[stats.user] = out.get(stats.user, 0.0) + stats.meter.hashrate_hs(now)
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
            workers=self.workers.top(now, self.config.stats_top_workers),
            workers_total=len(self.workers),
        )

    # -- housekeeping ----------------------------------------------------------------------

    async def _sweep(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.sweep_interval_s)
            now = time.monotonic()
            self.workers.prune(now)
            for ip in [ip for ip, b in self.address_buckets.items() if ip not in self.per_ip]:
                bucket = self.address_buckets[ip]
                if bucket.wait_s(now) == 0.0 and bucket.tokens >= bucket.burst:
                    del self.address_buckets[ip]
            for i, conn in enumerate(list(self.connections)):
                if i % 512 == 511:
                    await asyncio.sleep(0)  # long sweeps yield so share answers are not held up
                if conn.closed:
                    continue
                if conn.paused_since is not None and now - conn.paused_since > cfg.write_stall_timeout_s:
                    self.counters["slow_readers"] += 1
                    conn.drop("slow reader: not draining its replies")
                    continue
                conn.dispatch(conn.session.tick(now))
                conn.flush()
