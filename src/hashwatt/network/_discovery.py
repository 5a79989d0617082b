"""Block discovery as a Poisson process: block counts, hashrate from observed intervals, orphan rate.

At constant hashrate ``H`` [H/s] and difficulty ``D`` a block needs on average ``D 2^32`` hashes,
so intervals are exponential with mean ``D 2^32 / H`` and block counts in a window are Poisson.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from hashwatt.chain import (
    RETARGET_INTERVAL,
    TARGET_BLOCK_INTERVAL_S,
    difficulty_from_bits,
    hashes_per_block,
    next_bits,
)
from hashwatt.data import load_retarget_history
from hashwatt.data.pools import load_pool_blocks
from hashwatt.network.errors import NetworkError, NetworkInputError


def _check_positive(name: str, value: float) -> float:
    number = float(value)
    if not number > 0.0 or math.isinf(number):
        raise NetworkInputError(f"{name} must be positive and finite, got {value!r}", field=name, value=value)
    return number


def block_count_probability(
    blocks: int, duration_s: float, *, mean_interval_s: float = TARGET_BLOCK_INTERVAL_S
) -> float:
    """Probability of exactly ``blocks`` blocks in ``duration_s`` (Poisson) [probability].

    Parameters: ``blocks`` count [blocks]; ``duration_s`` window [s]; ``mean_interval_s`` mean
    block interval [s], 600 at equilibrium. Notes: ``P(k) = exp(-t/T) (t/T)^k / k!``.
    """
    if blocks < 0:
        raise NetworkInputError(f"blocks must be >= 0, got {blocks}", field="blocks", value=blocks)
    mean = _check_positive("duration_s", duration_s) / _check_positive("mean_interval_s", mean_interval_s)
    return float(stats.poisson.pmf(blocks, mean))


def probability_no_block(duration_s: float, *, mean_interval_s: float = TARGET_BLOCK_INTERVAL_S) -> float:
    """Probability that no block is found for ``duration_s`` [probability]: ``exp(-t/T)``."""
    if duration_s < 0:
        raise NetworkInputError(
            f"duration_s must be >= 0, got {duration_s}", field="duration_s", value=duration_s
        )
    return math.exp(-float(duration_s) / _check_positive("mean_interval_s", mean_interval_s))


def orphan_rate(propagation_delay_s: float, *, mean_interval_s: float = TARGET_BLOCK_INTERVAL_S) -> float:
    """Chance a competing block is found while a new block propagates [fraction of blocks].

    Notes
    -----
    With Poisson arrivals, the probability that another block appears within a propagation
    delay ``d`` of a block is ``1 - exp(-d / T)`` (``T`` = 600 s); about ``d / T`` for small ``d``.
    """
    if propagation_delay_s < 0 or math.isnan(propagation_delay_s):
        raise NetworkInputError(
            f"propagation delay must be >= 0 s, got {propagation_delay_s!r}",
            field="propagation_delay_s",
            value=propagation_delay_s,
        )
    return -math.expm1(-float(propagation_delay_s) / _check_positive("mean_interval_s", mean_interval_s))


@dataclass(frozen=True, slots=True)
class HashrateEstimate:
    """Hashrate inferred from observed block intervals, with an exact chi-square interval."""

    #: Intervals observed (blocks - 1) [intervals].
    intervals: int
    duration_s: float
    #: Mean observed interval [s].
    mean_interval_s: float
    #: Expected hashes of the blocks found (sum of difficulty x 2^32) [hashes].
    work_hashes: float
    #: Maximum-likelihood estimate n / sum(t_i / w_i) [H/s].
    hashrate_hs: float
    hashrate_lower_hs: float
    hashrate_upper_hs: float
    confidence: float


def estimate_hashrate(
    intervals_s: npt.ArrayLike,
    difficulty: float | npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> HashrateEstimate:
    """Hashrate [H/s] from observed block intervals, with an exact gamma/chi-square interval.

    Parameters: ``intervals_s`` times between consecutive blocks [s] (header times can go
    backwards, so single intervals may be negative; only the sum weighted by difficulty enters);
    ``difficulty`` of the block that ends each interval (scalar or one per interval);
    ``confidence`` of the interval [fraction].

    Notes
    -----
    Interval ``t_i`` ~ Exp(mean ``w_i / H``) with ``w_i = D_i 2^32``, so ``S = sum t_i / w_i`` ~
    Gamma(n, 1/H) and ``2 H S`` ~ chi-square(2n). MLE ``H = n / S``; interval
    ``[chi2_{a/2}(2n) / 2S, chi2_{1-a/2}(2n) / 2S]``. Assumes constant hashrate over the window.
    """
    if not 0.0 < confidence < 1.0:
        raise NetworkInputError(
            f"confidence must lie in (0, 1), got {confidence!r}", field="confidence", value=confidence
        )
    t = np.asarray(intervals_s, dtype=np.float64).ravel()
    n = t.size
    if n < 1:
        raise NetworkInputError("need at least one block interval")
    d = np.broadcast_to(np.asarray(difficulty, dtype=np.float64), t.shape)
    if not np.isfinite(d).all() or (d <= 0).any():
        raise NetworkInputError("difficulty must be positive and finite for every interval")
    if not np.isfinite(t).all():
        raise NetworkInputError("intervals must be finite")
    w = d * hashes_per_block(1.0)
    s = float(np.sum(t / w))
    duration = float(t.sum())
    if s <= 0.0:
        raise NetworkInputError("the observed intervals do not span positive time")
    a = 1.0 - confidence
    return HashrateEstimate(
        intervals=n,
        duration_s=duration,
        mean_interval_s=duration / n,
        work_hashes=float(w.sum()),
        hashrate_hs=n / s,
        hashrate_lower_hs=float(stats.chi2.ppf(a / 2.0, 2 * n)) / (2.0 * s),
        hashrate_upper_hs=float(stats.chi2.ppf(1.0 - a / 2.0, 2 * n)) / (2.0 * s),
        confidence=confidence,
    )


@lru_cache(maxsize=1)
def retarget_bits_by_epoch() -> dict[int, int]:
    """Compact bits of every difficulty epoch the shipped data determine (epoch = height // 2016).

    The retarget history gives the bits up to height 878,976; later epochs are derived with the
    consensus rule (:func:`hashwatt.chain.next_bits`) from the header times of the first and
    last block of each period in the shipped per-block file (exact, no estimation).
    """
    history = load_retarget_history()
    bits = {
        int(e): int(str(b), 16)
        for e, b in zip(history["epoch"].tolist(), history["bits_hex"].tolist(), strict=True)
    }
    blocks = load_pool_blocks()
    first_height = int(blocks["height"].iloc[0])
    times = blocks["timestamp_unix"].to_numpy(dtype=np.int64)
    epoch = max(bits)
    while True:
        start = epoch * RETARGET_INTERVAL
        end = start + RETARGET_INTERVAL - 1
        if start < first_height or end - first_height >= times.size:
            break
        bits[epoch + 1] = next_bits(
            bits[epoch], int(times[start - first_height]), int(times[end - first_height])
        )
        epoch += 1
    return bits


def difficulty_at_heights(heights: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Difficulty in force at each height (NaN where the shipped data do not determine it).

    Covers heights 0 .. 947,519: the retarget history to 878,976, then epochs derived by the
    retarget rule from the shipped block times (see :func:`retarget_bits_by_epoch`).
    """
    bits = retarget_bits_by_epoch()
    table = pd.Series({e: difficulty_from_bits(b) for e, b in bits.items()}, dtype=np.float64)
    epochs = np.asarray(heights, dtype=np.int64) // RETARGET_INTERVAL
    return np.asarray(table.reindex(epochs).to_numpy(dtype=np.float64), dtype=np.float64)


def observed_hashrate(
    blocks: pd.DataFrame,
    *,
    confidence: float = 0.95,
    difficulty: npt.ArrayLike | None = None,
) -> HashrateEstimate:
    """Hashrate over a run of consecutive blocks (``height``, ``timestamp_unix`` columns).

    ``difficulty`` per block defaults to the shipped retarget history; a :class:`NetworkError`
    names the heights it does not cover.
    """
    frame = blocks.sort_values("height")
    heights = frame["height"].to_numpy(dtype=np.int64)
    if heights.size < 2:
        raise NetworkInputError("need at least two consecutive blocks")
    if (np.diff(heights) != 1).any():
        raise NetworkInputError("blocks must be consecutive heights")
    times = frame["timestamp_unix"].to_numpy(dtype=np.float64)
    diff = (
        difficulty_at_heights(heights[1:]) if difficulty is None else np.asarray(difficulty, dtype=np.float64)
    )
    if difficulty is None and np.isnan(diff).any():
        missing = heights[1:][np.isnan(diff)]
        raise NetworkError(
            f"no difficulty known for heights {int(missing[0]):,}..{int(missing[-1]):,} "
            "(the shipped data end at height 947,519); pass difficulty= explicitly"
        )
    return estimate_hashrate(np.diff(times), diff, confidence=confidence)


def hashrate_history(
    blocks: pd.DataFrame,
    window: str = "week",
    *,
    confidence: float = 0.95,
    difficulty: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Hashrate estimate with its interval for each window (``day``, ``week``, ``month``, ``year``).

    Each interval is assigned to the window of the block that ends it (by header time), so
    windows are disjoint and the estimates independent. Heights without a known difficulty are
    dropped (the shipped data determine difficulty up to height 947,519) unless ``difficulty`` is given.
    Columns: intervals, mean_interval_s, hashrate_ehs, hashrate_lower_ehs, hashrate_upper_ehs.
    """
    from hashwatt.network._decentralization import WINDOW_FREQ

    if window not in WINDOW_FREQ:
        raise NetworkInputError(
            f"unknown window {window!r}; choose one of {sorted(WINDOW_FREQ)}", field="window", value=window
        )
    if not 0.0 < confidence < 1.0:
        raise NetworkInputError(
            f"confidence must lie in (0, 1), got {confidence!r}", field="confidence", value=confidence
        )
    frame = blocks.sort_values("height")
    heights = frame["height"].to_numpy(dtype=np.int64)
    if heights.size < 2 or (np.diff(heights) != 1).any():
        raise NetworkInputError("need at least two blocks of consecutive heights")
    times = frame["timestamp_unix"].to_numpy(dtype=np.float64)
    diff = (
        difficulty_at_heights(heights)
        if difficulty is None
        else np.broadcast_to(np.asarray(difficulty, dtype=np.float64), heights.shape)
    )
    work = diff[1:] * hashes_per_block(1.0)
    ends = pd.DatetimeIndex(pd.to_datetime(times[1:], unit="s")).to_period(WINDOW_FREQ[window])
    table = pd.DataFrame({"period": ends, "t": np.diff(times), "scaled": np.diff(times) / work})
    table = table[np.isfinite(table["scaled"].to_numpy())]
    grouped = table.groupby("period").agg(
        intervals=("t", "size"), duration_s=("t", "sum"), s=("scaled", "sum")
    )
    n = grouped["intervals"].to_numpy(dtype=np.float64)
    s_sum = grouped["s"].to_numpy(dtype=np.float64)
    a = 1.0 - confidence
    result = pd.DataFrame(
        {
            "intervals": grouped["intervals"].to_numpy(dtype=np.int64),
            "mean_interval_s": grouped["duration_s"].to_numpy(dtype=np.float64) / n,
            "hashrate_ehs": n / s_sum / 1e18,
            "hashrate_lower_ehs": stats.chi2.ppf(a / 2.0, 2.0 * n) / (2.0 * s_sum) / 1e18,
            "hashrate_upper_ehs": stats.chi2.ppf(1.0 - a / 2.0, 2.0 * n) / (2.0 * s_sum) / 1e18,
        },
        index=pd.PeriodIndex(grouped.index).to_timestamp(how="start").tz_localize("UTC"),
    )
    result.index.name = "period_start"
    return result


__all__ = [
    "HashrateEstimate",
    "block_count_probability",
    "difficulty_at_heights",
    "estimate_hashrate",
    "hashrate_history",
    "observed_hashrate",
    "orphan_rate",
    "probability_no_block",
    "retarget_bits_by_epoch",
]
