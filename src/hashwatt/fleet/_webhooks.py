"""Alert webhooks: a bounded, persistent delivery queue with HMAC-SHA256 signatures and retries.

Deliveries are rows (``webhook_deliveries``), so a restart loses none; the queue is bounded
(the oldest pending rows are dropped, and counted, when it overflows). Each POST carries
``X-Hashwatt-Timestamp`` and ``X-Hashwatt-Signature: sha256=HEX``, the HMAC-SHA256 of
``TIMESTAMP.BODY`` under the receiver's secret, so a receiver can check origin and freshness.
Failures back off exponentially up to ``max_attempts``. URLs are never logged or stored in
errors: a webhook URL often carries a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from hashwatt.fleet._alerts import AlertChange, WebhookConfig
from hashwatt.fleet._models import webhook_deliveries
from hashwatt.fleet._store import to_ms
from hashwatt.fleet.errors import AlertConfigError

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryReport",
    "WebhookQueue",
    "WebhookTarget",
    "sign",
    "targets_from_config",
]

SIGNATURE_HEADER = "X-Hashwatt-Signature"
TIMESTAMP_HEADER = "X-Hashwatt-Timestamp"
_MAX_RESPONSE_BYTES = 4096


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + HMAC-SHA256(secret, timestamp + "." + body)."""
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    name: str
    url: str = field(repr=False)
    secret: bytes = field(repr=False)
    events: tuple[str, ...] = ("opened", "resolved")


def targets_from_config(
    webhooks: Sequence[WebhookConfig], env: Mapping[str, str] | None = None
) -> list[WebhookTarget]:
    """Resolve each webhook's secret from its environment variable (missing -> one-line error)."""
    env = os.environ if env is None else env
    out = []
    for w in webhooks:
        secret = env.get(w.secret_env)
        if not secret:
            raise AlertConfigError(
                f"webhook {w.name!r}: environment variable {w.secret_env} is not set",
                field=f"webhook.{w.name}.secret_env",
                value=w.secret_env,
            )
        out.append(WebhookTarget(w.name, w.url, secret.encode(), w.events))
    return out


#: Sends one POST: (url, body, headers, timeout_s) -> HTTP status. Raises OSError on failure.
Sender = Callable[[str, bytes, dict[str, str], float], int]


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(_MAX_RESPONSE_BYTES)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int
    retrying: int
    failed: int
    dropped: int = 0


class WebhookQueue:
    """The delivery queue over the fleet database; ``deliver_due`` is called by the agent."""

    def __init__(
        self,
        engine: Engine,
        targets: Sequence[WebhookTarget],
        *,
        max_pending: int = 10_000,
        max_attempts: int = 6,
        backoff_s: float = 10.0,
        timeout_s: float = 5.0,
        batch: int = 100,
        send: Sender = _post,
    ) -> None:
        self.engine = engine
        self.targets = {t.name: t for t in targets}
        self.max_pending = max_pending
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.batch = batch
        self._send = send

    def enqueue(self, changes: Sequence[AlertChange], *, now: dt.datetime) -> int:
        """Queue each change for each target that wants its event; returns rows dropped to
        keep the queue within ``max_pending``."""
        now_ms = to_ms(now)
        rows = [
            {
                "webhook": t.name,
                "alert_id": ch.alert_id,
                "event": ch.event,
                "payload": ch.payload(),
                "state": "pending",
                "attempts": 0,
                "next_attempt_ms": now_ms,
                "created_ms": now_ms,
            }
            for ch in changes
            for t in self.targets.values()
            if ch.event in t.events
        ]
        if not rows:
            return 0
        d = webhook_deliveries
        with self.engine.begin() as c:
            c.execute(insert(d), rows)
            pending = int(c.scalar(select(func.count()).select_from(d).where(d.c.state == "pending")) or 0)
            excess = pending - self.max_pending
            if excess <= 0:
                return 0
            oldest = select(d.c.id).where(d.c.state == "pending").order_by(d.c.id).limit(excess)
            ids = list(c.scalars(oldest))
            c.execute(update(d).where(d.c.id.in_(ids)).values(state="dropped", last_error="queue full"))
            return len(ids)

    def deliver_due(self, *, now: dt.datetime) -> DeliveryReport:
        """Send every pending delivery whose time has come (one batch); blocking I/O."""
        d = webhook_deliveries
        now_ms = to_ms(now)
        with self.engine.connect() as c:
            due = c.execute(
                select(d.c.id, d.c.webhook, d.c.payload, d.c.attempts)
                .where(d.c.state == "pending", d.c.next_attempt_ms <= now_ms)
                .order_by(d.c.id)
                .limit(self.batch)
            ).all()
        delivered = retrying = failed = 0
        for row in due:
            target = self.targets.get(row.webhook)
            attempts = row.attempts + 1
            status: int | None
            error: str | None
            if target is None:
                status, error = None, "no such webhook configured"
            else:
                body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()
                stamp = str(int(now.timestamp()))
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "hashwatt-fleet",
                    TIMESTAMP_HEADER: stamp,
                    SIGNATURE_HEADER: sign(target.secret, stamp, body),
                }
                try:
                    status = self._send(target.url, body, headers, self.timeout_s)
                    error = None if 200 <= status < 300 else f"HTTP {status}"
                except (OSError, ValueError) as exc:
                    status, error = None, _reason(exc)
            values: dict[str, object] = {"attempts": attempts, "last_status": status, "last_error": error}
            if error is None:
                values.update(state="delivered", delivered_ms=now_ms)
                delivered += 1
            elif attempts >= self.max_attempts or target is None:
                values.update(state="failed")
                failed += 1
            else:
                delay_s = self.backoff_s * 2 ** (attempts - 1)
                values.update(next_attempt_ms=now_ms + int(delay_s * 1000))
                retrying += 1
            with self.engine.begin() as c:
                c.execute(update(d).where(d.c.id == row.id).values(**values))
        return DeliveryReport(delivered, retrying, failed)

    def counts(self) -> dict[str, int]:
        d = webhook_deliveries
        with self.engine.connect() as c:
            return {
                r.state: int(r.n)
                for r in c.execute(select(d.c.state, func.count().label("n")).group_by(d.c.state))
            }


def _reason(exc: BaseException) -> str:
    """A failure without the URL: the exception type and, for socket errors, the errno text."""
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, OSError):
        exc = exc.reason
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"[:255]
    return type(exc).__name__
