"""Concentration metrics, share intervals, windows over the shipped pool history, the plot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hashwatt.data.pools import (
    POOL_BLOCKS_FIRST_HEIGHT,
    POOL_BLOCKS_LAST_HEIGHT,
    UNKNOWN_POOL,
    load_pool_blocks,
    load_pools,
)
from hashwatt.network import (
    NetworkInputError,
    binomial_interval,
    decentralization_history,
    decentralization_report,
    gini_coefficient,
    gini_present_values,
    herfindahl_hirschman_index,
    nakamoto_coefficient,
    plot_pool_shares,
    pool_counts_by_window,
    pool_shares,
    shannon_entropy_bits,
    share_table,
    trend_per_year,
)


def test_metrics_on_hand_computed_distributions() -> None:
    equal = [1, 1, 1, 1]
    assert nakamoto_coefficient(equal) == 3  # 2 x 25 % is exactly 50 %: not a majority
    assert herfindahl_hirschman_index(equal) == pytest.approx(0.25)
    assert shannon_entropy_bits(equal) == pytest.approx(2.0)
    assert gini_coefficient(equal) == pytest.approx(0.0)
    monopoly = [100, 0, 0, 0]
    assert nakamoto_coefficient(monopoly) == 1
    assert herfindahl_hirschman_index(monopoly) == 1.0
    assert shannon_entropy_bits(monopoly) == 0.0
    assert gini_coefficient(monopoly) == pytest.approx(0.75)  # 1 - 1/n
    shares = [0.3, 0.25, 0.15, 0.1, 0.1, 0.1]
    assert nakamoto_coefficient(shares) == 2
    assert nakamoto_coefficient(shares, threshold=0.33) == 2
    assert nakamoto_coefficient(shares, threshold=0.75) == 4
    assert herfindahl_hirschman_index(shares) == pytest.approx(0.09 + 0.0625 + 0.0225 + 0.03)
    assert shannon_entropy_bits(shares) == pytest.approx(stats.entropy(shares, base=2))
    # Gini by its mean-absolute-difference definition
    x = np.array(shares)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini_coefficient(shares) == pytest.approx(mad)
    with pytest.raises(NetworkInputError):
        nakamoto_coefficient([0, 0])
    with pytest.raises(NetworkInputError):
        herfindahl_hirschman_index([0.5, -0.1])


def test_vectorized_gini_over_present_pools_matches_row_by_row() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, size=(300, 7)).astype(float)
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    expected = [gini_coefficient(row[row > 0]) for row in counts]
    assert np.allclose(gini_present_values(counts), expected, atol=1e-12)


def test_binomial_intervals_match_scipy() -> None:
    for k, n in [(0, 50), (3, 50), (25, 50), (50, 50), (1234, 4300)]:
        for method in ("wilson", "clopper-pearson"):
            lo, hi = binomial_interval([k], n, confidence=0.9, method=method)  # type: ignore[arg-type]
            ref = stats.binomtest(k, n).proportion_ci(
                confidence_level=0.9, method="exact" if method == "clopper-pearson" else method
            )
            assert float(lo[0]) == pytest.approx(ref.low, abs=1e-9)
            assert float(hi[0]) == pytest.approx(ref.high, abs=1e-9)


def test_wilson_share_interval_coverage_by_simulation() -> None:
    rng = np.random.default_rng(8)
    true_share, n, reps = 0.12, 1000, 3000
    hits = rng.binomial(n, true_share, size=reps)
    lo, hi = binomial_interval(hits, n, confidence=0.95)
    coverage = float(np.mean((lo <= true_share) & (true_share <= hi)))
    assert abs(coverage - 0.95) < 4 * math.sqrt(0.95 * 0.05 / reps)


def test_report_treats_unknown_both_ways() -> None:
    counts = {"a": 400, "b": 300, "unknown": 200, "c": 100}
    report = decentralization_report(counts, bootstrap=500, seed=1)
    assert report.blocks == 1000 and report.unknown_blocks == 200
    assert report.unknown_share == pytest.approx(0.2)
    assert [s.pool for s in report.shares] == ["a", "b", "unknown", "c"]
    assert report.shares[0].share_lower < 0.4 < report.shares[0].share_upper
    entity = report.unknown_as_entity
    excluded = report.unknown_excluded
    assert excluded is not None
    assert entity.nakamoto_coefficient == 2  # a + b = 70 %
    assert excluded.top_share == pytest.approx(0.5)  # 400 of 800 known
    assert excluded.nakamoto_coefficient == 2  # exactly 50 % is not a majority
    assert entity.hhi == pytest.approx(0.16 + 0.09 + 0.04 + 0.01)
    assert excluded.hhi == pytest.approx((400**2 + 300**2 + 100**2) / 800**2)
    assert entity.entities == 4 and excluded.entities == 3
    for metric in (entity, excluded):
        assert metric.hhi_ci[0] <= metric.hhi <= metric.hhi_ci[1]
        assert metric.entropy_bits_ci[0] <= metric.entropy_bits <= metric.entropy_bits_ci[1]
    # a reproducible bootstrap
    assert decentralization_report(counts, bootstrap=500, seed=1) == report


def test_report_on_the_real_2024_blocks() -> None:
    blocks = load_pool_blocks()
    year = blocks[blocks["time_utc"].dt.year == 2024]
    assert len(year) == 53_473  # as documented in the source notes
    report = decentralization_report(year["pool_slug"].astype(str).value_counts().to_dict(), bootstrap=300)
    top = {s.pool: s for s in report.shares[:4]}
    assert top["foundryusa"].share == pytest.approx(0.298, abs=0.001)
    assert top["antpool"].share == pytest.approx(0.242, abs=0.001)
    assert report.unknown_share == pytest.approx(0.0075, abs=0.0002)
    assert report.unknown_as_entity.nakamoto_coefficient == 2
    assert report.unknown_as_entity.nakamoto_coefficient_ci == (2, 2)
    # share intervals from ~53k blocks are narrow: +-0.4 percentage points for Foundry
    assert top["foundryusa"].share_upper - top["foundryusa"].share_lower < 0.01


def test_windows_and_history_on_the_shipped_file() -> None:
    blocks = load_pool_blocks()
    assert blocks["height"].iloc[0] == POOL_BLOCKS_FIRST_HEIGHT
    assert blocks["height"].iloc[-1] == POOL_BLOCKS_LAST_HEIGHT
    assert len(blocks) == POOL_BLOCKS_LAST_HEIGHT - POOL_BLOCKS_FIRST_HEIGHT + 1
    halving = blocks[blocks["height"] == 840_000]
    assert str(halving["pool_slug"].iloc[0]) == "viabtc"
    assert str(halving["time_utc"].iloc[0]) == "2024-04-20 00:09:27+00:00"
    # every v2 name in the file is a pool of the shipped pool list
    names = {p.name for p in load_pools()}
    used = {str(n) for n in blocks["pool_name_mining_pools_v2"].unique() if str(n)}
    assert used <= names
    yearly = pool_counts_by_window(blocks, "year")
    assert yearly.sum(axis=1).tolist() == [52_536, 53_188, 53_999, 53_473, 53_082, 15_896]
    history = decentralization_history(blocks, "year")
    assert history["unknown_share"].round(4).tolist()[:5] == pytest.approx(
        [0.102, 0.040, 0.0092, 0.0075, 0.0056], abs=0.001
    )
    assert (history["nakamoto"] >= 2).all()
    weekly = decentralization_history(blocks, "week")
    assert len(weekly) > 270
    daily = pool_counts_by_window(blocks, "day")
    assert daily.sum(axis=1).between(50, 260).all()  # 58 on 2021-06-27, the China ban
    # unknown falls from 10 % to < 1 %: the trend of the monthly series is negative
    monthly = decentralization_history(blocks, "month")
    assert trend_per_year(monthly["unknown_share"]) < 0
    shares = share_table(pool_counts_by_window(blocks, "month"), top=5)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert list(shares.columns)[-2:] == ["other", UNKNOWN_POOL]
    with pytest.raises(NetworkInputError):
        pool_counts_by_window(blocks, "fortnight")  # type: ignore[arg-type]
    # plain string labels give the same table as the loader's categorical ones
    sample = blocks[blocks["height"] < 700_000]
    as_text = sample.assign(pool_slug=sample["pool_slug"].astype(str))
    assert pool_counts_by_window(as_text, "week").equals(pool_counts_by_window(sample, "week"))
    missing = sample.assign(
        pool_slug=sample["pool_slug"].cat.add_categories(["x"]).where(sample["height"] > 664_100)
    )
    with pytest.raises(NetworkInputError, match="missing labels"):
        pool_counts_by_window(missing, "week")


def test_plot_is_written(tmp_path: Path) -> None:
    blocks = load_pool_blocks()
    counts = pool_counts_by_window(blocks[blocks["time_utc"].dt.year >= 2025], "month")
    out = tmp_path / "shares.png"
    plot_pool_shares(counts, top=6).savefig(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000


def test_pool_shares_rejects_empty() -> None:
    with pytest.raises(NetworkInputError):
        pool_shares({})
    with pytest.raises(NetworkInputError):
        pool_shares({"a": 0})
