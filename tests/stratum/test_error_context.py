"""Stratum input errors carry the setting or URL at fault as ``field``/``value`` (passwords masked)."""

from __future__ import annotations

import pytest

from hashwatt.errors import InputError
from hashwatt.stratum import PoolConfig, PoolConfigError, PoolUrl, PoolUrlError


def test_a_pool_setting_error_names_the_setting_and_value() -> None:
    with pytest.raises(PoolConfigError) as info:
        PoolConfig(min_difficulty=4.0, start_difficulty=2.0)
    assert (info.value.field, info.value.value, info.value.setting) == (
        "start_difficulty",
        2.0,
        "start_difficulty",
    )
    with pytest.raises(PoolConfigError) as info:
        PoolConfig(min_difficulty=float("nan"))
    assert info.value.field == "min_difficulty" and info.value.value != info.value.value  # NaN as given


def test_a_pool_url_error_carries_the_masked_url() -> None:
    with pytest.raises(PoolUrlError) as info:
        PoolUrl.parse("stratum+tcp://worker:hunter2@pool.example:99999")
    assert isinstance(info.value, InputError) and info.value.field == "url"
    assert isinstance(info.value.value, str) and "pool.example" in info.value.value
    assert "hunter2" not in info.value.value
