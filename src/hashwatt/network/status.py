"""A snapshot of the network at the latest retarget in the shipped chain data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hashwatt.chain import (
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
from hashwatt.data import load_retarget_history


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    """Where the chain stood at ``height`` (a retarget block) and what comes next."""

    height: int
    block_hash: str
    time_utc: dt.datetime
    bits_hex: str
    target_hex: str
    difficulty: float
    #: Hashrate implied by the difficulty at the 600 s target interval [H/s].
    hashrate_at_target_interval_hs: float
    #: Hashrate implied by the previous period's real duration [H/s] (what the retarget saw).
    hashrate_previous_period_hs: float
    previous_period_mean_interval_s: float
    subsidy_sat: int
    next_retarget_height: int
    next_halving_height: int
    blocks_to_halving: int
    #: Estimated date of the next halving at 600 s blocks from ``time_utc``.
    next_halving_estimate_utc: dt.datetime
    supply_issued_sat: int
    supply_total_sat: int
    supply_issued_pct: float


def network_status() -> NetworkStatus:
    """Status at the newest retarget in the embedded history (no network access)."""
    history = load_retarget_history()
    last = history.iloc[-1]
    prev = history.iloc[-2]
    height = int(last["height"])
    bits = int(str(last["bits_hex"]), 16)
    difficulty = difficulty_from_bits(bits)
    period_s = float(int(last["timestamp_unix"]) - int(prev["timestamp_unix"]))
    mean_interval_s = period_s / (height - int(prev["height"]))
    prev_difficulty = difficulty_from_bits(int(str(prev["bits_hex"]), 16))
    time_utc = dt.datetime.fromtimestamp(int(last["timestamp_unix"]), tz=dt.UTC)
    halving = next_halving_height(height)
    issued = supply_at_height_sat(height)
    total = total_supply_sat()
    return NetworkStatus(
        height=height,
        block_hash=str(last["block_hash"]),
        time_utc=time_utc,
        bits_hex=f"{bits:08x}",
        target_hex=f"{bits_to_target(bits):064x}",
        difficulty=difficulty,
        hashrate_at_target_interval_hs=hashrate_from_difficulty(difficulty),
        hashrate_previous_period_hs=hashrate_from_difficulty(prev_difficulty, mean_interval_s),
        previous_period_mean_interval_s=mean_interval_s,
        subsidy_sat=block_subsidy_sat(height),
        next_retarget_height=next_retarget_height(height),
        next_halving_height=halving,
        blocks_to_halving=halving - height,
        next_halving_estimate_utc=time_utc
        + dt.timedelta(seconds=(halving - height) * TARGET_BLOCK_INTERVAL_S),
        supply_issued_sat=issued,
        supply_total_sat=total,
        supply_issued_pct=100.0 * issued / total,
    )


__all__ = ["NetworkStatus", "network_status"]
