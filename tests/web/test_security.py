"""Security of the dashboard: every route enumerated and checked, CSRF, login limits, session
fixation, open redirects, cookie flags, and no secret in logs, pages or the database."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount

from hashwatt.fleet._models import api_tokens, users, web_sessions
from hashwatt.web import Role, WebConfig, create_app, route_roles, safe_next
from hashwatt.web._users import MAX_FAILED_LOGINS
from tests.web.conftest import FAST_HASHER, Web, csrf_of, login_form

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _call(c: object, method: str, path: str, **kw: object) -> object:
    return c.request(method, _url(path), follow_redirects=False, **kw)  # type: ignore[attr-defined]


def test_every_route_is_declared_with_a_role(web: Web) -> None:
    roles = route_roles(web.app)
    for route in web.app.routes:
        if isinstance(route, Mount):
            assert route.path == "/static"
            continue
        assert isinstance(route, APIRoute), route
        for method in route.methods:
            assert (method, route.path) in roles, f"{method} {route.path} has no role"
    assert {k for k, v in roles.items() if v is None} == PUBLIC


def test_an_undeclared_route_stops_the_app_from_building(web: Web) -> None:
    app = create_app(web.store)

    async def sneaky() -> dict[str, str]:
        return {}

    app.add_api_route("/api/v1/sneaky", sneaky)
    from hashwatt.web._app import _check_roles

    with pytest.raises(RuntimeError, match="sneaky"):
        _check_roles(app)


def test_unauthenticated_requests_are_refused_on_every_route(web: Web) -> None:
    c = web.client()
    for (method, path), role in route_roles(web.app).items():
        if role is None:
            continue
        r = _call(c, method, path, json={})
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path)  # type: ignore[attr-defined]
        else:
            assert r.status_code == 303, (method, path)  # type: ignore[attr-defined]
            assert r.headers["location"].startswith("/login")  # type: ignore[attr-defined]


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_wrong_role_is_refused_on_every_route(web: Web, who: str) -> None:
    c = web.login(who)
    headers = {"X-CSRF-Token": csrf_of(c)}
    mine = Role.VIEWER if who == "viewer" else Role.OPERATOR
    checked = 0
    for (method, path), role in route_roles(web.app).items():
        if role is None or role <= mine:
            continue
        r = _call(c, method, path, json={}, headers=headers)
        assert r.status_code == 403, (who, method, path)  # type: ignore[attr-defined]
        checked += 1
    assert checked >= 1
    # refused control actions are audited with the user
    admin = web.login("admin")
    audit = admin.get("/api/v1/audit").json()
    assert any(e["actor"] == who and e["outcome"] == "refused" for e in audit)


def test_csrf_is_enforced_on_state_changing_requests(web: Web) -> None:
    c = web.login("operator")
    ids = [c.get("/api/v1/devices").json()["rows"][0]["id"]]
    body = {"action": "wake", "device_ids": ids, "confirm": True}
    assert c.post("/api/v1/actions", json=body).status_code == 403
    assert c.post("/api/v1/actions", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    alert_id = c.get("/api/v1/alerts").json()[0]["id"]
    assert c.post(f"/alerts/{alert_id}/ack", data={}, follow_redirects=False).status_code == 403
    assert c.post("/logout", data={"csrf_token": "x"}, follow_redirects=False).status_code == 403
    ok = c.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf_of(c)}, follow_redirects=False)
    assert ok.status_code == 303
    assert c.post("/api/v1/actions", json=body, headers={"X-CSRF-Token": csrf_of(c)}).status_code == 200
    # the login form itself carries a token bound to a cookie
    bare = web.client()
    r = bare.post("/login", data={"username": "admin", "password": web.passwords["admin"], "csrf_token": "x"})
    assert r.status_code == 403 and "hw_session" not in bare.cookies


def test_wrong_passwords_lock_the_user_and_the_lock_is_stored(web: Web) -> None:
    c = web.client()
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert c.post("/login", data=login_form(c, "viewer", "not-the-password")).status_code == 401
    assert c.post("/login", data=login_form(c, "viewer", "not-the-password")).status_code == 429
    with web.store.engine.connect() as conn:
        locked = conn.scalar(select(users.c.locked_until_ms).where(users.c.name == "viewer"))
    assert locked is not None
    # even the right password is refused while locked
    r = c.post("/login", data=login_form(c, "viewer", web.passwords["viewer"]), follow_redirects=False)
    assert r.status_code == 429 and "hw_session" not in c.cookies
    # other users are not locked out
    assert web.login("operator").get("/api/v1/me").status_code == 200


def test_login_attempts_are_rate_limited_per_client(web: Web) -> None:
    c = web.client()
    codes = [c.post("/login", data=login_form(c, f"nobody{i}", "x" * 12)).status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


def test_session_fixation_fails(web: Web) -> None:
    c = web.client()
    c.cookies.set("hw_session", "attacker-chosen-value")
    r = c.post("/login", data=login_form(c, "viewer", web.passwords["viewer"]), follow_redirects=False)
    assert r.status_code == 303
    issued = _set_cookie(r, "hw_session")
    assert issued and issued != "attacker-chosen-value"
    attacker = web.client()
    attacker.cookies.set("hw_session", "attacker-chosen-value")
    assert attacker.get("/api/v1/me").status_code == 401
    # a second login replaces the first session, which stops working
    c2 = web.client()
    c2.cookies.set("hw_session", issued)
    r = c2.post("/login", data=login_form(c2, "viewer", web.passwords["viewer"]), follow_redirects=False)
    second = _set_cookie(r, "hw_session")
    assert second != issued
    old = web.client()
    old.cookies.set("hw_session", issued)
    assert old.get("/api/v1/me").status_code == 401


def _set_cookie(r: object, name: str) -> str:
    header = next(h for h in r.headers.get_list("set-cookie") if h.startswith(name + "="))  # type: ignore[attr-defined]
    return str(header.split(";", 1)[0].split("=", 1)[1])


def test_logout_ends_the_session_on_the_server(web: Web) -> None:
    c = web.login("viewer")
    cookie = c.cookies.get("hw_session")
    assert c.post("/logout", data={"csrf_token": csrf_of(c)}, follow_redirects=False).status_code == 303
    replay = web.client()
    replay.cookies.set("hw_session", cookie)
    assert replay.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "http:/evil",
        "javascript:alert(1)",
        "/\x0a//evil",
    ],
)
def test_open_redirect_attempts_fail(web: Web, target: str) -> None:
    assert safe_next(target) == "/"
    c = web.client()
    r = c.post(
        "/login", data=login_form(c, "viewer", web.passwords["viewer"], target), follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_local_next_is_kept(web: Web) -> None:
    c = web.client()
    r = c.post(
        "/login", data=login_form(c, "viewer", web.passwords["viewer"], "/devices"), follow_redirects=False
    )
    assert r.headers["location"] == "/devices"


def test_cookie_flags(web: Web) -> None:
    c = web.client()
    r = c.post("/login", data=login_form(c, "viewer", web.passwords["viewer"]), follow_redirects=False)
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("hw_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    tls = create_app(web.store, WebConfig(secure_cookies=True, password_hasher=FAST_HASHER))
    from fastapi.testclient import TestClient

    t = TestClient(tls, base_url="https://127.0.0.1")
    r = t.post("/login", data=login_form(t, "viewer", web.passwords["viewer"]), follow_redirects=False)
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("hw_session="))
    assert "Secure" in cookie


def test_no_secret_in_logs_pages_or_database(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = web.client()
    password = web.passwords["admin"]
    c.post("/login", data=login_form(c, "admin", "wrong-" + password))
    c = web.login("admin")
    session_cookie = c.cookies.get("hw_session")
    token = c.post(
        "/api/v1/tokens", json={"name": "s", "role": "viewer"}, headers={"X-CSRF-Token": csrf_of(c)}
    ).json()["token"]
    web.client().get("/api/v1/overview", headers={"Authorization": f"Bearer {token}"})
    pages = "".join(c.get(p).text for p in ("/", "/devices", "/alerts", "/api/v1/me", "/api/v1/audit"))
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (password, session_cookie, token):
        assert secret and secret not in logs
        assert secret not in pages
    with web.store.engine.connect() as conn:
        stored = [
            *conn.execute(select(users.c.password_hash)).scalars(),
            *conn.execute(select(web_sessions.c.id)).scalars(),
            *conn.execute(select(api_tokens.c.token_hash)).scalars(),
        ]
    assert all(password not in s and session_cookie not in s and token not in s for s in stored)
    assert sum(s.startswith("$argon2id$") for s in stored) == 3
