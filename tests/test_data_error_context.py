"""Data input errors carry the argument at fault (field), what was given (value) and the file (path)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from hashwatt.data.coins import parse_hashrate_hs
from hashwatt.data.grid import ercot_carbon_hourly
from hashwatt.data.history import DateOutOfRangeError, check_in_history
from hashwatt.data.prices import market_prices, read_price_csv
from hashwatt.errors import DataInputError


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: market_prices("NOPE", 2021), "market", "NOPE"),
        (lambda: market_prices("ERCOT", 2019), "year", 2019),
        (lambda: parse_hashrate_hs("fast"), "hashrate", "fast"),
        (lambda: parse_hashrate_hs("-3T"), "hashrate", "-3T"),
        (lambda: ercot_carbon_hourly(2019), "year", 2019),
        (lambda: check_in_history("1990-01-01"), "date", dt.date(1990, 1, 1)),
        (lambda: check_in_history("soon"), "date", "soon"),
    ],
)
def test_input_errors_carry_field_and_value(call: Callable[[], object], field: str, value: object) -> None:
    with pytest.raises(DataInputError) as info:
        call()
    assert (info.value.field, info.value.value) == (field, value)


def test_a_date_outside_the_history_is_a_range_error() -> None:
    with pytest.raises(DateOutOfRangeError):
        check_in_history("1990-01-01")


def test_price_file_errors_carry_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    with pytest.raises(DataInputError) as info:
        read_price_csv(missing)
    assert info.value.path == str(missing)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("time,node,price\n2024-01-01T00:00Z,A,10\n2024-01-01T00:00Z,B,11\n")
    with pytest.raises(DataInputError) as info:
        read_price_csv(nodes, node="C")
    assert (info.value.field, info.value.value, info.value.path) == ("node", "C", str(nodes))
