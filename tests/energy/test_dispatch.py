"""Threshold and LP dispatch on every real market-year shipped (ERCOT 2021 = Winter Storm Uri)."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from hashwatt.data._embedded import embedded_path
from hashwatt.data.prices import MARKETS, market_prices
from hashwatt.energy import (
    Conditions,
    DemandCharge,
    EnergyError,
    MachineClass,
    Tariff,
    dispatch_always_on,
    dispatch_lp,
    dispatch_threshold,
    threshold_load_fraction,
)

MARKET_YEARS = [(m, y) for m in MARKETS for y in range(2020, 2025)]
HASHPRICE = 55.0  # USD/PH/day
CLASSES = ((17.5, 1.0), (30.0, 0.5))  # (J/TH, MW)


def _raw_market_years() -> dict[tuple[str, int], list[tuple[datetime, float]]]:
    """Read the shipped file with the csv module only: (UTC hour, price) rows per local market-year."""
    out: dict[tuple[str, int], list[tuple[datetime, float]]] = {my: [] for my in MARKET_YEARS}
    zones = {m: ZoneInfo(info.timezone) for m, info in MARKETS.items()}
    with gzip.open(embedded_path("us_iso_hourly_prices_2020_2024.csv.gz"), "rt") as fh:
        for row in csv.DictReader(fh):
            ts = datetime.strptime(row["timestamp_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            for market, info in MARKETS.items():
                if row[info.column]:
                    key = (market, ts.astimezone(zones[market]).year)
                    if key in out:
                        out[key].append((ts, float(row[info.column])))
    return out


@pytest.fixture(scope="module")
def raw_years() -> dict[tuple[str, int], list[tuple[datetime, float]]]:
    return _raw_market_years()


def _prices(market: str, year: int) -> pd.Series:
    fill = "drop" if market == "PJM" else None  # PJM lacks Dec 31: dispatch the hours that exist
    return market_prices(market, year, fill=fill).price_usd_per_mwh


@pytest.mark.parametrize(("market", "year"), MARKET_YEARS)
def test_threshold_beats_always_on_by_the_independently_recomputed_amount(
    market: str, year: int, raw_years: dict[tuple[str, int], list[tuple[datetime, float]]]
) -> None:
    machines = [MachineClass.from_efficiency(e, mw) for e, mw in CLASSES]
    result = dispatch_threshold(_prices(market, year), machines, HASHPRICE)
    # Independent recomputation from the raw rows: each hour and class, always-on pays
    # cost - revenue whenever that is positive; the threshold rule avoids exactly that.
    savings = 0.0
    always_on = 0.0
    for _, price in raw_years[(market, year)]:
        for eff, mw in CLASSES:
            revenue = (mw * 1e6 / eff) * HASHPRICE / 1000.0 / 24.0  # TH/s x USD/(TH/s)/h
            cost = mw * price
            always_on += revenue - cost
            savings += max(cost - revenue, 0.0)
    assert result.summary.hours == len(raw_years[(market, year)])
    assert result.summary.savings_vs_always_on_usd == pytest.approx(savings, rel=1e-9, abs=1e-6)
    assert result.summary.always_on_profit_usd == pytest.approx(always_on, rel=1e-9, abs=1e-6)
    assert result.summary.savings_vs_always_on_usd > 0  # every real year has hours worth curtailing


@pytest.mark.parametrize(("market", "year"), MARKET_YEARS)
def test_lp_equals_threshold_when_nothing_couples_hours(market: str, year: int) -> None:
    machines = [MachineClass.from_efficiency(e, mw) for e, mw in CLASSES]
    prices = _prices(market, year)
    thr = dispatch_threshold(prices, machines, HASHPRICE)
    lp = dispatch_lp(prices, machines, HASHPRICE)
    assert lp.summary.profit_usd == pytest.approx(thr.summary.profit_usd, rel=1e-9, abs=1e-3)
    # Same hours on, except exact ties (price == breakeven) where either choice is optimal.
    breakeven = HASHPRICE * 1000.0 / 24.0 / np.array([e for e, _ in CLASSES])
    tie = np.isclose(prices.to_numpy()[:, None], breakeven[None, :], atol=1e-6)
    diff = np.abs(lp.load_fraction - thr.load_fraction) > 1e-6
    assert not (diff & ~tie).any()


def test_uri_threshold_switches_off_through_the_storm() -> None:
    prices = _prices("ERCOT", 2021)
    res = dispatch_threshold(prices, [MachineClass.from_efficiency(17.5, 1.0)], HASHPRICE)
    storm = res.schedule.loc["2021-02-15T06:00Z":"2021-02-19T05:00Z"]
    expensive = storm["price_usd_per_mwh"] > 1000
    assert expensive.sum() > 40
    assert (storm.loc[expensive, "it_load_kw"] == 0).all()
    ao = dispatch_always_on(prices, [MachineClass.from_efficiency(17.5, 1.0)], HASHPRICE)
    assert ao.summary.profit_usd == pytest.approx(res.summary.always_on_profit_usd)
    # Most of the year's curtailment value comes from the storm week.
    week = slice("2021-02-13T06:00Z", "2021-02-20T05:00Z")
    saved_in_storm = res.schedule.loc[week, "profit_usd"].sum() - ao.schedule.loc[week, "profit_usd"].sum()
    assert saved_in_storm > 0.6 * res.summary.savings_vs_always_on_usd > 0


def test_lp_never_worse_than_threshold_with_demand_charges() -> None:
    machines = [MachineClass.from_efficiency(e, mw) for e, mw in CLASSES]
    tariff = Tariff(demand=DemandCharge(usd_per_kw_month=15.0))
    for market, year in (("ERCOT", 2021), ("CAISO", 2022), ("NYISO", 2023)):
        prices = _prices(market, year)
        thr = dispatch_threshold(prices, machines, HASHPRICE, tariff=tariff)
        lp = dispatch_lp(prices, machines, HASHPRICE, tariff=tariff)
        assert lp.summary.profit_usd >= thr.summary.profit_usd - 1e-6
        assert lp.summary.demand_charge_usd <= thr.summary.demand_charge_usd + 1e-6


def test_daily_hashprice_series_is_applied_per_utc_day() -> None:
    prices = _prices("ERCOT", 2023)
    days = pd.date_range("2022-12-31", "2024-01-01", freq="D")
    hp = pd.Series(np.linspace(40.0, 90.0, len(days)), index=days.date)
    machine = MachineClass.from_efficiency(20.0, 1.0)
    res = dispatch_threshold(prices, [machine], hp)
    day_of_hour = prices.index.tz_convert("UTC").normalize().tz_localize(None)
    hp_hour = pd.Series(hp.to_numpy(), index=pd.DatetimeIndex(days)).reindex(day_of_hour).to_numpy()
    rev = 1e6 / 20.0 * hp_hour / 24000.0
    cost = prices.to_numpy()
    assert res.summary.profit_usd == pytest.approx(float(np.maximum(rev - cost, 0).sum()), rel=1e-9)
    with pytest.raises(EnergyError, match="covers"):
        dispatch_threshold(prices, [machine], hp.iloc[10:])


def test_threshold_kernel_shapes_and_pue_derate() -> None:
    price = np.array([10.0, 50.0, 100.0, 200.0])
    eff = np.array([15.0, 20.0, 30.0])
    frac = threshold_load_fraction(price, np.full(4, 60.0), eff)
    assert frac.shape == (4, 3)
    be = 60.0 * 1000 / 24 / eff  # 166.7, 125, 83.3 USD/MWh
    np.testing.assert_array_equal(frac, (price[:, None] < be[None, :]).astype(float))
    # PUE 1.25 and 20 % derating lower every breakeven by 1.25 / 0.8.
    frac2 = threshold_load_fraction(price, np.full(4, 60.0), eff, pue=1.25, hashrate_derate=0.8)
    np.testing.assert_array_equal(frac2, (price[:, None] < (be / 1.5625)[None, :]).astype(float))


def test_onsite_generation_threshold_matches_lp() -> None:
    prices = _prices("CAISO", 2022).iloc[: 24 * 31 * 3]
    hours = prices.index.tz_convert("America/Los_Angeles").hour
    solar_kw = np.clip(np.sin((np.asarray(hours) - 6) / 12 * np.pi), 0, None) * 1200.0
    machines = [MachineClass.from_efficiency(e, mw) for e, mw in ((17.5, 1.0), (34.0, 1.0))]
    cond = Conditions(onsite_kw=solar_kw, export_usd_per_mwh=20.0, pue=1.1)
    thr = dispatch_threshold(prices, machines, 40.0, conditions=cond)
    lp = dispatch_lp(prices, machines, 40.0, conditions=cond)
    assert lp.summary.profit_usd == pytest.approx(thr.summary.profit_usd, rel=1e-7)
    # Behind the meter, surplus solar runs the inefficient class in hours the grid would not.
    no_solar = dispatch_threshold(prices, machines, 40.0, conditions=Conditions(pue=1.1))
    assert thr.load_fraction[:, 1].sum() > no_solar.load_fraction[:, 1].sum()
    assert thr.summary.grid_energy_mwh < no_solar.summary.grid_energy_mwh


def test_bad_inputs() -> None:
    prices = _prices("ERCOT", 2022)
    m = [MachineClass.from_efficiency(17.5, 1.0)]
    with pytest.raises(EnergyError):
        MachineClass.from_efficiency(-1.0, 1.0)
    with pytest.raises(EnergyError):
        dispatch_threshold(prices, [], 50.0)
    with pytest.raises(EnergyError, match="pue"):
        dispatch_threshold(prices, m, 50.0, conditions=Conditions(pue=0.9))
    with pytest.raises(EnergyError, match="tz-aware"):
        dispatch_threshold(pd.Series([1.0, 2.0]), m, 50.0)
    with pytest.raises(EnergyError, match="hours"):
        dispatch_threshold(prices, m, 50.0, conditions=Conditions(pue=np.ones(3)))


def test_daily_view_sums_to_the_year() -> None:
    prices = _prices("NYISO", 2022)
    res = dispatch_threshold(prices, [MachineClass.from_efficiency(25.0, 2.0)], HASHPRICE)
    daily = res.daily()
    assert len(daily) == 366  # local year 2022 spans 366 UTC days
    assert daily["margin_usd"].sum() == pytest.approx(res.summary.profit_usd)
    assert daily["it_energy_mwh"].sum() == pytest.approx(res.summary.it_energy_mwh)
    assert ((daily["uptime_fraction"] >= 0) & (daily["uptime_fraction"] <= 1)).all()
    assert res.summary.capacity_kw == 2000.0
