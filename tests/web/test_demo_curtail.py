"""The demo site runs the agent's curtailment on the replayed ERCOT day: twins go to sleep
when the scarcity hours come and wake when the price falls, and the energy API lists the
events with savings that match the stored loads and the replayed prices."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from hashwatt.fleet._curtail import stored_curtail_events
from hashwatt.twin import Mode
from hashwatt.web import WebConfig, create_app
from hashwatt.web._demo import SITE, demo_site
from tests.web.conftest import login_form


def test_demo_sleeps_and_wakes_twins_on_the_replayed_day() -> None:
    async def main() -> None:
        async with demo_site(
            port_offset=33000 + os.getpid() % 2000,
            block=230 + os.getpid() % 20,
            interval_s=1.0,
            seconds_per_replayed_hour=1.5,
        ) as site:
            deadline = time.monotonic() + 90
            slept: set[str] = set()
            while time.monotonic() < deadline:
                events = stored_curtail_events(site.store, SITE)
                slept |= {t.host for t in site.twins if t.physics.mode is Mode.SLEEP}
                if events and all(e.end_utc is not None for e in events) and slept:
                    break
                await asyncio.sleep(0.5)
            events = stored_curtail_events(site.store, SITE)
            assert events and all(e.end_utc is not None for e in events), events
            assert slept, "no twin went to sleep"
            prices = site.curtail.prices
            for e in events:
                assert e.end_utc is not None and e.energy_saved_kwh is not None
                hours = (e.end_utc - e.start_utc).total_seconds() / 3600
                assert e.energy_saved_kwh == pytest.approx(e.shed_kw * hours)
                # cost: the shed load over each replayed hour at that hour's price
                cost, t = 0.0, e.start_utc
                while t < e.end_utc:
                    edge = min(
                        e.end_utc, t.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
                    )
                    cost += (
                        e.shed_kw
                        * (edge - t).total_seconds()
                        / 3600
                        * float(prices[pd.Timestamp(t).floor("h")])
                        / 1000
                    )
                    t = edge
                assert e.cost_saved_usd == pytest.approx(cost)
            woken_deadline = time.monotonic() + 30
            while time.monotonic() < woken_deadline and any(t.physics.mode is Mode.SLEEP for t in site.twins):
                await asyncio.sleep(0.5)
            assert not any(t.physics.mode is Mode.SLEEP for t in site.twins)

            client = TestClient(create_app(site.store, WebConfig()), base_url="http://127.0.0.1")
            r = client.post(
                "/login", data=login_form(client, "viewer", site.passwords["viewer"]), follow_redirects=False
            )
            assert r.status_code == 303
            body = client.get("/api/v1/energy", params={"site": SITE}).json()["curtailment"]
            assert [ev["id"] for ev in body["events"]] == [e.id for e in events]
            assert body["totals"]["cost_saved_usd"] == pytest.approx(
                sum(e.cost_saved_usd or 0 for e in events)
            )
            page = client.get("/energy", params={"site": SITE})
            assert page.status_code == 200 and page.text.count('class="curtail-event"') == len(events)

    asyncio.run(main())
