"""The shipped daily history: coverage, provenance, consensus identities."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hashwatt.chain import HALVING_INTERVAL, block_subsidy_sat
from hashwatt.data import (
    DateOutOfRangeError,
    daily_history,
    history_range,
    load_retarget_history,
    network_snapshot,
    recent_prices,
)


@pytest.fixture(scope="module")
def hist() -> pd.DataFrame:
    return daily_history()


def test_every_day_present_no_gaps(hist: pd.DataFrame) -> None:
    idx = hist.index
    assert idx[0] == pd.Timestamp("2010-07-18")
    assert ((idx[1:] - idx[:-1]) == pd.Timedelta(days=1)).all()
    assert not hist[["difficulty", "price_usd", "fees_btc_per_day", "block_count"]].isna().any().any()
    assert history_range() == (idx[0].date(), idx[-1].date())


def test_difficulty_matches_retarget_headers(hist: pd.DataFrame) -> None:
    rt = load_retarget_history()
    epoch_diff = rt.set_index("epoch")["difficulty"]
    first = hist["height_first"] // 2016
    last = hist["height_last"] // 2016
    inside = (first == last) & (last <= epoch_diff.index.max())
    expected = epoch_diff.reindex(last[inside]).to_numpy()
    np.testing.assert_allclose(hist.loc[inside, "difficulty"].to_numpy(), expected, rtol=1e-9)
    assert inside.sum() > 4000


def test_subsidy_follows_halvings(hist: pd.DataFrame) -> None:
    # Subsidy recomputed per block from the heights, independently of the file's column.
    for day in ("2012-11-27", "2012-11-29", "2016-07-10", "2020-05-12", "2024-04-19", "2024-04-21"):
        row = hist.loc[day]
        hs = range(int(row["height_first"]), int(row["height_last"]) + 1)
        mean = sum(block_subsidy_sat(h) for h in hs) / len(hs) / 1e8
        assert row["subsidy_btc_per_block"] == pytest.approx(mean)
    assert hist.loc["2012-11-27", "subsidy_btc_per_block"] == 50
    assert hist.loc["2012-11-29", "subsidy_btc_per_block"] == 25
    assert hist.loc["2024-04-19", "subsidy_btc_per_block"] == 6.25
    assert hist.loc["2024-04-21", "subsidy_btc_per_block"] == 3.125
    # the day containing height 840,000 (2024-04-20 00:09 UTC) straddles the halving
    day = hist[(hist["height_first"] <= 4 * HALVING_INTERVAL) & (hist["height_last"] >= 4 * HALVING_INTERVAL)]
    assert day.index[0] == pd.Timestamp("2024-04-20")


def test_known_fee_spike_and_sources(hist: pd.DataFrame) -> None:
    assert hist.loc["2024-04-20", "fees_btc_per_day"] == pytest.approx(1257.72, abs=0.01)
    assert hist.loc["2024-04-20", "fees_source"] == "blockchaincom_daily"
    # Coin Metrics (CC BY-NC) only where no other daily source covers the day.
    cm_fee_days = hist.index[hist["fees_source"] == "coinmetrics"]
    assert cm_fee_days.max() < pd.Timestamp("2019-11-01")
    assert (hist.loc[hist["price_source"] == "coinmetrics"].index < pd.Timestamp("2012-01-01")).all()
    assert (hist.loc["2021-01-03":, "blocks_source"] == "blocks_file").all()
    # the 2022-05..2023-04 gap is filled from the 4-day file and flagged
    gap = hist.loc["2022-05-01":"2023-04-29"]
    assert gap["fees_source"].isin(["blockchaincom_4day", "blockchaincom_4day_interpolated"]).all()
    assert gap["fees_interpolated"].sum() == (gap["fees_source"] == "blockchaincom_4day_interpolated").sum()
    assert 0.7 < gap["fees_interpolated"].mean() < 0.8  # three days in four
    assert not hist.loc[:"2022-04-29", "fees_interpolated"].any() or (
        hist.loc[:"2022-04-29", "fees_interpolated"].sum() <= 3
    )


def test_hashrate_is_difficulty_times_blocks(hist: pd.DataFrame) -> None:
    expected = hist["difficulty"] * 2**32 * hist["block_count"] / 86_400 / 1e18
    np.testing.assert_allclose(hist["hashrate_ehs"], expected, rtol=1e-9)
    assert 500 < hist.loc["2025-01-01":, "hashrate_ehs"].median() < 1100


def test_snapshot_defaults_to_the_package_as_of() -> None:
    # One as-of for the package: difficulty and height from the newest shipped retarget, the
    # price from the newest shipped close, fees from the newest day with a fee figure.
    snap = network_snapshot()
    rt = load_retarget_history().iloc[-1]
    assert snap.height == int(rt["height"]) == 953_568
    assert snap.difficulty == pytest.approx(float(rt["difficulty"]))
    assert snap.date == pd.Timestamp(rt["time_utc"]).date()
    assert snap.price_usd == float(recent_prices().iloc[-1])
    last = history_range()[1]
    assert snap.fees_btc_per_block == pytest.approx(float(daily_history().iloc[-1]["fees_btc_per_block"]))
    assert snap.as_of is not None
    dates = {i.name: i.date for i in snap.as_of.inputs}
    assert dates == {"difficulty": snap.date, "price": dt.date(2026, 8, 21), "fees": last}
    assert snap.as_of.date == min(dates.values()) == last
    assert snap.as_of.get("difficulty") is not None and snap.as_of.get("difficulty").date_estimated  # type: ignore[union-attr]
    assert snap.subsidy_btc_per_block == 3.125
    old = network_snapshot("2021-01-04")
    assert old.date == dt.date(2021, 1, 4) and old.subsidy_btc_per_block == 6.25
    with pytest.raises(DateOutOfRangeError, match="outside"):
        network_snapshot("2030-01-01")
    with pytest.raises(DateOutOfRangeError):
        network_snapshot("2009-06-01")
