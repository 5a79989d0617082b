"""Block discovery: Poisson arrivals, hashrate from intervals (checked against real retargets), orphans."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hashwatt.chain import next_bits
from hashwatt.data import load_retarget_history
from hashwatt.data.history import daily_history
from hashwatt.data.pools import load_pool_blocks
from hashwatt.network import (
    NetworkError,
    NetworkInputError,
    block_count_probability,
    difficulty_at_heights,
    estimate_hashrate,
    hashrate_history,
    observed_hashrate,
    orphan_rate,
    probability_no_block,
    retarget_bits_by_epoch,
)


def test_poisson_block_counts() -> None:
    # one hour at 600 s: six blocks expected; P(0) = e^-6
    assert probability_no_block(3600) == pytest.approx(math.exp(-6))
    assert block_count_probability(0, 3600) == pytest.approx(math.exp(-6))
    assert block_count_probability(6, 3600) == pytest.approx(math.exp(-6) * 6**6 / math.factorial(6))
    assert sum(block_count_probability(k, 3600) for k in range(60)) == pytest.approx(1.0)
    # a pool with 30 % of the hashrate: mean interval 2000 s
    assert block_count_probability(0, 86_400, mean_interval_s=2000) == pytest.approx(math.exp(-43.2))


def test_orphan_rate() -> None:
    assert orphan_rate(0) == 0.0
    assert orphan_rate(600) == pytest.approx(1 - math.exp(-1))
    assert orphan_rate(1.0) == pytest.approx(1 / 600, rel=1e-3)
    assert orphan_rate(10) == pytest.approx(0.016529, abs=1e-6)
    # simulation: share of exponential intervals shorter than the delay
    rng = np.random.default_rng(3)
    intervals = rng.exponential(600.0, 400_000)
    observed = float(np.mean(intervals < 12.0))
    se = math.sqrt(observed * (1 - observed) / intervals.size)
    assert abs(observed - orphan_rate(12.0)) < 4 * se
    with pytest.raises(NetworkInputError):
        orphan_rate(-1)


def test_estimate_from_constant_difficulty_is_the_closed_form() -> None:
    d = 1e12
    est = estimate_hashrate([500.0, 700.0, 600.0, 600.0], d, confidence=0.9)
    assert est.hashrate_hs == pytest.approx(4 * d * 2**32 / 2400.0)
    assert est.hashrate_lower_hs < est.hashrate_hs < est.hashrate_upper_hs
    assert est.mean_interval_s == 600.0 and est.intervals == 4


def test_confidence_interval_has_its_nominal_coverage() -> None:
    # 2000 replicated windows of 144 exponential intervals at a known hashrate
    rng = np.random.default_rng(12)
    true_hs = 7e20
    difficulty = 1e14
    mean = difficulty * 2**32 / true_hs
    covered = 0
    reps = 2000
    for _ in range(reps):
        est = estimate_hashrate(rng.exponential(mean, 144), difficulty, confidence=0.9)
        covered += est.hashrate_lower_hs <= true_hs <= est.hashrate_upper_hs
    # binomial(2000, 0.9): sd = 13.4 blocks; allow 4 sd
    assert abs(covered - 0.9 * reps) < 4 * math.sqrt(reps * 0.9 * 0.1)


def test_varying_difficulty_uses_per_interval_work() -> None:
    rng = np.random.default_rng(4)
    true_hs = 1e18
    difficulty = np.repeat([1e8, 4e8], 5000)
    intervals = rng.exponential(difficulty * 2**32 / true_hs)
    est = estimate_hashrate(intervals, difficulty)
    assert est.hashrate_lower_hs < true_hs < est.hashrate_upper_hs
    assert est.hashrate_hs == pytest.approx(true_hs, rel=0.05)


def test_real_epochs_reproduce_the_next_retarget() -> None:
    # Over one 2016-block period the consensus rule sets D' = D * 1,209,600 s / (t[h-1] - t[h-2016]),
    # i.e. the hashrate that would have given 600 s blocks over those 2015 intervals. Our MLE over
    # the same intervals, times 600 s / 2^32, must give D' x 2015/2016 (to compact-bits rounding).
    blocks = load_pool_blocks()
    history = load_retarget_history().set_index("height")
    for start in (665_280, 709_632, 840_672, 876_960):
        window = blocks[(blocks["height"] >= start) & (blocks["height"] <= start + 2015)]
        est = observed_hashrate(window)
        next_difficulty = float(history.loc[start + 2016, "difficulty"])
        implied = est.hashrate_hs * 600.0 / 2**32
        assert implied == pytest.approx(next_difficulty * 2015 / 2016, rel=2e-5), start
        assert est.hashrate_lower_hs < est.hashrate_hs < est.hashrate_upper_hs
        # 2015 intervals: the 95 % interval is about +-4.4 %
        assert est.hashrate_upper_hs / est.hashrate_lower_hs == pytest.approx(1.091, abs=0.005)


def test_hashrate_history_by_window_and_missing_difficulty() -> None:
    blocks = load_pool_blocks()
    year_2022 = blocks[(blocks["height"] >= 716_590) & (blocks["height"] <= 769_786)]
    monthly = hashrate_history(year_2022, "month")
    assert len(monthly) >= 12
    assert (monthly["hashrate_lower_ehs"] < monthly["hashrate_ehs"]).all()
    assert (monthly["hashrate_ehs"] < monthly["hashrate_upper_ehs"]).all()
    # 2022 hashrate was roughly 170-280 EH/s
    assert monthly["hashrate_ehs"].between(150, 300).all()
    assert monthly["intervals"].sum() == len(year_2022) - 1
    # heights after the last shipped block have no difficulty: a typed error, not a NaN
    assert np.isnan(difficulty_at_heights([955_584])).all()
    late = blocks[blocks["height"] >= 900_000].head(100)
    explicit = observed_hashrate(late, difficulty=1.2e14)
    assert 300e18 < explicit.hashrate_hs < 2000e18
    fake = late.assign(height=late["height"] + 60_000)
    with pytest.raises(NetworkError, match="no difficulty known"):
        observed_hashrate(fake)


def test_retarget_rule_on_shipped_block_times_reproduces_real_bits() -> None:
    # The consensus rule applied to the per-block header times gives the real bits of every
    # retarget that both shipped files cover (665,280 .. 878,976): this validates deriving the
    # later epochs (to 945,504) the same way.
    blocks = load_pool_blocks().set_index("height")["timestamp_unix"]
    history = load_retarget_history().set_index("height")
    checked = 0
    for height in range(665_280 + 2016, 878_976 + 1, 2016):
        prev = int(str(history.loc[height - 2016, "bits_hex"]), 16)
        derived = next_bits(prev, int(blocks.loc[height - 2016]), int(blocks.loc[height - 1]))
        assert f"{derived:08x}" == history.loc[height, "bits_hex"], height
        checked += 1
    assert checked == 106
    bits = retarget_bits_by_epoch()
    # Electrum's checkpoints (shipped to 953,568) extend the retarget history; the rule on the
    # shipped block times agrees with every Electrum epoch the blocks cover (checked by the build)
    assert max(bits) == 953_568 // 2016
    for epoch in range(878_976 // 2016 + 1, 945_504 // 2016 + 1):
        start = epoch * 2016
        derived = next_bits(bits[epoch - 1], int(blocks.loc[start - 2016]), int(blocks.loc[start - 1]))
        assert derived == bits[epoch], start
    assert f"{bits[878_976 // 2016]:08x}" == "17028c61"  # the shipped value, untouched
    # within a difficulty epoch the economics history's daily difficulty is the same number
    days = daily_history().loc["2025-01-15":"2025-04-30"]
    same_epoch = (days["height_first"] // 2016) == (days["height_last"] // 2016)
    ours = difficulty_at_heights(days.loc[same_epoch, "height_last"].to_numpy())
    assert np.allclose(ours, days.loc[same_epoch, "difficulty"].to_numpy(), rtol=1e-12)
    monthly = hashrate_history(blocks.reset_index().assign(time_utc=0)[["height", "timestamp_unix"]], "year")
    assert monthly.index[-1].year == 2026 and monthly["hashrate_ehs"].iloc[-1] > 700


def test_input_validation() -> None:
    with pytest.raises(NetworkInputError):
        estimate_hashrate([], 1.0)
    with pytest.raises(NetworkInputError):
        estimate_hashrate([600.0], -1.0)
    with pytest.raises(NetworkInputError):
        estimate_hashrate([-600.0], 1.0)
    with pytest.raises(NetworkInputError):
        estimate_hashrate([600.0], 1.0, confidence=1.0)
    gap = pd.DataFrame({"height": [1, 3], "timestamp_unix": [0, 600]})
    with pytest.raises(NetworkInputError, match="consecutive"):
        observed_hashrate(gap, difficulty=1.0)
    with pytest.raises(NetworkInputError):
        block_count_probability(-1, 600)
