"""The curtailment report against hand-computed values, on SQLite and PostgreSQL.

Two closed events and one open one are stored through the same functions the agent uses
(``account_event``, ``insert_curtail_event``, ``close_curtail_event``); every expected figure
below is worked out by hand from the machines' measured power and hashrate, the hourly prices
and the hashprice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from hashwatt.fleet import Endpoint
from hashwatt.fleet._curtail import (
    CurtailEvent,
    CurtailMode,
    Machine,
    account_event,
    close_curtail_event,
    insert_curtail_event,
)
from hashwatt.fleet._curtail_report import Period, curtail_report
from hashwatt.fleet._devices import LuxOS
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import FleetInputError

HASHPRICE = 50.0  # USD/PH/day = 0.05 USD/TH/day
PRICES = pd.Series(
    [100.0, 200.0, 50.0, 300.0, 400.0, 80.0, 120.0],
    index=pd.DatetimeIndex(
        [
            "2026-03-02T10:00Z",
            "2026-03-02T11:00Z",
            "2026-03-02T12:00Z",
            "2026-03-02T23:00Z",
            "2026-03-03T00:00Z",
            "2026-03-03T02:00Z",
            "2026-03-05T02:00Z",
        ]
    ),
)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _m(n: int, power_w: float, hashrate_ths: float) -> Machine:
    return Machine(LuxOS(Endpoint(f"10.9.0.{n}", 4028)), power_w, hashrate_ths, False)


def _event(store: FleetStore, site: str, machines: list[Machine], start: str, end: str | None) -> int:
    event = CurtailEvent(_t(start), tuple(machines), (), (), 0.0, CurtailMode.SLEEP)
    event_id = insert_curtail_event(
        store, site, event, price_usd_per_mwh=float(PRICES.iloc[0]), hashprice_usd_per_ph_day=HASHPRICE
    )
    if end is not None:
        account = account_event(event, end_utc=_t(end), prices=PRICES, hashprice_usd_per_ph_day=HASHPRICE)
        close_curtail_event(store, event_id, _t(end), account)
    return event_id


def seed(url: str) -> None:
    """The report's fixture: events 1-2 closed, 3 open, 4 after the period, 5 at another site."""
    with FleetStore.open(url) as store:
        # 6.75 kW and 210 TH/s for 2.5 h from 10:30: 16.875 kWh; cost 6.75 x (0.5 x 100 + 200 + 50)
        # / 1000 = 2.025 USD; revenue 210 x 0.05 x 2.5 / 24 = 1.09375 USD
        _event(store, "north", [_m(1, 3250, 110), _m(2, 3500, 100)], "2026-03-02T10:30", "2026-03-02T13:00")
        # 1.5 kW, 100 TH/s, 23:00-01:00: 3 kWh; 1.5 x (300 + 400) / 1000 = 1.05; 100 x 0.05 x 2 / 24
        _event(store, "north", [_m(3, 1500, 100)], "2026-03-02T23:00", "2026-03-03T01:00")
        _event(store, "north", [_m(4, 3000, 100)], "2026-03-03T02:00", None)
        _event(store, "north", [_m(5, 3000, 100)], "2026-03-05T02:00", "2026-03-05T02:30")
        _event(store, "south", [_m(6, 3000, 100)], "2026-03-02T11:00", "2026-03-02T12:00")


EVENT_1 = {"hours": 2.5, "kwh": 16.875, "cost": 2.025, "revenue": 1.09375}
EVENT_2 = {"hours": 2.0, "kwh": 3.0, "cost": 1.05, "revenue": 100 * 0.05 * 2 / 24}


def test_the_report_matches_the_hand_computed_accounts(store_url: str) -> None:
    seed(store_url)
    with FleetStore.open(store_url) as store:
        report = curtail_report(
            store, since=_t("2026-03-02T00:00"), until=_t("2026-03-04T00:00"), site="north", per=Period.DAY
        )
    assert [r.event.devices for r in report.events] == [
        ("10.9.0.1:4028", "10.9.0.2:4028"),
        ("10.9.0.3:4028",),
        ("10.9.0.4:4028",),
    ]
    first, second, still_open = report.events
    for row, want in ((first, EVENT_1), (second, EVENT_2)):
        a = row.account
        assert a is not None
        assert a.hours == pytest.approx(want["hours"])
        assert a.energy_saved_kwh == pytest.approx(want["kwh"])
        assert a.cost_saved_usd == pytest.approx(want["cost"])
        assert a.revenue_forgone_usd == pytest.approx(want["revenue"])
        assert a.net_usd == pytest.approx(want["cost"] - want["revenue"])
    assert still_open.account is None and report.open_events == (still_open,)
    assert first.event.shed_kw == pytest.approx(6.75) and first.event.hashrate_ths == pytest.approx(210)

    # per day: both closed events started on 2 March; the open one is not counted as zero
    (day,) = report.periods
    assert day.start_utc == _t("2026-03-02T00:00") and day.events == 2
    assert day.account.energy_saved_kwh == pytest.approx(19.875)
    assert day.account.cost_saved_usd == pytest.approx(3.075)
    assert day.account.revenue_forgone_usd == pytest.approx(1.09375 + 5 / 12)
    assert report.total == day.account


def test_periods_sites_and_bounds(store_url: str) -> None:
    seed(store_url)
    with FleetStore.open(store_url) as store:
        every_site = curtail_report(
            store, since=_t("2026-03-01T00:00"), until=_t("2026-04-01T00:00"), per=Period.MONTH
        )
        late = curtail_report(store, since=_t("2026-03-02T23:00"), until=_t("2026-03-06T00:00"), site="north")
        with pytest.raises(FleetInputError):
            curtail_report(store, since=_t("2026-03-02T00:00"), until=_t("2026-03-02T00:00"))
    (month,) = every_site.periods
    assert month.start_utc == _t("2026-03-01T00:00") and month.events == 4  # 1, 2, 4 and the south one
    assert month.account.energy_saved_kwh == pytest.approx(16.875 + 3.0 + 1.5 + 3.0)
    assert [r.event.id for r in late.events] == [2, 3, 4]  # from event 2 (its start), north only
    assert [p.start_utc for p in late.periods] == [_t("2026-03-02T00:00"), _t("2026-03-05T00:00")]
