"""Energy input errors carry the offending field, the value given and, for files, the path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hashwatt.energy import FlatEnergy, SiteConfigError, Tariff, TariffError, load_sites, load_tariff


def test_a_tariff_file_error_names_key_value_and_path(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[energy]\nkind = "flat"\nrate_usd_per_kwh = -1\n')
    with pytest.raises(TariffError) as info:
        load_tariff(path)
    assert info.value.path == str(path)
    assert info.value.field is not None and "rate_usd_per_kwh" in info.value.field
    assert info.value.value == -1


def test_an_unknown_time_zone_is_the_field() -> None:
    tariff = Tariff(timezone="Mars/Olympus", energy=FlatEnergy(rate_usd_per_kwh=0.1))
    with pytest.raises(TariffError) as info:
        tariff.month_labels(pd.date_range("2023-01-01", periods=3, freq="1h", tz="UTC"))
    assert (info.value.field, info.value.value) == ("timezone", "Mars/Olympus")


def test_a_sites_file_error_names_key_and_path(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text("[[site]]\nname = 3\n")
    with pytest.raises(SiteConfigError) as info:
        load_sites(path)
    assert info.value.path == str(path)
    assert info.value.field == "fleet"  # the missing table
