"""The issuance schedule: block subsidy by height, halvings and total supply.

Bitcoin's module-level functions are the behaviour of :data:`BITCOIN_SUBSIDY`; Litecoin is the
same :class:`HalvingSchedule` with another interval, Dogecoin its own :class:`DogecoinSubsidy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hashwatt.chain._transaction import COIN
from hashwatt.errors import ChainInputError

#: Blocks between halvings (Core: nSubsidyHalvingInterval).
HALVING_INTERVAL = 210_000
#: Subsidy of the first era [sat].
INITIAL_SUBSIDY_SAT = 50 * COIN
#: After this many halvings the shift is defined to give zero (Core guards shifts >= 64).
_MAX_HALVINGS = 64
#: The highest block height there can be: Core keeps heights in a signed 32-bit int.
MAX_BLOCK_HEIGHT = 2**31 - 1


def check_height(height: int) -> None:
    """Refuse a height no block can have (:class:`ChainInputError` naming the ``height`` field)."""
    if not 0 <= height <= MAX_BLOCK_HEIGHT:
        raise ChainInputError(
            f"block height must be 0..{MAX_BLOCK_HEIGHT}, got {height}", field="height", value=height
        )


class SubsidySchedule(Protocol):
    """What every issuance schedule answers: the most new coins a block may create."""

    def block_subsidy_sat(self, height: int) -> int:
        """New coins a block at ``height`` may create [sat]."""
        ...


@dataclass(frozen=True, slots=True)
class HalvingSchedule:
    """``initial_subsidy_sat`` halved (right shift) every ``halving_interval`` blocks (Core: GetBlockSubsidy)."""

    initial_subsidy_sat: int
    halving_interval: int

    def halving_epoch(self, height: int) -> int:
        """Halvings that have happened by ``height`` (0 for the first era)."""
        check_height(height)
        return height // self.halving_interval

    def block_subsidy_sat(self, height: int) -> int:
        halvings = self.halving_epoch(height)
        if halvings >= _MAX_HALVINGS:
            return 0
        return self.initial_subsidy_sat >> halvings

    def next_halving_height(self, height: int) -> int:
        """Height of the first block of the next subsidy era."""
        return (self.halving_epoch(height) + 1) * self.halving_interval

    def halving_heights(self) -> list[int]:
        """Heights at which the subsidy changes, up to the last halving to a non-zero subsidy and the zero."""
        heights = []
        epoch = 1
        while True:
            heights.append(epoch * self.halving_interval)
            if self.initial_subsidy_sat >> epoch == 0:
                return heights
            epoch += 1

    def supply_at_height_sat(self, height: int) -> int:
        """Coins issued by blocks 0..height inclusive [sat], counting the genesis output.

        Exact integer arithmetic per era.
        """
        check_height(height)
        blocks = height + 1
        total = 0
        epoch = 0
        while blocks > 0 and epoch < _MAX_HALVINGS:
            in_era = min(blocks, self.halving_interval)
            total += in_era * (self.initial_subsidy_sat >> epoch)
            blocks -= in_era
            epoch += 1
        return total

    def total_supply_sat(self) -> int:
        """Every coin the schedule will ever issue [sat]."""
        return sum(self.halving_interval * (self.initial_subsidy_sat >> e) for e in range(_MAX_HALVINGS))


@dataclass(frozen=True, slots=True)
class DogecoinSubsidy:
    """Dogecoin's schedule (Dogecoin Core GetDogecoinBlockSubsidy; libdohj AbstractDogecoinParams).

    With h = height // ``halving_interval`` (100,000): before ``simplified_height`` (145,000) the
    reward was pseudo-random in [1, 1,000,000 >> h] DOGE, seeded by the previous block hash, so
    :meth:`block_subsidy_sat` gives that maximum (what a coinbase may claim); then
    500,000 >> h DOGE until ``fixed_height`` (600,000); then 10,000 DOGE a block forever.
    """

    halving_interval: int = 100_000
    simplified_height: int = 145_000
    fixed_height: int = 600_000
    fixed_subsidy_sat: int = 10_000 * COIN

    def block_subsidy_sat(self, height: int) -> int:
        check_height(height)
        halvings = height // self.halving_interval
        if height < self.simplified_height:
            return (1_000_000 * COIN) >> halvings
        if height < self.fixed_height:
            return (500_000 * COIN) >> halvings
        return self.fixed_subsidy_sat


#: Bitcoin: 50 BTC halving every 210,000 blocks.
BITCOIN_SUBSIDY = HalvingSchedule(initial_subsidy_sat=INITIAL_SUBSIDY_SAT, halving_interval=HALVING_INTERVAL)


def halving_epoch(height: int) -> int:
    """Halvings that have happened by ``height`` (0 for the first era)."""
    return BITCOIN_SUBSIDY.halving_epoch(height)


def block_subsidy_sat(height: int) -> int:
    """New coins a block at ``height`` may create [sat] (Core: GetBlockSubsidy)."""
    return BITCOIN_SUBSIDY.block_subsidy_sat(height)


def next_halving_height(height: int) -> int:
    """Height of the first block of the next subsidy era."""
    return BITCOIN_SUBSIDY.next_halving_height(height)


def halving_heights() -> list[int]:
    """Heights at which the subsidy changes, up to the last halving to a non-zero subsidy and the zero."""
    return BITCOIN_SUBSIDY.halving_heights()


def supply_at_height_sat(height: int) -> int:
    """Coins issued by blocks 0..height inclusive [sat], counting the unspendable genesis output.

    Exact integer arithmetic per era, so the total is exactly 2,099,999,997,690,000 sat.
    """
    return BITCOIN_SUBSIDY.supply_at_height_sat(height)


def total_supply_sat() -> int:
    """Every coin the schedule will ever issue [sat]: 20,999,999.9769 BTC."""
    return BITCOIN_SUBSIDY.total_supply_sat()


def last_subsidy_height() -> int:
    """The last height that still receives a non-zero subsidy."""
    return halving_heights()[-1] - 1
