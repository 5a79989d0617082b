"""Tariffs from TOML: TOU in local time across DST, tiers, demand charges, fixed fees, errors."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashwatt.energy import FlatEnergy, Tariff, TariffError, TouEnergy, load_tariff, parse_tariff

EXAMPLES = Path(str(resources.files("hashwatt.energy").joinpath("examples")))


def test_shipped_example_tariffs_load() -> None:
    ercot = load_tariff(EXAMPLES / "ercot_4cp_tariff.toml")
    assert ercot.energy.kind == "market"
    assert ercot.demand is not None and ercot.demand.usd_per_kw_month == 4.0
    assert ercot.four_cp is not None and ercot.four_cp.proxy == "top_price_hour_jun_sep"
    tou = load_tariff(EXAMPLES / "tou_tariff.toml")
    assert isinstance(tou.energy, TouEnergy) and len(tou.energy.periods) == 2


def test_tou_rates_follow_local_time_across_dst() -> None:
    tou = load_tariff(EXAMPLES / "tou_tariff.toml")
    # 2023-07-12 is a Wednesday: 16:00 PDT = 23:00 UTC is on-peak.
    idx = pd.DatetimeIndex(
        pd.to_datetime(
            [
                "2023-07-12T23:00Z",  # Wed 16:00 PDT -> 0.22
                "2023-07-12T22:00Z",  # Wed 15:00 PDT -> 0.10 (shoulder)
                "2023-07-15T23:00Z",  # Sat 16:00 PDT -> weekday-only peak does not apply -> 0.07
                "2023-07-16T04:00Z",  # Sat 21:00 PDT -> shoulder (all days) -> 0.10
                "2023-12-13T00:00Z",  # Tue 16:00 PST in December -> default 0.07
            ],
            utc=True,
        )
    )
    rates = tou.energy_price_usd_per_mwh(idx, None)
    np.testing.assert_allclose(rates, [220.0, 100.0, 70.0, 100.0, 70.0])


def test_bill_components_add_up() -> None:
    idx = pd.date_range("2023-01-01", "2023-03-01", freq="1h", inclusive="left", tz="UTC")
    load = np.full(len(idx), 1000.0)
    load[100] = 1500.0  # a January peak
    tariff = parse_tariff(
        {
            "energy": {"kind": "flat", "rate_usd_per_kwh": 0.05},
            "demand": {"usd_per_kw_month": 10.0},
            "fixed": {"usd_per_month": 100.0},
        }
    )
    bill = tariff.bill(idx, load)
    assert bill.energy_usd == pytest.approx(load.sum() * 0.05)
    assert bill.demand_usd == pytest.approx(10.0 * (1500.0 + 1000.0))
    assert bill.fixed_usd == pytest.approx(200.0)
    assert bill.total_usd == pytest.approx(bill.energy_usd + bill.demand_usd + bill.fixed_usd)


def test_tiered_bill_per_month() -> None:
    idx = pd.date_range("2023-01-01", periods=48, freq="1h", tz="UTC")
    tariff = parse_tariff(
        {
            "energy": {
                "kind": "tiered",
                "blocks": [{"up_to_kwh": 10_000, "rate_usd_per_kwh": 0.04}, {"rate_usd_per_kwh": 0.09}],
            }
        }
    )
    bill = tariff.bill(idx, np.full(48, 500.0))  # 24,000 kWh in January
    assert bill.energy_usd == pytest.approx(10_000 * 0.04 + 14_000 * 0.09)


def test_bad_tariffs_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(TariffError, match="rate_usd_per_kwh"):
        parse_tariff({"energy": {"kind": "flat", "rate_usd_per_kwh": -1}})
    with pytest.raises(TariffError, match="hours"):
        parse_tariff(
            {
                "energy": {
                    "kind": "tou",
                    "default_rate_usd_per_kwh": 0.1,
                    "periods": [{"rate_usd_per_kwh": 1, "hours": [24]}],
                }
            }
        )
    with pytest.raises(TariffError, match="last block"):
        parse_tariff({"energy": {"kind": "tiered", "blocks": [{"up_to_kwh": 5, "rate_usd_per_kwh": 0.1}]}})
    bad = tmp_path / "t.toml"
    bad.write_text("name = \n")
    with pytest.raises(TariffError, match="TOML"):
        load_tariff(bad)
    with pytest.raises(TariffError, match="not found"):
        load_tariff(tmp_path / "none.toml")
    with pytest.raises(TariffError, match="time zone"):
        Tariff(timezone="Mars/Olympus", energy=FlatEnergy(rate_usd_per_kwh=0.1)).month_labels(
            pd.date_range("2023-01-01", periods=3, freq="1h", tz="UTC")
        )
