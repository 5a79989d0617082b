"""Two closed curtailment events and one open one, stored as the agent stores them, with their
hand-computed accounts: shared by the report's library and CLI tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from hashwatt.fleet import Endpoint
from hashwatt.fleet._curtail import (
    CurtailEvent,
    CurtailMode,
    Machine,
    account_event,
    close_curtail_event,
    insert_curtail_event,
)
from hashwatt.fleet._devices import LuxOS
from hashwatt.fleet._store import FleetStore

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


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _m(n: int, power_w: float, hashrate_ths: float) -> Machine:
    return Machine(LuxOS(Endpoint(f"10.9.0.{n}", 4028)), power_w, hashrate_ths, False)


def _event(store: FleetStore, site: str, machines: list[Machine], start: str, end: str | None) -> int:
    event = CurtailEvent(utc(start), tuple(machines), (), (), 0.0, CurtailMode.SLEEP)
    event_id = insert_curtail_event(
        store, site, event, price_usd_per_mwh=float(PRICES.iloc[0]), hashprice_usd_per_ph_day=HASHPRICE
    )
    if end is not None:
        account = account_event(event, end_utc=utc(end), prices=PRICES, hashprice_usd_per_ph_day=HASHPRICE)
        close_curtail_event(store, event_id, utc(end), account)
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
