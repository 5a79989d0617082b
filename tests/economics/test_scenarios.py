"""Projections, Monte Carlo, sensitivity, heatmap, ranking, fleets and backtests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from hashwatt.data import DateOutOfRangeError, MinerModel, find_miner, hardware_catalog
from hashwatt.economics import (
    Capex,
    CostModel,
    FlatPrice,
    FleetEntry,
    MonteCarloConfig,
    NetworkState,
    Scenario,
    backtest,
    best_for_budget,
    fleet_profit,
    hashprice_history,
    historical_log_returns,
    monte_carlo,
    profit,
    profit_heatmap,
    project,
    rank_catalog,
    tornado,
)
from hashwatt.errors import InputError

NET = NetworkState(
    height=900_000,
    difficulty=120e12,
    price_usd=90_000.0,
    fees_btc_per_block=0.05,
    subsidy_btc_per_block=3.125,
    date=pd.Timestamp("2025-06-01").date(),
)
MINER = MinerModel.from_specs("Test 200T", hashrate_ths=200.0, power_w=3500.0)


def test_projection_flat_matches_snapshot_and_halving() -> None:
    costs = CostModel(electricity=FlatPrice(0.05))
    p = project(MINER, costs=costs, network=NET, scenario=Scenario(days=1000, block_time_s=600.0))
    snap = profit(MINER, costs=costs, network=NET)
    f = p.frame
    assert f["profit_usd"].iloc[0] == pytest.approx(snap.profit_usd_per_day)
    # halving at height 1,050,000 = 150,000 blocks of 600 s = 1041.67 days -> beyond 1000 days
    assert p.halving_dates == ()
    p2 = project(MINER, costs=costs, network=NET, scenario=Scenario(days=1100, block_time_s=600.0))
    assert p2.halving_dates[0] == (pd.Timestamp("2025-06-01") + pd.Timedelta(days=1042)).date()
    after = p2.frame.loc[pd.Timestamp(p2.halving_dates[0])]
    assert after["subsidy_btc_per_block"] == 1.5625
    # drift: 40 %/year growth makes blocks faster, the halving earlier
    p3 = project(
        MINER, costs=costs, network=NET, scenario=Scenario(days=1100, difficulty_growth_per_year=0.4)
    )
    assert p3.block_time_s < 600 and p3.halving_dates[0] < p2.halving_dates[0]
    assert p3.frame["difficulty"].iloc[364] == pytest.approx(120e12 * 1.4 ** (365 / 365.25), rel=1e-9)
    # shutdown date: first day revenue < energy cost
    assert p3.shutdown_date is not None
    f3 = p3.frame
    first_bad = f3.index[(f3["revenue_usd"] < f3["energy_cost_usd"]).to_numpy()][0]
    assert p3.shutdown_date == first_bad.date()


def test_fee_share_scales_with_subsidy() -> None:
    p = project(MINER, network=NET, scenario=Scenario(days=1100, fee_share=0.2, block_time_s=600.0))
    f = p.frame
    share = f["fees_btc_per_block"] / (f["fees_btc_per_block"] + f["subsidy_btc_per_block"])
    np.testing.assert_allclose(share, 0.2)


def test_monte_carlo_zero_vol_equals_projection() -> None:
    cfg = MonteCarloConfig(
        paths=50,
        days=400,
        price_vol_per_year=0.0,
        price_drift_per_year=0.1,
        difficulty_growth_per_year=0.3,
        chunk_days=37,
    )
    capex = Capex(machine_usd=2500.0)
    mc = monte_carlo(MINER, network=NET, config=cfg, capex=capex)
    det = project(
        MINER,
        network=NET,
        capex=capex,
        scenario=Scenario(days=400, difficulty_growth_per_year=0.3, price_growth_per_year=0.1),
    )
    for metric in ("price_usd", "profit_usd", "cumulative_profit_usd", "hashprice_usd_per_ph_day"):
        for q in ("p5", "p50", "p95"):
            np.testing.assert_allclose(
                mc.bands[f"{metric}_{q}"].to_numpy(), det.frame[metric].to_numpy(), rtol=1e-9
            )
    assert mc.npv_usd_p50 == pytest.approx(det.metrics.npv_usd, rel=1e-9)
    assert mc.probability_payback == (1.0 if det.metrics.payback_days else 0.0)


def test_monte_carlo_streaming_is_chunk_invariant_and_bands_ordered() -> None:
    base = {"paths": 400, "days": 200, "seed": 7, "difficulty_vol_per_year": 0.1, "curtail": True}
    a = monte_carlo(MINER, network=NET, config=MonteCarloConfig(chunk_days=200, **base))  # type: ignore[arg-type]
    b = monte_carlo(MINER, network=NET, config=MonteCarloConfig(chunk_days=9, **base))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a.bands, b.bands, rtol=1e-12)
    assert a.npv_usd_p50 == pytest.approx(b.npv_usd_p50, rel=1e-12)
    for metric in ("price_usd", "cumulative_profit_usd"):
        assert (a.bands[f"{metric}_p5"] <= a.bands[f"{metric}_p50"]).all()
        assert (a.bands[f"{metric}_p50"] <= a.bands[f"{metric}_p95"]).all()
    # with curtailment a day's loss is never worse than the fixed costs (zero here)
    assert (a.bands["profit_usd_p5"] >= -1e-9).all()


def test_monte_carlo_gbm_median_and_bootstrap_support() -> None:
    cfg = MonteCarloConfig(paths=4000, days=365, price_drift_per_year=0.0, price_vol_per_year=0.6, seed=1)
    mc = monte_carlo(MINER, network=NET, config=cfg)
    s = 0.6 / np.sqrt(365.25)
    m = -0.5 * s * s
    expected_median = 90_000 * np.exp(m * 365)
    assert mc.bands["price_usd_p50"].iloc[-1] == pytest.approx(expected_median, rel=0.05)
    # bootstrap: daily moves come only from historical returns
    boot = monte_carlo(
        MINER, network=NET, config=MonteCarloConfig(paths=200, days=60, price_model="bootstrap", seed=3)
    )
    r = historical_log_returns(4 * 365)
    steps = np.diff(np.log(boot.bands["price_usd_p50"].to_numpy()))
    assert steps.max() <= r.max() + 1e-9 and steps.min() >= r.min() - 1e-9
    with pytest.raises(InputError):
        MonteCarloConfig(paths=0)


def test_tornado_and_heatmap() -> None:
    t = tornado(MINER, network=NET, scenario=Scenario(days=365), capex=Capex(machine_usd=3000.0))
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    row = t.set_index("parameter").loc["btc_price_usd"]
    assert row["npv_usd_at_high"] > row["npv_usd_at_low"]
    row = t.set_index("parameter").loc["power_price_usd_per_kwh"]
    assert row["npv_usd_at_high"] < row["npv_usd_at_low"]
    snap = profit(MINER, network=NET)
    hm = profit_heatmap(
        MINER,
        network=NET,
        power_prices_usd_per_kwh=[0.03, snap.break_even_power_price_usd_per_kwh, 0.2],
        btc_prices_usd=[50_000, 90_000, 120_000],
    )
    assert hm.shape == (3, 3)
    assert hm.loc[snap.break_even_power_price_usd_per_kwh, 90_000] == pytest.approx(0.0, abs=1e-9)
    assert (np.diff(hm.to_numpy(), axis=1) > 0).all() and (np.diff(hm.to_numpy(), axis=0) < 0).all()


def test_rank_budget_and_fleet() -> None:
    ranked = rank_catalog(costs=CostModel(electricity=FlatPrice(0.06)), network=NET)
    assert len(ranked) == len(hardware_catalog())
    assert ranked["profit_usd_per_day"].is_monotonic_decreasing
    # at a common power price, the break-even price is revenue per kWh: most efficient ranks high
    best = ranked.iloc[0]
    assert best["efficiency_j_per_th"] < 20
    row = ranked.set_index("model").loc["Antminer S9 (14T)"]
    assert row["profit_usd_per_day"] < 0  # an S9 loses money at 6 c/kWh in 2025
    bb = best_for_budget(100_000, {"s21 xp": 6000.0, "s19 xp": 2000.0}, network=NET)
    assert set(bb["model"]) == {"Antminer S21 XP", "Antminer S19 XP"}
    assert bb["profit_usd_per_day"].is_monotonic_decreasing
    assert bb.set_index("model").loc["Antminer S19 XP", "units"] == 50
    fleet = fleet_profit(
        [
            FleetEntry("texas", find_miner("s21 xp"), 100, CostModel(electricity=FlatPrice(0.04))),
            FleetEntry("norway", find_miner("s19 xp"), 50, CostModel(all_in_usd_per_kwh=0.06)),
        ],
        network=NET,
    )
    total = fleet.iloc[-1]
    assert total["site"] == "TOTAL" and total["count"] == 150
    assert total["profit_usd_per_day"] == pytest.approx(fleet["profit_usd_per_day"].iloc[:-1].sum())


def test_backtest_against_history() -> None:
    miner = find_miner("s19 pro")
    costs = CostModel(electricity=FlatPrice(0.05), pool_fee=0.02)
    bt = backtest(miner, "2021-01-01", costs=costs, capex=Capex(machine_usd=3000.0), end="2023-12-31")
    hp = hashprice_history("2021-01-01", "2023-12-31")
    expected_rev = hp["hashprice_usd_per_ph_day"] * 0.110 * 0.98
    np.testing.assert_allclose(bt.frame["revenue_usd"], expected_rev, rtol=1e-9)
    # the forecast starts equal to reality, then halving-free flat difficulty diverges
    assert bt.frame["forecast_revenue_usd"].iloc[0] == pytest.approx(bt.frame["revenue_usd"].iloc[0])
    assert bt.actual_payback_date is not None and bt.bought.isoformat() == "2021-01-01"
    assert bt.actual_total_profit_usd == pytest.approx(bt.frame["profit_usd"].sum())
    with pytest.raises(DateOutOfRangeError):
        backtest(miner, "2030-01-01")
    with pytest.raises(DateOutOfRangeError):
        backtest(miner, "2005-01-01")
    # a user model keeps its own numbers
    assert dataclasses.replace(miner, power_w=miner.power_w).power_w == 3250


def test_band_percentiles_match_numpy() -> None:
    from hashwatt.economics._montecarlo import _bands

    x = np.random.default_rng(5).standard_normal((40, 1001))
    for n in (1, 2, 7, 1000, 1001):
        np.testing.assert_allclose(
            _bands(x[:, :n]), np.percentile(x[:, :n], (5, 50, 95), axis=1), rtol=1e-12, atol=1e-15
        )


def test_projection_curtailment() -> None:
    costs = CostModel(electricity=FlatPrice(0.08), staff_usd_per_month=30.4375)  # 1 USD/day fixed
    scen = Scenario(days=1200, difficulty_growth_per_year=0.5)
    on = project(MINER, costs=costs, network=NET, scenario=scen).frame
    off = project(MINER, costs=costs, network=NET, scenario=dataclasses.replace(scen, curtail=True)).frame
    bad = ~on["covers_power"]
    assert bad.any()
    np.testing.assert_allclose(off.loc[bad, "profit_usd"], -1.0)
    np.testing.assert_allclose(off.loc[~bad, "profit_usd"], on.loc[~bad, "profit_usd"])
    assert off["cumulative_profit_usd"].iloc[-1] > on["cumulative_profit_usd"].iloc[-1]
