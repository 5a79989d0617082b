"""CBECI-style energy bounds and attack cost: hand-computed small cases, invariants on real history."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashwatt.data.hardware import hardware_catalog
from hashwatt.network import (
    HOURS_PER_YEAR,
    EnergyAssumptions,
    NetworkInputError,
    attack_cost,
    break_even_efficiency_j_per_th,
    carbon_intensity_for_year,
    hardware_availability,
    network_energy_history,
    plot_energy_history,
)


def _history(days: list[str], hashrate_ehs: float, btc_per_day: float, price_usd: float) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(days), name="date")
    return pd.DataFrame(
        {
            "hashrate_ehs": hashrate_ehs,
            "subsidy_btc": btc_per_day,
            "fees_btc_per_day": 0.0,
            "price_usd": price_usd,
        },
        index=index,
    )


def _availability() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["new", "mid", "old"],
            "efficiency_j_per_th": [20.0, 30.0, 60.0],
            "hashrate_ths": [200.0, 100.0, 50.0],
            "power_w": [4000.0, 3000.0, 3000.0],
            "available_from": pd.to_datetime(["2024-06-01", "2020-01-01", "2018-01-01"]),
            "available_from_source": ["catalog"] * 3,
        }
    )


def test_breakeven_efficiency_by_hand() -> None:
    # 1 EH/s earning 100,000 USD/day at 0.05 USD/kWh: revenue per TH = 0.1/86,400 USD,
    # a joule costs 0.05/3.6e6 USD: e* = 0.1 x 3.6e6 / (86,400 x 0.05) = 83.33 J/TH
    assert break_even_efficiency_j_per_th(100_000.0, 1e6, 0.05) == pytest.approx(250.0 / 3.0)
    with pytest.raises(NetworkInputError):
        break_even_efficiency_j_per_th(1.0, 0.0, 0.05)


def test_bounds_on_a_small_hand_computed_case() -> None:
    # 100 EH/s, revenue 450 BTC x 40,000 USD = 18 M USD/day: e* = 18e6 x 3.6e6 / (1e8 x 86,400 x 0.05) = 150 J/TH
    hist = _history(["2023-01-01", "2024-07-01"], 100.0, 450.0, 40_000.0)
    assumptions = EnergyAssumptions(power_price_usd_per_kwh=0.05, smoothing_days=1, carbon_g_per_kwh=500.0)
    frame = network_energy_history(assumptions, history=hist, availability=_availability())
    assert frame["break_even_efficiency_j_per_th"].tolist() == pytest.approx([150.0, 150.0])
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["models_available"] == 2 and second["models_available"] == 3
    assert first["efficiency_lower_j_per_th"] == 30.0 and second["efficiency_lower_j_per_th"] == 20.0
    assert first["efficiency_upper_j_per_th"] == 60.0
    # profit weights (150 - e) / 150: 120/150 for 30 J/TH, 90/150 for 60 J/TH
    assert first["efficiency_best_j_per_th"] == pytest.approx((120 * 30 + 90 * 60) / 210)
    # power = 1e8 TH/s x 30 J/TH x 1.01 = 3.03 GW; energy = 3.03 x 8766 / 1000 TWh/yr
    assert first["power_lower_gw"] == pytest.approx(3.03)
    assert first["energy_lower_twh_per_year"] == pytest.approx(3.03 * HOURS_PER_YEAR / 1e3)
    assert first["emissions_best_mt_per_year"] == pytest.approx(first["energy_best_twh_per_year"] * 0.5)
    equal = network_energy_history(
        EnergyAssumptions(smoothing_days=1, weighting="equal"), history=hist, availability=_availability()
    )
    assert equal.iloc[1]["efficiency_best_j_per_th"] == pytest.approx((20 + 30 + 60) / 3)


def test_unprofitable_days_fall_back_to_the_lower_bound() -> None:
    # at 1 USD/kWh e* = 7.5 J/TH: nothing is profitable
    hist = _history(["2024-07-01"], 100.0, 450.0, 40_000.0)
    frame = network_energy_history(
        EnergyAssumptions(power_price_usd_per_kwh=1.0, smoothing_days=1),
        history=hist,
        availability=_availability(),
    )
    row = frame.iloc[0]
    assert bool(row["no_profitable_hardware"]) and row["models_profitable"] == 0
    assert (
        row["efficiency_upper_j_per_th"]
        == row["efficiency_best_j_per_th"]
        == row["efficiency_lower_j_per_th"]
    )


def test_real_history_invariants() -> None:
    frame = network_energy_history()
    assert frame.index[0] >= pd.Timestamp("2016-07-01")  # the first catalog model (Antminer S9)
    assert (frame["efficiency_lower_j_per_th"] <= frame["efficiency_best_j_per_th"] + 1e-9).all()
    assert (frame["efficiency_best_j_per_th"] <= frame["efficiency_upper_j_per_th"] + 1e-9).all()
    assert (frame["energy_lower_twh_per_year"] < frame["energy_upper_twh_per_year"]).all()
    assert frame["models_available"].is_monotonic_increasing
    assert (frame["models_profitable_assumed_date"] <= frame["models_profitable"]).all()
    assert frame.loc["2019-01-01", "models_profitable_assumed_date"] == 0  # assumptions start 2019-10
    dated_only = network_energy_history(
        EnergyAssumptions(use_assumed_release_dates=False), start="2024-01-01"
    )
    assert (dated_only["models_profitable_assumed_date"] == 0).all()
    assert (dated_only["models_available"] < frame.loc["2024-01-01":, "models_available"]).all()
    expected = frame["hashrate_ehs"] * 1e6 * frame["efficiency_best_j_per_th"] * 1.10 / 1e9
    assert np.allclose(frame["power_best_gw"], expected)
    # order of magnitude: tens to a few hundred TWh/yr in 2021-2025
    recent = frame.loc["2021-01-01":, "energy_best_twh_per_year"]
    assert recent.between(20, 600).all()
    # a higher power price can only make fewer machines profitable: upper bound falls
    cheap = network_energy_history(EnergyAssumptions(power_price_usd_per_kwh=0.03), start="2024-01-01")
    dear = network_energy_history(EnergyAssumptions(power_price_usd_per_kwh=0.08), start="2024-01-01")
    assert (dear["energy_upper_twh_per_year"] <= cheap["energy_upper_twh_per_year"] + 1e-9).all()
    assert (dear["energy_upper_twh_per_year"] < cheap["energy_upper_twh_per_year"]).any()
    assert np.allclose(dear["energy_lower_twh_per_year"], cheap["energy_lower_twh_per_year"])


def test_hardware_availability_dates() -> None:
    catalog = hardware_catalog()
    hw = hardware_availability(catalog)
    assert len(hw) == int((catalog["algorithm"] == "SHA-256").sum())
    dated = dict(zip(catalog["model"], catalog["release_date"], strict=True))
    for model, when, source in zip(
        hw["model"], hw["available_from"], hw["available_from_source"], strict=True
    ):
        if source == "catalog":
            assert when.date() == dated[model]
        elif source == "family":  # another hashrate bin of the same model has a date
            family = model.rsplit(" (", 1)[0]
            siblings = [d for m, d in dated.items() if m.startswith(family + " (") and d is not None]
            assert siblings and when.date() == min(siblings)
    assert set(hw["available_from_source"]) <= {"catalog", "family", "assumed", "unknown"}


def test_carbon_intensity_and_assumption_validation() -> None:
    assert carbon_intensity_for_year(2023) == 484.4
    assert carbon_intensity_for_year(2019) == 441.11  # nearest year
    assert carbon_intensity_for_year(2030) == 472.94
    with pytest.raises(NetworkInputError):
        EnergyAssumptions(power_price_usd_per_kwh=0.0)
    with pytest.raises(NetworkInputError):
        EnergyAssumptions(pue_best=0.9)
    with pytest.raises(NetworkInputError):
        EnergyAssumptions(weighting="bogus")  # type: ignore[arg-type]
    with pytest.raises(NetworkInputError):
        network_energy_history(start="2030-01-01")


def test_attack_cost_by_hand() -> None:
    hist = _history(["2024-07-01"], 600.0, 450.0 + 0.0, 60_000.0)
    cost = attack_cost(
        day="2024-07-01",
        history=hist,
        availability=_availability(),
        power_price_usd_per_kwh=0.05,
        pue=1.0,
        hardware_usd_per_th=10.0,
        rental_premium=0.0,
    )
    # hashprice = 450 x 60,000 / 600,000 PH/s = 45 USD/PH/day
    assert cost.hashprice_usd_per_ph_day == pytest.approx(45.0)
    assert cost.attacker_hashrate_ehs == 600.0 and cost.miner_model == "new"
    assert cost.machines == math.ceil(600e6 / 200.0) == 3_000_000
    assert cost.power_mw == pytest.approx(12_000.0)  # 3 M x 4 kW
    assert cost.hardware_cost_usd == pytest.approx(6e9)
    hour, day = cost.rows
    assert hour.rental_cost_usd == pytest.approx(600_000 * 45.0 / 24)
    assert hour.energy_mwh == pytest.approx(12_000.0)
    assert hour.energy_cost_usd == pytest.approx(600_000.0)
    assert day.rental_cost_usd == pytest.approx(24 * hour.rental_cost_usd)
    third = attack_cost(day="2024-07-01", history=hist, availability=_availability(), attacker_share=0.25)
    assert third.attacker_hashrate_ehs == pytest.approx(200.0)
    with pytest.raises(NetworkInputError):
        attack_cost(attacker_share=1.0)
    with pytest.raises(NetworkInputError):
        attack_cost(day="1999-01-01")


def test_attack_cost_on_real_history_uses_an_available_model() -> None:
    cost = attack_cost(day="2022-01-01")
    hw = hardware_availability()
    chosen = hw[hw["model"] == cost.miner_model].iloc[0]
    assert chosen["available_from"] <= pd.Timestamp("2022-01-01")
    assert cost.rows[0].rental_cost_usd > 0 and cost.hardware_cost_usd > 1e9


def test_energy_plot(tmp_path: Path) -> None:
    out = tmp_path / "energy.png"
    plot_energy_history(network_energy_history(start="2023-01-01")).savefig(out)
    assert out.read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- vs CBECI (issue 15 point 11)

CBECI_FILE = Path(__file__).resolve().parents[1] / "data" / "network" / "cbeci_daily_2019_2024.csv"


@pytest.fixture(scope="module")
def by_year() -> tuple[pd.DataFrame, pd.DataFrame]:
    from hashwatt.data.cbeci import load_cbeci_csv
    from hashwatt.network import energy_by_year

    ours = energy_by_year(network_energy_history()).loc[2019:2024]
    theirs = energy_by_year(load_cbeci_csv(CBECI_FILE)).loc[2019:2024]
    return ours, theirs


def test_each_year_2019_2024_lies_inside_cbeci_bounds(by_year: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ours, theirs = by_year
    assert list(ours.index) == list(theirs.index) == list(range(2019, 2025))
    assert (ours["days"] == theirs["days"]).all()  # whole years on both sides
    for year in ours.index:
        best, lo, hi = (
            ours.loc[year, "energy_best_twh"],
            theirs.loc[year, "energy_min_twh"],
            theirs.loc[year, "energy_max_twh"],
        )
        assert lo <= best <= hi, (year, lo, best, hi)
        # Same method for the bounds (most efficient available / least efficient profitable):
        # the upper bound tracks CBECI's within 5 %, the lower within 15 % (catalog differences).
        assert ours.loc[year, "energy_upper_twh"] == pytest.approx(hi, rel=0.05), year
        assert ours.loc[year, "energy_lower_twh"] == pytest.approx(lo, rel=0.15), year
        # The best guess stays within 20 % of CBECI's (docs/NETWORK.md gives the table and why).
        assert best == pytest.approx(theirs.loc[year, "energy_guess_twh"], rel=0.20), year


def test_yearly_sums_match_the_figures_ccaf_published() -> None:
    # The comparison is only as good as the reference: the daily series summed per year gives
    # the yearly figures CCAF published (2021 89.0, 2022 95.5 TWh).
    from hashwatt.data.cbeci import load_cbeci_csv
    from hashwatt.network import energy_by_year

    published = pd.read_csv(CBECI_FILE.with_name("cbeci_yearly_series_vs_published.csv")).set_index("year")
    sums = energy_by_year(load_cbeci_csv(CBECI_FILE))
    for year in (2021, 2022):
        assert sums.loc[year, "energy_guess_twh"] == pytest.approx(
            published.loc[year, "published_twh"], abs=0.1
        )


def test_mining_mix_emissions_for_2024_and_the_world_mix_kept_for_earlier_years() -> None:
    from hashwatt.network import MINING_MIX_CARBON_G_PER_KWH, energy_by_year

    mining = energy_by_year(network_energy_history())
    world = energy_by_year(network_energy_history(EnergyAssumptions(carbon_mix="world")))
    # CCAF 2025: 39.8 MtCO2e over 138 TWh for 2024.
    assert pytest.approx(39.8e6 / 138e3, rel=1e-12) == MINING_MIX_CARBON_G_PER_KWH
    assert mining.loc[2024, "emissions_best_mt"] == pytest.approx(
        mining.loc[2024, "energy_best_twh"] * MINING_MIX_CARBON_G_PER_KWH / 1e3, rel=1e-9
    )
    assert abs(mining.loc[2024, "emissions_best_mt"] - 39.8) < abs(
        world.loc[2024, "emissions_best_mt"] - 39.8
    )
    assert mining.loc[2023, "emissions_best_mt"] == pytest.approx(world.loc[2023, "emissions_best_mt"])
    assert carbon_intensity_for_year(2023, "mining") == carbon_intensity_for_year(2023)
