"""A scripted site for the agent tests: the device-layer seam (poll and execute callables).

Devices answer with readings that follow their state; executing a queued command changes
that state, so the next poll reads the change back, as a real miner would. Address 2 never
answers. Used in-process and from a subprocess (the signal test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from hashwatt.fleet import DeviceState, Endpoint, PollOutcome, PollResult
from hashwatt.fleet._agent import CommandResult
from hashwatt.fleet._commands import Command
from tests.fleet._readings import ep, identity, telemetry

DEAD = ep(2).address


class ScriptedSite:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock
        self.state: dict[str, DeviceState] = {}
        self.polls = 0

    async def poll(self, endpoints: Sequence[Endpoint]) -> list[PollResult]:
        now = self.clock()
        out = []
        for e in endpoints:
            self.polls += 1
            if e.address == DEAD:
                out.append(PollResult(e, now, PollOutcome.UNREACHABLE, None, 5.0, error="connection refused"))
                continue
            state = self.state.get(e.address, DeviceState.MINING)
            hashing = state is DeviceState.MINING
            t = telemetry(
                now,
                hashrate_ths=110.0 if hashing else 0.0,
                power_w=3250.0 if hashing else 15.0,
                state=state,
                fans=(5400, 5500, 5300, 5600) if hashing else (0, 0, 0, 0),
            )
            out.append(PollResult(e, now, PollOutcome.OK, t, 8.0, identity=identity(f"SN-{e.api_port}")))
        return out

    async def execute(self, command: Command) -> CommandResult:
        detail = {}
        for address in command.targets:
            if address == DEAD:
                detail[address] = "unreachable"
                continue
            self.state[address] = DeviceState.SLEEPING if command.action == "sleep" else DeviceState.MINING
            detail[address] = "ok"
        ok = all(v == "ok" for v in detail.values())
        return CommandResult(ok, "ok" if ok else "partial", detail)
