"""The agent's device layer over hashwatt's own adapters: inventory rows become live devices.

Each inventory row (explicit host and ports) gets the adapter of its recorded firmware; a row
whose firmware is not known yet (added by hand) is probed and identified on its first poll,
and the identity reaches the store with the result. Queued commands map onto the control
layer's actions, run in ramped steps with read-back confirmation; the audit row is written by
:func:`~hashwatt.fleet._commands.finish_command` with the command's outcome.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Sequence

from hashwatt.fleet._agent import CommandResult
from hashwatt.fleet._commands import Command
from hashwatt.fleet._control import Action, ActionRequest, Controller
from hashwatt.fleet._credentials import CredentialStore
from hashwatt.fleet._devices import Device, PoolConfig, adapter_for
from hashwatt.fleet._discovery import catalog_efficiency_j_per_th, identify_at, outcome_of
from hashwatt.fleet._poller import poll_device
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet._types import DeviceIdentity, Endpoint, Firmware, PollOutcome, PollResult
from hashwatt.fleet.errors import CommandError, DeviceError

__all__ = ["NetworkDeviceLayer", "pace_for", "request_for"]

#: Paced polls start in groups at most this far apart [s] (one timer per group, not per device).
PACE_TICK_S = 0.02


def pace_for(interval_s: float, deadline_s: float) -> float:
    """How long a running agent spreads the starts of its polls over [s].

    Four fifths of what the cycle leaves after one deadline: the last poll ends (or times
    out) with a fifth of that to spare for the database, alerts and commands (40 s of a 60-s
    cycle with a 10-s deadline). Measured in docs/PERFORMANCE.md.
    """
    return max(0.0, 0.8 * (interval_s - deadline_s))


def request_for(command: Command) -> ActionRequest:
    """The control request a queued command stands for (the pool password is read from the
    agent's environment, named by ``password_env``; it never travels through the database)."""
    p = command.params
    action = command.action
    if action in ("reboot", "sleep", "wake"):
        return ActionRequest(Action(action))
    if action == "curtail":
        mode = str(p.get("mode", "sleep"))
        return ActionRequest(Action.SLEEP) if mode == "sleep" else ActionRequest(Action.PROFILE, profile=mode)
    if action == "power":
        if p.get("power_target_w") is not None:
            return ActionRequest(Action.POWER_TARGET, power_w=float(p["power_target_w"]))
        return ActionRequest(Action.PROFILE, profile=str(p.get("profile", "")))
    if action == "pool":
        env = p.get("password_env")
        password = os.environ.get(str(env), "") if env else "x"
        if env and not password:
            raise CommandError(
                f"the agent's environment has no {env} for the pool password", field="password_env", value=env
            )
        group = p.get("group")
        return ActionRequest(
            Action.POOLS,
            pools=(PoolConfig(str(p["url"]), str(p["user"]), password),),
            pool_group=None if group is None else str(group),
        )
    if action == "fault_light":
        return ActionRequest(Action.FAULT_LIGHT, light_on=bool(p.get("on", True)))
    raise CommandError(f"unknown action {action!r}", field="action", value=action)


class NetworkDeviceLayer:
    """Polls and controls one site's inventory over the network (:class:`DeviceLayer`)."""

    def __init__(
        self,
        store: FleetStore,
        site: str,
        *,
        credentials: CredentialStore | None = None,
        deadline_s: float = 10.0,
        timeout_s: float = 5.0,
        concurrency: int = 1024,
        controller: Controller | None = None,
        step_interval_s: float = 30.0,
        max_devices_per_step: int = 50,
        spread_s: float = 0.0,
    ) -> None:
        self.store = store
        self.site = site
        self.credentials = credentials or CredentialStore()
        self.deadline_s = deadline_s
        self.timeout_s = timeout_s
        self._limit = asyncio.Semaphore(concurrency)
        self.controller = controller or Controller()
        self.step_interval_s = step_interval_s
        self.max_devices_per_step = max_devices_per_step
        self._devices: dict[str, Device] = {}
        #: polls start evenly over this many seconds of each cycle (0: all at once)
        self.spread_s = max(0.0, spread_s)

    def _adapters_from_inventory(self) -> None:
        for row in self.store.devices(self.site):
            if row.address in self._devices or row.firmware is None:
                continue
            identity = None
            if row.make and row.model and row.firmware_version is not None:
                identity = DeviceIdentity(
                    make=row.make,
                    model=row.model,
                    firmware=Firmware(row.firmware),
                    firmware_version=row.firmware_version,
                    serial=row.serial,
                    mac=row.mac,
                    hostname=row.hostname,
                    catalog_model=row.catalog_model,
                )
            resolved = self.credentials.resolve(
                Firmware(row.firmware),
                host=row.endpoint.host,
                address=row.address,
                site=self.site,
                model=row.model,
            )
            if resolved.factory != row.factory_credentials:
                # the inventory says whether the device is still on its factory credentials
                self.store.add_device(self.site, row.endpoint, factory_credentials=resolved.factory)
            rating = catalog_efficiency_j_per_th(row.catalog_model or row.model) if row.model else None
            self._devices[row.address] = adapter_for(
                Firmware(row.firmware),
                row.endpoint,
                credentials=resolved,
                identity=identity,
                efficiency_j_per_th=rating,
                timeout_s=self.timeout_s,
            )

    async def device(self, endpoint: Endpoint) -> Device:
        """The live device behind an inventory endpoint (identified on first use)."""
        return await self._device(endpoint)

    async def _device(self, endpoint: Endpoint) -> Device:
        device = self._devices.get(endpoint.address)
        if device is None:
            device = await identify_at(
                endpoint, timeout_s=self.timeout_s, credentials=self.credentials, site=self.site
            )
            self._devices[endpoint.address] = device
        return device

    async def _poll_one(self, endpoint: Endpoint) -> PollResult:
        async with self._limit:
            try:
                async with asyncio.timeout(self.deadline_s):
                    device = await self._device(endpoint)
            except TimeoutError:
                return _failed(endpoint, PollOutcome.TIMEOUT, f"no identity within {self.deadline_s:g} s")
            except DeviceError as exc:
                return _failed(endpoint, outcome_of(exc), str(exc))
            return await poll_device(device, deadline_s=self.deadline_s)

    async def poll(self, endpoints: Sequence[Endpoint]) -> Sequence[PollResult]:
        await asyncio.to_thread(self._adapters_from_inventory)
        if self.spread_s <= 0 or len(endpoints) < 2:
            return await asyncio.gather(*(self._poll_one(e) for e in endpoints))
        return await self._paced(endpoints)

    async def _paced(self, endpoints: Sequence[Endpoint]) -> Sequence[PollResult]:
        """Start the polls evenly over ``spread_s``: the devices, the network and this process
        see a steady trickle instead of one burst, so no poll waits behind thousands of others
        and runs into its deadline. Each start is late by at most one tick."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        step = self.spread_s / len(endpoints)
        tasks: list[asyncio.Future[PollResult]] = []
        for i, endpoint in enumerate(endpoints):
            ahead = start + i * step - loop.time()
            if ahead > PACE_TICK_S:
                await asyncio.sleep(ahead)
            tasks.append(asyncio.ensure_future(self._poll_one(endpoint)))
        return await asyncio.gather(*tasks)

    async def execute(self, command: Command) -> CommandResult:
        request = request_for(command)
        devices: list[Device] = []
        detail: dict[str, str] = {}
        for address in command.targets:
            host, _, port = address.rpartition(":")
            try:
                devices.append(await self._device(Endpoint(host, int(port))))
            except DeviceError as exc:
                detail[address] = f"failed: {exc}"
        if devices:
            result = await self.controller.bulk(
                devices,
                request,
                actor=command.created_by,
                reason=f"command {command.id}",
                max_devices_per_step=self.max_devices_per_step,
                step_interval_s=self.step_interval_s,
            )
            for o in result.outcomes:
                detail[o.address] = f"{o.status.value}: {o.detail}" if o.detail else o.status.value
        confirmed = sum(1 for v in detail.values() if v == "confirmed")
        ok = confirmed == len(command.targets)
        outcome = "ok" if ok else ("partial" if confirmed else "failed")
        return CommandResult(ok, outcome, detail)


def _failed(endpoint: Endpoint, outcome: PollOutcome, error: str) -> PollResult:
    return PollResult(
        endpoint, dt.datetime.now(dt.UTC), outcome, None, 0.0, error=error.splitlines()[0][:255]
    )
