"""Issue 15 point 3: the refreshed datasets, each row with its source, rebuilt from the raw files."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from hashwatt.chain import difficulty_from_bits, next_bits
from hashwatt.data import daily_history, load_retarget_history, recent_prices
from hashwatt.data._build import build_history, build_recent_prices, build_retargets
from hashwatt.data._embedded import embedded_path

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def test_shipped_retargets_and_prices_rebuild_from_the_raw_files() -> None:
    shipped = pd.read_csv(embedded_path("btc_retarget_history.csv"), dtype=str, keep_default_na=False)
    rebuilt = build_retargets(SHARED)
    rebuilt = pd.read_csv(io.StringIO(rebuilt.to_csv(index=False)), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(rebuilt, shipped)
    prices = pd.read_csv(embedded_path("btc_price_daily_recent.csv"))
    again = pd.read_csv(io.StringIO(build_recent_prices(SHARED).to_csv(index=False)))
    pd.testing.assert_frame_equal(again, prices)


def test_shipped_history_rebuilds_from_the_raw_files() -> None:
    rebuilt = build_history(SHARED)
    shipped = daily_history()
    assert rebuilt.index.equals(shipped.index)
    for col in ("difficulty", "price_usd", "fees_btc_per_day", "block_count"):
        pd.testing.assert_series_equal(
            rebuilt[col].astype(float),
            shipped[col].astype(float),
            check_exact=False,
            rtol=1e-12,
            check_freq=False,
        )
    assert (rebuilt["fees_source"] == shipped["fees_source"]).all()


def test_retargets_reach_electrum_953568_with_sources() -> None:
    rt = load_retarget_history()
    assert rt["height"].iloc[-1] == 953_568 and (rt["height"].diff().dropna() == 2016).all()
    assert rt["bits_hex"].iloc[-1] == "170240c3"
    assert set(rt["source"]) == {"bitcoinj", "electrum"}
    assert (rt.loc[rt["height"] <= 878_976, "source"] == "bitcoinj").all()
    # difficulty is the bits' difficulty on every row
    for bits, diff in zip(rt["bits_hex"].tail(40), rt["difficulty"].tail(40), strict=True):
        assert diff == pytest.approx(difficulty_from_bits(int(bits, 16)), rel=1e-9)
    est = rt[rt["time_source"] == "estimated_retarget_ratio"]
    assert list(est["height"]) == [947_520, 949_536, 951_552, 953_568]
    # The estimated times invert the retarget rule: applying the rule to them gives the next bits
    # back (up to compact rounding), which a wrong span (e.g. 600 s per block) would not.
    rows = rt.set_index("height")
    for h in (949_536, 951_552, 953_568):
        prev = rows.loc[h - 2016]
        span_end = int(rows.loc[h, "timestamp_unix"]) - 600
        derived = next_bits(int(prev["bits_hex"], 16), int(prev["timestamp_unix"]), span_end)
        assert difficulty_from_bits(derived) == pytest.approx(float(rows.loc[h, "difficulty"]), rel=1e-4)
    assert str(rows.loc[953_568, "time_utc"].date()) == "2026-06-14"


def test_history_fee_and_price_sources_after_the_refresh() -> None:
    hist = daily_history()
    assert hist.index[-1] == pd.Timestamp("2025-12-29")
    # blockchain.com daily fees replace the interpolated 2024-04-28 .. 2025-02-02 days
    span = hist.loc["2024-04-28":"2025-02-02"]
    assert (span["fees_source"] == "blockchaincom_daily").all() and not span["fees_interpolated"].any()
    raw = pd.read_csv(SHARED / "btc_fees_daily_blockchaincom_2024-02-06_2025-02-02.csv", index_col="date")
    assert hist.loc["2024-09-01", "fees_btc_per_day"] == pytest.approx(
        float(raw.loc["2024-09-01", "fees_btc"])
    )
    # Coin Metrics 2025 fills 2025-05-02 .. 2025-12-29, named as the less certain transcription
    cm = hist.loc["2025-05-02":]
    assert (cm["fees_source"] == "coinmetrics_2025_transcribed").all()
    cm_raw = pd.read_csv(SHARED / "btc_network_daily_coinmetrics_2025-05-02_2025-12-29.csv", index_col="date")
    assert (cm["block_count"].to_numpy() == cm_raw["block_count"].to_numpy()).all()
    # prices after 2025-06-03 are the recent Bitstamp closes, and reach 2026-08-21 beyond the history
    assert (hist.loc["2025-06-04":, "price_source"] == "bitstamp_recent_close").all()
    prices = recent_prices()
    assert prices.index[-1] == pd.Timestamp("2026-08-21") and prices.iloc[-1] == pytest.approx(78_293.71)
    assert prices.index.is_monotonic_increasing and not prices.index.has_duplicates
