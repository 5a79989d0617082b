"""Issue 15 point 4: Monte Carlo payback over all paths, checked by brute force on the same paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hashwatt.data import find_miner
from hashwatt.economics import Capex, CostModel, FlatPrice, MonteCarloConfig, NetworkState, monte_carlo

MINER = find_miner("s21 xp")
COSTS = CostModel(electricity=FlatPrice(0.05))
CFG = MonteCarloConfig(
    paths=300,
    days=730,
    seed=3,
    price_vol_per_year=0.6,
    price_drift_per_year=0.0,
    difficulty_growth_per_year=0.2,
    chunk_days=50,
    keep_paths=True,
)


def _brute_force(cum: np.ndarray, capex: float) -> tuple[float, float | None, float | None]:
    """P(payback), median over all paths (None past the horizon), median over paying paths."""
    days_all: list[float] = []
    for path in range(cum.shape[1]):
        first = math.inf
        for day in range(cum.shape[0]):
            if cum[day, path] >= capex:
                first = day + 1
                break
        days_all.append(first)
    days_all.sort()
    n = len(days_all)
    mid = (days_all[(n - 1) // 2] + days_all[n // 2]) / 2
    paid = [d for d in days_all if d != math.inf]
    if_paid = (paid[(len(paid) - 1) // 2] + paid[len(paid) // 2]) / 2 if paid else None
    return len(paid) / n, (mid if mid <= cum.shape[0] else None), if_paid


@pytest.mark.parametrize("machine_usd", [1500.0, 2000.0, 2500.0])
def test_payback_median_over_all_paths_matches_brute_force(machine_usd: float) -> None:
    net = NetworkState.latest()
    r = monte_carlo(MINER, network=net, costs=COSTS, config=CFG, capex=Capex(machine_usd=machine_usd))
    assert r.cumulative_profit_paths is not None
    cum = r.cumulative_profit_paths
    # the kept paths are the simulated ones: their P50 is the reported band
    np.testing.assert_allclose(
        np.percentile(cum, 50, axis=1), r.bands["cumulative_profit_usd_p50"], rtol=1e-9
    )
    p, median_all, median_paid = _brute_force(cum, r.capex_usd)
    assert r.probability_payback == pytest.approx(p)
    assert r.payback_days_median == median_all
    assert r.payback_days_median_if_paid == median_paid
    if median_all is not None:
        # counting the paths that never pay back can only push the median later
        assert median_paid is not None and median_all >= median_paid
    else:
        assert p <= 0.5


def test_payback_beyond_horizon_is_null_while_the_conditional_median_exists() -> None:
    # the situation: under half the paths pay back, the paying ones do so early
    r = monte_carlo(
        MINER, network=NetworkState.latest(), costs=COSTS, config=CFG, capex=Capex(machine_usd=2500.0)
    )
    assert r.probability_payback is not None and r.probability_payback < 0.5
    assert r.payback_days_median is None and r.payback_days_median_if_paid is not None
    assert r.payback_days_median_if_paid < CFG.days


def test_no_machine_cost_means_payback_does_not_apply() -> None:
    r = monte_carlo(MINER, network=NetworkState.latest(), costs=COSTS, config=CFG, capex=Capex())
    assert r.probability_payback is None
    assert r.payback_days_median is None and r.payback_days_median_if_paid is None


def test_bootstrap_result_reports_its_own_parameters() -> None:
    cfg = MonteCarloConfig(paths=50, days=60, price_model="bootstrap", bootstrap_block_days=20, seed=1)
    r = monte_carlo(MINER, network=NetworkState.latest(), config=cfg)
    assert r.price_model == "bootstrap" and r.bootstrap_block_days == 20
    assert r.bootstrap_window is not None and r.bootstrap_window[1] == "2025-12-29"
