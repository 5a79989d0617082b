"""The issuance schedule: subsidy by height, halvings and the exact total supply."""

from __future__ import annotations

import pytest

from hashwatt.chain import (
    COIN,
    HALVING_INTERVAL,
    block_subsidy_sat,
    halving_heights,
    next_halving_height,
    supply_at_height_sat,
    total_supply_sat,
)
from hashwatt.errors import InputError


def test_total_supply_is_exactly_20999999_9769_btc() -> None:
    assert total_supply_sat() == 2_099_999_997_690_000
    assert total_supply_sat() == 20_999_999 * COIN + 97_690_000
    # The schedule's end: the last block with a subsidy, then nothing, forever.
    assert supply_at_height_sat(10_000_000) == total_supply_sat()


def test_subsidy_by_era() -> None:
    assert block_subsidy_sat(0) == 50 * COIN
    assert block_subsidy_sat(209_999) == 50 * COIN
    assert block_subsidy_sat(210_000) == 25 * COIN
    assert block_subsidy_sat(420_000) == 1_250_000_000
    assert block_subsidy_sat(630_000) == 625_000_000
    assert block_subsidy_sat(840_000) == 312_500_000
    assert block_subsidy_sat(1_050_000) == 156_250_000
    assert block_subsidy_sat(6_719_999) == 2
    assert block_subsidy_sat(6_720_000) == 1  # the 33rd era pays one satoshi
    assert block_subsidy_sat(6_930_000) == 0
    assert block_subsidy_sat(64 * HALVING_INTERVAL) == 0


def test_halving_heights_and_supply_milestones() -> None:
    heights = halving_heights()
    assert heights[:4] == [210_000, 420_000, 630_000, 840_000]
    assert heights[-1] == 33 * HALVING_INTERVAL  # subsidy hits zero at era 33
    assert next_halving_height(878_976) == 1_050_000
    # 10.5 M BTC in the first era; 19,687,500 BTC before block 840,000.
    assert supply_at_height_sat(209_999) == 10_500_000 * COIN
    assert supply_at_height_sat(839_999) == 19_687_500 * COIN
    assert supply_at_height_sat(840_000) == 19_687_500 * COIN + 312_500_000


def test_sum_of_subsidies_matches_supply() -> None:
    # Independent check: brute-force sum over era boundaries.
    total = 0
    for era in range(40):
        total += HALVING_INTERVAL * block_subsidy_sat(era * HALVING_INTERVAL)
    assert total == total_supply_sat()


def test_negative_height_rejected() -> None:
    with pytest.raises(InputError):
        block_subsidy_sat(-1)
