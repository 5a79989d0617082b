"""The curtailment report against hand-computed values, on SQLite and PostgreSQL.

Two closed events and one open one are stored through the same functions the agent uses
(``account_event``, ``insert_curtail_event``, ``close_curtail_event``); every expected figure
below is worked out by hand from the machines' measured power and hashrate, the hourly prices
and the hashprice.
"""

from __future__ import annotations

import pytest

from hashwatt.fleet._curtail_report import Period, curtail_report
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import FleetInputError
from tests.fleet._curtail_seed import EVENT_1, EVENT_2, seed, utc


def test_the_report_matches_the_hand_computed_accounts(store_url: str) -> None:
    seed(store_url)
    with FleetStore.open(store_url) as store:
        report = curtail_report(
            store, since=utc("2026-03-02T00:00"), until=utc("2026-03-04T00:00"), site="north", per=Period.DAY
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
    assert day.start_utc == utc("2026-03-02T00:00") and day.events == 2
    assert day.account.energy_saved_kwh == pytest.approx(19.875)
    assert day.account.cost_saved_usd == pytest.approx(3.075)
    assert day.account.revenue_forgone_usd == pytest.approx(1.09375 + 5 / 12)
    assert report.total == day.account


def test_periods_sites_and_bounds(store_url: str) -> None:
    seed(store_url)
    with FleetStore.open(store_url) as store:
        every_site = curtail_report(
            store, since=utc("2026-03-01T00:00"), until=utc("2026-04-01T00:00"), per=Period.MONTH
        )
        late = curtail_report(
            store, since=utc("2026-03-02T23:00"), until=utc("2026-03-06T00:00"), site="north"
        )
        with pytest.raises(FleetInputError):
            curtail_report(store, since=utc("2026-03-02T00:00"), until=utc("2026-03-02T00:00"))
    (month,) = every_site.periods
    assert month.start_utc == utc("2026-03-01T00:00") and month.events == 4  # 1, 2, 4 and the south one
    assert month.account.energy_saved_kwh == pytest.approx(16.875 + 3.0 + 1.5 + 3.0)
    assert [r.event.id for r in late.events] == [2, 3, 4]  # from event 2 (its start), north only
    assert [p.start_utc for p in late.periods] == [utc("2026-03-02T00:00"), utc("2026-03-05T00:00")]
