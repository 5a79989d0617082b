"""Economics input errors name the parameter and carry the value given (``.field``, ``.value``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hashwatt.economics import (
    CostModel,
    MonteCarloConfig,
    coin_spec,
    load_coin_data,
    parse_coin_set,
    parse_fleet,
    parse_pool_fee,
)
from hashwatt.economics.errors import EconomicsInputError


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (lambda: CostModel(pool_fee=1.5), "pool_fee", 1.5),
        (lambda: CostModel(pue=7.0), "pue", 7.0),
        (lambda: CostModel(uptime=0.0), "uptime", 0.0),
        (lambda: CostModel(maintenance_usd_per_month=-3.0), "maintenance_usd_per_month", -3.0),
        (lambda: MonteCarloConfig(paths=0), "paths", 0),
        (lambda: parse_pool_fee("250%"), "pool_fee", "250%"),
        (lambda: parse_pool_fee("two"), "pool_fee", "two"),
    ],
)
def test_input_errors_carry_field_and_value(build: Callable[[], object], field: str, value: object) -> None:
    with pytest.raises(EconomicsInputError) as info:
        build()
    assert (info.value.field, info.value.value) == (field, value)


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (lambda: coin_spec("zzz"), "coin", "zzz"),
        (lambda: parse_coin_set("ltc+ltc"), "coins", "ltc+ltc"),
        (lambda: parse_coin_set("btc+ltc"), "coins", "btc+ltc"),
        (
            lambda: parse_fleet(
                {
                    "site": [
                        {
                            "name": "A",
                            "power_price_usd_per_kwh": 0.05,
                            "miner": [{"model": "S19 Pro", "colour": 1}],
                        }
                    ]
                }
            ),
            "colour",
            ["colour"],
        ),
        (
            lambda: parse_fleet(
                {
                    "site": [
                        {"name": "A", "power_price_usd_per_kwh": 0.05, "miner": [{"model": "S19 Pro"}]},
                        {"name": "A", "power_price_usd_per_kwh": 0.05},
                    ]
                }
            ),
            "name",
            "A",
        ),
        (
            lambda: parse_fleet(
                {
                    "site": [
                        {
                            "name": "A",
                            "power_price_usd_per_kwh": 0.05,
                            "miner": [{"model": "x", "power_w": 3000}],
                        }
                    ]
                }
            ),
            "hashrate_ths,power_w",
            (None, 3000),
        ),
    ],
)
def test_coin_and_fleet_file_errors_carry_field_and_value(
    build: Callable[[], object], field: str, value: object
) -> None:
    with pytest.raises(EconomicsInputError) as info:
        build()
    assert (info.value.field, info.value.value) == (field, value)


def test_a_coin_data_file_error_carries_its_path(tmp_path: Path) -> None:
    path = tmp_path / "coins.toml"
    path.write_text("ltc = 3\n")
    with pytest.raises(EconomicsInputError) as info:
        load_coin_data(path)
    assert (info.value.field, info.value.value, info.value.path) == ("ltc", 3, str(path))
