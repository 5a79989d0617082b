"""Fleet input errors carry the argument at fault (field), what was given (value) and the file or feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from hashwatt.fleet import FleetInputError, parse_range, price_at, request_from_command
from hashwatt.fleet._pricefeed import parse_price_json


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: parse_range("10.0.0.9-10.0.0.1"), "range", "10.0.0.9-10.0.0.1"),
        (lambda: parse_range("10.0.0.0/8", max_addresses=16), "range", "10.0.0.0/8"),
        (lambda: parse_range("not-an-ip"), "range", "not-an-ip"),
        (lambda: request_from_command("explode", {}), "action", "explode"),
        (lambda: parse_price_json([1], source="feed.json"), "prices.0", 1),
    ],
)
def test_input_errors_carry_field_and_value(call: Callable[[], object], field: str, value: object) -> None:
    with pytest.raises(FleetInputError) as info:
        call()
    assert (info.value.field, info.value.value) == (field, value)


def test_a_missing_hour_names_the_time_asked() -> None:
    prices = pd.Series([10.0], index=pd.DatetimeIndex([pd.Timestamp("2024-01-01", tz="UTC")]))
    when = dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    with pytest.raises(FleetInputError) as info:
        price_at(prices, when)
    assert (info.value.field, info.value.value) == ("when", pd.Timestamp(when))


def test_a_feed_entry_error_names_the_feed() -> None:
    with pytest.raises(FleetInputError) as info:
        parse_price_json({"prices": [{"time": "2024-01-01T00:00Z"}]}, source="https://feed.example/p")
    assert (info.value.field, info.value.path) == ("prices.0", "https://feed.example/p")


def test_a_device_reply_error_names_the_endpoint_and_the_command() -> None:
    from hashwatt.fleet import DeviceReplyInvalid
    from hashwatt.fleet._devices import _section

    with pytest.raises(DeviceReplyInvalid) as info:
        _section({"STATUS": [{"STATUS": "S"}]}, "SUMMARY", "127.0.0.1:4028")
    assert (info.value.address, info.value.command) == ("127.0.0.1:4028", "summary")
    with pytest.raises(DeviceReplyInvalid) as info:
        _section({"STATUS": [{"STATUS": "E", "Msg": "no"}]}, "POOLS", "127.0.0.1:4028")
    assert info.value.command == "pools"
