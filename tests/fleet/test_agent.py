"""The site agent on SQLite and PostgreSQL: a full cycle, commands read back, clean shutdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from hashwatt.fleet._agent import Agent, AgentConfig
from hashwatt.fleet._alerts import AlertRule, list_alerts
from hashwatt.fleet._audit import AuditLog
from hashwatt.fleet._commands import CommandState, list_commands, submit_command
from hashwatt.fleet._models import rollups, samples
from hashwatt.fleet._rollup import Retention
from hashwatt.fleet._store import FleetStore
from tests.fleet._readings import T0, ep
from tests.fleet._site import DEAD, ScriptedSite

REPO = Path(__file__).resolve().parents[2]


def test_agent_cycles_store_alert_execute_and_roll_up(store_url: str) -> None:
    clock = [T0]
    site = ScriptedSite(lambda: clock[0])
    with FleetStore.open(store_url) as store:
        for i in range(3):
            store.add_device("north", ep(i))
        agent = Agent(
            store,
            AgentConfig(site="north", name="a1", retention=Retention(raw_days=1), rollup_every_s=0),
            poll=site.poll,
            execute=site.execute,
            clock=lambda: clock[0],
        )

        async def cycles(n: int) -> list[object]:
            out = []
            for _ in range(n):
                out.append(await agent.run_cycle())
                clock[0] += dt.timedelta(minutes=1)
            return out

        reports = asyncio.run(cycles(5))
        assert [(r.polled, r.ok, r.failed) for r in reports] == [(3, 2, 1)] * 5  # type: ignore[attr-defined]
        (offline,) = list_alerts(store, states=["open"])
        assert offline.rule is AlertRule.OFFLINE and offline.address == DEAD

        cmd = submit_command(store, "north", "sleep", [ep(0).address, DEAD], created_by="alice")
        asyncio.run(cycles(1))  # executes the command ...
        asyncio.run(cycles(1))  # ... and the next poll reads the new state back
        (done,) = list_commands(store, site="north")
        assert done.id == cmd.id and done.state is CommandState.FAILED  # one target unreachable
        (entry,) = AuditLog(store.engine).entries(site="north")
        assert entry.outcome == "partial" and entry.actor == "alice" and entry.detail is not None
        assert entry.detail[ep(0).address] == "ok" and entry.detail[DEAD] == "unreachable"
        view = store.view(ep(0).address)
        assert view is not None and view.device.state == "sleeping"
        assert view.telemetry is not None and view.telemetry.hashrate_ths == 0.0
        assert not [a for a in list_alerts(store) if a.rule is AlertRule.HASHRATE_LOW]  # asleep is not slow

        with store.engine.connect() as c:
            assert c.scalar(select(func.count()).select_from(samples)) == 21
            assert (
                c.scalar(select(func.count()).select_from(samples).where(samples.c.outcome == "unreachable"))
                == 7
            )
        assert store.find_device(DEAD) is not None


def test_rollups_are_written_by_the_agent(store_url: str) -> None:
    clock = [T0]
    site = ScriptedSite(lambda: clock[0])
    with FleetStore.open(store_url) as store:
        store.add_device("north", ep(0))
        agent = Agent(
            store, AgentConfig(site="north", rollup_every_s=0), poll=site.poll, clock=lambda: clock[0]
        )

        async def run() -> None:
            for _ in range(20):
                await agent.run_cycle()
                clock[0] += dt.timedelta(minutes=1)

        asyncio.run(run())
        with store.engine.connect() as c:
            n = c.scalar(select(func.count()).select_from(rollups).where(rollups.c.tier == "15m"))
        assert n == 1  # minutes 0-14 closed at minute 15


_CHILD = """
import asyncio, datetime as dt, sys
sys.path.insert(0, {repo!r})
from hashwatt.fleet._agent import Agent, AgentConfig, run_until_signalled
from hashwatt.fleet._alerts import AlertConfig, AlertThresholds
from hashwatt.fleet._store import FleetStore
from tests.fleet._readings import ep
from tests.fleet._site import ScriptedSite

store = FleetStore.open({url!r})
for i in range(3):
    store.add_device("north", ep(i))
site = ScriptedSite(lambda: dt.datetime.now(dt.UTC))
rated = AlertConfig(AlertThresholds(rated_efficiency_j_per_th=29.5), {{}}, {{}})  # no catalog load
agent = Agent(store, AgentConfig(site="north", interval_s=0.2, alerts=rated), poll=site.poll, execute=site.execute)
asyncio.run(run_until_signalled(agent))
store.close()
print("stopped after", agent.cycles, "cycles", flush=True)
"""


def test_agent_stops_cleanly_on_sigterm_and_sigint(store_url: str) -> None:
    before = 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        code = textwrap.dedent(_CHILD.format(repo=str(REPO), url=store_url))
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        try:
            with FleetStore.open(store_url) as store:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with store.engine.connect() as c:
                        n = c.scalar(select(func.count()).select_from(samples)) or 0
                    if n >= before + 6:  # two cycles of this child: its handlers are in place
                        break
                    assert proc.poll() is None, proc.communicate()
                    time.sleep(0.05)
                proc.send_signal(sig)
                out, err = proc.communicate(timeout=30)
                assert proc.returncode == 0, err
                assert "stopped after" in out and "Traceback" not in err
                with store.engine.connect() as c:
                    total = c.scalar(select(func.count()).select_from(samples)) or 0
                    bad = c.scalar(select(func.count()).select_from(samples).where(samples.c.outcome != "ok"))
                assert total % 3 == 0  # whole cycles only: the cycle in flight committed
                before = total
                assert bad == total // 3  # the dead address, stored as unreachable each cycle
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
