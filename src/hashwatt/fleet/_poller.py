"""The poller: every device read once per cycle, each under its own deadline, results to a sink.

A cycle starts every ``interval_s`` on a fixed cadence. Each device poll is bounded by
``deadline_s`` (kept below the interval), and at most ``concurrency`` polls run at once, so a
slow, hung or garbage-answering device costs one slot for one deadline and never holds up the
cycle. A failure is a :class:`PollResult` with its outcome and error, never a zero reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hashwatt.fleet._devices import Device
from hashwatt.fleet._discovery import outcome_of
from hashwatt.fleet._types import PollOutcome, PollResult, Telemetry
from hashwatt.fleet.errors import DeviceError, FleetInputError

__all__ = ["CycleStats", "PollSink", "Poller", "poll_device"]

#: Receives each batch of results. A coroutine function is awaited on the loop; a plain
#: function (a database write) runs in a worker thread, one batch at a time, so it never
#: stalls the polls. Its return value is ignored.
PollSink = Callable[[Sequence[PollResult]], object]


async def poll_device(device: Device, *, deadline_s: float) -> PollResult:
    """Read one device within ``deadline_s``; every failure becomes a typed outcome."""
    started = datetime.now(UTC)
    t0 = time.monotonic()

    def result(outcome: PollOutcome, telemetry: Telemetry | None = None, error: str = "") -> PollResult:
        latency_ms = (time.monotonic() - t0) * 1e3
        return PollResult(device.endpoint, started, outcome, telemetry, latency_ms, error, device.identity)

    try:
        async with asyncio.timeout(deadline_s):
            telemetry = await device.read()
    except TimeoutError:
        return result(PollOutcome.TIMEOUT, error=f"{device.address}: no reading within {deadline_s:g} s")
    except DeviceError as exc:
        return result(outcome_of(exc), error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return result(PollOutcome.OK, telemetry)


@dataclass(frozen=True, slots=True)
class CycleStats:
    """What one cycle cost and found."""

    started_utc: datetime
    duration_s: float
    devices: int
    outcomes: dict[PollOutcome, int]
    cpu_ms_per_poll: float  # process CPU time of the cycle / devices polled [ms]
    late_s: float  # how far after its scheduled time the cycle started [s]
    sink_s: float  # time spent in the sink [s]

    @property
    def ok(self) -> int:
        return self.outcomes.get(PollOutcome.OK, 0)


class Poller:
    """Polls a set of devices every ``interval_s``, handing results to ``sink`` in batches."""

    def __init__(
        self,
        devices: Iterable[Device],
        sink: PollSink,
        *,
        interval_s: float = 60.0,
        deadline_s: float = 10.0,
        concurrency: int = 1024,
        batch_size: int = 500,
    ) -> None:
        if not 0 < deadline_s < interval_s:
            raise FleetInputError(
                "the per-device deadline must be positive and shorter than the cycle interval"
            )
        if concurrency < 1 or batch_size < 1:
            raise FleetInputError("concurrency and batch size must be at least 1")
        self.devices: list[Device] = list(devices)
        self.sink = sink
        self.interval_s = interval_s
        self.deadline_s = deadline_s
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.cycles: list[CycleStats] = []
        self.missed_cycles = 0

    async def _deliver(self, batch: list[PollResult]) -> float:
        t0 = time.monotonic()
        if inspect.iscoroutinefunction(self.sink):
            await self.sink(tuple(batch))
        else:
            maybe = await asyncio.to_thread(self.sink, tuple(batch))
            if inspect.isawaitable(maybe):
                await maybe
        return time.monotonic() - t0

    async def poll_once(self, *, late_s: float = 0.0) -> CycleStats:
        """One cycle over every device; returns its statistics."""
        started = datetime.now(UTC)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        devices = list(self.devices)
        queue: asyncio.Queue[Device] = asyncio.Queue()
        for d in devices:
            queue.put_nowait(d)
        batch: list[PollResult] = []
        counts: Counter[PollOutcome] = Counter()
        sink_s = 0.0
        flush_lock = asyncio.Lock()

        async def flush(force: bool = False) -> None:
            nonlocal batch, sink_s
            if not batch or (len(batch) < self.batch_size and not force):
                return
            async with flush_lock:
                out, batch = batch, []
                if out:
                    sink_s += await self._deliver(out)

        async def worker() -> None:
            while True:
                try:
                    device = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = await poll_device(device, deadline_s=self.deadline_s)
                counts[result.outcome] += 1
                batch.append(result)
                if len(batch) >= self.batch_size:
                    await flush()

        workers = [asyncio.create_task(worker()) for _ in range(min(self.concurrency, max(1, len(devices))))]
        await asyncio.gather(*workers)
        await flush(force=True)
        cpu_s = time.process_time() - cpu0
        stats = CycleStats(
            started_utc=started,
            duration_s=time.monotonic() - t0,
            devices=len(devices),
            outcomes=dict(counts),
            cpu_ms_per_poll=cpu_s * 1e3 / len(devices) if devices else 0.0,
            late_s=late_s,
            sink_s=sink_s,
        )
        self.cycles.append(stats)
        return stats

    async def run(self, stop: asyncio.Event, *, cycles: int | None = None) -> list[CycleStats]:
        """Cycles on a fixed cadence until ``stop`` is set (or ``cycles`` have run).

        A cycle that overruns its interval (it should not: deadlines are shorter) makes the
        next one start at once with its ``late_s``; whole slots skipped are counted in
        ``missed_cycles``.
        """
        out: list[CycleStats] = []
        origin = time.monotonic()
        k = 0
        while not stop.is_set() and (cycles is None or k < cycles):
            scheduled = origin + k * self.interval_s
            late = max(0.0, time.monotonic() - scheduled)
            out.append(await self.poll_once(late_s=late))
            k += 1
            next_at = origin + k * self.interval_s
            now = time.monotonic()
            if now > next_at:
                skipped = int((now - next_at) // self.interval_s)
                self.missed_cycles += skipped
                k += skipped
                next_at = origin + k * self.interval_s
            if cycles is not None and k >= cycles:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, next_at - time.monotonic()))
        return out
