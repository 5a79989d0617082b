"""``hashwatt serve --demo``: the whole product on one machine, as an ordinary user.

A temporary SQLite fleet database, a site of device twins of several models and firmwares on
loopback in port-offset mode (no privileged ports), the fleet agent polling them and running
the commands the dashboard queues, three users with random passwords, and the dashboard.
The twins are reached only through the network, exactly as real miners are.
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

import pandas as pd

from hashwatt.economics import NetworkState
from hashwatt.fleet import Controller, Endpoint
from hashwatt.fleet._agent import Agent, AgentConfig
from hashwatt.fleet._alerts import AlertConfig, AlertThresholds
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._curtail import CurtailPolicy
from hashwatt.fleet._device_layer import NetworkDeviceLayer
from hashwatt.fleet._store import FleetStore
from hashwatt.twin import Clock, Fault, GroupSpec, Ports, SiteServer, SiteSpec, Twin, apply_fault, build_twins
from hashwatt.twin import Firmware as TwinFirmware
from hashwatt.web._app import replay_day_prices
from hashwatt.web._users import Role, UserStore

__all__ = ["DEMO_GROUPS", "DemoSite", "demo_site"]

SITE = "demo"
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


@dataclass
class DemoSite:
    store: FleetStore
    server: SiteServer
    twins: list[Twin]
    agent: Agent
    curtail: CurtailPolicy
    passwords: dict[str, str] = field(default_factory=dict)  # user -> password, for the banner only
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

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
) -> AsyncIterator[DemoSite]:
    """Start twins, store and agent; yield the running site; stop everything on exit."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hashwatt-demo-")))
        store = FleetStore.open(f"sqlite:///{directory / 'fleet.db'}")
        stack.callback(store.close)
        groups, first = [], 1
        for model, firmware, count in DEMO_GROUPS:
            groups.append(
                GroupSpec(
                    model=model,
                    firmware=TwinFirmware(firmware),
                    count=count,
                    range=f"127.66.{block}.{first}-127.66.{block}.{first + count - 1}",
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
            for i, t in enumerate(twins):
                store.add_device(
                    SITE,
                    Endpoint(t.host, api_port=ports.rpc, http_port=ports.web, v3_port=ports.v3),
                    rack=f"R{1 + i // 6}",
                    position=f"{1 + i % 6}",
                )
            layer = NetworkDeviceLayer(
                store,
                SITE,
                deadline_s=DEADLINE_S,
                timeout_s=DEADLINE_S,
                controller=Controller(retries=1, confirm_timeout_s=20.0, confirm_interval_s=0.5),
                step_interval_s=0.0,
            )
            alerts = AlertConfig(AlertThresholds(fan_for_min=0.0, hashboard_for_min=0.0), {}, {})
            policy = CurtailPolicy(
                store,
                SITE,
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
                clock=replay_clock(replay_start_hour, seconds_per_replayed_hour),
                actor="curtailment (demo)",
            )
            agent = Agent(
                store,
                AgentConfig(
                    site=SITE, name="demo", interval_s=interval_s, alerts=alerts, rollup_every_s=60.0
                ),
                poll=layer.poll,
                execute=layer.execute,
                curtail=policy.step if curtail else None,
            )
            site = DemoSite(store, server, twins, agent, policy)
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
            site.task = asyncio.create_task(agent.run(site.stop))
            try:
                yield site
            finally:
                site.stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(site.task, timeout=30)
        finally:
            await server.close()


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
