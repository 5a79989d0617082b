"""Revenue closed forms: expected blocks, BTC per day and hashprice.

Notes
-----
A miner of hashrate ``h`` [H/s] finds blocks at difficulty ``D`` as a Poisson process of
rate ``h / (D * 2**32)`` per second (``D * 2**32`` expected hashes per block), whatever
the network's block time. Over a day that is ``86,400 * h / (D * 2**32)`` blocks, each
worth subsidy + fees [BTC]. Hashprice is the same per PH/s (1e15 H/s) or per TH/s.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hashwatt.chain import HASHES_PER_DIFFICULTY, SECONDS_PER_DAY
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "HASHES_PER_DIFFICULTY",  # re-exported from hashwatt.chain, where it is defined
    "SECONDS_PER_DAY",  # likewise
    "btc_per_day",
    "expected_blocks_per_day",
    "hashprice_btc_per_ph_day",
    "hashprice_usd_per_ph_day",
    "ph_day_to_th_day",
]

_H_PER_TH = 1e12
_H_PER_PH = 1e15

#: A scalar or an array of the same quantity; results broadcast like numpy.
F = float | npt.NDArray[np.float64]


def _check_difficulty(difficulty: float | npt.NDArray[np.float64]) -> None:
    if np.any(np.asarray(difficulty) <= 0) or np.any(~np.isfinite(np.asarray(difficulty))):
        raise EconomicsInputError(
            "difficulty must be positive and finite", field="difficulty", value=difficulty
        )


def expected_blocks_per_day(
    hashrate_ths: F, difficulty: F, *, hashes_per_difficulty: float = HASHES_PER_DIFFICULTY
) -> F:
    """Expected blocks a hashrate [TH/s] finds per day at ``difficulty`` [blocks/day].

    ``86,400 * hashrate_ths * 1e12 / (difficulty * hashes_per_difficulty)``; the expected hashes
    per unit of difficulty are 2**32 on Bitcoin and every chain with its difficulty-1 convention
    (LTC, DOGE, BCH, DASH), other values for other coins (:mod:`hashwatt.economics._coins`).
    """
    _check_difficulty(difficulty)
    return SECONDS_PER_DAY * (hashrate_ths * _H_PER_TH) / (difficulty * hashes_per_difficulty)


def btc_per_day(hashrate_ths: F, difficulty: F, reward_btc_per_block: F) -> F:
    """Expected BTC per day [BTC/day] for a hashrate [TH/s] at ``difficulty``.

    ``reward_btc_per_block`` is subsidy + average fees per block [BTC].
    """
    return expected_blocks_per_day(hashrate_ths, difficulty) * reward_btc_per_block


def hashprice_btc_per_ph_day(difficulty: F, subsidy_btc_per_block: F, fees_btc_per_block: F) -> F:
    """Hashprice [BTC per PH/s per day]: blocks/day/PH x (subsidy + fees per block)."""
    blocks = expected_blocks_per_day(_H_PER_PH / _H_PER_TH, difficulty)
    return blocks * (subsidy_btc_per_block + fees_btc_per_block)


def hashprice_usd_per_ph_day(
    difficulty: F, subsidy_btc_per_block: F, fees_btc_per_block: F, price_usd: F
) -> F:
    """Hashprice [USD per PH/s per day] = hashprice in BTC x price [USD/BTC]."""
    return hashprice_btc_per_ph_day(difficulty, subsidy_btc_per_block, fees_btc_per_block) * price_usd


def ph_day_to_th_day(value_per_ph_day: F) -> F:
    """A per-PH/s-per-day value expressed per TH/s per day (divide by 1,000)."""
    return value_per_ph_day / 1000.0
