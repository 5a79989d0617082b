"""Issue 15 point 6: `best` ranks purchases by NPV over their life, checked against the forecast."""

from __future__ import annotations

import pytest

from hashwatt.data import find_miner
from hashwatt.economics import (
    Capex,
    CostModel,
    FlatPrice,
    MonteCarloConfig,
    NetworkState,
    Scenario,
    best_for_budget,
    monte_carlo,
)

# The case: $100,000 buys 66 S19 XP at $1,500 or 19 S21 XP at $5,200.
PRICES = {"s19 xp": 1500.0, "s21 xp": 5200.0}
COSTS = CostModel(electricity=FlatPrice(0.05))


def test_npv_ranking_matches_the_forecast_npv_of_each_candidate() -> None:
    net = NetworkState.latest()
    scen = Scenario(
        days=4 * 365, difficulty_growth_per_year=0.25, price_growth_per_year=0.05, discount_rate=0.1
    )
    ranked = best_for_budget(100_000, PRICES, costs=COSTS, network=net, scenario=scen)
    for row in ranked.to_dict(orient="records"):
        miner = find_miner(str(row["model"]))
        # the forecast with no price or difficulty noise is the same life: its median NPV
        cfg = MonteCarloConfig(
            paths=3,
            days=scen.days,
            price_vol_per_year=0.0,
            price_drift_per_year=scen.price_growth_per_year,
            difficulty_growth_per_year=scen.difficulty_growth_per_year,
            discount_rate=scen.discount_rate,
        )
        mc = monte_carlo(
            miner,
            count=int(row["units"]),
            costs=COSTS,
            network=net,
            config=cfg,
            capex=Capex(machine_usd=float(row["unit_price_usd"])),
        )
        assert row["npv_usd"] == pytest.approx(mc.npv_usd_p50, rel=1e-6)
    npvs = ranked["npv_usd"].tolist()
    assert npvs == sorted(npvs, reverse=True)
    # day one prefers the 66 old machines, the life view the 19 efficient ones
    assert ranked.iloc[0]["model"] == "Antminer S21 XP" and ranked.iloc[0]["rank_day_one"] == 2
    s19 = ranked[ranked["model"] == "Antminer S19 XP"].iloc[0]
    assert s19["units"] == 66 and s19["rank_day_one"] == 1
    assert s19["profit_usd_per_day"] > ranked.iloc[0]["profit_usd_per_day"]


def test_without_a_scenario_the_day_one_order_stays() -> None:
    ranked = best_for_budget(100_000, PRICES, costs=COSTS, network=NetworkState.latest())
    assert "npv_usd" not in ranked.columns
    assert list(ranked["rank_day_one"]) == [1, 2]
