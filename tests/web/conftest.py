"""A dashboard over a real SQLite fleet database, with three users and a few stored polls."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hashwatt.fleet._alerts import evaluate_alerts
from hashwatt.fleet._store import FleetStore
from hashwatt.stratum import ShareLog, ShareRecord
from hashwatt.web import Role, UserStore, WebConfig, create_app
from hashwatt.web._pool import PoolView
from tests.fleet._readings import failed, ok
from tests.fleet._storedb import db_url_of

#: Argon2id still, with test-sized parameters: the default profile costs ~0.5 s per login on CI.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROLES = {"admin": Role.ADMIN, "operator": Role.OPERATOR, "viewer": Role.VIEWER}


@dataclass
class Web:
    store: FleetStore
    passwords: dict[str, str]
    app: FastAPI
    shares: list[ShareRecord]

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://127.0.0.1")

    def login(self, name: str, *, next_path: str = "/") -> TestClient:
        c = self.client()
        r = c.post(
            "/login", data=login_form(c, name, self.passwords[name], next_path), follow_redirects=False
        )
        assert r.status_code == 303, r.text
        return c


def login_form(c: TestClient, name: str, password: str, next_path: str = "/") -> dict[str, str]:
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return {"username": name, "password": password, "csrf_token": token.group(1), "next": next_path}


def csrf_of(c: TestClient) -> str:
    token = c.get("/api/v1/me").json()["csrf"]
    assert isinstance(token, str)
    return token


@pytest.fixture
def web(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Web]:
    """SQLite by default; ``indirect`` parametrisation with "postgresql" uses the CI server."""
    with db_url_of(getattr(request, "param", "sqlite"), tmp_path) as url:
        yield from _web(url)


def _web(url: str) -> Iterator[Web]:
    store = FleetStore.open(url)
    users = UserStore(store.engine, hasher=FAST_HASHER)
    passwords = {name: secrets.token_urlsafe(12) for name in ROLES}
    for name, role in ROLES.items():
        users.add(name, passwords[name], role)
    now = dt.datetime.now(dt.UTC)
    # devices 0..5 mining at different hashrates, device 6 hot (an alert), device 7 unreachable
    results = [
        ok(i, now - dt.timedelta(seconds=30), hashrate_ths=100.0 + i, power_w=3000.0 + i) for i in range(6)
    ]
    results.append(ok(6, now - dt.timedelta(seconds=30), chip_c=105.0))
    results.append(ok(7, now - dt.timedelta(minutes=10)))
    store.record("alpha", results)
    store.record("alpha", [failed(7, now - dt.timedelta(seconds=20))])
    evaluate_alerts(store, "alpha", now=now)
    # A share log in the same database: two workers, a block, a share outside the hashrate
    # window and one outside the day.
    share_log = ShareLog(url)
    t = now.timestamp()
    shares = [
        share(t - 30, "alpha.0", 1.0),
        share(t - 20, "alpha.0", 2.0),
        share(t - 10, "alpha.1", 4.0, block=True),
        share(t - 1200, "alpha.1", 8.0),
        share(t - 2 * 86400, "alpha.0", 16.0),
    ]
    share_log.write(shares)
    pool = PoolView(share_log.engine, "stratum+tcp://pooluser:hunter2@127.0.0.1:3333", work_scale=1e-10)
    yield Web(store, passwords, create_app(store, WebConfig(password_hasher=FAST_HASHER), pool=pool), shares)
    share_log.close()
    store.close()


def share(time_unix_s: float, worker: str, difficulty: float, *, block: bool = False) -> ShareRecord:
    n = int(time_unix_s * 1000) & 0xFFFFFFFF
    return ShareRecord(
        time_unix_s=time_unix_s,
        user=worker.split(".", 1)[0],
        worker=worker,
        job_id="j1",
        extranonce1=b"\x00\x00\x00\x01",
        extranonce2=n.to_bytes(4, "big"),
        ntime=int(time_unix_s),
        nonce=n,
        version=0x20000000,
        difficulty=difficulty,
        share_hash_hex=f"{n:064x}",
        is_block=block,
        height=100 if block else None,
    )
