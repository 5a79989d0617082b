"""The pool side of one Stratum V1 connection, sans-IO: bytes and time in, events and bytes out.

:class:`ServerSession` holds everything that belongs to one miner: the handshake state, its
authorized workers, vardiff, the targets it was sent per job, strikes, its message budget and
the order of its replies. It never touches a socket, a clock or the pool: the transport feeds
it ``receive(data, now_s=..., unix_s=...)``, writes ``data_to_send()``, and answers the
events it returns (:class:`SubscribeRequested` with an extranonce, :class:`ShareAccepted`
once the share log has it). The server-wide pieces (extranonce allocation, the share log,
statistics) stay in the asyncio layer.

Fairness lives here too: every message costs a token from the connection's bucket and its
address's bucket, an invalid share costs more, and one call handles at most
``turn_messages`` messages, leaving the rest buffered (``backlog``) for the transport to
resume after the other connections had their turn.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields

from hashwatt.chain import BTC, AuxPowBlock, Block, ChainParams
from hashwatt.stratum._codec import (
    BIP320_VERSION_MASK,
    Subscription,
    configure_result,
    negotiate_version_mask,
    parse_configure,
    parse_difficulty,
    parse_submit,
    subscribe_result,
)
from hashwatt.stratum._coin import share_rules
from hashwatt.stratum._flow import ReplyQueue, TokenBucket
from hashwatt.stratum._shares import JobBook, Rejected, ShareRecord, VarDiff, validate_share
from hashwatt.stratum._wire import (
    MAX_LINE_BYTES,
    JsonId,
    LineBuffer,
    Request,
    encode_error,
    encode_request,
    encode_result,
    parse_message,
)
from hashwatt.stratum.errors import ErrorCode, PoolConfigError, ProtocolViolation
from hashwatt.work import Job

#: The hardest share difficulty a pool hands out by default (2**72 hashes a share): above it a
#: share target is smaller than any ASIC fleet meets in a day.
MAX_SHARE_DIFFICULTY = 2.0**40


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Server limits and difficulty policy. Times in seconds, sizes in bytes, rates per second.

    Limits per connection: ``max_line_bytes``, ``message_rate_per_s``/``message_burst``,
    ``max_violations``, ``max_rejects_in_row``, ``max_workers_per_connection``,
    ``handshake_timeout_s``, ``idle_timeout_s`` (complete messages, not bytes),
    ``max_write_buffer_bytes``, ``write_stall_timeout_s``, ``flood_grace_s``. Per source
    address: ``max_connections_per_ip``, ``address_message_rate_per_s``/``address_message_burst``.
    Global: ``max_connections`` (kept under the descriptor limit), ``max_workers`` and
    ``worker_ttl_s``. Difficulty never goes below ``min_difficulty`` (the floor a miner
    cannot talk its way under). ``coin`` sets the share hash and the difficulty convention
    (:func:`hashwatt.stratum.share_rules`: scrypt difficulty 1 is 65,536 x easier).
    """

    extranonce1_size: int = 4
    extranonce2_size: int = 4
    extranonce1_prefix: bytes = b""
    start_difficulty: float = 1.0
    min_difficulty: float = 1.0
    max_difficulty: float = MAX_SHARE_DIFFICULTY
    target_share_interval_s: float = 10.0
    retarget_interval_s: float = 60.0
    vardiff: bool = True
    version_mask: int = BIP320_VERSION_MASK
    max_line_bytes: int = MAX_LINE_BYTES
    max_connections: int = 50_000
    max_connections_per_ip: int = 1024
    handshake_timeout_s: float = 60.0
    idle_timeout_s: float = 600.0
    max_write_buffer_bytes: int = 1 << 20
    write_stall_timeout_s: float = 30.0
    max_violations: int = 5
    max_rejects_in_row: int = 500
    sweep_interval_s: float = 1.0
    require_password: str | None = None
    share_log_max_batch: int = 2048
    message_rate_per_s: float = 100.0
    message_burst: float = 1000.0
    address_message_rate_per_s: float = 2000.0
    address_message_burst: float = 20_000.0
    invalid_share_cost: float = 4.0
    turn_messages: int = 32
    flood_grace_s: float = 10.0
    max_workers_per_connection: int = 32
    max_workers: int = 50_000
    worker_ttl_s: float = 3600.0
    stats_top_workers: int = 20
    tcp_keepalive_s: int = 60
    coin: ChainParams = BTC

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not (math.isfinite(value) and value > 0):
                raise PoolConfigError(f.name, f"must be a finite positive number, got {value!r}", value=value)
        if self.min_difficulty > self.max_difficulty:
            raise PoolConfigError("min_difficulty", "is above max_difficulty", value=self.min_difficulty)
        if self.start_difficulty < self.min_difficulty:
            raise PoolConfigError(
                "start_difficulty",
                f"{self.start_difficulty:g} is below the difficulty floor {self.min_difficulty:g}",
                value=self.start_difficulty,
            )
        if self.turn_messages < 1 or self.max_violations < 1 or self.max_workers < 1:
            raise PoolConfigError("limits", "turn_messages, max_violations and max_workers must be >= 1")


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscribeRequested:
    """The miner subscribed: answer with :meth:`ServerSession.subscribed` (or ``subscribe_refused``).

    The session handles nothing more from this miner until then.
    """

    resume_id: str | None


@dataclass(frozen=True, slots=True)
class ShareAccepted:
    """A valid share: store it, then call :meth:`ServerSession.share_stored` with ``token``
    (``block``/``aux_block``: it is also a block of the coin / of the merged-mined child)."""

    token: int
    record: ShareRecord
    job: Job
    block: Block | None
    aux_block: AuxPowBlock | None = None


@dataclass(frozen=True, slots=True)
class ShareRejected:
    """An invalid share (already answered); ``worker`` is empty when nobody was authorized."""

    user: str
    worker: str
    code: ErrorCode


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """Close after writing what is pending (``graceful``) or at once; ``reason`` for the log."""

    reason: str
    graceful: bool = True


ServerEvent = SubscribeRequested | ShareAccepted | ShareRejected | CloseConnection

#: Methods answered although they came as notifications (``id: null``) from real miners.
_NOTIFICATION_OK = frozenset(
    {
        "mining.suggest_difficulty",
        "mining.suggest_target",
        "mining.extranonce.subscribe",
        "mining.multi_version",
    }
)


@dataclass(slots=True)
class _PendingShare:
    slot: list[bytes | None]
    msg_id: JsonId
    book: JobBook
    digest: bytes


class ServerSession:
    """One miner connection's protocol state; per-job state lives in the :class:`JobBook`."""

    __slots__ = (
        "_awaiting_subscribe",
        "_backlog",
        "_lines",
        "_next_token",
        "_pending",
        "_replies",
        "_subscribing",
        "_target",
        "accepted_work",
        "address_bucket",
        "authorized",
        "book",
        "bucket",
        "close_reason",
        "closed",
        "config",
        "connected_s",
        "job_targets",
        "job_views",
        "last_message_s",
        "rejects_in_row",
        "rules",
        "sent_difficulty",
        "subscription",
        "throttled_since_s",
        "user",
        "vardiff",
        "version_mask",
        "violations",
        "wants_extranonce",
    )

    def __init__(
        self,
        config: PoolConfig,
        *,
        book: JobBook,
        now_s: float,
        address_bucket: TokenBucket | None = None,
    ) -> None:
        cfg = self.config = config
        self.book = book
        self.rules = share_rules(cfg.coin)
        self.connected_s = now_s
        self.last_message_s = now_s
        self.subscription: Subscription | None = None
        self.authorized: set[str] = set()
        self.user = ""
        self.version_mask = 0
        self.wants_extranonce = False
        self.vardiff = VarDiff(
            start_difficulty=cfg.start_difficulty,
            min_difficulty=cfg.min_difficulty,
            max_difficulty=cfg.max_difficulty,
            target_interval_s=cfg.target_share_interval_s,
            retarget_interval_s=cfg.retarget_interval_s,
            now_s=now_s,
        )
        self.sent_difficulty: float | None = None
        self.job_targets: dict[str, int] = {}
        self.job_views: dict[tuple[str, bytes, int], tuple[Job, int]] = {}
        self.violations = 0
        self.rejects_in_row = 0
        #: Accepted work since connecting [difficulty-1 shares].
        self.accepted_work = 0.0
        self.closed = False
        self.close_reason = ""
        self.bucket = TokenBucket(cfg.message_rate_per_s, cfg.message_burst, now_s=now_s)
        self.address_bucket = address_bucket
        #: Since when the budget has been spent with messages still waiting (None: not throttled).
        self.throttled_since_s: float | None = None
        self._lines = LineBuffer(cfg.max_line_bytes)
        self._backlog: deque[bytes] | None = None  # made when a turn leaves messages over
        self._replies = ReplyQueue()
        self._pending: dict[int, _PendingShare] = {}
        self._next_token = 0
        self._subscribing: JsonId | None = None
        self._target: tuple[float, int] = (0.0, 0)
        self._awaiting_subscribe = False

    # -- state -----------------------------------------------------------------------------

    @property
    def working(self) -> bool:
        """Subscribed and authorized: it gets difficulty and jobs."""
        return self.subscription is not None and bool(self.authorized) and not self.closed

    @property
    def backlog(self) -> int:
        """Complete messages received but not handled yet (budget spent or turn over) [messages]."""
        return len(self._backlog) if self._backlog is not None else 0

    def throttle_wait_s(self, now_s: float) -> float:
        """Seconds until the budget allows the next message (0 when it does now) [s]."""
        wait = self.bucket.wait_s(now_s)
        if self.address_bucket is not None:
            wait = max(wait, self.address_bucket.wait_s(now_s))
        return wait

    # -- input -----------------------------------------------------------------------------

    def receive(self, data: bytes, *, now_s: float, unix_s: float) -> list[ServerEvent]:
        """Feed bytes from the socket (``b""`` to resume a backlog) and handle up to one turn of messages.

        ``now_s`` is a monotonic clock (timers, budgets, vardiff), ``unix_s`` the wall clock
        (ntime checks, share records).
        """
        events: list[ServerEvent] = []
        if self.closed:
            return events
        if data:
            try:
                lines = self._lines.feed(data)
            except ProtocolViolation as exc:
                self._close(events, str(exc), reply=encode_error(None, exc.code, str(exc)))
                return events
            if self._backlog is None:
                self._backlog = deque(lines)
            else:
                self._backlog.extend(lines)
        backlog = self._backlog
        if backlog is None:
            return events
        handled = 0
        while backlog and not self.closed and not self._awaiting_subscribe:
            if handled >= self.config.turn_messages:
                break
            if not self._budget_left(now_s):
                if self.throttled_since_s is None:
                    self.throttled_since_s = now_s
                elif now_s - self.throttled_since_s > self.config.flood_grace_s:
                    self._close(events, "message flood: over its message budget", graceful=False)
                break
            line = backlog.popleft()
            handled += 1
            self._spend(now_s, 1.0)
            self.last_message_s = now_s
            self._handle_line(line, events, now_s, unix_s)
        if not backlog:
            self.throttled_since_s = None
            self._backlog = None
        return events

    def _budget_left(self, now_s: float) -> bool:
        if not self.bucket.available(now_s):
            return False
        return self.address_bucket is None or self.address_bucket.available(now_s)

    def _spend(self, now_s: float, cost: float) -> None:
        self.bucket.spend(now_s, cost)
        if self.address_bucket is not None:
            self.address_bucket.spend(now_s, cost)

    def _handle_line(self, line: bytes, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        try:
            message = parse_message(line)
        except ProtocolViolation as exc:
            self._violation(events, None, str(exc), code=exc.code)
            return
        if not isinstance(message, Request):
            # We send no requests that expect an answer: a response is noise to be budgeted.
            self._violation(events, None, "unexpected response message", answer=False)
            return
        handler = _HANDLERS.get(message.method)
        if handler is None:
            self._violation(
                events, message.id, f"Unknown method {message.method[:64]!r}", answer=message.id is not None
            )
            return
        if message.id is None and message.method not in _NOTIFICATION_OK:
            self._violation(events, None, f"{message.method} needs an id", answer=False)
            return
        try:
            handler(self, message, events, now_s, unix_s)
        except ProtocolViolation as exc:
            self._violation(events, message.id, f"Invalid params: {exc}", code=exc.code)

    # -- output ----------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Bytes the transport should write now (in request order)."""
        return self._replies.take()

    def send(self, data: bytes) -> None:
        """Queue a line for the miner behind any answer still waiting for the share log."""
        if not self.closed:
            self._replies.send(data)

    def _close(
        self, events: list[ServerEvent], reason: str, *, reply: bytes | None = None, graceful: bool = True
    ) -> None:
        if self.closed:
            return
        if reply is not None:
            self._replies.send(reply)
        self.closed = True
        self.close_reason = reason
        events.append(CloseConnection(reason, graceful))

    def close(self, reason: str, *, graceful: bool = True) -> list[ServerEvent]:
        """Ask for this connection to close (a timer, a slow reader, a rebalance)."""
        events: list[ServerEvent] = []
        self._close(events, reason, graceful=graceful)
        return events

    def _violation(
        self,
        events: list[ServerEvent],
        msg_id: JsonId,
        reason: str,
        *,
        code: ErrorCode = ErrorCode.OTHER,
        answer: bool = True,
    ) -> None:
        """A protocol strike: answered with its Stratum code when the message can be answered."""
        self.violations += 1
        if answer:
            self.send(encode_error(msg_id, code, reason))
        if self.violations >= self.config.max_violations:
            self._close(events, f"too many protocol violations ({reason})")

    # -- handlers --------------------------------------------------------------------------

    def _on_subscribe(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        if self.subscription is not None:
            self.send(encode_result(req.id, subscribe_result(self.subscription)))
            return
        resume = req.params[1] if len(req.params) > 1 and isinstance(req.params[1], str) else None
        self._awaiting_subscribe = True
        self._subscribing = req.id
        events.append(SubscribeRequested(resume[:64] if resume is not None else None))

    def subscribed(self, subscription: Subscription, book: JobBook) -> None:
        """The pool's answer to :class:`SubscribeRequested`: this miner's extranonce and job stream."""
        self._awaiting_subscribe = False
        self.subscription = subscription
        self.book = book
        self.send(encode_result(self._subscribing, subscribe_result(subscription)))
        if self.authorized:
            self._start_work()

    def subscribe_refused(self, reason: str) -> list[ServerEvent]:
        """The pool cannot take this miner (server full): answered and closed, no strike."""
        self._awaiting_subscribe = False
        events: list[ServerEvent] = []
        self._close(events, reason, reply=encode_error(self._subscribing, ErrorCode.OTHER, reason))
        return events

    def _on_authorize(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        if not req.params or not isinstance(req.params[0], str) or not req.params[0]:
            raise ProtocolViolation("mining.authorize needs [username, password]")
        name = req.params[0][:128]
        password = req.params[1] if len(req.params) > 1 else None
        if self.config.require_password is not None and password != self.config.require_password:
            self.send(encode_error(req.id, ErrorCode.UNAUTHORIZED, "Unauthorized worker"))
            return
        if name not in self.authorized and len(self.authorized) >= self.config.max_workers_per_connection:
            self.send(encode_error(req.id, ErrorCode.UNAUTHORIZED, "Too many workers on one connection"))
            return
        first = not self.authorized
        self.authorized.add(name)
        if first:
            self.user = name.split(".", 1)[0]
        self.send(encode_result(req.id, True))
        if first and self.subscription is not None:
            self._start_work()

    def _on_configure(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        request = parse_configure(req.params)
        granted = negotiate_version_mask(request, self.config.version_mask)
        self.version_mask = granted or 0
        self.send(encode_result(req.id, configure_result(request, granted)))

    def _on_extranonce_subscribe(
        self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float
    ) -> None:
        self.wants_extranonce = True
        if req.id is not None:
            self.send(encode_result(req.id, True))

    def _on_suggest_difficulty(
        self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float
    ) -> None:
        self.vardiff.suggest(parse_difficulty(req.params))  # clamped to [floor, max]
        if req.id is not None:
            self.send(encode_result(req.id, True))
        if self.working:
            self.send_difficulty()

    def _on_true(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        if req.id is not None:
            self.send(encode_result(req.id, True))

    def _on_ping(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        self.send(encode_result(req.id, "pong"))

    def _on_get_transactions(
        self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float
    ) -> None:
        self.send(encode_result(req.id, []))

    def _reject(
        self, events: list[ServerEvent], req: Request, worker: str, code: ErrorCode, reason: str
    ) -> None:
        self.send(encode_error(req.id, code, reason))
        events.append(ShareRejected(self.user if worker else "", worker, code))

    def _on_submit(self, req: Request, events: list[ServerEvent], now_s: float, unix_s: float) -> None:
        if self.subscription is None:
            self._reject(events, req, "", ErrorCode.NOT_SUBSCRIBED, "Not subscribed")
            return
        submit = parse_submit(req.params)
        if submit.worker not in self.authorized:
            self._reject(events, req, "", ErrorCode.UNAUTHORIZED, "Unauthorized worker")
            return
        current = self.share_target()
        job_target = self.job_targets.get(submit.job_id, current)
        easier = max(current, job_target)
        outcome = validate_share(
            self.book,
            submit,
            user=self.user,
            extranonce1=self.subscription.extranonce1,
            version_mask=self.version_mask,
            share_target=easier,
            now_unix_s=unix_s,
            views=self.job_views,
            rules=self.rules,
        )
        if isinstance(outcome, Rejected):
            self._reject(events, req, submit.worker, outcome.code, outcome.reason)
            self._spend(now_s, self.config.invalid_share_cost)  # junk costs more of the budget
            self.rejects_in_row += 1
            if self.rejects_in_row >= self.config.max_rejects_in_row:
                self._close(events, "too many rejected shares in a row")
            return
        self.rejects_in_row = 0
        record = outcome.record
        harder = min(current, job_target)
        if harder != easier and int(record.share_hash_hex, 16) <= harder:
            record = dataclasses.replace(record, difficulty=self.rules.difficulty(harder))
        job = self.book.get(submit.job_id)
        assert job is not None  # validate_share found it
        self._next_token += 1
        token = self._next_token
        self._pending[token] = _PendingShare(self._replies.reserve(), req.id, self.book, outcome.digest)
        events.append(ShareAccepted(token, record, job, outcome.block, outcome.aux_block))

    def share_stored(
        self, token: int, error: BaseException | None, *, now_s: float, reason: str = "Share log unavailable"
    ) -> bool:
        """The share log answered for share ``token``: release its answer; True when it was stored.

        A share that could not be stored (``error``) is refused with 20 and ``reason`` and
        forgotten by the duplicate check, so the miner's resend is judged afresh.
        """
        pending = self._pending.pop(token, None)
        if pending is None:
            return False
        if error is not None:
            pending.book.forget_seen(pending.digest)
            self._replies.fill(pending.slot, encode_error(pending.msg_id, ErrorCode.OTHER, reason))
            return False
        self._replies.fill(pending.slot, encode_result(pending.msg_id, True))
        if self.config.vardiff and not self.closed and self.vardiff.on_share(now_s) is not None:
            self.send_difficulty()
            self.resend_latest()
        return True

    # -- work ------------------------------------------------------------------------------

    def send_difficulty(self) -> None:
        difficulty = self.vardiff.difficulty
        if difficulty != self.sent_difficulty:
            self.sent_difficulty = difficulty
            self.send(encode_request(None, "mining.set_difficulty", [difficulty]))

    def _start_work(self) -> None:
        self.send_difficulty()
        job = self.book.latest
        if job is not None:
            self.send_job(job, self.book.notify_line(job, clean=True))

    def new_job(self, job: Job, line: bytes) -> None:
        """A template broadcast to this miner's group (``line`` is its shared notify)."""
        if self.working:
            self.send_difficulty()
            self.send_job(job, line)

    def resend_latest(self) -> None:
        """Re-send the latest job (after a difficulty change, so the miner restarts on it)."""
        job = self.book.latest
        if job is not None and self.working:
            self.send_job(job, self.book.notify_line(job, clean=job.clean_jobs))

    def share_target(self) -> int:
        """The target of the current difficulty (remembered: it is needed for every share)."""
        difficulty = self.vardiff.difficulty
        if self._target[0] != difficulty:
            self._target = (difficulty, self.rules.target(difficulty))
        return self._target[1]

    def send_job(self, job: Job, line: bytes) -> None:
        target = self.share_target()
        # A job re-sent after a difficulty change keeps accepting shares at the old (easier)
        # target too: they were in flight when the change was sent.
        self.job_targets[job.job_id] = max(target, self.job_targets.get(job.job_id, 0))
        while len(self.job_targets) > self.book.max_jobs:
            del self.job_targets[next(iter(self.job_targets))]
        self.send(line)

    def rekey(self, subscription: Subscription, book: JobBook) -> None:
        """New extranonce and job stream (mining.set_extranonce, then a clean job)."""
        self.subscription = subscription
        self.book = book
        self.job_targets.clear()
        self.send(
            encode_request(
                None, "mining.set_extranonce", [subscription.extranonce1.hex(), subscription.extranonce2_size]
            )
        )
        job = book.latest
        if job is not None and self.working:
            self.send_job(job, book.notify_line(job, clean=True))

    def tick(self, now_s: float) -> list[ServerEvent]:
        """Timers: handshake and idle timeouts (complete messages count, bytes do not), vardiff."""
        events: list[ServerEvent] = []
        if self.closed:
            return events
        cfg = self.config
        if not self.working and now_s - self.connected_s > cfg.handshake_timeout_s:
            self._close(events, "handshake timeout", graceful=False)
        elif now_s - self.last_message_s > cfg.idle_timeout_s:
            self._close(events, "idle timeout", graceful=False)
        elif cfg.vardiff and self.working and self.vardiff.retarget(now_s) is not None:
            self.send_difficulty()
            self.resend_latest()
        return events


_Handler = Callable[[ServerSession, Request, list[ServerEvent], float, float], None]

#: The protocol's methods and their handlers (the state machine as a table).
_HANDLERS: dict[str, _Handler] = {
    "mining.subscribe": ServerSession._on_subscribe,
    "mining.authorize": ServerSession._on_authorize,
    "mining.configure": ServerSession._on_configure,
    "mining.submit": ServerSession._on_submit,
    "mining.extranonce.subscribe": ServerSession._on_extranonce_subscribe,
    "mining.suggest_difficulty": ServerSession._on_suggest_difficulty,
    "mining.suggest_target": ServerSession._on_true,
    "mining.ping": ServerSession._on_ping,
    "mining.get_transactions": ServerSession._on_get_transactions,
    "mining.multi_version": ServerSession._on_true,
}
