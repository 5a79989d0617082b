"""Decentralization of block production: pool shares with confidence intervals and concentration metrics.

Blocks are a noisy sample of hashrate: over a window of ``n`` blocks a pool with hashrate share
``s`` finds ``Binomial(n, s)`` of them, so a block share carries a binomial confidence interval
(Wilson or Clopper-Pearson), and metrics of the whole distribution (Nakamoto coefficient, HHI,
entropy, Gini) carry a multinomial (parametric) bootstrap interval.

"unknown" (blocks no pool definition matched) is handled both ways and reported with its share:

- ``unknown_as_entity``: unknown counted as one more pool. This overstates concentration when
  unknown is many small miners, and understates it if unknown is mostly one pool's blocks.
- ``unknown_excluded``: unknown dropped and the shares of the known pools renormalized, i.e.
  unknown assumed to be spread like the known blocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from hashwatt.data.pools import UNKNOWN_POOL
from hashwatt.network.errors import NetworkInputError

IntervalMethod = Literal["wilson", "clopper-pearson"]
Window = Literal["day", "week", "month", "year"]
#: pandas period codes for each window (weeks end on Sunday, UTC).
WINDOW_FREQ: dict[str, str] = {"day": "D", "week": "W-SUN", "month": "M", "year": "Y"}

FloatArray = npt.NDArray[np.float64]


# --- metrics on share vectors (rows = samples) ------------------------------------------------


def _as_share_matrix(shares: npt.ArrayLike) -> FloatArray:
    matrix = np.atleast_2d(np.asarray(shares, dtype=np.float64))
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise NetworkInputError("shares must be a non-empty vector (or a matrix with one row per sample)")
    if (matrix < 0).any() or not np.isfinite(matrix).all():
        raise NetworkInputError("shares must be finite and non-negative")
    totals = matrix.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise NetworkInputError("shares must not all be zero")
    return np.asarray(matrix / totals, dtype=np.float64)


def nakamoto_coefficients(shares: npt.ArrayLike, *, threshold: float = 0.5) -> npt.NDArray[np.int64]:
    """Per row: fewest entities whose combined share exceeds ``threshold`` [entities]."""
    if not 0.0 < threshold < 1.0:
        raise NetworkInputError(
            f"threshold must lie in (0, 1), got {threshold!r}", field="threshold", value=threshold
        )
    matrix = _as_share_matrix(shares)
    cumulative = np.cumsum(-np.sort(-matrix, axis=1), axis=1)
    # tolerance so that e.g. three shares of exactly 1/6 + ... summing to 0.5 are not "above" it
    above = cumulative > threshold + 1e-12
    return np.asarray(np.argmax(above, axis=1) + 1, dtype=np.int64)


def nakamoto_coefficient(shares: npt.ArrayLike, *, threshold: float = 0.5) -> int:
    """Fewest entities whose combined share exceeds ``threshold`` (Srinivasan & Lee 2017) [entities].

    Notes
    -----
    Sort shares in decreasing order; the coefficient is the smallest ``k`` with
    ``s_1 + ... + s_k > threshold``. ``threshold = 0.5`` is the 51 % attack coalition.
    """
    return int(nakamoto_coefficients(np.asarray(shares, dtype=np.float64).ravel(), threshold=threshold)[0])


def hhi_values(shares: npt.ArrayLike) -> FloatArray:
    """Per row: Herfindahl-Hirschman index ``sum s_i^2`` [fraction, 1/n .. 1]."""
    matrix = _as_share_matrix(shares)
    return np.asarray(np.sum(matrix**2, axis=1), dtype=np.float64)


def herfindahl_hirschman_index(shares: npt.ArrayLike) -> float:
    """Herfindahl-Hirschman index ``sum s_i^2`` of normalized shares [fraction; x 10,000 for "points"]."""
    return float(hhi_values(np.asarray(shares, dtype=np.float64).ravel())[0])


def entropy_values(shares: npt.ArrayLike) -> FloatArray:
    """Per row: Shannon entropy ``-sum s_i log2 s_i`` [bits]."""
    matrix = _as_share_matrix(shares)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(matrix > 0, -matrix * np.log2(np.where(matrix > 0, matrix, 1.0)), 0.0)
    return np.asarray(terms.sum(axis=1), dtype=np.float64)


def shannon_entropy_bits(shares: npt.ArrayLike) -> float:
    """Shannon entropy of normalized shares ``-sum s_i log2 s_i`` [bits; log2(n) when all equal]."""
    return float(entropy_values(np.asarray(shares, dtype=np.float64).ravel())[0])


def gini_values(shares: npt.ArrayLike) -> FloatArray:
    """Per row: Gini coefficient among the entries given (zeros included) [fraction, 0 .. 1 - 1/n]."""
    matrix = _as_share_matrix(shares)
    n = matrix.shape[1]
    ordered = np.sort(matrix, axis=1)
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return np.asarray((2.0 * (ordered * ranks).sum(axis=1)) / n - (n + 1.0) / n, dtype=np.float64)


def gini_coefficient(shares: npt.ArrayLike) -> float:
    """Gini coefficient of the shares of the entities listed [fraction; 0 = all equal].

    Notes
    -----
    With shares sorted increasingly and normalized to sum 1: ``G = 2 sum_i i s_(i) / n - (n + 1) / n``.
    It measures inequality *among the pools present*, not how many there are (two equal pools
    give 0), so read it beside the Nakamoto coefficient and HHI.
    """
    return float(gini_values(np.asarray(shares, dtype=np.float64).ravel())[0])


# --- pool shares with confidence intervals -----------------------------------------------------


def binomial_interval(
    successes: npt.ArrayLike,
    trials: int,
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper confidence bounds of binomial proportions ``successes / trials`` [fraction].

    Notes
    -----
    Wilson: ``(p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``. Clopper-Pearson (exact):
    ``Beta(a/2; k, n-k+1)`` and ``Beta(1-a/2; k+1, n-k)`` quantiles (0 and 1 at the edges).
    """
    if not 0.0 < confidence < 1.0:
        raise NetworkInputError(
            f"confidence must lie in (0, 1), got {confidence!r}", field="confidence", value=confidence
        )
    if trials < 1:
        raise NetworkInputError(f"need at least one block, got {trials}", field="trials", value=trials)
    k = np.asarray(successes, dtype=np.float64)
    n = float(trials)
    alpha = 1.0 - confidence
    if method == "wilson":
        z = float(stats.norm.ppf(1.0 - alpha / 2.0))
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
        return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    if method == "clopper-pearson":
        lower = np.where(k > 0, stats.beta.ppf(alpha / 2.0, np.maximum(k, 1e-300), n - k + 1.0), 0.0)
        upper = np.where(k < n, stats.beta.ppf(1.0 - alpha / 2.0, k + 1.0, np.maximum(n - k, 1e-300)), 1.0)
        return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    raise NetworkInputError(
        f"unknown interval method {method!r}; use 'wilson' or 'clopper-pearson'", field="method", value=method
    )


@dataclass(frozen=True, slots=True)
class PoolShare:
    """One pool's block share in a window, with its binomial confidence interval."""

    pool: str
    blocks: int
    #: Blocks of this pool / all blocks in the window (unknown included) [fraction].
    share: float
    share_lower: float
    share_upper: float


def pool_shares(
    counts: Mapping[str, int],
    *,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
) -> list[PoolShare]:
    """Block share of every pool (largest first) with its confidence interval; unknown included."""
    items = [(str(k), int(v)) for k, v in counts.items() if int(v) > 0]
    if not items:
        raise NetworkInputError("no blocks in the window")
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    total = sum(v for _, v in items)
    blocks = np.array([v for _, v in items], dtype=np.float64)
    lower, upper = binomial_interval(blocks, total, confidence=confidence, method=method)
    return [
        PoolShare(pool=name, blocks=v, share=v / total, share_lower=float(lo), share_upper=float(hi))
        for (name, v), lo, hi in zip(items, lower.tolist(), upper.tolist(), strict=True)
    ]


@dataclass(frozen=True, slots=True)
class ConcentrationMetrics:
    """Concentration of block production, each metric with a bootstrap confidence interval."""

    entities: int
    blocks: int
    nakamoto_coefficient: int
    nakamoto_coefficient_ci: tuple[int, int]
    #: Herfindahl-Hirschman index [fraction; x 10,000 for antitrust "points"].
    hhi: float
    hhi_ci: tuple[float, float]
    entropy_bits: float
    entropy_bits_ci: tuple[float, float]
    gini: float
    gini_ci: tuple[float, float]
    top_pool: str
    top_share: float


@dataclass(frozen=True, slots=True)
class DecentralizationReport:
    """Pool shares and concentration metrics of one window, with unknown treated both ways."""

    blocks: int
    unknown_blocks: int
    #: Blocks no pool definition matched / all blocks [fraction].
    unknown_share: float
    confidence: float
    shares: tuple[PoolShare, ...]
    unknown_as_entity: ConcentrationMetrics
    unknown_excluded: ConcentrationMetrics | None


def _concentration(
    names: list[str],
    counts: npt.NDArray[np.int64],
    *,
    confidence: float,
    bootstrap: int,
    rng: np.random.Generator,
) -> ConcentrationMetrics:
    total = int(counts.sum())
    shares = counts / total
    lo_q, hi_q = 100.0 * (1.0 - confidence) / 2.0, 100.0 * (1.0 + confidence) / 2.0
    samples = rng.multinomial(total, shares, size=bootstrap).astype(np.float64)
    nak = nakamoto_coefficients(samples)
    hhi = hhi_values(samples)
    ent = entropy_values(samples)
    gini = gini_values(samples)

    def ci(values: FloatArray) -> tuple[float, float]:
        low, high = np.percentile(values, [lo_q, hi_q])
        return float(low), float(high)

    nak_low, nak_high = np.percentile(nak, [lo_q, hi_q])
    top = int(np.argmax(counts))
    return ConcentrationMetrics(
        entities=len(names),
        blocks=total,
        nakamoto_coefficient=nakamoto_coefficient(shares),
        nakamoto_coefficient_ci=(math.floor(nak_low), math.ceil(nak_high)),
        hhi=herfindahl_hirschman_index(shares),
        hhi_ci=ci(hhi),
        entropy_bits=shannon_entropy_bits(shares),
        entropy_bits_ci=ci(ent),
        gini=gini_coefficient(shares),
        gini_ci=ci(gini),
        top_pool=names[top],
        top_share=float(shares[top]),
    )


def decentralization_report(
    counts: Mapping[str, int],
    *,
    unknown_label: str = UNKNOWN_POOL,
    confidence: float = 0.95,
    method: IntervalMethod = "wilson",
    bootstrap: int = 2000,
    seed: int | None = 0,
) -> DecentralizationReport:
    """Shares (with CIs) and concentration metrics (with bootstrap CIs) of block counts per pool.

    Parameters: ``counts`` blocks per pool label in the window; ``unknown_label`` the label of
    unattributed blocks; ``confidence`` of every interval [fraction]; ``method`` for the share
    intervals; ``bootstrap`` multinomial resamples for the metric intervals; ``seed`` makes the
    bootstrap reproducible.
    """
    if bootstrap < 10:
        raise NetworkInputError(
            f"bootstrap needs at least 10 resamples, got {bootstrap}", field="bootstrap", value=bootstrap
        )
    shares = pool_shares(counts, confidence=confidence, method=method)
    names = [s.pool for s in shares]
    values = np.array([s.blocks for s in shares], dtype=np.int64)
    total = int(values.sum())
    unknown_blocks = int(sum(s.blocks for s in shares if s.pool == unknown_label))
    rng = np.random.Generator(np.random.PCG64(seed))
    as_entity = _concentration(names, values, confidence=confidence, bootstrap=bootstrap, rng=rng)
    known = [i for i, name in enumerate(names) if name != unknown_label]
    excluded = (
        _concentration(
            [names[i] for i in known], values[known], confidence=confidence, bootstrap=bootstrap, rng=rng
        )
        if known
        else None
    )
    return DecentralizationReport(
        blocks=total,
        unknown_blocks=unknown_blocks,
        unknown_share=unknown_blocks / total,
        confidence=confidence,
        shares=tuple(shares),
        unknown_as_entity=as_entity,
        unknown_excluded=excluded,
    )


# --- windows over the block history ------------------------------------------------------------


def _check_window(window: str) -> str:
    try:
        return WINDOW_FREQ[window]
    except KeyError as exc:
        raise NetworkInputError(
            f"unknown window {window!r}; choose one of {sorted(WINDOW_FREQ)}", field="window", value=window
        ) from exc


def pool_counts_by_window(blocks: pd.DataFrame, window: Window = "month") -> pd.DataFrame:
    """Blocks per pool label in each window: rows = period start (UTC), columns = pool labels.

    ``blocks`` needs ``time_utc`` (tz-aware) and ``pool_slug`` columns (see
    :func:`hashwatt.data.pools.load_pool_blocks`). Columns are ordered by total blocks.
    """
    freq = _check_window(window)
    if blocks.empty:
        raise NetworkInputError("no blocks in the selected range")
    times = pd.DatetimeIndex(blocks["time_utc"]).tz_convert("UTC").tz_localize(None)
    period_codes, periods = pd.factorize(times.to_period(freq), sort=True)
    slug = blocks["pool_slug"]
    if isinstance(slug.dtype, pd.CategoricalDtype):  # the shipped loader's dtype: codes are free
        pool_codes = slug.cat.codes.to_numpy(dtype=np.int64)
        pools = [str(c) for c in slug.cat.categories]
    else:
        codes, uniques = pd.factorize(slug.astype(str).to_numpy(), sort=True)
        pool_codes, pools = codes, [str(u) for u in uniques]
    if (pool_codes < 0).any():
        raise NetworkInputError("pool_slug has missing labels; label unattributed blocks 'unknown'")
    n_pools = len(pools)
    flat = np.bincount(period_codes * n_pools + pool_codes, minlength=len(periods) * n_pools)
    table = pd.DataFrame(
        flat.reshape(len(periods), n_pools),
        index=pd.PeriodIndex(periods).to_timestamp(how="start").tz_localize("UTC"),
        columns=pools,
    )
    table.index.name = "period_start"
    totals = table.sum(axis=0)
    order = totals[totals > 0].sort_values(ascending=False, kind="stable").index
    return table[order]


def decentralization_history(
    blocks: pd.DataFrame,
    window: Window = "month",
    *,
    unknown_label: str = UNKNOWN_POOL,
) -> pd.DataFrame:
    """Concentration metrics per window (point estimates), unknown both as an entity and excluded.

    Columns: blocks, unknown_share, top_pool, top_share, nakamoto, hhi, entropy_bits, gini
    (unknown as one entity) and nakamoto_excl_unknown, hhi_excl_unknown, entropy_bits_excl_unknown,
    gini_excl_unknown (unknown dropped). Gini is over the pools with at least one block in the window.
    """
    counts = pool_counts_by_window(blocks, window)
    names = [str(c) for c in counts.columns]
    matrix = counts.to_numpy(dtype=np.float64)
    totals = matrix.sum(axis=1)
    unknown_idx = names.index(unknown_label) if unknown_label in names else None
    unknown = matrix[:, unknown_idx] if unknown_idx is not None else np.zeros(len(matrix))
    known = np.delete(matrix, unknown_idx, axis=1) if unknown_idx is not None else matrix
    top_idx = np.argmax(matrix, axis=1)
    result = pd.DataFrame(
        {
            "blocks": totals.astype(np.int64),
            "unknown_share": unknown / totals,
            "top_pool": [names[i] for i in top_idx.tolist()],
            "top_share": matrix[np.arange(len(matrix)), top_idx] / totals,
            "nakamoto": nakamoto_coefficients(matrix),
            "hhi": hhi_values(matrix),
            "entropy_bits": entropy_values(matrix),
            "gini": gini_present_values(matrix),
        },
        index=counts.index,
    )
    has_known = known.sum(axis=1) > 0
    safe = np.where(has_known[:, None], known, 1.0)
    result["nakamoto_excl_unknown"] = np.where(has_known, nakamoto_coefficients(safe), 0)
    result["hhi_excl_unknown"] = np.where(has_known, hhi_values(safe), np.nan)
    result["entropy_bits_excl_unknown"] = np.where(has_known, entropy_values(safe), np.nan)
    result["gini_excl_unknown"] = np.where(has_known, gini_present_values(safe), np.nan)
    return result


def gini_present_values(counts: npt.ArrayLike) -> FloatArray:
    """Per row: Gini coefficient over the non-zero entries only (the pools present) [fraction].

    Same as :func:`gini_values` on each row with its zeros dropped: zeros sort first, so the
    rank of a present entry among the ``k`` present ones is its rank minus ``n - k``.
    """
    matrix = _as_share_matrix(counts)
    n = matrix.shape[1]
    k = (matrix > 0).sum(axis=1).astype(np.float64)
    ordered = np.sort(matrix, axis=1)
    ranks = np.arange(1, n + 1, dtype=np.float64)
    weighted = (ordered * ranks).sum(axis=1) - (n - k)  # shares sum to 1
    return np.asarray(2.0 * weighted / k - (k + 1.0) / k, dtype=np.float64)


def trend_per_year(series: pd.Series) -> float:
    """Least-squares slope of a metric against time [metric units per year]; NaN with < 2 points."""
    clean = series.dropna()
    if len(clean) < 2:
        return math.nan
    index = pd.DatetimeIndex(clean.index)
    years = (index - index[0]).total_seconds().to_numpy() / (365.25 * 86400.0)
    slope = np.polyfit(years, clean.to_numpy(dtype=np.float64), 1)[0]
    return float(slope)


def share_table(counts: pd.DataFrame, *, top: int = 8, unknown_label: str = UNKNOWN_POOL) -> pd.DataFrame:
    """Shares per window of the ``top`` pools overall, ``other`` and ``unknown`` [fraction]."""
    if top < 1:
        raise NetworkInputError(f"top must be >= 1, got {top}", field="top", value=top)
    names = [str(c) for c in counts.columns if str(c) != unknown_label]
    keep = names[:top]
    rest = names[top:]
    frame = counts[keep].astype(np.float64).copy()
    frame["other"] = counts[rest].sum(axis=1) if rest else 0.0
    frame[unknown_label] = counts[unknown_label] if unknown_label in counts.columns else 0.0
    return frame.div(counts.sum(axis=1), axis=0)


__all__ = [
    "WINDOW_FREQ",
    "ConcentrationMetrics",
    "DecentralizationReport",
    "IntervalMethod",
    "PoolShare",
    "Window",
    "binomial_interval",
    "decentralization_history",
    "decentralization_report",
    "entropy_values",
    "gini_coefficient",
    "gini_present_values",
    "gini_values",
    "herfindahl_hirschman_index",
    "hhi_values",
    "nakamoto_coefficient",
    "nakamoto_coefficients",
    "pool_counts_by_window",
    "pool_shares",
    "shannon_entropy_bits",
    "share_table",
    "trend_per_year",
]
