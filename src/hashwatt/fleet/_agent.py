"""The site agent: poll, store, evaluate alerts, execute queued commands, roll up; repeat.

One agent runs per site (``hashwatt fleet agent --site NAME --db URL``). It takes the device
layer as callables (:class:`DeviceLayer`), so the store ships and is tested on its own and
any poller can drive it. Database calls run in a worker thread so a slow commit never delays
the next poll; a failed cycle (database briefly down) is logged and the next one runs on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from hashwatt.fleet._alerts import AlertConfig, SampleWindow, evaluate_alerts
from hashwatt.fleet._commands import Command, claim_commands, finish_command
from hashwatt.fleet._curtail import CurtailStep
from hashwatt.fleet._rollup import Retention, run_retention
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet._types import Endpoint, PollOutcome, PollResult
from hashwatt.fleet._webhooks import WebhookQueue
from hashwatt.fleet.errors import FleetError

__all__ = [
    "Agent",
    "AgentConfig",
    "CommandResult",
    "CycleReport",
    "DeviceLayer",
    "run_until_signalled",
]

log = logging.getLogger("hashwatt.fleet.agent")

#: Polls every endpoint once, concurrently, each within its own deadline; one result each.
PollFn = Callable[[Sequence[Endpoint]], Awaitable[Sequence[PollResult]]]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a control action ended: ``outcome`` is ok, failed or partial; ``detail`` per device."""

    ok: bool
    outcome: str = "ok"
    detail: Mapping[str, Any] = field(default_factory=dict)


#: Carries out one queued command on the devices (confirming by read-back) and reports.
ExecuteFn = Callable[[Command], Awaitable[CommandResult]]


class DeviceLayer(Protocol):
    """What the agent needs from the device layer (:class:`NetworkDeviceLayer` over the network)."""

    async def poll(self, endpoints: Sequence[Endpoint]) -> Sequence[PollResult]: ...

    async def execute(self, command: Command) -> CommandResult: ...


@dataclass(frozen=True, slots=True)
class AgentConfig:
    site: str
    name: str = "agent"
    interval_s: float = 60.0
    retention: Retention = field(default_factory=Retention)
    alerts: AlertConfig = field(default_factory=AlertConfig.default)
    rollup_every_s: float = 300.0
    command_batch: int = 20
    command_lease_s: float = 300.0


@dataclass(frozen=True, slots=True)
class CycleReport:
    time_utc: dt.datetime
    polled: int
    ok: int
    failed: int
    new_devices: int
    alerts_opened: int
    alerts_resolved: int
    commands_done: int
    commands_failed: int
    rolled_up: bool
    duration_s: float
    curtail_started: int = 0
    curtail_ended: int = 0


class Agent:
    """One site's loop over a :class:`FleetStore`."""

    def __init__(
        self,
        store: FleetStore,
        config: AgentConfig,
        *,
        poll: PollFn,
        execute: ExecuteFn | None = None,
        webhooks: WebhookQueue | None = None,
        curtail: Callable[[], Awaitable[CurtailStep]] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.config = config
        self._poll = poll
        self._execute = execute
        self.webhooks = webhooks
        self._curtail = curtail
        self._clock = clock
        self._last_rollup: float | None = None
        # the alert rules' samples, kept between cycles: each cycle reads only its own rows
        self._window = SampleWindow()
        self.cycles = 0
        self.missed_cycles = 0
        self.failed_cycles = 0

    @property
    def agent_id(self) -> str:
        return f"{self.config.site}/{self.config.name}"

    async def run_cycle(self) -> CycleReport:
        started = time.monotonic()
        cfg = self.config
        endpoints = await asyncio.to_thread(self.store.endpoints, cfg.site)
        results = list(await self._poll(endpoints)) if endpoints else []
        summary = await asyncio.to_thread(self.store.record, cfg.site, results)
        now = self._clock()
        changes = await asyncio.to_thread(
            evaluate_alerts, self.store, cfg.site, now=now, config=cfg.alerts, window=self._window
        )
        if self.webhooks is not None:
            await asyncio.to_thread(self.webhooks.enqueue, changes, now=now)
            await asyncio.to_thread(self.webhooks.deliver_due, now=now)
        done, failed = await self._run_commands()
        step = await self._curtail() if self._curtail is not None else CurtailStep(None)
        if step.alerts:  # the curtailment safety rule's alerts travel like the others
            changes = [*changes, *step.alerts]
            if self.webhooks is not None:
                await asyncio.to_thread(self.webhooks.enqueue, step.alerts, now=now)
                await asyncio.to_thread(self.webhooks.deliver_due, now=now)
        rolled = False
        if self._last_rollup is None or time.monotonic() - self._last_rollup >= cfg.rollup_every_s:
            await asyncio.to_thread(run_retention, self.store.engine, now=now, retention=cfg.retention)
            self._last_rollup = time.monotonic()
            rolled = True
        n_ok = sum(1 for r in results if r.outcome is PollOutcome.OK)
        self.cycles += 1
        return CycleReport(
            time_utc=now,
            polled=len(results),
            ok=n_ok,
            failed=len(results) - n_ok,
            new_devices=len(summary.new_devices),
            alerts_opened=sum(1 for c in changes if c.event == "opened"),
            alerts_resolved=sum(1 for c in changes if c.event == "resolved"),
            commands_done=done,
            commands_failed=failed,
            rolled_up=rolled,
            duration_s=time.monotonic() - started,
            curtail_started=len(step.started),
            curtail_ended=len(step.ended),
        )

    async def _run_commands(self) -> tuple[int, int]:
        if self._execute is None:
            return 0, 0
        cfg = self.config
        claimed = await asyncio.to_thread(
            claim_commands,
            self.store,
            cfg.site,
            self.agent_id,
            limit=cfg.command_batch,
            lease_s=cfg.command_lease_s,
        )
        done = failed = 0
        for command in claimed:
            try:
                result = await self._execute(command)
            except FleetError as exc:
                result = CommandResult(False, "failed", {"error": str(exc)})
            await asyncio.to_thread(
                finish_command,
                self.store,
                command,
                self.agent_id,
                ok=result.ok,
                result=dict(result.detail),
                outcome=result.outcome,
            )
            done += result.ok
            failed += not result.ok
        return done, failed

    async def run(
        self,
        stop: asyncio.Event,
        *,
        on_cycle: Callable[[CycleReport], None] | None = None,
        max_cycles: int | None = None,
    ) -> None:
        """Cycle every ``interval_s`` until ``stop`` is set; a cycle in flight finishes first."""
        next_start = time.monotonic()
        while not stop.is_set():
            try:
                report = await self.run_cycle()
            except (FleetError, SQLAlchemyError) as exc:
                self.failed_cycles += 1
                log.error("cycle failed: %s", exc if isinstance(exc, FleetError) else type(exc).__name__)
            else:
                if on_cycle is not None:
                    on_cycle(report)
            if max_cycles is not None and self.cycles + self.failed_cycles >= max_cycles:
                return
            next_start += self.config.interval_s
            now = time.monotonic()
            if now > next_start:  # the cycle overran: start the next one now, count the miss
                self.missed_cycles += int((now - next_start) // self.config.interval_s) + 1
                next_start = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_start - now))


async def run_until_signalled(agent: Agent, **kwargs: Any) -> None:
    """Run ``agent`` until SIGINT or SIGTERM; the cycle in flight completes and commits."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await agent.run(stop, **kwargs)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
