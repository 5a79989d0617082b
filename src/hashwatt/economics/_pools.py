"""Pool payout schemes: expected value and variance of a miner's BTC over a horizon.

Notes
-----
With ``R = subsidy + fees`` per block and ``lam`` the miner's expected blocks over the
horizon (:func:`expected_blocks_per_day` x days):

* FPPS: pays ``(1 - f) * lam * R`` deterministically (subsidy and fees per share).
* PPS: pays ``(1 - f) * lam * subsidy``; transaction fees are kept by the pool.
* PPS+: subsidy as PPS, fees shared PPLNS-style: mean ``(1 - f) * lam * R``; only the fee
  part varies with the pool's luck.
* PPLNS: the miner gets its share of each pool block; pool blocks over the horizon are
  Poisson with mean ``lam / s`` (``s`` = miner's share of the pool), so the payout has
  mean ``(1 - f) * lam * R`` and coefficient of variation ``sqrt(s / lam)`` (the pool's luck;
  the N-window smoothing is ignored).
* SOLO: Poisson blocks with mean ``lam``: mean ``lam * R``, CV ``1 / sqrt(lam)``,
  P(no block) = ``exp(-lam)``.
"""

from __future__ import annotations

import dataclasses
import enum
import math

from scipy.stats import poisson

from hashwatt.economics._revenue import expected_blocks_per_day
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["PoolPayout", "PoolScheme", "fee_factor", "parse_pool_fee", "pool_payout"]


class PoolScheme(enum.StrEnum):
    """How a pool pays for shares."""

    FPPS = "fpps"
    PPS = "pps"
    PPS_PLUS = "pps+"
    PPLNS = "pplns"
    SOLO = "solo"


def fee_factor(scheme: PoolScheme) -> float:
    """Share of transaction fees the miner receives in expectation (PPS: none)."""
    return 0.0 if scheme is PoolScheme.PPS else 1.0


def parse_pool_fee(text: str | float) -> float:
    """A pool fee as a fraction from ``"2%"``, ``"0.02"`` or ``2.5`` (taken as percent if > 1)."""
    percent = isinstance(text, str) and text.strip().endswith("%")
    try:
        value = float(str(text).strip().rstrip("%"))
    except ValueError as exc:
        raise EconomicsInputError(
            f"pool fee must be like 2% or 0.02, got {text!r}", field="pool_fee", value=text
        ) from exc
    if percent or value > 1:
        value /= 100
    if not 0 <= value < 1:
        raise EconomicsInputError(
            f"pool fee must be in [0 %, 100 %), got {text!r}", field="pool_fee", value=text
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class PoolPayout:
    """Expected payout and its spread over a horizon [BTC]."""

    scheme: PoolScheme
    horizon_days: float
    expected_btc: float
    std_btc: float
    p5_btc: float
    p95_btc: float
    probability_zero: float

    @property
    def expected_btc_per_day(self) -> float:
        return self.expected_btc / self.horizon_days


def pool_payout(
    scheme: PoolScheme | str,
    *,
    hashrate_ths: float,
    difficulty: float,
    subsidy_btc_per_block: float,
    fees_btc_per_block: float,
    horizon_days: float = 30.0,
    pool_fee: float = 0.0,
    pool_hashrate_ths: float | None = None,
) -> PoolPayout:
    """Expected BTC and spread over ``horizon_days`` under a payout scheme.

    ``pool_hashrate_ths`` [TH/s] is needed for PPLNS (and PPS+ fee variance); the miner's
    share is ``hashrate_ths / pool_hashrate_ths``.
    """
    scheme = PoolScheme(scheme) if isinstance(scheme, str) else scheme
    if horizon_days <= 0:
        raise EconomicsInputError("horizon must be positive", field="horizon_days", value=horizon_days)
    if not 0 <= pool_fee < 1:
        raise EconomicsInputError("pool fee must be in [0, 1)", field="pool_fee", value=pool_fee)
    if hashrate_ths <= 0:
        raise EconomicsInputError("hashrate must be positive", field="hashrate_ths", value=hashrate_ths)
    lam = float(expected_blocks_per_day(hashrate_ths, difficulty)) * horizon_days
    reward = subsidy_btc_per_block + fees_btc_per_block
    keep = 1.0 - pool_fee
    share = 1.0
    if scheme in (PoolScheme.PPLNS, PoolScheme.PPS_PLUS):
        if pool_hashrate_ths is None or pool_hashrate_ths < hashrate_ths:
            raise EconomicsInputError(
                f"{scheme.value} needs pool_hashrate_ths >= the miner's hashrate",
                field="pool_hashrate_ths",
                value=pool_hashrate_ths,
            )
        share = hashrate_ths / pool_hashrate_ths
    if scheme is PoolScheme.FPPS:
        mean, std = keep * lam * reward, 0.0
    elif scheme is PoolScheme.PPS:
        mean, std = keep * lam * subsidy_btc_per_block, 0.0
    elif scheme is PoolScheme.PPS_PLUS:
        mean = keep * lam * reward
        std = keep * lam * fees_btc_per_block * math.sqrt(share / lam)
    elif scheme is PoolScheme.PPLNS:
        mean = keep * lam * reward
        std = mean * math.sqrt(share / lam)
    else:  # SOLO
        mean = lam * reward
        std = reward * math.sqrt(lam)
    if scheme is PoolScheme.SOLO:
        p5 = float(poisson.ppf(0.05, lam)) * reward
        p95 = float(poisson.ppf(0.95, lam)) * reward
        p_zero = math.exp(-lam)
    elif scheme is PoolScheme.PPLNS:
        pool_lam = lam / share
        p5 = float(poisson.ppf(0.05, pool_lam)) * share * reward * keep
        p95 = float(poisson.ppf(0.95, pool_lam)) * share * reward * keep
        p_zero = math.exp(-pool_lam)
    else:
        p5 = max(0.0, mean - 1.6448536 * std)
        p95 = mean + 1.6448536 * std
        p_zero = 0.0
    return PoolPayout(scheme, horizon_days, mean, std, p5, p95, p_zero)
