"""Double-spend success probabilities: Nakamoto (2008), Rosenfeld (2014), Grunspan & Perez-Marco (2017).

An attacker with a share ``q`` of the hashrate (honest share ``p = 1 - q``) tries to replace a
payment buried under ``z`` confirmations. Each function returns the probability that the
attacker's private chain ever overtakes the honest one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy import special, stats

from hashwatt.network.errors import NetworkInputError

DoubleSpendModel = Literal["nakamoto", "rosenfeld", "grunspan_perez_marco"]

#: Largest depth :func:`confirmations_for_risk` searches before giving up [blocks].
MAX_CONFIRMATIONS = 1_000_000


def _check_q(q: float) -> float:
    value = float(q)
    if not 0.0 < value < 1.0 or math.isnan(value):
        raise NetworkInputError(
            f"attacker hashrate share q must lie in (0, 1), got {q!r}", field="q", value=q
        )
    return value


def _check_z(z: int) -> int:
    if isinstance(z, bool) or int(z) != z:
        raise NetworkInputError(f"confirmations z must be a whole number, got {z!r}", field="z", value=z)
    if z < 0:
        raise NetworkInputError(f"confirmations z must be >= 0, got {z!r}", field="z", value=z)
    return int(z)


def double_spend_nakamoto(q: float, z: int) -> float:
    """Nakamoto's attacker-success probability (whitepaper, section 11) [probability].

    Parameters: ``q`` attacker share of the hashrate [fraction, 0 < q < 1]; ``z`` confirmations
    the merchant waits for [blocks].

    Notes
    -----
    With ``p = 1 - q`` and ``lambda = z q / p`` (the attacker's expected progress while the
    honest chain finds ``z`` blocks, approximated as Poisson)::

        P = 1 - sum_{k=0}^{z} Poisson(k; lambda) * (1 - (q/p)^(z-k)),   q < p;   P = 1 otherwise.

    Evaluated here as the sum of two non-negative parts, ``Poisson.sf(z) + sum Poisson(k) (q/p)^(z-k)``,
    so that tiny probabilities keep their relative precision.
    """
    q = _check_q(q)
    z = _check_z(z)
    p = 1.0 - q
    if q >= p:
        return 1.0
    if z == 0:
        return 1.0
    lam = z * q / p
    k = np.arange(z + 1)
    pmf = stats.poisson.pmf(k, lam)
    catch_up = np.power(q / p, (z - k).astype(np.float64))
    return float(min(1.0, stats.poisson.sf(z, lam) + float(np.sum(pmf * catch_up))))


def double_spend_rosenfeld(q: float, z: int) -> float:
    """Exact attacker-success probability with a negative-binomial race (Rosenfeld 2014) [probability].

    Parameters: ``q`` attacker share [fraction, 0 < q < 1]; ``z`` confirmations [blocks].

    Notes
    -----
    While the honest network finds ``z`` blocks the attacker finds ``m`` ~ NegBin(z, p) blocks,
    ``P(m) = C(m + z - 1, m) p^z q^m``; from a deficit of ``z - m`` it catches up with probability
    ``(q/p)^(z - m)`` (1 when ``m >= z``; drawing level suffices because the attacker is assumed
    to have pre-mined one block)::

        P = 1 - sum_{m=0}^{z} C(m + z - 1, m) (p^z q^m - q^z p^m),   q < p;   P = 1 otherwise.

    Computed as ``NegBin.sf(z) + sum_{m<=z} P(m) (q/p)^(z-m)`` (no cancellation).
    """
    q = _check_q(q)
    z = _check_z(z)
    p = 1.0 - q
    if q >= p or z == 0:
        return 1.0
    m = np.arange(z + 1)
    pmf = stats.nbinom.pmf(m, z, p)
    catch_up = np.power(q / p, (z - m).astype(np.float64))
    return float(min(1.0, stats.nbinom.sf(z, z, p) + float(np.sum(pmf * catch_up))))


def double_spend_grunspan_perez_marco(q: float, z: int) -> float:
    """Closed form of the exact attacker-success probability (Grunspan & Perez-Marco 2017) [probability].

    Parameters: ``q`` attacker share [fraction, 0 < q < 1]; ``z`` confirmations [blocks].

    Notes
    -----
    ``P = I_{4pq}(z, 1/2)`` where ``I_x(a, b)`` is the regularized incomplete beta function
    ("Double spend races", Int. J. Theor. Appl. Finance, 2018). It equals Rosenfeld's sum.
    ``P = 1`` for ``q >= 1/2`` or ``z = 0``.
    """
    q = _check_q(q)
    z = _check_z(z)
    p = 1.0 - q
    if q >= p or z == 0:
        return 1.0
    return float(special.betainc(float(z), 0.5, 4.0 * p * q))


_MODELS: dict[str, Callable[[float, int], float]] = {
    "nakamoto": double_spend_nakamoto,
    "rosenfeld": double_spend_rosenfeld,
    "grunspan_perez_marco": double_spend_grunspan_perez_marco,
}


def double_spend_probability(q: float, z: int, *, model: DoubleSpendModel = "rosenfeld") -> float:
    """Attacker-success probability under the named model [probability]."""
    try:
        func = _MODELS[model]
    except KeyError as exc:
        raise NetworkInputError(
            f"unknown double-spend model {model!r}; choose one of {sorted(_MODELS)}",
            field="model",
            value=model,
        ) from exc
    return func(q, z)


def confirmations_for_risk(q: float, risk: float, *, model: DoubleSpendModel = "nakamoto") -> int:
    """Fewest confirmations ``z`` with attacker-success probability below ``risk`` [blocks].

    Parameters: ``q`` attacker share [fraction, 0 < q < 1/2]; ``risk`` acceptable probability
    [fraction, 0 < risk < 1]; ``model`` one of ``nakamoto``, ``rosenfeld``, ``grunspan_perez_marco``.

    Notes
    -----
    The success probability falls monotonically with ``z`` (for q < 1/2), so the smallest ``z``
    with ``P(q, z) < risk`` is found by doubling then bisection. The whitepaper's "solving for P
    less than 0.1%" table is ``confirmations_for_risk(q, 0.001)``.
    """
    q = _check_q(q)
    if not 0.0 < float(risk) < 1.0:
        raise NetworkInputError(f"risk must lie in (0, 1), got {risk!r}", field="risk", value=risk)
    if q >= 0.5:
        raise NetworkInputError(
            f"an attacker with q = {q} >= 1/2 succeeds with certainty at any depth", field="q", value=q
        )
    if model not in _MODELS:
        raise NetworkInputError(
            f"unknown double-spend model {model!r}; choose one of {sorted(_MODELS)}",
            field="model",
            value=model,
        )
    func = _MODELS[model]
    hi = 1
    while func(q, hi) >= risk:
        hi *= 2
        if hi > MAX_CONFIRMATIONS:
            raise NetworkInputError(
                f"more than {MAX_CONFIRMATIONS:,} confirmations needed for q = {q}, risk = {risk}",
                field="risk",
                value=risk,
            )
    lo = hi // 2  # P(lo) >= risk (or lo == 0, where P = 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if func(q, mid) < risk:
            hi = mid
        else:
            lo = mid
    return hi


__all__ = [
    "MAX_CONFIRMATIONS",
    "DoubleSpendModel",
    "confirmations_for_risk",
    "double_spend_grunspan_perez_marco",
    "double_spend_nakamoto",
    "double_spend_probability",
    "double_spend_rosenfeld",
]
