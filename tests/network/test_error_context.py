"""Network-analytics input errors name the argument and carry the value given."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from hashwatt.network import (
    binomial_interval,
    confirmations_for_risk,
    double_spend_nakamoto,
    nakamoto_coefficient,
    selfish_mining_revenue_eyal_sirer,
)
from hashwatt.network.errors import NetworkInputError


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: double_spend_nakamoto(1.5, 6), "q", 1.5),
        (lambda: double_spend_nakamoto(0.1, -2), "z", -2),
        (lambda: confirmations_for_risk(0.1, 2.0), "risk", 2.0),
        (lambda: confirmations_for_risk(0.6, 0.01), "q", 0.6),
        (lambda: selfish_mining_revenue_eyal_sirer(0.2, 1.5), "gamma", 1.5),
        (lambda: nakamoto_coefficient([0.5, 0.5], threshold=1.0), "threshold", 1.0),
        (lambda: binomial_interval(3, 10, confidence=1.2), "confidence", 1.2),
    ],
)
def test_input_errors_carry_field_and_value(call: Callable[[], object], field: str, value: object) -> None:
    with pytest.raises(NetworkInputError) as info:
        call()
    assert (info.value.field, info.value.value) == (field, value)


def test_pool_and_window_errors_carry_field_and_value() -> None:
    from hashwatt.data.pools import load_pool_blocks
    from hashwatt.network import pool_blocks

    blocks = load_pool_blocks()
    cases: list[tuple[Callable[[], object], str, object]] = [
        (lambda: pool_blocks(blocks, "no such pool zz"), "pool", "no such pool zz"),
        (lambda: pool_blocks(blocks, "foundry", window="2w"), "window", "2w"),
        (
            lambda: pool_blocks(
                blocks, "foundry", start=pd.Timestamp("2025-02-01"), end=pd.Timestamp("2025-01-01")
            ),
            "start,end",
            (pd.Timestamp("2025-02-01"), pd.Timestamp("2025-01-01")),
        ),
    ]
    for call, field, value in cases:
        with pytest.raises(NetworkInputError) as info:
            call()
        assert (info.value.field, info.value.value) == (field, value)
