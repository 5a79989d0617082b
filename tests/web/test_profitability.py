"""Profit accumulated today from the rollups and the raw samples, and profitability by model
and by site, each through the economics engine's one formula."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hashwatt.data import MinerModel
from hashwatt.economics import NetworkState, profit
from hashwatt.fleet._rollup import rollup
from hashwatt.fleet._store import FleetStore, to_ms
from hashwatt.web._app import profit_over
from hashwatt.web._queries import day_integrals
from tests.fleet._readings import failed, ok
from tests.fleet._storedb import KINDS, db_url_of
from tests.web.conftest import Web

D = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def at(minute: int) -> dt.datetime:
    return D + dt.timedelta(minutes=minute)


@pytest.mark.parametrize("kind", KINDS)
def test_day_integrals_from_rollups_then_raw_samples(kind: str, tmp_path: Path) -> None:
    with db_url_of(kind, tmp_path) as url:
        store = FleetStore.open(url)
        try:
            # device 0 from 00:00 every minute at 100 TH/s and 3 kW; device 1 from 00:20 at
            # 200 TH/s and 4 kW with one failed poll in ten; a device of another site.
            for m in range(30):
                store.record("alpha", [ok(0, at(m), hashrate_ths=100.0, power_w=3000.0)])
            for m in range(20, 30):
                poll = failed(1, at(m)) if m == 25 else ok(1, at(m), hashrate_ths=200.0, power_w=4000.0)
                store.record("alpha", [poll])
            store.record("beta", [ok(5, at(m), hashrate_ths=999.0, power_w=9999.0) for m in range(3)])
            rollup(store.engine, now=at(31))  # closes 00:00-00:15 and 00:15-00:30
            for m in range(30, 35):
                store.record("alpha", [ok(0, at(m), hashrate_ths=100.0, power_w=3000.0)])
            day = day_integrals(store.engine, "alpha", since=D, until=at(35))
            # three hours on: the 00:30 quarter-hour is whole from raw samples, and the
            # quarter-hours the rollup job no longer rewrites are kept between calls
            settled: dict[int, tuple[float, float]] = {}
            later = [
                day_integrals(store.engine, "alpha", since=D, until=at(180), settled=settled) for _ in "ab"
            ]
        finally:
            store.close()
    assert day.rolled_until == at(30)
    # rolled quarter-hours: device 0 two of them at 100; device 1's at 200 x 9/10 polls ok
    # (a rolled quarter-hour counts whole); raw: device 0 from its 00:30 sample to 00:35
    assert day.hashrate_ths_hours == pytest.approx(100 * 0.25 * 2 + 200 * 0.9 * 0.25 + 100 * 5 / 60)
    assert day.energy_kwh == pytest.approx(3 * 0.25 * 2 + 4 * 0.9 * 0.25 + 3 * 5 / 60)
    assert later[0].hashrate_ths_hours == pytest.approx(100 * 0.25 * 3 + 200 * 0.9 * 0.25)
    assert later[1] == later[0] and settled[to_ms(D)] == (100.0, 3000.0)  # 00:00: device 0 only


def test_profit_over_a_span_is_the_rate_at_the_means_times_the_hours() -> None:
    from hashwatt.web._queries import DayIntegrals

    network = NetworkState.latest()
    day = DayIntegrals(
        since=D, until=D + dt.timedelta(hours=6), hashrate_ths_hours=600.0, energy_kwh=18.0, rolled_until=None
    )
    got = profit_over(day, network)
    rate = profit(MinerModel.from_specs("site", hashrate_ths=100.0, power_w=3000.0), network=network)
    assert got["profit_usd"] == pytest.approx(rate.profit_usd_per_day / 4)
    assert got["revenue_usd"] == pytest.approx(rate.revenue_usd_per_day / 4)


@pytest.mark.parametrize("web", KINDS, indirect=True)
def test_profitability_by_model_and_site(web: Web) -> None:
    c = web.login("viewer")
    p = c.get("/api/v1/profitability").json()
    overview = c.get("/api/v1/overview").json()
    network = NetworkState.latest()
    for by in ("model", "site"):
        rows = p[f"by_{by}"]
        assert sum(r["hashrate_ths"] for r in rows) == pytest.approx(overview["hashrate_ths"])
        assert sum(r["devices"] for r in rows) == overview["devices"]
        for r in rows:
            expected = profit(
                MinerModel.from_specs("x", hashrate_ths=r["hashrate_ths"], power_w=r["power_w"]),
                network=network,
            )
            assert r["profit"]["profit_usd_per_day"] == pytest.approx(expected.profit_usd_per_day)
    assert [r["site"] for r in p["by_site"]] == ["alpha"]
    today = p["today"]
    assert today["since_utc"].endswith("T00:00:00+00:00")
    assert overview["profit_today"]["since_utc"] == today["since_utc"]
    html = c.get("/energy").text
    assert 'id="profit-by-model"' in html and html.count('class="profit-row"') == len(p["by_model"]) + 1


def test_profit_today_is_served_stale_while_one_thread_refreshes_it() -> None:
    import threading
    import time

    from hashwatt.web._app import _StaleWhileRefreshing

    calls: list[str] = []
    gate = threading.Event()

    def compute(key: str) -> int:
        calls.append(key)
        if len(calls) > 1:
            gate.wait(10)
        return len(calls)

    cache = _StaleWhileRefreshing(max_age_s=0.0, min_age_s=0.0)
    assert cache.get("a", compute) == 1  # first use: computed in the caller
    time.sleep(0.001)
    assert cache.get("a", compute) == 1  # stale: the old value, a refresh starts
    assert cache.get("a", compute) == 1 and len(calls) == 2  # one refresh at a time
    gate.set()
    deadline = time.monotonic() + 10
    while cache.get("a", compute) == 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("a", compute) >= 2
