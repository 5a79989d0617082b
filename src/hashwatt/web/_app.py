"""The dashboard: FastAPI routes over the fleet service, server-rendered pages and ``/api/v1``.

Every route is declared through :func:`_Routes.add` with the least role that may call it, and
:func:`create_app` refuses to build an app holding a route without one, so no route can skip
the check. Cookie sessions carry a CSRF token that every state-changing request must echo
(header ``X-CSRF-Token`` or form field ``csrf_token``); API tokens (``Authorization: Bearer``)
carry no cookie and need none. The routes hold no fleet logic: they call the store, alerts,
commands and audit functions of :mod:`hashwatt.fleet`.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import numpy as np
import pandas as pd
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import Mount

from hashwatt.data import MinerModel
from hashwatt.data.prices import market_prices
from hashwatt.economics import CostModel, NetworkState, profit
from hashwatt.energy import threshold_load_fraction
from hashwatt.fleet._alerts import acknowledge, list_alerts
from hashwatt.fleet._audit import AuditEntry as _AuditEntry
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._commands import ACTIONS, list_commands, submit_command
from hashwatt.fleet._curtail import stored_curtail_events
from hashwatt.fleet._rollup import series
from hashwatt.fleet._store import FleetStore, from_ms, to_ms
from hashwatt.fleet.errors import FleetError
from hashwatt.web._pool import PoolView, pool_blocks, pool_report
from hashwatt.web._queries import (
    DayIntegrals,
    DeviceQuery,
    SortKey,
    day_integrals,
    device_page,
    group_totals,
    heat_map,
    site_totals,
)
from hashwatt.web._users import LoginRefused, Role, Session, UserError, UserStore

__all__ = ["POOL_URL", "PoolGroup", "WebConfig", "action_params", "create_app", "route_roles", "safe_next"]

log = logging.getLogger("hashwatt.web")

_HERE = Path(__file__).parent
SESSION_COOKIE = "hw_session"
LOGIN_COOKIE = "hw_login"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Login attempts per client address per window, and how many addresses are remembered.
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW_S = 60.0
MAX_TRACKED_CLIENTS = 10_000
SPANS = {
    "24h": (dt.timedelta(hours=24), "15m"),
    "7d": (dt.timedelta(days=7), "15m"),
    "30d": (dt.timedelta(days=30), "1d"),
}
MAX_TAIL_SAMPLES = 2_000
#: Server-sent events: one update per interval [s], shared by every client of a site for half
#: of it, and a stream ends after SSE_MAX_S [s] (the browser reconnects by itself).
SSE_INTERVAL_S = 5.0
SSE_MAX_S = 600.0
#: Sites whose settled quarter-hours of today are kept between requests.
MAX_SETTLED_SITES = 64
#: Profit today is recomputed in the background at most this late [s] (requests get the last
#: value meanwhile: summing a day of 10,000 devices takes seconds on SQLite).
TODAY_MAX_AGE_S = 60.0


class _StaleWhileRefreshing:
    """A value per key, computed on first use; once stale the old value is served while one
    background thread computes the new one (never two for the same key). A value is stale after
    ten times what it took to compute, between ``min_age_s`` and ``max_age_s``: a small site's
    is fresh every few seconds, a large one's costs at most a tenth of a core."""

    def __init__(self, max_age_s: float, min_age_s: float = 5.0) -> None:
        self.max_age_s = max_age_s
        self.min_age_s = min(min_age_s, max_age_s)
        self._cost_s: dict[Any, float] = {}
        self._values: dict[Any, tuple[float, Any]] = {}
        self._busy: set[Any] = set()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[Any], Any]) -> Any:
        with self._lock:
            hit = self._values.get(key)
            age_s = min(self.max_age_s, max(self.min_age_s, 10 * self._cost_s.get(key, 0.0)))
            stale = hit is not None and time.monotonic() - hit[0] > age_s
            start = stale and key not in self._busy
            if start:
                self._busy.add(key)
        if hit is None:
            return self._refresh(key, compute, first=True)
        if start:
            threading.Thread(target=self._refresh, args=(key, compute), daemon=True).start()
        return hit[1]

    def _refresh(self, key: Any, compute: Callable[[Any], Any], *, first: bool = False) -> Any:
        started = time.monotonic()
        try:
            value = compute(key)
            with self._lock:
                self._values[key] = (time.monotonic(), value)
                self._cost_s[key] = time.monotonic() - started
            return value
        except Exception:  # the old value stays; the next stale read tries again
            if first:
                raise
            log.exception("refreshing %r failed", key)
            return None
        finally:
            if not first:
                with self._lock:
                    self._busy.discard(key)


@dataclass(frozen=True, slots=True)
class PoolGroup:
    """A named pool setting the devices page applies to many machines at once (``fleet pool``)."""

    name: str
    url: str  # stratum+tcp://HOST:PORT, no credentials
    user: str  # the worker name the machines log in with


@dataclass(frozen=True, slots=True)
class WebConfig:
    """How the app runs: ``secure_cookies`` behind TLS; ``demo`` lines shown on the login page;
    ``pool_groups`` offered by the devices page's pool action."""

    secure_cookies: bool = False
    site_title: str = "hashwatt"
    demo_note: str | None = None
    pool_groups: tuple[PoolGroup, ...] = ()
    #: The clock the energy page's schedule is read on (the demo's replayed time); None: UTC now.
    schedule_clock: Callable[[], dt.datetime] | None = None
    #: Argon2 parameters; None is argon2-cffi's default profile (tests pass a cheaper one).
    password_hasher: PasswordHasher | None = None


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["reboot", "sleep", "wake", "power", "pool", "fault_light"]
    device_ids: list[int] = Field(min_length=1, max_length=10_000)
    params: dict[str, float | str | bool] = Field(default_factory=dict)
    confirm: bool = Field(False, description="Must be true: a bulk action is never sent by accident.")


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    role: Literal["viewer", "operator", "admin"] = "viewer"


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=255)


class _LoginLimiter:
    """Sliding-window attempt counter per client address, bounded in size and age."""

    def __init__(self) -> None:
        self._hits: collections.OrderedDict[str, collections.deque[float]] = collections.OrderedDict()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        hits = self._hits.pop(client, None) or collections.deque(maxlen=LOGIN_ATTEMPTS)
        while hits and now - hits[0] > LOGIN_WINDOW_S:
            hits.popleft()
        allowed = len(hits) < LOGIN_ATTEMPTS
        if allowed:
            hits.append(now)
        self._hits[client] = hits
        while len(self._hits) > MAX_TRACKED_CLIENTS:
            self._hits.popitem(last=False)
        return allowed


class _Unauthenticated(Exception):
    pass


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything that could leave the site becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return "/"
    return target


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class _Routes:
    """Declares each route with its role, wrapping the handler in the auth and CSRF check."""

    def __init__(self, app: FastAPI, users: UserStore, audit: AuditLog) -> None:
        self.app = app
        self.users = users
        self.audit = audit
        #: (method, path) -> least role allowed, None for a public route.
        self.roles: dict[tuple[str, str], Role | None] = {}

    async def principal(self, request: Request) -> Session | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return await asyncio.to_thread(self.users.token_session, auth[7:].strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await asyncio.to_thread(self.users.session, cookie)
        return None

    async def _csrf_ok(self, request: Request, session: Session) -> bool:
        if session.csrf is None:  # API token: no ambient cookie, nothing to forge
            return True
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
        return sent is not None and hmac.compare_digest(sent, session.csrf)

    def add(
        self,
        method: str,
        path: str,
        role: Role | None,
        handler: Callable[..., Awaitable[Any]],
        *,
        control: bool = False,
        **kwargs: Any,
    ) -> None:
        self.roles[(method, path)] = role
        routes = self

        async def guard(request: Request) -> Session | None:
            if role is None:
                return None
            session = await routes.principal(request)
            if session is None:
                raise _Unauthenticated()
            if method in UNSAFE and not await routes._csrf_ok(request, session):
                raise HTTPException(403, "missing or wrong CSRF token")
            if session.role < role:
                if control:
                    await asyncio.to_thread(
                        routes.audit.write,
                        _AuditEntry(
                            actor=session.user.name,
                            action=path.rsplit("/", 1)[-1][:32],
                            devices=(),
                            outcome="refused",
                        ),
                    )
                raise HTTPException(403, f"needs the {role.label} role")
            request.state.session = session
            return session

        self.app.add_api_route(path, handler, methods=[method], dependencies=[Depends(guard)], **kwargs)


def create_app(
    store: FleetStore, config: WebConfig | None = None, *, pool: PoolView | None = None
) -> FastAPI:
    """The dashboard app over ``store`` (whose database also holds the users); ``pool`` is the
    Stratum pool whose share log the Pool page shows (None: no pool page data)."""
    cfg = config or WebConfig()
    users = UserStore(store.engine, hasher=cfg.password_hasher)
    audit = AuditLog(store.engine)
    limiter = _LoginLimiter()
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters["num"] = _num
    app = FastAPI(title="hashwatt", version="1", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.users = users
    r = _Routes(app, users, audit)
    app.state.route_roles = r.roles

    @app.exception_handler(_Unauthenticated)
    async def _unauth(request: Request, exc: _Unauthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not authenticated"}, status_code=401)
        return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        )
        response.headers["Cache-Control"] = (
            "no-store" if not request.url.path.startswith("/static/") else "max-age=3600"
        )
        return response

    def page(request: Request, name: str, session: Session | None, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {
                "session": session,
                "user": session.user if session else None,
                "title": cfg.site_title,
                "sites": [],
                "site": None,
                **ctx,
            },
        )

    def _site(site: str | None) -> tuple[str | None, list[str]]:
        """The site a page or query is about (None: all) and every site, 404 for an unknown one."""
        names = store.site_names()
        if site and site not in names:
            raise HTTPException(404, "no such site")
        return site or None, names

    # -- login and logout ----------------------------------------------------------------

    async def login_form(request: Request, next: str = "/") -> Response:
        token = secrets.token_urlsafe(32)
        resp = page(
            request,
            "login.html",
            None,
            login_csrf=token,
            next=safe_next(next),
            note=cfg.demo_note,
            error=None,
        )
        resp.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies, max_age=3600
        )
        return resp

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", ""))[:64], str(form.get("password", ""))[:1024]
        target = safe_next(str(form.get("next", "/")))
        sent, expected = str(form.get("csrf_token", "")), request.cookies.get(LOGIN_COOKIE, "")
        client = request.client.host if request.client else "?"

        def refuse(message: str, status: int) -> Response:
            token = secrets.token_urlsafe(32)
            resp = page(
                request, "login.html", None, login_csrf=token, next=target, note=cfg.demo_note, error=message
            )
            resp.status_code = status
            resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=cfg.secure_cookies)
            return resp

        if not expected or not hmac.compare_digest(sent, expected):
            return refuse("the login form expired; try again", 403)
        if not limiter.allow(client):
            log.warning("login rate limit hit from %s", client)
            return refuse("too many login attempts; wait a minute", 429)
        try:
            user = await asyncio.to_thread(users.authenticate, name, password)
        except LoginRefused as exc:
            log.info("login refused for %r%s", name, " (locked)" if exc.locked else "")
            return refuse(str(exc), 429 if exc.locked else 401)
        # A new session id on every login, whatever cookie came in: no session fixation.
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            await asyncio.to_thread(users.close_session, old)
        token, _csrf = await asyncio.to_thread(users.open_session, user)
        log.info("login %s (%s)", user.name, user.role.label)
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=cfg.secure_cookies,
            max_age=int(users.session_ttl_s),
        )
        resp.delete_cookie(LOGIN_COOKIE)
        return resp

    async def logout(request: Request) -> Response:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await asyncio.to_thread(users.close_session, cookie)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    async def health() -> dict[str, bool]:
        return {"ok": True}

    r.add("GET", "/login", None, login_form, response_class=HTMLResponse, include_in_schema=False)
    r.add("POST", "/login", None, login, include_in_schema=False)
    r.add("POST", "/logout", Role.VIEWER, logout, include_in_schema=False)
    r.add("GET", "/healthz", None, health, include_in_schema=False)

    # -- API -----------------------------------------------------------------------------

    def who(request: Request) -> Session:
        return request.state.session  # type: ignore[no-any-return]

    async def api_me(request: Request) -> dict[str, Any]:
        s = who(request)
        return {"name": s.user.name, "role": s.role.label, "csrf": s.csrf}

    network: list[NetworkState] = []

    def _network() -> NetworkState:
        if not network:
            network.append(NetworkState.latest())
        return network[0]

    #: (site, day) -> settled quarter-hour sums (see day_integrals); today's days only.
    settled: dict[tuple[str | None, int], dict[int, tuple[float, float]]] = {}
    today = _StaleWhileRefreshing(TODAY_MAX_AGE_S)

    def _compute_today(site: str | None) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
        key = (site, to_ms(day0))
        if key not in settled:
            for old in [k for k in settled if k[1] != key[1]] + list(settled)[:-MAX_SETTLED_SITES]:
                settled.pop(old, None)
            settled[key] = {}
        day = day_integrals(store.engine, site, since=day0, until=now, settled=settled[key])
        return profit_over(day, _network())

    def _today(site: str | None) -> dict[str, Any]:
        value: dict[str, Any] = today.get(site, _compute_today)
        return value

    def _overview(site: str | None) -> dict[str, Any]:
        totals = site_totals(store.engine, site)
        totals["profit"] = profit_now(totals["hashrate_ths"], totals["power_w"], _network())
        totals["profit_today"] = _today(site)
        return totals

    def _profitability(site: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"site": site}
        for by in ("model", "site"):
            rows = group_totals(store.engine, site, by)
            for row in rows:
                row["profit"] = profit_now(row["hashrate_ths"], row["power_w"], _network())
            out[f"by_{by}"] = rows
        out["today"] = _today(site)
        return out

    async def api_profitability(request: Request, site: str | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_profitability, site)

    replay: list[Any] = []

    def _energy(site: str | None) -> dict[str, Any]:
        totals = _overview(site)
        if not replay:
            replay.append(replay_day_prices())
        schedule = energy_schedule(
            replay[0],
            hashrate_ths=totals["hashrate_ths"],
            power_w=totals["power_w"],
            network=_network(),
            now=cfg.schedule_clock() if cfg.schedule_clock else dt.datetime.now(dt.UTC),
        )
        schedule["curtailment"] = curtailment_report(store, site)
        schedule["profitability"] = _profitability(site)
        return schedule

    async def api_energy(request: Request, site: str | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_energy, site)

    async def api_overview(request: Request, site: str | None = None) -> dict[str, Any]:
        site, sites = await asyncio.to_thread(_site, site)
        totals = await asyncio.to_thread(_overview, site)
        return {"site": site, "sites": sites, **totals}

    shared: dict[tuple[str, str | None], tuple[float, str]] = {}

    def _event(kind: str, site: str | None, device_id: int | None = None) -> str:
        """One SSE message, computed at most once per half interval whatever the client count."""
        key = (kind, str(device_id) if kind == "device" else site)
        now = time.monotonic()
        hit = shared.get(key)
        if hit is not None and now - hit[0] < SSE_INTERVAL_S / 2:
            return hit[1]
        if kind == "overview":
            data = _overview(site)
        elif kind == "pool":
            data = pool_report(_pool_view())
        else:
            data = _device_detail(device_id or 0)
        message = f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"
        if len(shared) > MAX_SETTLED_SITES:
            shared.clear()
        shared[key] = (now, message)
        return message

    async def api_events(
        request: Request,
        site: str | None = None,
        topics: str = Query("overview", pattern=r"^(overview|pool|device)(,(overview|pool|device)){0,2}$"),
        device: int | None = Query(None, ge=1),
        max_events: int | None = Query(None, ge=1, le=10_000),
    ) -> StreamingResponse:
        """Server-sent events: ``overview`` (the overview API's body), ``pool`` (the pool API's)
        and ``device`` (the device API's for ``device=ID``: the device page), every few seconds;
        ``max_events`` ends the stream (a script's snapshot)."""
        site, _ = await asyncio.to_thread(_site, site)
        kinds = list(dict.fromkeys(topics.split(",")))
        if "pool" in kinds:
            _pool_view()
        if "device" in kinds:
            if device is None:
                raise HTTPException(422, "the device topic needs device=ID")
            await asyncio.to_thread(_device_detail, device)  # 404 before the stream starts

        async def stream() -> Any:
            sent, end = 0, time.monotonic() + SSE_MAX_S
            yield f"retry: {int(SSE_INTERVAL_S * 1000)}\n\n"
            while time.monotonic() < end:
                for kind in kinds:
                    yield await asyncio.to_thread(_event, kind, site, device)
                    sent += 1
                    if max_events is not None and sent >= max_events:
                        return
                await asyncio.sleep(SSE_INTERVAL_S)
                if await request.is_disconnected():
                    return

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    async def api_heatmap(
        request: Request,
        site: str | None = None,
        metric: Literal["temp_chip_max_c", "hashrate_ths"] = "temp_chip_max_c",
    ) -> JSONResponse:
        site, _ = await asyncio.to_thread(_site, site)
        racks = await asyncio.to_thread(heat_map, store.engine, site, metric)
        # Plain JSON types already: skipping FastAPI's encoder saves ~1 s at 10,000 devices.
        return JSONResponse({"site": site, "metric": metric, "racks": racks})

    async def api_devices(
        request: Request,
        site: str | None = None,
        q: str | None = None,
        state: str | None = None,
        model: str | None = None,
        sort: SortKey = SortKey.ADDRESS,
        order: Literal["asc", "desc"] = "asc",
        page_no: int = Query(1, ge=1, alias="page"),
        per_page: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        query = DeviceQuery(site, q, state, model, sort, order == "desc", page_no, per_page)
        result = await asyncio.to_thread(device_page, store.engine, query)
        return asdict(result)

    def _device_detail(device_id: int) -> dict[str, Any]:
        views = store.views(device_ids=[device_id])
        if not views:
            raise HTTPException(404, "no such device")
        v = views[0]
        detail = v.as_dict()
        detail["id"] = device_id
        detail["temp_chip_max_c"] = detail["temperatures"]["chip_max_c"]
        if v.device.last_outcome != "ok":
            detail["state"] = "offline"
        detail["alerts"] = [_alert_dict(a) for a in list_alerts(store, device_id=device_id, limit=50)]
        detail["audit"] = [
            {**_jsonable(asdict(e)), "time_utc": e.time_utc.isoformat()}
            for e in audit.entries(device=v.device.address, limit=50)
        ]
        return detail

    async def api_device(request: Request, device_id: int) -> dict[str, Any]:
        return await asyncio.to_thread(_device_detail, device_id)

    def _series(device_id: int, span: str) -> dict[str, Any]:
        delta, tier = SPANS[span]
        now = dt.datetime.now(dt.UTC)
        rows = series(store.engine, device_id, tier, since=now - delta)
        points = [
            (to_ms(x.bucket_utc) / 1000, x.hashrate_ths_avg, x.power_w_avg, x.temp_chip_max_c) for x in rows
        ]
        # Readings newer than the newest bucket come from the raw samples, so a fresh site has a chart.
        tail_since = from_ms(int(points[-1][0] * 1000) + 1) if points else now - delta
        raw = store.samples(device_id, since=max(tail_since, now - delta))[-MAX_TAIL_SAMPLES:]
        for sm in raw:
            t = sm.telemetry
            if t is not None:
                points.append((to_ms(sm.time_utc) / 1000, t.hashrate_ths, t.power_w, t.temp_chip_max_c))
        return {
            "device_id": device_id,
            "span": span,
            "tier": tier,
            "time_s": [p[0] for p in points],
            "hashrate_ths": [p[1] for p in points],
            "power_w": [p[2] for p in points],
            "temp_chip_max_c": [p[3] for p in points],
        }

    async def api_series(
        request: Request, device_id: int, span: Literal["24h", "7d", "30d"] = "24h"
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_series, device_id, span)

    def _submit(session: Session, body: ActionBody) -> dict[str, Any]:
        if not body.confirm:
            raise HTTPException(422, "set confirm to true to send this action")
        if body.action not in ACTIONS:
            raise HTTPException(422, "unknown action")
        params = action_params(body.action, body.params, cfg.pool_groups)
        views = store.views(device_ids=body.device_ids)
        if len(views) != len(set(body.device_ids)):
            raise HTTPException(404, "unknown device id")
        by_site: dict[str, list[str]] = {}
        for v in views:
            by_site.setdefault(v.device.site, []).append(v.device.address)
        out = []
        for site, targets in by_site.items():
            try:
                cmd = submit_command(
                    store, site, body.action, targets, params=params, created_by=session.user.name
                )
            except FleetError as exc:
                raise HTTPException(422, str(exc)) from None
            out.append(
                {"command_id": cmd.id, "site": site, "targets": list(targets), "state": cmd.state.value}
            )
        return {"commands": out}

    async def api_actions(request: Request, body: ActionBody) -> dict[str, Any]:
        return await asyncio.to_thread(_submit, who(request), body)

    async def api_commands(request: Request, device_id: int | None = None) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            cmds = list_commands(store)
            out = [_jsonable(asdict(c)) for c in cmds]
            return out[:200]

        return await asyncio.to_thread(run)

    async def api_alerts(
        request: Request, state: Literal["open", "acknowledged", "resolved", "active"] = "active"
    ) -> list[dict[str, Any]]:
        states = ["open", "acknowledged"] if state == "active" else [state]
        found = await asyncio.to_thread(list_alerts, store, states=states, limit=500)
        return [_alert_dict(a) for a in found]

    def _ack(session: Session, alert_id: int, note: str | None) -> dict[str, Any]:
        try:
            alert = acknowledge(store, alert_id, actor=session.user.name, note=note)
        except FleetError as exc:
            raise HTTPException(404, str(exc)) from None
        audit.write(
            _AuditEntry(
                actor=session.user.name,
                action="alert_ack",
                devices=(alert.address,),
                outcome="ok",
                site=alert.site,
                params={"alert_id": alert_id},
            )
        )
        return _alert_dict(alert)

    async def api_ack(request: Request, alert_id: int, body: AckBody | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_ack, who(request), alert_id, body.note if body else None)

    async def api_audit(
        request: Request, device: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        entries = await asyncio.to_thread(audit.entries, device=device, limit=limit)
        return [{**_jsonable(asdict(e)), "time_utc": e.time_utc.isoformat()} for e in entries]

    async def api_tokens(request: Request, body: TokenBody) -> dict[str, str]:
        s = who(request)
        try:
            token = await asyncio.to_thread(users.add_token, s.user, body.name, Role.parse(body.role))
        except UserError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"name": body.name, "role": body.role, "token": token}

    async def api_openapi(request: Request) -> dict[str, Any]:
        return get_openapi(title="hashwatt", version="1", routes=app.routes)

    r.add("GET", "/api/v1/me", Role.VIEWER, api_me)
    r.add("GET", "/api/v1/overview", Role.VIEWER, api_overview)
    r.add("GET", "/api/v1/devices", Role.VIEWER, api_devices)
    r.add("GET", "/api/v1/devices/{device_id}", Role.VIEWER, api_device)
    r.add("GET", "/api/v1/devices/{device_id}/series", Role.VIEWER, api_series)
    r.add("POST", "/api/v1/actions", Role.OPERATOR, api_actions, control=True)
    r.add("GET", "/api/v1/commands", Role.VIEWER, api_commands)
    r.add("GET", "/api/v1/alerts", Role.VIEWER, api_alerts)
    r.add("POST", "/api/v1/alerts/{alert_id}/ack", Role.OPERATOR, api_ack, control=True)
    r.add("GET", "/api/v1/audit", Role.VIEWER, api_audit)
    r.add("POST", "/api/v1/tokens", Role.ADMIN, api_tokens, control=True)
    r.add("GET", "/api/v1/openapi.json", Role.VIEWER, api_openapi)
    r.add("GET", "/api/v1/energy", Role.VIEWER, api_energy)
    r.add("GET", "/api/v1/profitability", Role.VIEWER, api_profitability)
    r.add("GET", "/api/v1/heatmap", Role.VIEWER, api_heatmap, response_class=JSONResponse)
    r.add("GET", "/api/v1/events", Role.VIEWER, api_events, response_class=StreamingResponse)

    def _pool_view() -> PoolView:
        if pool is None:
            raise HTTPException(404, "no pool is attached to this dashboard")
        return pool

    async def api_pool(request: Request) -> dict[str, Any]:
        return await asyncio.to_thread(pool_report, _pool_view())

    async def api_pool_blocks(request: Request, limit: int = Query(50, ge=1, le=50)) -> list[dict[str, Any]]:
        return await asyncio.to_thread(pool_blocks, _pool_view(), limit=limit)

    r.add("GET", "/api/v1/pool", Role.VIEWER, api_pool)
    r.add("GET", "/api/v1/pool/blocks", Role.VIEWER, api_pool_blocks)

    # -- pages ---------------------------------------------------------------------------

    async def overview_page(request: Request, site: str | None = None) -> HTMLResponse:
        site, sites = await asyncio.to_thread(_site, site)
        totals = await asyncio.to_thread(_overview, site)
        return page(request, "overview.html", who(request), totals=totals, site=site, sites=sites)

    async def energy_page(request: Request, site: str | None = None) -> HTMLResponse:
        site, sites = await asyncio.to_thread(_site, site)
        e = await asyncio.to_thread(_energy, site)
        return page(request, "energy.html", who(request), e=e, site=site, sites=sites)

    async def devices_page(request: Request, site: str | None = None) -> HTMLResponse:
        site, sites = await asyncio.to_thread(_site, site)
        return page(
            request,
            "devices.html",
            who(request),
            site=site,
            sites=sites,
            sort_keys=[k.value for k in SortKey],
            pool_groups=[g.name for g in cfg.pool_groups],
            power_range=POWER_TARGET_W,
        )

    async def device_page_(request: Request, device_id: int) -> HTMLResponse:
        detail = await asyncio.to_thread(_device_detail, device_id)
        return page(request, "device.html", who(request), d=detail)

    async def alerts_page(request: Request) -> HTMLResponse:
        found = await asyncio.to_thread(list_alerts, store, limit=500)
        return page(request, "alerts.html", who(request), alerts=[_alert_dict(a) for a in found])

    async def pool_page(request: Request) -> HTMLResponse:
        report = blocks = None
        if pool is not None:
            report = await asyncio.to_thread(pool_report, pool)
            blocks = await asyncio.to_thread(pool_blocks, pool)
        return page(request, "pool.html", who(request), p=report, blocks=blocks)

    async def ack_form(request: Request, alert_id: int) -> Response:
        await asyncio.to_thread(_ack, who(request), alert_id, None)
        return RedirectResponse("/alerts", status_code=303)

    r.add("GET", "/", Role.VIEWER, overview_page, response_class=HTMLResponse, include_in_schema=False)
    r.add("GET", "/devices", Role.VIEWER, devices_page, response_class=HTMLResponse, include_in_schema=False)
    r.add(
        "GET",
        "/devices/{device_id}",
        Role.VIEWER,
        device_page_,
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    r.add("GET", "/energy", Role.VIEWER, energy_page, response_class=HTMLResponse, include_in_schema=False)
    r.add("GET", "/pool", Role.VIEWER, pool_page, response_class=HTMLResponse, include_in_schema=False)
    r.add("GET", "/alerts", Role.VIEWER, alerts_page, response_class=HTMLResponse, include_in_schema=False)
    r.add("POST", "/alerts/{alert_id}/ack", Role.OPERATOR, ack_form, include_in_schema=False, control=True)

    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    _check_roles(app)
    return app


#: Power targets the page may ask for [W]: below, no miner runs; above, none is built.
POWER_TARGET_W = (100.0, 20_000.0)
#: A pool URL the page and a pool-groups file may give: Stratum, host and port, no credentials.
POOL_URL = re.compile(r"^stratum(\+tcp|\+ssl|2\+tcp)?://[^\s/@]+:\d{1,5}/?$")


def action_params(
    action: str, params: dict[str, float | str | bool], groups: tuple[PoolGroup, ...]
) -> dict[str, Any]:
    """The command parameters an action from the page or the API may carry, checked here
    (422 otherwise): a power target in watts or a profile; a pool group by name, or a pool
    URL without credentials and a worker name (passwords never travel through the web)."""
    if action == "power":
        watts = params.get("power_target_w")
        if (
            isinstance(watts, int | float)
            and not isinstance(watts, bool)
            and set(params) == {"power_target_w"}
        ):
            if not POWER_TARGET_W[0] <= watts <= POWER_TARGET_W[1]:
                raise HTTPException(
                    422, f"power target must be {POWER_TARGET_W[0]:.0f} to {POWER_TARGET_W[1]:.0f} W"
                )
            return {"power_target_w": float(watts)}
        profile = params.get("profile")
        if isinstance(profile, str) and 0 < len(profile) <= 64 and set(params) == {"profile"}:
            return {"profile": profile}
        raise HTTPException(422, "a power action needs power_target_w [W] or a profile name")
    if action == "pool":
        if set(params) == {"group"}:
            found = [g for g in groups if g.name == params["group"]]
            if not found:
                raise HTTPException(422, "unknown pool group")
            return {"url": found[0].url, "user": found[0].user}
        url, user = params.get("url"), params.get("user")
        if (
            set(params) == {"url", "user"}
            and isinstance(url, str)
            and isinstance(user, str)
            and POOL_URL.match(url)
            and 0 < len(user) <= 128
        ):
            return {"url": url, "user": user}
        raise HTTPException(
            422, "a pool action needs a pool group, or url (stratum+tcp://HOST:PORT) and user"
        )
    return dict(params)


def route_roles(app: FastAPI) -> dict[tuple[str, str], Role | None]:
    """Each route's least role (None: public), as declared; the security tests enumerate it."""
    roles: dict[tuple[str, str], Role | None] = app.state.route_roles
    return roles


def _check_roles(app: FastAPI) -> None:
    """Every route must have been declared with a role (or as public)."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/static":
            continue
        if not isinstance(route, APIRoute):
            raise RuntimeError(f"route {getattr(route, 'path', route)!r} bypasses the role table")
        for method in route.methods or ():
            if (method, route.path) not in route_roles(app):
                raise RuntimeError(f"route {method} {route.path} has no role")


def profit_now(hashrate_ths: float, power_w: float, network: NetworkState) -> dict[str, Any] | None:
    """The site's profit rate now: its measured hashrate and power run through the economics
    engine (one formula, :func:`hashwatt.economics.profit`) on the shipped network snapshot."""
    if hashrate_ths <= 0 or power_w <= 0:
        return None
    costs = CostModel()
    result = profit(
        MinerModel.from_specs("site", hashrate_ths=hashrate_ths, power_w=power_w),
        costs=costs,
        network=network,
    )
    return {
        "profit_usd_per_day": result.profit_usd_per_day,
        "revenue_usd_per_day": result.revenue_usd_per_day,
        "energy_cost_usd_per_day": result.energy_cost_usd_per_day,
        "hashprice_usd_per_ph_day": result.hashprice_usd_per_ph_day,
        "network_date": str(result.network_date),
    }


def profit_over(day: DayIntegrals, network: NetworkState) -> dict[str, Any]:
    """Profit over ``day``'s span: its mean hashrate and power through the same formula as
    :func:`profit_now` (revenue is linear in hashrate and cost in energy, so the rate at the
    means times the hours is the sum over the span)."""
    hours = (day.until - day.since).total_seconds() / 3600.0
    rate = None
    if hours > 0:
        rate = profit_now(day.hashrate_ths_hours / hours, day.energy_kwh * 1000.0 / hours, network)
    days = hours / 24.0
    return {
        "since_utc": day.since.isoformat(),
        "until_utc": day.until.isoformat(),
        "hours": hours,
        "hashrate_ths_hours": day.hashrate_ths_hours,
        "energy_kwh": day.energy_kwh,
        "rolled_until_utc": None if day.rolled_until is None else day.rolled_until.isoformat(),
        "as_of_utc": day.until.isoformat(),
        "profit_usd": None if rate is None else rate["profit_usd_per_day"] * days,
        "revenue_usd": None if rate is None else rate["revenue_usd_per_day"] * days,
        "energy_cost_usd": None if rate is None else rate["energy_cost_usd_per_day"] * days,
    }


#: The replayed price day: ERCOT's hub average on 2023-08-24 (Central time), a summer day whose
#: evening scarcity prices reached 3,900 USD/MWh, from the shipped market data.
REPLAY_MARKET, REPLAY_DAY_START_UTC = "ERCOT", "2023-08-24T05:00Z"


def replay_day_prices() -> list[float]:
    """The 24 hourly prices of the replayed day [USD/MWh], hour 0 first."""
    series = market_prices(REPLAY_MARKET, 2023).price_usd_per_mwh
    start = pd.Timestamp(REPLAY_DAY_START_UTC)
    return [float(x) for x in series.loc[start : start + pd.Timedelta(hours=23)]]


def energy_schedule(
    prices_usd_per_mwh: list[float],
    *,
    hashrate_ths: float,
    power_w: float,
    network: NetworkState,
    now: dt.datetime,
) -> dict[str, Any]:
    """Today's dispatch under the energy room's threshold rule (run iff the price is below the
    site's break-even at its measured efficiency), the replayed day laid on today's UTC hours."""
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hours = [day0 + dt.timedelta(hours=h) for h in range(len(prices_usd_per_mwh))]
    efficiency = power_w / hashrate_ths if hashrate_ths > 0 and power_w > 0 else None
    run: list[float] | None = None
    if efficiency is not None:
        fraction = threshold_load_fraction(
            np.asarray(prices_usd_per_mwh),
            np.asarray(network.hashprice_usd_per_ph_day),
            np.asarray([efficiency]),
        )
        run = [float(x) for x in fraction[:, 0]]
    now_h = min(now.hour, len(hours) - 1)
    next_event = None
    if run is not None:
        for h in range(now_h + 1, len(hours)):
            if run[h] != run[h - 1]:
                next_event = {
                    "time_utc": hours[h].isoformat(),
                    "action": "resume" if run[h] > run[h - 1] else "curtail",
                }
                break
    return {
        "market": REPLAY_MARKET,
        "replayed_day_start_utc": REPLAY_DAY_START_UTC,
        "time_utc": [h.isoformat() for h in hours],
        "time_s": [h.timestamp() for h in hours],
        "price_usd_per_mwh": prices_usd_per_mwh,
        "run_fraction": run,
        "efficiency_j_per_th": efficiency,
        "hashprice_usd_per_ph_day": network.hashprice_usd_per_ph_day,
        "now_utc": now.isoformat(),
        "hour_now": now_h,
        "price_now_usd_per_mwh": prices_usd_per_mwh[now_h],
        "curtailed_now": None if run is None else run[now_h] < 1.0,
        "next_event": next_event,
    }


def curtailment_report(store: FleetStore, site: str | None, *, limit: int = 50) -> dict[str, Any]:
    """The newest curtailment events the agents carried out, and the totals of the closed ones."""
    events = stored_curtail_events(store, site, limit=limit)
    closed = [e for e in events if e.end_utc is not None]
    return {
        "events": [_jsonable(asdict(e)) for e in events],
        "open": len(events) - len(closed),
        "totals": {
            "events": len(closed),
            "energy_saved_kwh": sum(e.energy_saved_kwh or 0.0 for e in closed),
            "cost_saved_usd": sum(e.cost_saved_usd or 0.0 for e in closed),
            "revenue_forgone_usd": sum(e.revenue_forgone_usd or 0.0 for e in closed),
        },
    }


def _num(value: Any, unit: str = "") -> str:
    """A reading for display: one decimal below 100, none above; a dash for no value."""
    if not isinstance(value, int | float):
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return f"{text} {unit}".strip()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value


def _alert_dict(a: Any) -> dict[str, Any]:
    return _jsonable(asdict(a))  # type: ignore[no-any-return]
