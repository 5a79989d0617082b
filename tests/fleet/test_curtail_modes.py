"""Curtailment beyond sleep: down-power to a power target, a dispatch kW cap on the measured
site load, a live price feed replayed over loopback HTTP, and the safety rule's alert."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from hashwatt.fleet._agent import Agent, AgentConfig
from hashwatt.fleet._alerts import AlertRule, list_alerts
from hashwatt.fleet._control import Controller
from hashwatt.fleet._curtail import CurtailMode, CurtailPolicy, stored_curtail_events
from hashwatt.fleet._pricefeed import PriceFeed
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import PriceFeedError
from tests.fleet._feed import feed_server
from tests.fleet._twins import network_layer, twin_site

HASHPRICE = 50.0
DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
HOURS = pd.DatetimeIndex([DAY + dt.timedelta(hours=h) for h in range(3)])


def test_down_power_where_the_firmware_allows_then_restore(tmp_path: Path) -> None:
    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
            async with twin_site() as site:
                for t in site.twins:
                    store.add_device("north", site.endpoint(t.host))
                layer = network_layer(store)
                now = [DAY]
                policy = CurtailPolicy(
                    store, "north", pd.Series([20.0, 5000.0, 20.0], index=HOURS), HASHPRICE,
                    layer.device, layer.controller, step_interval_s=0.0, clock=lambda: now[0],
                    mode=CurtailMode.POWER_TARGET, power_fraction=0.5,
                )  # fmt: skip
                agent = Agent(store, AgentConfig(site="north"), poll=layer.poll, curtail=policy.step)
                assert (await agent.run_cycle()).curtail_started == 0
                before = {v.device.address: v.telemetry for v in store.views("north")}
                now[0] = DAY + dt.timedelta(hours=1)
                assert (await agent.run_cycle()).curtail_started == 1
                (event,) = stored_curtail_events(store, "north")
                stock = next(t for t in site.twins if t.firmware.value == "stock")
                took = {a.rsplit(":", 1)[0] for a in event.devices}
                # every machine with a power target, none without (stock firmware has none)
                assert took == {t.host for t in site.twins} - {stock.host}
                assert event.mode == "power_target" and event.end_utc is None
                measured = {a.rsplit(":", 1)[0]: t for a, t in before.items() if t is not None}
                assert event.shed_kw == pytest.approx(sum(measured[h].power_w or 0 for h in took) / 2000)
                lux = next(t for t in site.twins if t.firmware.value == "luxos")
                assert lux.lux_profile_step < 0  # a lower profile
                for t in site.twins:
                    if t.firmware.value.startswith("whatsminer"):
                        assert t.power_limit_w == int(0.5 * (measured[t.host].power_w or 0))

                now[0] = DAY + dt.timedelta(hours=2)
                assert (await agent.run_cycle()).curtail_ended == 1
                for t in site.twins:
                    if t.firmware.value.startswith("whatsminer"):
                        assert t.power_limit_w == int(measured[t.host].power_w or 0)  # its power before
                assert lux.lux_profile_step > -4  # back to the profile that fits its power before

    asyncio.run(main())


def test_a_load_cap_sheds_the_least_efficient_until_the_site_is_under_it(tmp_path: Path) -> None:
    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
            async with twin_site(count=2) as site:
                for t in site.twins:
                    store.add_device("north", site.endpoint(t.host))
                layer = network_layer(store)
                now = [DAY]
                cap: list[float | None] = [None]
                policy = CurtailPolicy(
                    store, "north", pd.Series([20.0, 20.0, 20.0], index=HOURS), HASHPRICE,
                    layer.device, layer.controller, step_interval_s=0.0, clock=lambda: now[0],
                    load_cap_kw=lambda _when: cap[0],
                )  # fmt: skip
                agent = Agent(store, AgentConfig(site="north"), poll=layer.poll, curtail=policy.step)
                assert (await agent.run_cycle()).curtail_started == 0  # cheap, no cap: all mine
                readings = [v.telemetry for v in store.views("north") if v.telemetry is not None]
                load_kw = sum(t.power_w or 0 for t in readings) / 1000
                cap[0] = load_kw - 7.0
                now[0] = DAY + dt.timedelta(minutes=30)
                assert (await agent.run_cycle()).curtail_started == 1
                (event,) = stored_curtail_events(store, "north")
                # the least efficient first, just enough to bring this cycle's measured load
                # (the readings the policy planned on) under the cap
                views = [v for v in store.views("north") if v.telemetry is not None]
                needed = sum(v.telemetry.power_w or 0 for v in views) / 1000 - cap[0]
                eff = {
                    v.device.address: (v.telemetry.power_w or 0) / (v.telemetry.hashrate_ths or 1)
                    for v in views
                }
                kw = {v.device.address: (v.telemetry.power_w or 0) / 1000 for v in views}
                shed_set = set(event.devices)
                kept = set(eff) - shed_set
                # the least efficient first (ties in either order), just enough to shed what is needed
                assert min(eff[a] for a in shed_set) >= max(eff[a] for a in kept) - 1e-9
                assert sum(kw[a] for a in shed_set) >= needed > 6.0
                assert sum(kw[a] for a in shed_set) - min(kw[a] for a in shed_set) < needed
                assert event.shed_kw == pytest.approx(sum(kw[a] for a in shed_set))
                await agent.run_cycle()  # read back: the measured load is under the cap now
                mining = [
                    v.telemetry
                    for v in store.views("north")
                    if v.telemetry and v.telemetry.state.value == "mining"
                ]
                assert sum(t.power_w or 0 for t in mining) / 1000 <= cap[0]
                cap[0] = None
                now[0] = DAY + dt.timedelta(hours=1)
                assert (await agent.run_cycle()).curtail_ended == 1  # the cap lifted: woken

    asyncio.run(main())


def test_price_feed_replay_csv_json_and_failures() -> None:
    async def main() -> None:
        with feed_server() as (feed, url):
            feed.body = b"utc_hour,usd_per_mwh\n2026-03-02T01:00Z,120.5\n2026-03-02T00:00Z,20\n"
            source = PriceFeed(url, refresh_s=3600)
            got = await source.prices()
            assert got is not None and list(got) == [20.0, 120.5]
            feed.kind, feed.body = (
                "application/json",
                b'{"prices": [{"time": "2026-03-02T02:00Z", "price": 99}]}',
            )
            cached = await source.prices()  # within refresh_s: no request
            assert cached is not None and list(cached) == [20.0, 120.5]
            json_series = await source.fetch()
            assert list(json_series) == [99.0] and json_series.index[0] == pd.Timestamp("2026-03-02T02:00Z")
            for status, kind, body, needle in (
                (500, "text/plain", b"down", "HTTP 500"),
                (200, "application/json", b'[{"time": "x"}]', "entry 0"),
                (200, "text/csv", b"2026-03-02T00:00Z,nan\n", "finite"),
                (200, "application/json", b"[]", "no values"),
            ):
                feed.status, feed.kind, feed.body = status, kind, body
                with pytest.raises(PriceFeedError, match=needle):
                    await source.fetch()
            source.refresh_s = 1e-9
            kept = await source.prices()  # a failed refresh keeps the last good prices
            assert kept is not None and list(kept) == [20.0, 120.5]
        with pytest.raises(PriceFeedError):
            PriceFeed("ftp://prices.example/x")
        secret = PriceFeed("http://user:pw-feed-77@127.0.0.1:9/p", timeout_s=0.5)
        with pytest.raises(PriceFeedError) as info:
            await secret.fetch()
        assert "pw-feed-77" not in str(info.value)

    asyncio.run(main())


def test_the_feed_drives_the_policy_and_a_disobedient_machine_raises_one_alert(tmp_path: Path) -> None:
    """Nothing answers at the machine's ports: the feed's dear price curtails it, the controller
    retries, the machine is named and alerted once, and asked again only the next hour."""
    from hashwatt.fleet._devices import Device, adapter_for
    from hashwatt.fleet._types import Endpoint, Firmware
    from tests.fleet._readings import ep, identity, ok

    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path / 'f.db'}") as store, feed_server() as (feed, url):
            store.add_device("north", ep(0), identity=identity())
            store.record("north", [ok(0, DAY, hashrate_ths=100.0, power_w=3400.0)])
            feed.body = b"2026-03-02T00:00Z,5000\n2026-03-02T01:00Z,5000\n"
            now = [DAY + dt.timedelta(minutes=5)]

            async def device_of(endpoint: Endpoint) -> Device:
                return adapter_for(Firmware.LUXOS, endpoint, timeout_s=0.5)

            policy = CurtailPolicy(
                store, "north", pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC")), HASHPRICE,
                device_of, Controller(retries=1, confirm_timeout_s=0.5, confirm_interval_s=0.1),
                step_interval_s=0.0, clock=lambda: now[0], price_source=PriceFeed(url, refresh_s=1e-9),
            )  # fmt: skip
            first = await policy.step()
            assert first.price_usd_per_mwh == 5000.0
            (opened,) = first.alerts
            assert opened.rule is AlertRule.CURTAIL_DISOBEYED and opened.event == "opened"
            assert "2 tries" in opened.message
            now[0] = DAY + dt.timedelta(minutes=20)
            assert (await policy.step()).alerts == ()  # not asked again within the hour
            now[0] = DAY + dt.timedelta(hours=1, minutes=5)
            again = await policy.step()  # asked again, still disobeys: the open alert stays one
            assert again.started and again.alerts == ()
            open_alerts = list_alerts(store, site="north", states=["open"])
            assert [a.rule for a in open_alerts] == [AlertRule.CURTAIL_DISOBEYED]
            assert len(stored_curtail_events(store, "north")) == 2

    asyncio.run(main())


def test_profile_curtailment_switches_and_restores_the_profile(tmp_path: Path) -> None:
    from hashwatt.twin._cgminer import luxos_profile_name

    async def main() -> None:
        with FleetStore.open(f"sqlite:///{tmp_path / 'f.db'}") as store:
            groups = (("Antminer S19j Pro", "luxos"), ("Antminer S19 Pro", "stock"))
            async with twin_site(groups, count=2) as site:
                for t in site.twins:
                    store.add_device("north", site.endpoint(t.host))
                layer = network_layer(store)
                lux = [t for t in site.twins if t.firmware.value == "luxos"]
                low = luxos_profile_name(lux[0], -8)
                now = [DAY]
                policy = CurtailPolicy(
                    store, "north", pd.Series([20.0, 5000.0, 20.0], index=HOURS), HASHPRICE,
                    layer.device, layer.controller, step_interval_s=0.0, clock=lambda: now[0],
                    mode=CurtailMode.PROFILE, profile=low,
                )  # fmt: skip
                agent = Agent(store, AgentConfig(site="north"), poll=layer.poll, curtail=policy.step)
                await agent.run_cycle()
                before = {v.device.address: v.telemetry for v in store.views("north") if v.telemetry}
                now[0] = DAY + dt.timedelta(hours=1)
                assert (await agent.run_cycle()).curtail_started == 1
                (event,) = stored_curtail_events(store, "north")
                # LuxOS machines (their profile is known, so it can be restored); stock reports none
                assert {a.rsplit(":", 1)[0] for a in event.devices} == {t.host for t in lux}
                assert event.mode == "profile" and all(t.lux_profile_step == -8 for t in lux)
                rated = {
                    p[0]: p[1] for p in await (await layer.device(site.endpoint(lux[0].host))).profiles()
                }
                want_kw = sum((before[a].power_w or 0) - rated[low] for a in event.devices) / 1000
                assert event.shed_kw == pytest.approx(want_kw)  # measured power less the profile's watts
                now[0] = DAY + dt.timedelta(hours=2)
                assert (await agent.run_cycle()).curtail_ended == 1
                assert all(t.lux_profile_step == 0 for t in lux)  # back on "default"

    asyncio.run(main())
