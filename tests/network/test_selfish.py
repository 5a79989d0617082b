"""Selfish mining: Eyal-Sirer closed form, thresholds and the Monte Carlo race."""

from __future__ import annotations

import numpy as np
import pytest

from hashwatt.network import (
    NetworkInputError,
    selfish_mining_revenue_eyal_sirer,
    selfish_mining_threshold,
    selfish_race_counts,
    selfish_race_counts_python,
    simulate_selfish_mining,
)


def test_eyal_sirer_thresholds() -> None:
    assert selfish_mining_threshold(0.5) == pytest.approx(1 / 4)
    assert selfish_mining_threshold(0.0) == pytest.approx(1 / 3)
    assert selfish_mining_threshold(1.0) == 0.0


@pytest.mark.parametrize("gamma", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9])
def test_revenue_equals_share_exactly_at_threshold(gamma: float) -> None:
    threshold = selfish_mining_threshold(gamma)
    assert selfish_mining_revenue_eyal_sirer(threshold, gamma) == pytest.approx(threshold, rel=1e-12)
    # below the threshold selfish mining loses, above it wins
    assert selfish_mining_revenue_eyal_sirer(threshold - 0.02, gamma) < threshold - 0.02
    assert selfish_mining_revenue_eyal_sirer(threshold + 0.02, gamma) > threshold + 0.02


def test_revenue_limits() -> None:
    assert selfish_mining_revenue_eyal_sirer(0.0, 0.5) == 0.0
    # as alpha -> 1/2 the selfish pool takes (nearly) every block
    assert selfish_mining_revenue_eyal_sirer(0.4999999, 0.0) == pytest.approx(1.0, abs=1e-5)


def test_jit_kernel_equals_python_reference_on_the_same_draws() -> None:
    draws = np.random.default_rng(11).random(50_000)
    for alpha, gamma in [(0.1, 0.0), (0.3, 0.5), (0.45, 1.0), (0.49, 0.2)]:
        assert selfish_race_counts(draws, alpha, gamma) == selfish_race_counts_python(draws, alpha, gamma)


def test_simple_races_by_hand() -> None:
    # alpha = 0.5: u < 0.5 is a selfish block. S S H -> lead 2 then honest: pool publishes 2.
    assert selfish_race_counts_python([0.1, 0.1, 0.9], 0.5, 0.0) == (2, 0)
    # S H (tie) then honest on honest branch (gamma = 0): honest gets both.
    assert selfish_race_counts_python([0.1, 0.9, 0.9], 0.5, 0.0) == (0, 2)
    # S H then an honest miner on the selfish branch (gamma = 1): one each.
    assert selfish_race_counts_python([0.1, 0.9, 0.9], 0.5, 1.0) == (1, 1)
    # S S S H: lead 3 -> 2, one block revealed; then H: publish the remaining 2.
    assert selfish_race_counts_python([0.1, 0.1, 0.1, 0.9, 0.9], 0.5, 0.0) == (3, 0)
    assert selfish_race_counts([0.1, 0.1, 0.1, 0.9, 0.9], 0.5, 0.0) == (3, 0)  # type: ignore[arg-type]


GRID = [(alpha, gamma) for alpha in (0.1, 0.2, 0.3, 0.4, 0.45) for gamma in (0.0, 0.5, 1.0)]


@pytest.mark.parametrize(("alpha", "gamma"), GRID)
def test_simulation_converges_to_formula_within_three_standard_errors(alpha: float, gamma: float) -> None:
    sim = simulate_selfish_mining(alpha, gamma, 2_000_000, batches=20, seed=2014)
    formula = selfish_mining_revenue_eyal_sirer(alpha, gamma)
    assert sim.revenue_formula == formula
    assert sim.standard_error > 0.0
    assert abs(sim.relative_revenue - formula) < 3 * sim.standard_error
    # the standard error is honest: it is close to the binomial-like scale, not inflated
    assert sim.standard_error < 0.002
    assert sim.selfish_blocks + sim.honest_blocks <= sim.blocks_simulated


def test_simulation_detects_a_wrong_formula() -> None:
    # the test above can fail: revenue at gamma = 0 differs from the gamma = 1 formula by far more than 3 SE
    sim = simulate_selfish_mining(0.35, 0.0, 1_000_000, batches=20, seed=1)
    assert abs(sim.relative_revenue - selfish_mining_revenue_eyal_sirer(0.35, 1.0)) > 10 * sim.standard_error


def test_simulation_is_reproducible_and_chunking_is_exact() -> None:
    seen: list[int] = []
    a = simulate_selfish_mining(0.3, 0.5, 400_000, batches=4, seed=5, on_batch=seen.append)
    b = simulate_selfish_mining(0.3, 0.5, 400_000, batches=4, seed=5)
    assert a == b
    assert seen == [100_000] * 4
    # a race longer than one chunk of draws (1 M) carries its state across chunks: the result equals
    # one kernel call over the whole, unchunked stream of the same generator
    long = simulate_selfish_mining(0.4, 0.5, 5_000_000, batches=2, seed=9)
    rng = np.random.Generator(np.random.PCG64(9))
    first = selfish_race_counts(rng.random(2_500_000), 0.4, 0.5)
    second = selfish_race_counts(rng.random(2_500_000), 0.4, 0.5)
    assert (long.selfish_blocks, long.honest_blocks) == (first[0] + second[0], first[1] + second[1])


def test_simulator_input_validation() -> None:
    with pytest.raises(NetworkInputError):
        simulate_selfish_mining(1.2, 0.5, 10_000)
    with pytest.raises(NetworkInputError):
        simulate_selfish_mining(0.3, -0.1, 10_000)
    with pytest.raises(NetworkInputError):
        simulate_selfish_mining(0.3, 0.5, 10_000, batches=1)
    with pytest.raises(NetworkInputError):
        simulate_selfish_mining(0.3, 0.5, 0)
    with pytest.raises(NetworkInputError):
        selfish_mining_revenue_eyal_sirer(0.6, 0.5)
