"""Control: actions on devices, each confirmed by reading the device back, retried, audited.

A single action is tried, then the device is read until the change shows (or
``confirm_timeout_s`` passes); an action that did not take is retried up to ``retries`` times
and reported as it ended. Bulk actions run in steps of at most ``max_devices_per_step``
devices and ``max_kw_per_step`` of load, ``step_interval_s`` apart, so a site never swings
its whole load at once. Every call hands one :class:`AuditRecord` to the audit sink.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hashwatt._redact import redact_url
from hashwatt.fleet._devices import AntminerStock, Device, LuxOS, PoolConfig
from hashwatt.fleet._types import DeviceState, Telemetry
from hashwatt.fleet.errors import ControlUnsupported, DeviceError, FleetInputError

__all__ = [
    "Action",
    "ActionOutcome",
    "ActionRequest",
    "ActionStatus",
    "AuditRecord",
    "AuditSink",
    "BulkResult",
    "Controller",
    "plan_steps",
    "request_from_command",
]


class Action(enum.StrEnum):
    REBOOT = "reboot"
    SLEEP = "sleep"
    WAKE = "wake"
    POWER_TARGET = "power_target"
    PROFILE = "profile"
    POOLS = "pools"
    FAULT_LIGHT = "fault_light"


class ActionStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # the device reads back in the new state
    UNCONFIRMED = "unconfirmed"  # accepted, but the read-back never showed it (the device disobeys)
    FAILED = "failed"  # the device could not be reached or refused, after every retry
    UNSUPPORTED = "unsupported"  # the firmware has no such control


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """What to do; only the field of the action is used."""

    action: Action
    power_w: float | None = None
    profile: str | None = None
    pools: tuple[PoolConfig, ...] = ()
    pool_group: str | None = None  # a LuxOS pool group (created when missing)
    light_on: bool | None = None

    def __post_init__(self) -> None:
        if self.action is Action.POWER_TARGET and not (self.power_w is not None and self.power_w > 0):
            raise FleetInputError("a power target needs a positive power_w [W]")
        if self.action is Action.PROFILE and not self.profile:
            raise FleetInputError("a profile action needs a profile name")
        if self.action is Action.POOLS and not 1 <= len(self.pools) <= 3:
            raise FleetInputError("a pool change takes 1 to 3 pools")
        if self.action is Action.FAULT_LIGHT and self.light_on is None:
            raise FleetInputError("a fault light action needs light_on")

    def describe(self) -> str:
        """The parameters for the audit log, without any secret."""
        if self.action is Action.POWER_TARGET:
            return f"power_w={self.power_w:g}"
        if self.action is Action.PROFILE:
            return f"profile={self.profile}"
        if self.action is Action.POOLS:
            pools = "pools=" + ",".join(f"{redact_url(p.url)}#{p.user}" for p in self.pools)
            return pools + (f" group={self.pool_group}" if self.pool_group else "")
        if self.action is Action.FAULT_LIGHT:
            return f"light_on={self.light_on}"
        return ""


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    address: str
    action: Action
    status: ActionStatus
    attempts: int
    detail: str = ""  # one line, no secrets
    state_after: DeviceState | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is ActionStatus.CONFIRMED


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """Who did what to which devices, when, and how it ended."""

    time_utc: datetime
    actor: str
    action: Action
    params: str
    addresses: tuple[str, ...]
    outcomes: tuple[ActionOutcome, ...]
    reason: str = ""

    @property
    def succeeded(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def outcome(self) -> str:
        """One word for the log: ok (all confirmed), refused (none supported), failed or partial."""
        if self.outcomes and all(o.ok for o in self.outcomes):
            return "ok"
        if self.outcomes and all(o.status is ActionStatus.UNSUPPORTED for o in self.outcomes):
            return "refused"
        return "failed" if self.succeeded == 0 else "partial"

    def entry_fields(self) -> dict[str, Any]:
        """The fields of the store's audit entry (actor, action, devices, outcome, time, params, detail)."""
        return {
            "actor": self.actor,
            "action": _COMMAND_NAME.get(self.action, self.action.value),
            "devices": self.addresses,
            "outcome": self.outcome,
            "time_utc": self.time_utc,
            "params": {"request": self.params, "reason": self.reason}
            if self.reason
            else {"request": self.params},
            "detail": {
                o.address: {"status": o.status.value, "attempts": o.attempts, "detail": o.detail}
                for o in self.outcomes
            },
        }


#: Receives each audit record (a plain function or a coroutine function; the return value is ignored).
AuditSink = Callable[[AuditRecord], object]

#: The command table's action names (fleet-store) -> the actions here.
_COMMAND_ACTIONS: dict[str, Action] = {
    "reboot": Action.REBOOT,
    "sleep": Action.SLEEP,
    "curtail": Action.SLEEP,
    "wake": Action.WAKE,
    "power": Action.POWER_TARGET,
    "power_target": Action.POWER_TARGET,
    "profile": Action.PROFILE,
    "pool": Action.POOLS,
    "pools": Action.POOLS,
    "fault_light": Action.FAULT_LIGHT,
}
_COMMAND_NAME: dict[Action, str] = {Action.POWER_TARGET: "power", Action.POOLS: "pool"}


def request_from_command(action: str, params: Mapping[str, Any]) -> ActionRequest:
    """An :class:`ActionRequest` from a command row: ``power`` takes ``power_w`` or ``profile``,
    ``pool`` takes ``pools`` as ``[{"url", "user", "password"}]``, ``fault_light`` takes ``on``.

    Raises :class:`FleetInputError` for an unknown action or missing parameters.
    """
    kind = _COMMAND_ACTIONS.get(action)
    if kind is None:
        raise FleetInputError(
            f"unknown action {action!r}; known: {', '.join(sorted(_COMMAND_ACTIONS))}",
            field="action",
            value=action,
        )
    if kind is Action.POWER_TARGET and params.get("profile") and params.get("power_w") is None:
        return ActionRequest(Action.PROFILE, profile=str(params["profile"]))
    try:
        if kind is Action.POWER_TARGET:
            return ActionRequest(kind, power_w=float(params["power_w"]))
        if kind is Action.PROFILE:
            return ActionRequest(kind, profile=str(params["profile"]))
        if kind is Action.POOLS:
            pools = tuple(
                PoolConfig(str(p["url"]), str(p.get("user", "")), str(p.get("password", p.get("pass", "x"))))
                for p in params["pools"]
            )
            group = params.get("group")
            return ActionRequest(kind, pools=pools, pool_group=None if group is None else str(group))
        if kind is Action.FAULT_LIGHT:
            return ActionRequest(kind, light_on=bool(params["on"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise FleetInputError(
            f"{action}: missing or bad parameter ({type(exc).__name__}: {exc})", field=action, value=None
        ) from exc
    return ActionRequest(kind)


@dataclass(frozen=True, slots=True)
class BulkResult:
    outcomes: tuple[ActionOutcome, ...]
    steps: tuple[tuple[str, ...], ...]  # the addresses of each step, in order
    audit: AuditRecord = field(repr=False)

    @property
    def failed(self) -> tuple[ActionOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


def plan_steps(
    devices: Sequence[Device],
    *,
    max_devices_per_step: int,
    max_kw_per_step: float | None = None,
    power_w_of: Callable[[Device], float | None] | None = None,
) -> list[list[Device]]:
    """Split ``devices`` (in order) into ramp steps within both limits.

    A device whose power is unknown counts as 0 kW; one device above ``max_kw_per_step`` goes
    alone in its step.
    """
    if max_devices_per_step < 1:
        raise FleetInputError("max_devices_per_step must be at least 1")
    if max_kw_per_step is not None and not max_kw_per_step > 0:
        raise FleetInputError("max_kw_per_step must be positive")
    steps: list[list[Device]] = []
    current: list[Device] = []
    kw = 0.0
    for dev in devices:
        dev_kw = ((power_w_of(dev) if power_w_of else None) or 0.0) / 1000.0
        over_count = len(current) >= max_devices_per_step
        over_kw = max_kw_per_step is not None and current and kw + dev_kw > max_kw_per_step
        if over_count or over_kw:
            steps.append(current)
            current, kw = [], 0.0
        current.append(dev)
        kw += dev_kw
    if current:
        steps.append(current)
    return steps


async def _emit(sink: AuditSink | None, record: AuditRecord) -> None:
    if sink is None:
        return
    maybe = sink(record)
    if inspect.isawaitable(maybe):
        await maybe


class Controller:
    """Performs actions with read-back confirmation and retries, and audits them."""

    def __init__(
        self,
        *,
        audit_sink: AuditSink | None = None,
        retries: int = 2,
        confirm_timeout_s: float = 30.0,
        confirm_interval_s: float = 2.0,
        action_timeout_s: float = 15.0,
    ) -> None:
        self.audit_sink = audit_sink
        self.retries = retries
        self.confirm_timeout_s = confirm_timeout_s
        self.confirm_interval_s = confirm_interval_s
        self.action_timeout_s = action_timeout_s

    async def _apply(self, device: Device, req: ActionRequest) -> str | None:
        """Send the action; returns the profile a power target chose, if any."""
        match req.action:
            case Action.REBOOT:
                await device.reboot()
            case Action.SLEEP:
                await device.sleep()
            case Action.WAKE:
                await device.wake()
            case Action.POWER_TARGET:
                assert req.power_w is not None  # checked in ActionRequest
                return await device.set_power_target(req.power_w)
            case Action.PROFILE:
                assert req.profile is not None
                await device.set_profile(req.profile)
            case Action.POOLS:
                await device.set_pools(req.pools, group=req.pool_group)
            case Action.FAULT_LIGHT:
                assert req.light_on is not None
                await device.set_fault_light(req.light_on)
        return None

    async def _confirmed(
        self, device: Device, req: ActionRequest, chosen: str | None, uptime_before: int | None
    ) -> tuple[bool, DeviceState | None]:
        """One read-back: does the device now show the change?"""
        if req.action is Action.FAULT_LIGHT:
            return await device.fault_light() == req.light_on, None
        if req.action is Action.POOLS and isinstance(device, AntminerStock):
            # bmminer restarts after a pool change; its saved configuration shows it first
            conf = await device.miner_conf()
            first = conf.get("pools", [{}])[0] if conf.get("pools") else {}
            return isinstance(first, dict) and first.get("url") == req.pools[0].url, None
        if req.action is Action.POOLS and isinstance(device, LuxOS):
            # LuxOS lists pools by id; the group's priority order shows the change
            order = await device.group_pools(req.pool_group)
            return order[: len(req.pools)] == [(p.url, p.user) for p in req.pools], None
        if req.action is Action.PROFILE and isinstance(device, AntminerStock):
            modes = {"normal": "0", "sleep": "1", "low": "3"}
            conf = await device.miner_conf()
            return str(conf.get("bitmain-work-mode")) == modes.get(req.profile or "", "?"), None
        try:
            t = await device.read()
        except DeviceError:
            if req.action is Action.REBOOT:
                return True, DeviceState.REBOOTING  # it went down: the reboot took
            raise
        return _shows(req, t, chosen, uptime_before), t.state

    async def perform(self, device: Device, req: ActionRequest) -> ActionOutcome:
        """One action on one device, confirmed by read-back, retried ``retries`` times."""
        t0 = time.monotonic()
        attempts = 0
        detail = ""
        state: DeviceState | None = None
        status = ActionStatus.FAILED
        uptime_before: int | None = None
        if req.action is Action.REBOOT:
            try:
                uptime_before = (await device.read()).uptime_s
            except DeviceError:
                uptime_before = None
        while attempts <= self.retries:
            attempts += 1
            try:
                async with asyncio.timeout(self.action_timeout_s):
                    chosen = await self._apply(device, req)
            except ControlUnsupported as exc:
                return ActionOutcome(device.address, req.action, ActionStatus.UNSUPPORTED, attempts, str(exc))
            except (DeviceError, TimeoutError) as exc:
                detail = str(exc) or f"{device.address}: no answer within {self.action_timeout_s:g} s"
                status = ActionStatus.FAILED
                await asyncio.sleep(min(self.confirm_interval_s, 1.0))
                continue
            deadline = time.monotonic() + self.confirm_timeout_s
            while True:
                try:
                    ok, state = await self._confirmed(device, req, chosen, uptime_before)
                except ControlUnsupported as exc:
                    return ActionOutcome(
                        device.address,
                        req.action,
                        ActionStatus.UNCONFIRMED,
                        attempts,
                        str(exc),
                        None,
                        time.monotonic() - t0,
                    )
                except DeviceError:
                    ok = False  # unreachable while it applies the change: keep reading until the deadline
                if ok:
                    return ActionOutcome(
                        device.address,
                        req.action,
                        ActionStatus.CONFIRMED,
                        attempts,
                        "",
                        state,
                        time.monotonic() - t0,
                    )
                if time.monotonic() + self.confirm_interval_s > deadline:
                    detail = f"{device.address}: read-back did not show {req.action.value}"
                    status = ActionStatus.UNCONFIRMED
                    break
                await asyncio.sleep(self.confirm_interval_s)
            if req.action is Action.REBOOT:
                break  # never reboot twice because a read-back was slow
        return ActionOutcome(
            device.address, req.action, status, attempts, detail, state, time.monotonic() - t0
        )

    async def act(self, device: Device, req: ActionRequest, *, actor: str, reason: str = "") -> ActionOutcome:
        """One device; audited."""
        outcome = await self.perform(device, req)
        await _emit(
            self.audit_sink,
            AuditRecord(
                datetime.now(UTC), actor, req.action, req.describe(), (device.address,), (outcome,), reason
            ),
        )
        return outcome

    async def bulk(
        self,
        devices: Sequence[Device],
        req: ActionRequest,
        *,
        actor: str,
        reason: str = "",
        max_devices_per_step: int = 50,
        max_kw_per_step: float | None = None,
        step_interval_s: float = 30.0,
        power_w_of: Callable[[Device], float | None] | None = None,
    ) -> BulkResult:
        """Many devices, ramped in steps (see :func:`plan_steps`); one audit record for the lot."""
        steps = plan_steps(
            devices,
            max_devices_per_step=max_devices_per_step,
            max_kw_per_step=max_kw_per_step,
            power_w_of=power_w_of,
        )
        outcomes: list[ActionOutcome] = []
        for i, step in enumerate(steps):
            if i:
                await asyncio.sleep(step_interval_s)
            outcomes.extend(await asyncio.gather(*(self.perform(d, req) for d in step)))
        record = AuditRecord(
            datetime.now(UTC),
            actor,
            req.action,
            req.describe(),
            tuple(d.address for d in devices),
            tuple(outcomes),
            reason,
        )
        await _emit(self.audit_sink, record)
        return BulkResult(tuple(outcomes), tuple(tuple(d.address for d in s) for s in steps), record)


def _shows(req: ActionRequest, t: Telemetry, chosen: str | None, uptime_before: int | None) -> bool:
    """Whether a reading shows the requested change."""
    match req.action:
        case Action.SLEEP:
            return t.state is DeviceState.SLEEPING
        case Action.WAKE:
            return t.state is not DeviceState.SLEEPING
        case Action.POWER_TARGET:
            if chosen is not None:
                return t.profile == chosen
            return t.power_target_w is not None and abs(t.power_target_w - (req.power_w or 0)) <= 1.0
        case Action.PROFILE:
            return t.profile is not None and t.profile.lower() == (req.profile or "").lower()
        case Action.POOLS:
            return bool(t.pools) and t.pools[0].url == redact_url(req.pools[0].url)
        case Action.REBOOT:
            return uptime_before is not None and t.uptime_s is not None and t.uptime_s < uptime_before
    return False
