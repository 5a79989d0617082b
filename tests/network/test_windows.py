"""Issue 15 point 10: trailing pool windows with partial flags, and the next-adjustment estimate."""

from __future__ import annotations

import pandas as pd
import pytest

from hashwatt.chain import RETARGET_INTERVAL, next_bits
from hashwatt.data import load_retarget_history
from hashwatt.data.pools import load_pool_blocks
from hashwatt.network import next_adjustment, pool_blocks, trailing_windows
from hashwatt.network.errors import NetworkInputError


@pytest.fixture(scope="module")
def blocks() -> pd.DataFrame:
    return load_pool_blocks()


def test_trailing_windows_count_back_from_the_newest_block(blocks: pd.DataFrame) -> None:
    wins = {w.name: w for w in trailing_windows(blocks)}
    assert list(wins) == ["24h", "7d", "30d", "1y"]
    end = pd.to_datetime(blocks["time_utc"], utc=True).max()
    for w in wins.values():
        assert w.end == end and not w.partial
        times = pd.to_datetime(blocks["time_utc"], utc=True)
        assert w.blocks == int(((times > w.start) & (times <= end)).sum()) == int(w.counts.sum())
        assert w.shares().sum() == pytest.approx(1.0)
    # about 144 blocks a day
    assert 100 < wins["24h"].blocks < 200 and 45_000 < wins["1y"].blocks < 60_000
    # a history that starts inside a window flags it partial instead of shrinking it silently
    recent = blocks.tail(500)
    short = {w.name: w for w in trailing_windows(recent)}
    assert not short["24h"].partial and short["7d"].partial and short["1y"].partial
    assert short["1y"].blocks == 500


def test_next_adjustment_matches_the_rule_on_a_finished_epoch(blocks: pd.DataFrame) -> None:
    # Cut the history one block before a known retarget: the estimate is then the real rule's
    # result (same span, same clamp), and the real retarget is one mean block time away.
    rt = load_retarget_history().set_index("height")
    retarget = 943_488
    cut = blocks[blocks["height"] < retarget]
    est = next_adjustment(cut)
    assert est.retarget_height == retarget and est.blocks_remaining == 0 and est.progress == 1.0
    prev_bits = int(str(rt.loc[retarget - RETARGET_INTERVAL, "bits_hex"]), 16)
    by_h = cut.set_index("height")["timestamp_unix"]
    real = int(str(rt.loc[retarget, "bits_hex"]), 16)
    assert next_bits(prev_bits, int(by_h[retarget - RETARGET_INTERVAL]), int(by_h[retarget - 1])) == real
    real_change = (
        float(rt.loc[retarget, "difficulty"]) / float(rt.loc[retarget - RETARGET_INTERVAL, "difficulty"]) - 1
    )
    assert est.estimated_change_pct == pytest.approx(100 * real_change, abs=0.01)


def test_next_adjustment_midway_and_errors(blocks: pd.DataFrame) -> None:
    est = next_adjustment(blocks)
    tip = int(blocks["height"].max())
    assert est.epoch_start_height == tip - tip % RETARGET_INTERVAL
    assert est.blocks_mined + est.blocks_remaining == RETARGET_INTERVAL
    assert 0 < est.progress < 1 and 300 < est.mean_block_time_s < 900
    assert est.estimated_retarget_time > est.newest_block_time
    with pytest.raises(NetworkInputError, match="first block"):
        next_adjustment(blocks.tail(10))


def test_pool_block_lists_add_up_to_the_trailing_window_counts(blocks: pd.DataFrame) -> None:
    week = {w.name: w for w in trailing_windows(blocks, label="pool_name")}["7d"]
    for name, count in week.counts.head(6).items():
        listed = pool_blocks(blocks, str(name), window="7d")
        assert listed.count == int(count) and listed.window_blocks == week.blocks
        assert listed.blocks["height"].is_monotonic_increasing
        assert (listed.blocks["time_utc"] > week.start).all() and (
            listed.blocks["time_utc"] <= week.end
        ).all()
    with pytest.raises(NetworkInputError, match="window must be one of"):
        pool_blocks(blocks, "poolin", window="2w")
    with pytest.raises(NetworkInputError, match="ends"):
        pool_blocks(
            blocks,
            "poolin",
            start=pd.Timestamp("2024-01-02", tz="UTC"),
            end=pd.Timestamp("2024-01-01", tz="UTC"),
        )
