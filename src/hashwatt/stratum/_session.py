"""The miner side of Stratum V1, sans-IO: feed it bytes, get events and bytes to send.

Handles mining.configure (BIP 310), subscribe (with session resume), authorize,
set_difficulty, notify (clean_jobs), set_extranonce, extranonce.subscribe, submit answers,
client.reconnect, client.show_message, client.get_version and mining.ping.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

from hashwatt.stratum._codec import (
    BIP320_VERSION_MASK,
    Subscription,
    configure_params,
    job_from_notify,
    parse_configure_result,
    parse_difficulty,
    parse_set_extranonce,
    parse_subscribe_result,
    submit_params,
    u32_from_hex,
)
from hashwatt.stratum._coin import BITCOIN_SHARES, ShareRules
from hashwatt.stratum._wire import MessageReader, Request, Response, encode_request, encode_result
from hashwatt.stratum.errors import ProtocolViolation, RemoteError
from hashwatt.work import Job, Solution

CLIENT_VERSION = "hashwatt/0.1"


@dataclass(frozen=True, slots=True)
class Subscribed:
    subscription: Subscription


@dataclass(frozen=True, slots=True)
class Authorized:
    ok: bool
    error: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class NewJob:
    """Work to mine: a fresh notify, or the current job re-issued after a difficulty,
    extranonce or mask change (``clean`` when older work must be abandoned)."""

    job: Job
    clean: bool


@dataclass(frozen=True, slots=True)
class DifficultyChanged:
    difficulty: float


@dataclass(frozen=True, slots=True)
class ShareResult:
    request_id: int
    solution: Solution
    accepted: bool
    error: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class ReconnectRequested:
    host: str | None
    port: int | None
    wait_s: float


@dataclass(frozen=True, slots=True)
class ServerMessage:
    text: str


Event = (
    Subscribed | Authorized | NewJob | DifficultyChanged | ShareResult | ReconnectRequested | ServerMessage
)


class ClientSession:
    """One Stratum session. ``outbox`` collects the bytes to write after each call; ``rules``
    (the coin's share convention) turn ``mining.set_difficulty`` into the jobs' share target
    and give the jobs their proof-of-work hash."""

    def __init__(
        self,
        *,
        user: str,
        password: str = "x",
        agent: str = CLIENT_VERSION,
        version_mask: int | None = BIP320_VERSION_MASK,
        resume_session_id: str | None = None,
        extranonce_subscribe: bool = True,
        initial_difficulty: float = 1.0,
        rules: ShareRules = BITCOIN_SHARES,
    ) -> None:
        self.rules = rules
        self.user = user
        self.password = password
        self.agent = agent
        self.requested_mask = version_mask
        self.resume_session_id = resume_session_id
        self.extranonce_subscribe = extranonce_subscribe
        self.reader = MessageReader()
        self.outbox: list[bytes] = []
        self.subscription: Subscription | None = None
        self.authorized = False
        self.difficulty = initial_difficulty
        self.version_mask = 0
        self.jobs: dict[str, Job] = {}
        self.current: Job | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[str, Any]] = {}
        self._notify_before_subscribe: list[list[Any]] = []

    # -- outgoing --------------------------------------------------------------------------

    def _request(self, method: str, params: list[Any], context: Any = None) -> int:
        msg_id = next(self._ids)
        self._pending[msg_id] = (method, context)
        self.outbox.append(encode_request(msg_id, method, params))
        return msg_id

    def start(self) -> None:
        """Queue the handshake: configure (if rolling), subscribe, authorize."""
        if self.requested_mask:
            self._request("mining.configure", configure_params(self.requested_mask, 2))
        params = [self.agent] + ([self.resume_session_id] if self.resume_session_id else [])
        self._request("mining.subscribe", params)
        self._request("mining.authorize", [self.user, self.password])

    def submit(self, solution: Solution) -> int:
        """Queue a mining.submit; the answer comes back as a :class:`ShareResult`."""
        return self._request(
            "mining.submit", submit_params(self.user, solution, version_mask=self.version_mask), solution
        )

    def pending_submits(self) -> list[Solution]:
        return [ctx for method, ctx in self._pending.values() if method == "mining.submit"]

    def take_outbox(self) -> bytes:
        data = b"".join(self.outbox)
        self.outbox.clear()
        return data

    # -- incoming --------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Process bytes from the pool; raises :class:`ProtocolViolation` on garbage lines."""
        events: list[Event] = []
        for message in self.reader.feed(data):
            if isinstance(message, ProtocolViolation):
                raise message
            if isinstance(message, Response):
                events.extend(self._on_response(message))
            else:
                events.extend(self._on_request(message))
        return events

    def _make_job(self, params: list[Any]) -> Job:
        assert self.subscription is not None
        return job_from_notify(
            params,
            extranonce1=self.subscription.extranonce1,
            extranonce2_size=self.subscription.extranonce2_size,
            share_target=self.rules.target(self.difficulty),
            version_mask=self.version_mask,
            pow_algorithm=self.rules.pow_algorithm,
        )

    def _reissue(self, *, clean: bool) -> list[Event]:
        if self.current is None or self.subscription is None:
            return []
        job = dataclasses.replace(
            self.current,
            extranonce1=self.subscription.extranonce1,
            extranonce2_size=self.subscription.extranonce2_size,
            share_target=self.rules.target(self.difficulty),
            version_mask=self.version_mask,
        )
        self.current = job
        self.jobs[job.job_id] = job
        return [NewJob(job, clean)]

    def _on_response(self, msg: Response) -> list[Event]:
        if not isinstance(msg.id, int) or msg.id not in self._pending:
            return []
        method, context = self._pending.pop(msg.id)
        if method == "mining.configure":
            self.version_mask = parse_configure_result(msg.result) if msg.error is None else 0
            return []
        if method == "mining.subscribe":
            if msg.error is not None:
                raise RemoteError(*msg.error)
            self.subscription = parse_subscribe_result(msg.result)
            if self.extranonce_subscribe:
                self._request("mining.extranonce.subscribe", [])
            events: list[Event] = [Subscribed(self.subscription)]
            for params in self._notify_before_subscribe:
                events.extend(self._notify(params))
            self._notify_before_subscribe.clear()
            return events
        if method == "mining.authorize":
            self.authorized = msg.error is None and bool(msg.result)
            return [Authorized(self.authorized, msg.error)]
        if method == "mining.submit":
            accepted = msg.error is None and bool(msg.result)
            return [ShareResult(msg.id, context, accepted, msg.error)]
        return []  # extranonce.subscribe and friends: nothing to do either way

    def _notify(self, params: list[Any]) -> list[Event]:
        if self.subscription is None:
            self._notify_before_subscribe.append(params)
            return []
        job = self._make_job(params)
        if job.clean_jobs:
            self.jobs.clear()
        self.jobs[job.job_id] = job
        self.current = job
        return [NewJob(job, job.clean_jobs)]

    def _on_request(self, msg: Request) -> list[Event]:
        method, params = msg.method, msg.params
        if method == "mining.notify":
            return self._notify(params)
        if method == "mining.set_difficulty":
            self.difficulty = parse_difficulty(params)
            return [DifficultyChanged(self.difficulty), *self._reissue(clean=False)]
        if method == "mining.set_extranonce":
            self.subscription = parse_set_extranonce(params)
            return self._reissue(clean=True)
        if method == "mining.set_version_mask":
            self.version_mask = u32_from_hex(params[0] if params else "0", "version mask")
            return self._reissue(clean=False)
        if method == "client.reconnect":
            host = params[0] if params and isinstance(params[0], str) and params[0] else None
            port = None
            if len(params) > 1 and str(params[1]).isdigit():
                port = int(params[1])
            wait = float(params[2]) if len(params) > 2 and isinstance(params[2], int | float) else 0.0
            return [ReconnectRequested(host, port, min(max(wait, 0.0), 3600.0))]
        if method == "client.show_message":
            return [ServerMessage(str(params[0]) if params else "")]
        if method == "client.get_version":
            self.outbox.append(encode_result(msg.id, self.agent))
            return []
        if method == "mining.ping":
            if msg.id is not None:
                self.outbox.append(encode_result(msg.id, "pong"))
            return []
        return []
