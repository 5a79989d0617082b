"""Double-spend models against the whitepaper's printed tables and against each other."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hashwatt.errors import HashwattError, InputError
from hashwatt.network import (
    NetworkError,
    NetworkInputError,
    confirmations_for_risk,
    double_spend_grunspan_perez_marco,
    double_spend_nakamoto,
    double_spend_probability,
    double_spend_rosenfeld,
)

# Bitcoin whitepaper (Nakamoto 2008), section 11, as printed (7 decimals).
WHITEPAPER_Q_0_1 = [
    (0, 1.0000000),
    (1, 0.2045873),
    (2, 0.0509779),
    (3, 0.0131722),
    (4, 0.0034552),
    (5, 0.0009137),
    (6, 0.0002428),
    (7, 0.0000647),
    (8, 0.0000173),
    (9, 0.0000046),
    (10, 0.0000012),
]
WHITEPAPER_Q_0_3 = [
    (0, 1.0000000),
    (5, 0.1773523),
    (10, 0.0416605),
    (15, 0.0101008),
    (20, 0.0024804),
    (25, 0.0006132),
    (30, 0.0001522),
    (35, 0.0000379),
    (40, 0.0000095),
    (45, 0.0000024),
    (50, 0.0000006),
]
# "Solving for P less than 0.1%".
WHITEPAPER_P_BELOW_0_1_PCT = [
    (0.10, 5),
    (0.15, 8),
    (0.20, 11),
    (0.25, 15),
    (0.30, 24),
    (0.35, 41),
    (0.40, 89),
    (0.45, 340),
]


@pytest.mark.parametrize(("z", "printed"), WHITEPAPER_Q_0_1)
def test_nakamoto_reproduces_whitepaper_q_0_1(z: int, printed: float) -> None:
    assert f"{double_spend_nakamoto(0.1, z):.7f}" == f"{printed:.7f}"


@pytest.mark.parametrize(("z", "printed"), WHITEPAPER_Q_0_3)
def test_nakamoto_reproduces_whitepaper_q_0_3(z: int, printed: float) -> None:
    assert f"{double_spend_nakamoto(0.3, z):.7f}" == f"{printed:.7f}"


@pytest.mark.parametrize(("q", "z"), WHITEPAPER_P_BELOW_0_1_PCT)
def test_confirmations_reproduce_whitepaper_table(q: float, z: int) -> None:
    assert confirmations_for_risk(q, 0.001) == z
    # the definition, checked directly: z is the first depth below the risk
    assert double_spend_nakamoto(q, z) < 0.001 <= double_spend_nakamoto(q, z - 1)


def test_confirmations_search_matches_linear_scan_for_every_model() -> None:
    for model in ("nakamoto", "rosenfeld", "grunspan_perez_marco"):
        for q in (0.05, 0.2, 0.33):
            for risk in (0.1, 1e-3, 1e-6):
                z = 1
                while double_spend_probability(q, z, model=model) >= risk:
                    z += 1
                assert confirmations_for_risk(q, risk, model=model) == z, (model, q, risk)


def test_rosenfeld_equals_grunspan_perez_marco_closed_form() -> None:
    for q in np.linspace(0.01, 0.49, 25):
        for z in (1, 2, 3, 6, 10, 24, 60, 144):
            r = double_spend_rosenfeld(float(q), z)
            g = double_spend_grunspan_perez_marco(float(q), z)
            assert math.isclose(r, g, rel_tol=1e-9, abs_tol=1e-300), (q, z, r, g)


def test_rosenfeld_one_confirmation_is_twice_q() -> None:
    # n = 1: the attacker wins iff he finds the next block first (q) or, behind by one, catches up (q/p * p)
    for q in (0.05, 0.1, 0.3, 0.45):
        assert double_spend_rosenfeld(q, 1) == pytest.approx(2 * q, rel=1e-12)


def test_rosenfeld_matches_direct_race_simulation() -> None:
    # Independent check: simulate the race (honest find z blocks; the attacker, who pre-mined one
    # block, must then draw level; absorbed at 0 or at a deficit of 40) and compare within 4 SE.
    rng = np.random.default_rng(7)
    q, z, trials = 0.3, 4, 200_000
    attacker = rng.negative_binomial(z, 1 - q, size=trials)  # attacker blocks while honest find z
    deficit = z - attacker
    win = deficit <= 0
    lead = -deficit[~win].astype(np.int64)
    alive = np.ones(lead.shape, dtype=bool)
    won = np.zeros(lead.shape, dtype=bool)
    for _ in range(2000):
        if not alive.any():
            break
        step = np.where(rng.random(lead.shape) < q, 1, -1)
        lead = np.where(alive, lead + step, lead)
        won |= alive & (lead >= 0)
        alive &= (lead < 0) & (lead > -40)
    estimate = (win.sum() + won.sum()) / trials
    se = math.sqrt(estimate * (1 - estimate) / trials)
    assert abs(estimate - double_spend_rosenfeld(q, z)) < 4 * se


def test_rosenfeld_is_more_pessimistic_than_nakamoto() -> None:
    # Rosenfeld (2014) shows Nakamoto's Poisson approximation understates the risk.
    for q in (0.1, 0.2, 0.3):
        for z in (6, 12, 24):
            assert double_spend_rosenfeld(q, z) > double_spend_nakamoto(q, z)
    assert f"{double_spend_rosenfeld(0.1, 6):.5f}" == "0.00059"  # Rosenfeld's table: 0.059 %


def test_zero_confirmations_and_majority_attacker_always_win() -> None:
    for func in (double_spend_nakamoto, double_spend_rosenfeld, double_spend_grunspan_perez_marco):
        assert func(0.2, 0) == 1.0
        assert func(0.5, 6) == 1.0
        assert func(0.7, 100) == 1.0


def test_probabilities_fall_with_depth() -> None:
    for func in (double_spend_nakamoto, double_spend_rosenfeld, double_spend_grunspan_perez_marco):
        values = [func(0.25, z) for z in range(0, 80)]
        assert all(b < a for a, b in itertools.pairwise(values))
        assert values[-1] > 0.0


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_q_outside_unit_interval_is_a_typed_error(q: float) -> None:
    for func in (double_spend_nakamoto, double_spend_rosenfeld, double_spend_grunspan_perez_marco):
        with pytest.raises(NetworkInputError):
            func(q, 6)


def test_bad_depth_risk_and_model_are_typed_errors() -> None:
    with pytest.raises(NetworkInputError, match="z must be >= 0"):
        double_spend_nakamoto(0.1, -1)
    with pytest.raises(NetworkInputError, match="whole number"):
        double_spend_rosenfeld(0.1, 2.5)  # type: ignore[arg-type]
    with pytest.raises(NetworkInputError):
        confirmations_for_risk(0.1, 0.0)
    with pytest.raises(NetworkInputError, match="certainty"):
        confirmations_for_risk(0.5, 0.001)
    with pytest.raises(NetworkInputError, match="unknown double-spend model"):
        double_spend_probability(0.1, 6, model="bogus")  # type: ignore[arg-type]
    # the error tree: a network error, an input error, a hashwatt error
    assert issubclass(NetworkInputError, NetworkError)
    assert issubclass(NetworkInputError, InputError)
    assert issubclass(NetworkError, HashwattError)
