"""Economics input errors name the parameter and carry the value given (``.field``, ``.value``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hashwatt.economics import CostModel, MonteCarloConfig, parse_pool_fee
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
