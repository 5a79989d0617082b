"""``hashwatt serve --demo``: the whole product on one machine, as an ordinary user.

A temporary SQLite fleet database, a site of device twins of several models and firmwares on
loopback in port-offset mode (no privileged ports), the fleet agent polling them and running
the commands the dashboard queues, three users with random passwords, and the dashboard.
The twins are reached only through the network, exactly as real miners are.

hashwatt's own Stratum pool runs on the demo chain beside them (share log ``shares.db`` next
to the fleet database): every twin's pool list names it, and one Stratum worker per twin
connects and pays real shares for :data:`DEMO_WORK_SCALE` times the hashrate its firmware
reports, so the pool credits each worker in proportion to its machine and a sleeping machine
pays nothing, for a few percent of one core (3.5 % measured, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hashwatt.economics import NetworkState
from hashwatt.fleet import Controller, Endpoint
from hashwatt.fleet._agent import Agent, AgentConfig
from hashwatt.fleet._alerts import AlertConfig, AlertThresholds
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._curtail import CurtailPolicy
from hashwatt.fleet._device_layer import NetworkDeviceLayer
from hashwatt.fleet._store import FleetStore
from hashwatt.miner.demo_pool import start_demo_pool
from hashwatt.pow import scan
from hashwatt.stratum import ShareLog, sqlite_url
from hashwatt.twin import Clock, Fault, GroupSpec, Ports, SiteServer, SiteSpec, Twin, apply_fault, build_twins
from hashwatt.twin import Firmware as TwinFirmware
from hashwatt.twin._stratum import StratumLink
from hashwatt.web._app import PoolGroup, replay_day_prices
from hashwatt.web._pool import PoolView
from hashwatt.web._users import Role, UserStore

__all__ = ["DEMO_GROUPS", "DEMO_SITES", "DEMO_WORK_SCALE", "DemoSite", "demo_site", "site_of"]

SITE = "demo"
#: Two sites, each polled and curtailed by its own agent: the Antminers at "demo", the
#: Whatsminers at "demo-west" (see :func:`site_of`).
DEMO_SITES = (SITE, "demo-west")
#: (catalog model, twin firmware, count): every firmware hashwatt speaks.
DEMO_GROUPS = (
    ("Antminer S19 Pro", "stock", 4),
    ("Antminer S19j Pro", "luxos", 3),
    ("Whatsminer M30S+", "whatsminer", 3),
    ("Whatsminer M60S", "whatsminer-v3", 2),
)
DEADLINE_S = 3.0
#: The demo replays the ERCOT price day fast: one replayed hour every 12 s, from hour 11, so the
#: evening's scarcity prices put machines to sleep within seconds and the late-night fall wakes
#: them about two minutes later.
SECONDS_PER_REPLAYED_HOUR = 12.0
REPLAY_START_HOUR = 11
#: Credited hashes per modelled hash: the demo's ~1.2 PH/s is paid to the pool as ~0.24 MH/s of
#: real shares (about 1 % of one SHA-NI core in hashing), each worker in proportion to its machine.
DEMO_WORK_SCALE = 2e-10
#: The pool's starting share difficulty (vardiff then aims at one share per 5 s per worker) and
#: a demo-chain block about every 2**26 credited hashes (every five minutes or so).
DEMO_SHARE_DIFFICULTY = 2.0**-16
DEMO_BLOCK_EXPECTED_HASHES = 2.0**26
POOL_USER = "demo"


@dataclass
class DemoSite:
    store: FleetStore
    server: SiteServer
    twins: list[Twin]
    agent: Agent
    curtail: CurtailPolicy
    pool: PoolView | None = None
    #: The replayed clock the curtailment runs on (the energy page's "now").
    replay_now: Callable[[], dt.datetime] | None = None
    agents: list[Agent] = field(default_factory=list)
    links: list[StratumLink] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # user -> password, for the banner only
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pool_groups(self) -> tuple[PoolGroup, ...]:
        """The devices page's pool groups: the demo pool under the demo account or a spare one."""
        if self.pool is None:
            return ()
        return (
            PoolGroup("demo pool", self.pool.url, POOL_USER),
            PoolGroup("demo pool, spare account", self.pool.url, "spare"),
        )

    def web_options(self) -> dict[str, Any]:
        """The demo's :class:`~hashwatt.web.WebConfig` fields: its pool groups and the replayed
        clock the energy page's schedule is read on (the one the curtailment runs on)."""
        return {"pool_groups": self.pool_groups, "schedule_clock": self.replay_now}

    def endpoint(self, host: str) -> Endpoint:
        p = self.server.ports
        return Endpoint(host, api_port=p.rpc, http_port=p.web, v3_port=p.v3)


@contextlib.asynccontextmanager
async def demo_site(
    *,
    port_offset: int = 20000,
    block: int = 41,
    interval_s: float = 3.0,
    directory: Path | None = None,
    users: bool = True,
    seconds_per_replayed_hour: float = SECONDS_PER_REPLAYED_HOUR,
    replay_start_hour: int = REPLAY_START_HOUR,
    curtail: bool = True,
    pool: bool = True,
    work_scale: float = DEMO_WORK_SCALE,
) -> AsyncIterator[DemoSite]:
    """Start pool, twins, store and agent; yield the running site; stop everything on exit."""
    async with contextlib.AsyncExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hashwatt-demo-")))
        store = FleetStore.open(f"sqlite:///{directory / 'fleet.db'}")
        stack.callback(store.close)
        view = await _start_pool(stack, directory, work_scale) if pool else None
        groups, first = [], 1
        for model, firmware, count in DEMO_GROUPS:
            groups.append(
                GroupSpec(
                    model=model,
                    firmware=TwinFirmware(firmware),
                    count=count,
                    range=f"127.66.{block}.{first}-127.66.{block}.{first + count - 1}",
                    **({"pool": view.url, "user": POOL_USER, "stratum": True} if view else {}),
                )
            )
            first += count
        spec = SiteSpec(seed=7, ramp_seconds=5, reboot_seconds=5, restart_seconds=1, group=groups)
        clock = Clock()
        twins = build_twins(spec, now_s=clock.now())
        apply_fault(twins[1], Fault.FAN, 1, clock.now())  # one failed fan: an alert to acknowledge
        server = SiteServer(twins, ports=Ports.offset(port_offset), clock=clock, mode="per-address")
        await server.start()
        try:
            ports = server.ports
            per_site: dict[str, int] = {}
            for i, t in enumerate(twins):
                n = per_site[site_of(i)] = per_site.get(site_of(i), -1) + 1
                store.add_device(
                    site_of(i),
                    Endpoint(t.host, api_port=ports.rpc, http_port=ports.web, v3_port=ports.v3),
                    rack=f"R{1 + n // 4}",
                    position=f"{1 + n % 4}",
                )
            alerts = AlertConfig(AlertThresholds(fan_for_min=0.0, hashboard_for_min=0.0), {}, {})
            replay = replay_clock(replay_start_hour, seconds_per_replayed_hour)
            agents, policies = [], []
            for name in DEMO_SITES:
                layer = NetworkDeviceLayer(
                    store,
                    name,
                    deadline_s=DEADLINE_S,
                    timeout_s=DEADLINE_S,
                    controller=Controller(retries=1, confirm_timeout_s=20.0, confirm_interval_s=0.5),
                    step_interval_s=0.0,
                )
                policy = CurtailPolicy(
                    store,
                    name,
                    replayed_prices(dt.datetime.now(dt.UTC)),
                    NetworkState.latest().hashprice_usd_per_ph_day,
                    layer.device,
                    Controller(
                        retries=1,
                        confirm_timeout_s=20.0,
                        confirm_interval_s=0.5,
                        audit_sink=AuditLog(store.engine).record_sink,
                    ),
                    step_interval_s=0.0,
                    clock=replay,
                    actor="curtailment (demo)",
                )
                agents.append(
                    Agent(
                        store,
                        AgentConfig(
                            site=name, name=name, interval_s=interval_s, alerts=alerts, rollup_every_s=60.0
                        ),
                        poll=layer.poll,
                        execute=layer.execute,
                        curtail=policy.step if curtail else None,
                    )
                )
                policies.append(policy)
            site = DemoSite(store, server, twins, agents[0], policies[0], pool=view, replay_now=replay)
            site.agents = agents
            if view is not None:
                site.links = [StratumLink(t, clock.now, work_scale=work_scale) for t in twins if t.stratum]
            if users:
                user_store = UserStore(store.engine)
                for name, role in (
                    ("admin", Role.ADMIN),
                    ("operator", Role.OPERATOR),
                    ("viewer", Role.VIEWER),
                ):
                    password = secrets.token_urlsafe(12)
                    user_store.add(name, password, role)
                    site.passwords[name] = password
            agent_tasks = [asyncio.create_task(a.run(site.stop)) for a in agents]
            site.task = agent_tasks[0]
            link_tasks = [asyncio.create_task(link.run(site.stop)) for link in site.links]
            try:
                yield site
            finally:
                site.stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.gather(*agent_tasks), timeout=30)
                await asyncio.wait_for(asyncio.gather(*link_tasks, return_exceptions=True), timeout=30)
        finally:
            await server.close()


async def _start_pool(stack: contextlib.AsyncExitStack, directory: Path, work_scale: float) -> PoolView:
    """hashwatt's pool on the demo chain, on a free loopback port, closed with the stack."""
    share_log = ShareLog(sqlite_url(directory / "shares.db"), synchronous="NORMAL")
    stack.callback(share_log.close)
    server = await start_demo_pool(
        share_log,
        share_difficulty=DEMO_SHARE_DIFFICULTY,
        block_expected_hashes=DEMO_BLOCK_EXPECTED_HASHES,
        target_share_interval_s=5.0,
    )
    stack.push_async_callback(server.close)
    # The pow kernel is chosen by a short measurement on first use: done here, not in a worker.
    await asyncio.to_thread(scan, bytes(76), 0, 1024, 0)
    return PoolView(
        share_log.engine,
        f"stratum+tcp://127.0.0.1:{server.port}",
        server=server,
        work_scale=work_scale,
        started_unix_s=time.time(),
    )


def site_of(index: int) -> str:
    """The demo site of the twin at ``index`` in :data:`DEMO_GROUPS` order."""
    antminers = sum(count for model, _, count in DEMO_GROUPS if model.startswith("Antminer"))
    return DEMO_SITES[0] if index < antminers else DEMO_SITES[1]


def replayed_prices(now: dt.datetime, *, days: int = 30) -> pd.Series:
    """The replayed day laid on ``days`` consecutive UTC days from today's midnight [USD/MWh]."""
    day = replay_day_prices()
    day0 = pd.Timestamp(now).tz_convert("UTC").normalize()
    index = pd.date_range(day0, periods=len(day) * days, freq="h")
    return pd.Series(day * days, index=index)


def replay_clock(start_hour: int, seconds_per_hour: float) -> Callable[[], dt.datetime]:
    """Replayed time: today's ``start_hour`` UTC now, then one hour every ``seconds_per_hour``."""
    day0 = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day0 + dt.timedelta(hours=start_hour)
    t0 = time.monotonic()
    return lambda: start + dt.timedelta(hours=(time.monotonic() - t0) / seconds_per_hour)
