"""The poller against loopback servers replaying real captures, with dead, hung and garbage devices.

Real sockets and real bytes (asic-rs captures); the point here is the cycle: per-device
deadlines, bounded concurrency, typed outcomes, batches to the sink, a fixed cadence.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from hashwatt.fleet import Endpoint, PollOutcome, PollResult
from hashwatt.fleet._devices import AntminerStock, Device, LuxOS, WhatsminerV2
from hashwatt.fleet._poller import Poller
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._replay import ApiServer, DigestCgiServer, StockState, captured, running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_one_cycle_records_every_outcome_and_is_bounded_by_the_deadline() -> None:
    stock = StockState()
    s_api, s_web = ApiServer(stock.api_replies()), DigestCgiServer(stock.cgi_routes())
    lux = ApiServer(dict(captured("luxminer/v1")))
    wm = ApiServer(dict(captured("whatsminer/v2")))
    hung = ApiServer(dict(captured("luxminer/v1")), mode="hang")
    garbage = ApiServer(dict(captured("luxminer/v1")), mode="garbage")
    got: list[PollResult] = []

    async def sink(batch: tuple[PollResult, ...]) -> None:
        got.extend(batch)

    async def main() -> None:
        async with running(s_api, s_web, lux, wm, hung, garbage):
            devices: list[Device] = [
                AntminerStock(
                    Endpoint("127.0.0.1", api_port=s_api.port, http_port=s_web.port), efficiency_j_per_th=29.5
                ),
                LuxOS(Endpoint("127.0.0.1", api_port=lux.port)),
                WhatsminerV2(Endpoint("127.0.0.1", api_port=wm.port)),
                LuxOS(Endpoint("127.0.0.1", api_port=hung.port)),
                LuxOS(Endpoint("127.0.0.1", api_port=garbage.port)),
                LuxOS(Endpoint("127.0.0.1", api_port=_free_port())),
            ]
            poller = Poller(devices, sink, interval_s=5.0, deadline_s=1.0, batch_size=2)
            stats = await poller.poll_once()
            assert stats.duration_s < 1.0 + 1.5  # the hung device costs its deadline, once, in parallel
            assert stats.devices == 6 and stats.ok == 3
            assert stats.outcomes[PollOutcome.TIMEOUT] == 1
            assert stats.outcomes[PollOutcome.BAD_REPLY] == 1
            assert stats.outcomes[PollOutcome.UNREACHABLE] == 1
            assert stats.cpu_ms_per_poll > 0

    asyncio.run(main())
    assert len(got) == 6
    by_port = {r.endpoint.api_port: r for r in got}
    assert by_port[hung.port].outcome is PollOutcome.TIMEOUT and by_port[hung.port].telemetry is None
    assert by_port[garbage.port].outcome is PollOutcome.BAD_REPLY and by_port[garbage.port].error
    for r in got:
        if r.outcome is PollOutcome.OK:
            assert r.telemetry is not None and r.telemetry.hashrate_ths and r.telemetry.hashrate_ths > 0
        else:
            assert r.telemetry is None and r.error  # a failure carries no values at all


def test_concurrency_is_bounded() -> None:
    api = ApiServer(dict(captured("luxminer/v1")))
    results: list[PollResult] = []

    async def main() -> None:
        async with running(api):
            devices = [LuxOS(Endpoint("127.0.0.1", api_port=api.port)) for _ in range(40)]
            poller = Poller(devices, results.extend, interval_s=10.0, deadline_s=5.0, concurrency=4)
            stats = await poller.poll_once()
            assert stats.ok == 40
        assert 1 <= api.peak_connections <= 4

    asyncio.run(main())
    assert len(results) == 40


def test_run_keeps_its_cadence_with_a_hung_device() -> None:
    lux = ApiServer(dict(captured("luxminer/v1")))
    hung = ApiServer(dict(captured("luxminer/v1")), mode="hang")
    results: list[PollResult] = []

    async def main() -> None:
        async with running(lux, hung):
            devices = [
                LuxOS(Endpoint("127.0.0.1", api_port=lux.port)),
                LuxOS(Endpoint("127.0.0.1", api_port=hung.port)),
            ]
            poller = Poller(devices, results.extend, interval_s=1.2, deadline_s=0.4)
            t0 = time.monotonic()
            stats = await poller.run(asyncio.Event(), cycles=3)
            elapsed = time.monotonic() - t0
            assert len(stats) == 3 and poller.missed_cycles == 0
            assert all(s.late_s < 0.5 for s in stats)
            assert 2 * 1.2 <= elapsed < 3 * 1.2 + 1.0  # three cycles on the cadence, no more

    asyncio.run(main())
    assert [r.outcome for r in results].count(PollOutcome.TIMEOUT) == 3
    assert [r.outcome for r in results].count(PollOutcome.OK) == 3


def test_deadline_must_fit_in_the_interval() -> None:
    with pytest.raises(FleetInputError):
        Poller([], print, interval_s=5.0, deadline_s=5.0)
