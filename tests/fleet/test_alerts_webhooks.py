"""Webhook delivery to a real HTTP receiver on loopback: signed, retried, bounded, no URL leaks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from hashwatt.fleet._alerts import AlertChange, AlertRule, WebhookConfig, evaluate_alerts
from hashwatt.fleet._models import webhook_deliveries
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet._webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookQueue,
    WebhookTarget,
    targets_from_config,
)
from hashwatt.fleet.errors import AlertConfigError
from tests.fleet._readings import T0, ok

SECRET = b"whsec-test-7f3a"


class Receiver(http.server.ThreadingHTTPServer):
    """Answers 500 to the first ``fail_first`` requests, then 204; keeps what it got."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length", "0")), 65536)
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.got.append((dict(self.headers.items()), body))
            failing = len(self.server.got) <= self.server.fail_first
        self.send_response(500 if failing else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    server = Receiver(getattr(request, "param", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _changes(store: FleetStore, n: int) -> list[AlertChange]:
    """n real alerts: n devices report a hot chip and the rules open one alert each."""
    store.record("s", [ok(i, T0, chip_c=97.0) for i in range(n)])
    changes = evaluate_alerts(store, "s", now=T0)
    assert [c.rule for c in changes] == [AlertRule.CHIP_TEMP] * n
    return changes


def _url(r: Receiver, path: str = "/hook/tok-SECRETPATH") -> str:
    return f"http://127.0.0.1:{r.server_address[1]}{path}"


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_signed_delivery_retried_until_the_receiver_accepts(store_url: str, receiver: Receiver) -> None:
    with FleetStore.open(store_url) as store:
        queue = WebhookQueue(store.engine, [WebhookTarget("ops", _url(receiver), SECRET)], backoff_s=10.0)
        (change,) = _changes(store, 1)
        assert queue.enqueue([change], now=T0) == 0
        assert queue.deliver_due(now=T0).retrying == 1  # 500
        assert queue.deliver_due(now=T0 + dt.timedelta(seconds=5)).retrying == 0  # not due yet (10 s backoff)
        assert queue.deliver_due(now=T0 + dt.timedelta(seconds=10)).retrying == 1  # 500 again, now 20 s
        assert queue.deliver_due(now=T0 + dt.timedelta(seconds=29)).delivered == 0
        assert queue.deliver_due(now=T0 + dt.timedelta(seconds=30)).delivered == 1
        assert queue.counts() == {"delivered": 1}
        assert len(receiver.got) == 3
        headers, body = receiver.got[-1]
        stamp = headers[TIMESTAMP_HEADER]
        expected = hmac.new(SECRET, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
        assert json.loads(body) == change.payload()
        assert queue.deliver_due(now=T0 + dt.timedelta(hours=1)).delivered == 0  # nothing sent twice


@pytest.mark.parametrize("receiver", [100], indirect=True)
def test_gives_up_after_max_attempts_and_keeps_no_url(store_url: str, receiver: Receiver) -> None:
    with FleetStore.open(store_url) as store:
        dead = WebhookTarget("dead", "http://127.0.0.1:1/hook/tok-SECRETPATH", SECRET)
        queue = WebhookQueue(
            store.engine, [WebhookTarget("ops", _url(receiver), SECRET), dead], max_attempts=3, backoff_s=1.0
        )
        queue.enqueue(_changes(store, 1), now=T0)
        t = T0
        for _ in range(5):
            queue.deliver_due(now=t)
            t += dt.timedelta(seconds=10)
        assert queue.counts() == {"failed": 2}
        assert len(receiver.got) == 3
        with store.engine.connect() as c:
            errors = [r.last_error for r in c.execute(webhook_deliveries.select())]
        assert "HTTP 500" in errors
        assert all("SECRETPATH" not in e and "127.0.0.1" not in e for e in errors)


def test_queue_is_bounded_dropping_the_oldest(store_url: str, receiver: Receiver) -> None:
    with FleetStore.open(store_url) as store:
        queue = WebhookQueue(store.engine, [WebhookTarget("ops", _url(receiver), SECRET)], max_pending=5)
        changes = _changes(store, 8)
        assert queue.enqueue(changes, now=T0) == 3
        assert queue.counts() == {"pending": 5, "dropped": 3}
        assert queue.deliver_due(now=T0).delivered == 5
        assert sorted(json.loads(b)["alert_id"] for _, b in receiver.got) == sorted(
            c.alert_id for c in changes[3:]
        )


def test_secret_comes_from_the_environment() -> None:
    cfg = WebhookConfig(name="ops", url="https://h.example/x", secret_env="HW_TEST_SECRET")
    (target,) = targets_from_config([cfg], env={"HW_TEST_SECRET": "abc"})
    assert target.secret == b"abc" and "abc" not in repr(target) and "h.example" not in repr(target)
    with pytest.raises(AlertConfigError, match="HW_TEST_SECRET is not set"):
        targets_from_config([cfg], env={})
