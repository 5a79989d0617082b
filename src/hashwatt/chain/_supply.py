"""The issuance schedule: block subsidy by height, halvings and total supply."""

from __future__ import annotations

from hashwatt.chain._transaction import COIN
from hashwatt.errors import ChainInputError

#: Blocks between halvings (Core: nSubsidyHalvingInterval).
HALVING_INTERVAL = 210_000
#: Subsidy of the first era [sat].
INITIAL_SUBSIDY_SAT = 50 * COIN
#: After this many halvings the shift is defined to give zero (Core guards shifts >= 64).
_MAX_HALVINGS = 64


def _check_height(height: int) -> None:
    if height < 0:
        raise ChainInputError(f"block height must be >= 0, got {height}")


def halving_epoch(height: int) -> int:
    """Halvings that have happened by ``height`` (0 for the first era)."""
    _check_height(height)
    return height // HALVING_INTERVAL


def block_subsidy_sat(height: int) -> int:
    """New coins a block at ``height`` may create [sat] (Core: GetBlockSubsidy)."""
    halvings = halving_epoch(height)
    if halvings >= _MAX_HALVINGS:
        return 0
    return INITIAL_SUBSIDY_SAT >> halvings


def next_halving_height(height: int) -> int:
    """Height of the first block of the next subsidy era."""
    return (halving_epoch(height) + 1) * HALVING_INTERVAL


def halving_heights() -> list[int]:
    """Heights at which the subsidy changes, up to the last halving to a non-zero subsidy and the zero."""
    heights = []
    epoch = 1
    while True:
        heights.append(epoch * HALVING_INTERVAL)
        if INITIAL_SUBSIDY_SAT >> epoch == 0:
            return heights
        epoch += 1


def supply_at_height_sat(height: int) -> int:
    """Coins issued by blocks 0..height inclusive [sat], counting the unspendable genesis output.

    Exact integer arithmetic per era, so the total is exactly 2,099,999,997,690,000 sat.
    """
    _check_height(height)
    blocks = height + 1
    total = 0
    epoch = 0
    while blocks > 0 and epoch < _MAX_HALVINGS:
        in_era = min(blocks, HALVING_INTERVAL)
        total += in_era * (INITIAL_SUBSIDY_SAT >> epoch)
        blocks -= in_era
        epoch += 1
    return total


def total_supply_sat() -> int:
    """Every coin the schedule will ever issue [sat]: 20,999,999.9769 BTC."""
    return sum(HALVING_INTERVAL * (INITIAL_SUBSIDY_SAT >> e) for e in range(_MAX_HALVINGS))


def last_subsidy_height() -> int:
    """The last height that still receives a non-zero subsidy."""
    return halving_heights()[-1] - 1
