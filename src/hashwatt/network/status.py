"""A snapshot of the network at the newest block in the shipped chain data.

Sources, all embedded: the retarget history (bitcoinj checkpoints, to height 878,976) and
the per-block file (header times and pool labels, to height 946,236). Bits after 878,976 are
derived from those header times with the consensus retarget rule, exactly as nodes do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hashwatt.chain import (
    RETARGET_INTERVAL,
    TARGET_BLOCK_INTERVAL_S,
    bits_to_target,
    block_subsidy_sat,
    difficulty_from_bits,
    hashrate_from_difficulty,
    next_halving_height,
    next_retarget_height,
    supply_at_height_sat,
    total_supply_sat,
)
from hashwatt.data.pools import load_pool_blocks
from hashwatt.network._discovery import retarget_bits_by_epoch


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    """Where the chain stood at its newest shipped block, and what comes next."""

    tip_height: int
    tip_time_utc: dt.datetime
    #: The latest retarget at or below the tip: its height and the time of that block.
    retarget_height: int
    retarget_time_utc: dt.datetime
    bits_hex: str
    target_hex: str
    difficulty: float
    difficulty_change_pct: float
    #: Hashrate implied by the difficulty at the 600 s target interval [H/s].
    hashrate_at_target_interval_hs: float
    #: Hashrate the last complete period really ran at: its difficulty over its mean interval [H/s].
    hashrate_previous_period_hs: float
    previous_period_mean_interval_s: float
    subsidy_sat: int
    next_retarget_height: int
    next_halving_height: int
    blocks_to_halving: int
    #: Next halving at 600 s blocks from the tip.
    next_halving_estimate_utc: dt.datetime
    #: Next halving at the last period's observed mean interval.
    next_halving_estimate_observed_utc: dt.datetime
    supply_issued_sat: int
    supply_total_sat: int
    supply_issued_pct: float


def network_status() -> NetworkStatus:
    """Status at the newest block in the embedded data (no network access)."""
    blocks = load_pool_blocks()
    heights = blocks["height"].to_numpy()
    times = blocks["timestamp_unix"].to_numpy()
    first_height = int(heights[0])
    tip_height = int(heights[-1])
    bits_by_epoch = retarget_bits_by_epoch()
    epoch = max(e for e in bits_by_epoch if e * RETARGET_INTERVAL <= tip_height)
    retarget_height = epoch * RETARGET_INTERVAL
    bits = bits_by_epoch[epoch]
    prev_bits = bits_by_epoch[epoch - 1]
    difficulty = difficulty_from_bits(bits)
    prev_difficulty = difficulty_from_bits(prev_bits)
    # The previous period: blocks retarget-2016 .. retarget-1; 2015 intervals between them.
    period_s = float(
        times[retarget_height - 1 - first_height] - times[retarget_height - RETARGET_INTERVAL - first_height]
    )
    mean_interval_s = period_s / (RETARGET_INTERVAL - 1)
    tip_time = dt.datetime.fromtimestamp(int(times[-1]), tz=dt.UTC)
    halving = next_halving_height(tip_height)
    issued = supply_at_height_sat(tip_height)
    total = total_supply_sat()
    return NetworkStatus(
        tip_height=tip_height,
        tip_time_utc=tip_time,
        retarget_height=retarget_height,
        retarget_time_utc=dt.datetime.fromtimestamp(int(times[retarget_height - first_height]), tz=dt.UTC),
        bits_hex=f"{bits:08x}",
        target_hex=f"{bits_to_target(bits):064x}",
        difficulty=difficulty,
        difficulty_change_pct=100.0 * (difficulty / prev_difficulty - 1.0),
        hashrate_at_target_interval_hs=hashrate_from_difficulty(difficulty),
        hashrate_previous_period_hs=hashrate_from_difficulty(prev_difficulty, mean_interval_s),
        previous_period_mean_interval_s=mean_interval_s,
        subsidy_sat=block_subsidy_sat(tip_height),
        next_retarget_height=next_retarget_height(tip_height),
        next_halving_height=halving,
        blocks_to_halving=halving - tip_height,
        next_halving_estimate_utc=tip_time
        + dt.timedelta(seconds=(halving - tip_height) * TARGET_BLOCK_INTERVAL_S),
        next_halving_estimate_observed_utc=tip_time
        + dt.timedelta(seconds=(halving - tip_height) * mean_interval_s),
        supply_issued_sat=issued,
        supply_total_sat=total,
        supply_issued_pct=100.0 * issued / total,
    )


__all__ = ["NetworkStatus", "network_status"]
