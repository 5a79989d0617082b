"""Sites: the shipped example of real regions, climate, on-site generation, ranking."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashwatt.data.grid import carbon_intensity_yearly, dallas_temperature_hourly, ercot_carbon_hourly
from hashwatt.energy import (
    ClimateModel,
    SiteConfigError,
    compare_sites,
    load_sites,
    solar_kw_from_ghi,
    tmy_to_index,
    wind_kw_from_speed,
)

EXAMPLES = Path(str(resources.files("hashwatt.energy").joinpath("examples")))


@pytest.fixture(scope="module")
def ranked() -> list:  # type: ignore[type-arg]
    return compare_sites(load_sites(EXAMPLES / "sites.toml"))


def test_example_sites_are_ranked_by_profit(ranked: list) -> None:  # type: ignore[type-arg]
    assert len(ranked) >= 8
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    profits = [r.profit_usd_per_year for r in ranked]
    assert profits == sorted(profits, reverse=True)
    for r in ranked:
        if r.profit_usd_per_year > 0:
            assert r.payback_years == pytest.approx(r.capex_usd / r.profit_usd_per_year)
        assert r.emissions_t_per_btc is not None and r.emissions_t_per_btc > 0


def test_emissions_per_btc_and_per_ph_follow_from_the_inputs(ranked: list) -> None:  # type: ignore[type-arg]
    by_name = {r.name: r for r in ranked}
    eth = by_name["Ethiopia EEP crypto tariff"]
    g, _, _ = carbon_intensity_yearly("Ethiopia", 2023, source="ember")
    # Always on at a flat 31.4 USD/MWh; emissions = grid MWh x g/kWh.
    assert eth.uptime_fraction == 1.0
    grid_mwh = 10.0 * 8760 * eth.mean_pue
    assert eth.emissions_t_per_year == pytest.approx(grid_mwh * g / 1000.0, rel=1e-9)
    ph_days = 10e6 / 17.5 / 1000.0 * 365  # PH/s x days
    assert eth.emissions_kg_per_ph_day == pytest.approx(eth.emissions_t_per_year * 1000 / ph_days, rel=1e-6)
    btc = ph_days * 74.9 * 0.98 / 28827.0
    assert eth.btc_per_year == pytest.approx(btc, rel=1e-6)
    # Hydro-heavy Ethiopia and BPA emit far less per BTC than ERCOT or PJM.
    assert eth.emissions_t_per_btc < by_name["PJM Dominion zone (RT)"].emissions_t_per_btc / 5
    assert by_name["Washington EIA industrial average (flat), BPA"].emissions_t_per_btc < (
        by_name["ERCOT hub (DAM) + Dallas climate"].emissions_t_per_btc
    )


def test_ercot_site_uses_hourly_carbon_and_dallas_climate(ranked: list) -> None:  # type: ignore[type-arg]
    ercot = next(r for r in ranked if r.name == "ERCOT hub (DAM) + Dallas climate")
    temps = dallas_temperature_hourly(2023).to_numpy()
    model = ClimateModel()
    assert ercot.mean_pue == pytest.approx(float(model.pue(temps).mean()), rel=1e-9)
    carbon = ercot_carbon_hourly(2023)
    assert carbon.min() < ercot.carbon_g_per_kwh_mean < carbon.max()
    assert ercot.uptime_fraction < 1.0  # curtails in price spikes
    tariffed = next(r for r in ranked if r.name == "ERCOT hub + 4CP/demand tariff")
    assert tariffed.profit_usd_per_year < ercot.profit_usd_per_year


def test_solar_site_generates_and_buys_less(ranked: list) -> None:  # type: ignore[type-arg]
    nc = next(r for r in ranked if r.name.startswith("Greensboro"))
    # 5 MW of PV in Greensboro at a 0.8 performance ratio: 1,566 kWh/m2 x 0.8 x 5 MW.
    assert nc.onsite_mwh_per_year == pytest.approx(1566 * 0.8 * 5, rel=0.03)


def test_climate_model_curves() -> None:
    m = ClimateModel()
    np.testing.assert_allclose(m.pue([10.0, 20.0, 30.0, 80.0]), [1.04, 1.04, 1.10, 1.25])
    np.testing.assert_allclose(m.hashrate_derate([30.0, 35.0, 40.0, 100.0]), [1.0, 1.0, 0.9, 0.5])
    assert np.isnan(m.pue(np.nan))


def test_onsite_models_and_tmy_mapping() -> None:
    assert solar_kw_from_ghi(np.array([0.0, 500.0, 1500.0]), 1000.0).tolist() == [0.0, 400.0, 1000.0]
    wind = wind_kw_from_speed(np.array([0.0, 8.0, 30.0]), 2000.0, hub_height_m=10.0)
    assert wind[0] == 0.0 and 0 < wind[1] < 2000.0 and wind[2] == 0.0
    values = np.arange(8760, dtype=float)
    idx = pd.date_range("2024-01-01T05:00Z", periods=24 * 366, freq="1h")
    mapped = tmy_to_index(values, -5.0, idx)
    assert mapped[0] == 0.0  # Jan 1 00:00 LST
    feb29 = idx.get_loc(pd.Timestamp("2024-02-29T05:00Z"))
    assert mapped[feb29] == values[(31 + 27) * 24]  # Feb 29 reuses Feb 28


def test_bad_sites_files(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text(
        "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
        '[[site]]\nname = "x"\nmarket = "ERCOT"\nflat_price_usd_per_kwh = 0.05\n'
    )
    with pytest.raises(SiteConfigError, match="exactly one"):
        load_sites(bad)
    bad.write_text(
        "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
        '[[site]]\nname = "pjm"\nmarket = "PJM"\n'
    )
    with pytest.raises(SiteConfigError, match=r"site .pjm.*gap.*fill"):
        compare_sites(load_sites(bad))


def test_read_tmy3_csv_selects_a_site(tmp_path: Path) -> None:
    from hashwatt.data._embedded import embedded_path
    from hashwatt.energy import EnergyError, read_tmy3_csv

    frame = pd.read_csv(embedded_path("tmy3_greensboro_nc_sandpoint_ak.csv.gz"))
    path = tmp_path / "tmy.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(EnergyError, match="2 sites"):
        read_tmy3_csv(path)
    sand = read_tmy3_csv(path, site="sand point")
    assert len(sand) == 8760 and sand["utc_offset_h_lst"].iloc[0] == -9
    # Sand Point is the windy one (mean 5.1 m/s in the source notes).
    assert sand["wind_speed_10m_m_s"].mean() == pytest.approx(5.1, abs=0.05)
    frame.iloc[:100].to_csv(path, index=False)
    with pytest.raises(EnergyError, match="8760"):
        read_tmy3_csv(path, site="GREENSBORO")


def test_fleet_on_hashprice_history(tmp_path: Path) -> None:
    from hashwatt.economics import hashprice_history
    from hashwatt.energy import ClimateModel, evaluate_site

    path = tmp_path / "s.toml"
    path.write_text(
        '[fleet]\nefficiency_j_per_th = 20\npower_mw = 1\nhashprice_usd_per_ph_day = "history"\nyear = 2022\n'
        '[[site]]\nname = "ercot"\nmarket = "ERCOT"\ncarbon = "ercot_hourly"\n'
    )
    cfg = load_sites(path)
    result, site = evaluate_site(cfg.site[0], cfg.fleet, ClimateModel(), base_dir=tmp_path)
    hist = hashprice_history()
    sched = result.schedule
    day = pd.DatetimeIndex(sched.index).tz_convert("UTC").normalize().tz_localize(None)
    ph_days = (sched["hashrate_ths"] / 1000.0 / 24.0).groupby(day).sum()
    btc = float((ph_days * hist["hashprice_btc_per_ph_day"].reindex(ph_days.index)).sum())
    assert site.btc_per_year == pytest.approx(btc, rel=1e-9)
    usd = (sched["hashrate_ths"] / 1000.0 / 24.0 * sched["hashprice_usd_per_ph_day"]).sum()
    assert site.revenue_usd_per_year == pytest.approx(float(usd), rel=1e-9)
    path.write_text(
        "[fleet]\nefficiency_j_per_th = 20\npower_mw = 1\nhashprice_usd_per_ph_day = 50\n"
        '[[site]]\nname = "x"\nmarket = "ERCOT"\n'
    )
    with pytest.raises(SiteConfigError, match="btc_price_usd"):
        load_sites(path)


def test_climate_table_is_the_climate_model(tmp_path: Path) -> None:
    # One definition: the [climate] table validates straight into ClimateModel (defaults and
    # fields from the dataclass), and an unknown key is refused, not silently dropped.
    head = "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
    site = '[[site]]\nname = "x"\nflat_price_usd_per_kwh = 0.05\n'
    path = tmp_path / "s.toml"
    path.write_text(head + "[climate]\npue_base = 1.1\n" + site)
    climate = load_sites(path).climate
    assert climate == ClimateModel(pue_base=1.1)
    assert load_sites(EXAMPLES / "sites.toml").climate.pue_max == ClimateModel().pue_max
    path.write_text(head + "[climate]\npue_bsae = 1.1\n" + site)
    with pytest.raises(SiteConfigError, match="pue_bsae"):
        load_sites(path)


def test_old_sites_keys_still_read(tmp_path: Path) -> None:
    # pool_fee_fraction and carbon_gco2_per_kwh were renamed to NOMENCLATURE's pool_fee and
    # carbon_g_per_kwh; files written with the old keys keep working.
    head = "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
    path = tmp_path / "s.toml"
    path.write_text(
        head + "pool_fee_fraction = 0.03\n"
        '[[site]]\nname = "x"\nflat_price_usd_per_kwh = 0.05\ncarbon_gco2_per_kwh = 400\n'
    )
    cfg = load_sites(path)
    assert cfg.fleet.pool_fee == 0.03
    assert cfg.site[0].carbon_g_per_kwh == 400


@pytest.mark.parametrize(
    ("written", "fraction"), [('"2%"', 0.02), ("0.02", 0.02), ('"2.5 %"', 0.025), ("2", 0.02)]
)
def test_the_sites_pool_fee_reads_like_the_cli(tmp_path: Path, written: str, fraction: float) -> None:
    # One parser (economics.parse_pool_fee) for --pool-fee and the sites file: "2%" == 0.02.
    head = "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
    path = tmp_path / "s.toml"
    path.write_text(
        head + f"pool_fee = {written}\n" + '[[site]]\nname = "x"\nflat_price_usd_per_kwh = 0.05\n'
    )
    assert load_sites(path).fleet.pool_fee == pytest.approx(fraction)


@pytest.mark.parametrize("written", ['"two"', '"100%"', "-0.01"])
def test_a_bad_sites_pool_fee_names_the_key(tmp_path: Path, written: str) -> None:
    head = "[fleet]\nefficiency_j_per_th = 17.5\npower_mw = 1\nhashprice_usd_per_ph_day = 50\nbtc_price_usd = 30000\n"
    path = tmp_path / "s.toml"
    path.write_text(
        head + f"pool_fee = {written}\n" + '[[site]]\nname = "x"\nflat_price_usd_per_kwh = 0.05\n'
    )
    with pytest.raises(SiteConfigError, match=r"fleet\.pool_fee: .*pool fee"):
        load_sites(path)
