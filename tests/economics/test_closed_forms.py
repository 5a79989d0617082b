"""Hand-checked closed forms: BTC/day, hashprice over the whole history, halvings, drift."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from hashwatt.chain import block_subsidy_sat
from hashwatt.data import daily_history, network_snapshot
from hashwatt.economics import (
    block_time_with_growth_s,
    btc_per_day,
    expected_blocks_per_day,
    halving_schedule,
    hashprice_btc_per_ph_day,
    hashprice_history,
    hashprice_usd_per_ph_day,
    subsidy_btc_at,
)
from hashwatt.economics.errors import EconomicsInputError


def test_btc_per_day_one_ph_hand_checked() -> None:
    # 1 PH/s at difficulty 100 T: 86,400 s x 1e15 H/s / (1e14 x 2^32) = 864,000 / 4,294,967,296 blocks/day
    blocks = expected_blocks_per_day(1000.0, 100e12)
    assert blocks == pytest.approx(0.000201165676116943359375, rel=1e-15)
    # x 3.125 BTC subsidy + 0 fees
    assert btc_per_day(1000.0, 100e12, 3.125) == pytest.approx(0.000628642737865448, rel=1e-14)
    # same thing as hashprice per PH/day; per TH/day is a thousandth
    assert hashprice_btc_per_ph_day(100e12, 3.125, 0.0) == pytest.approx(0.000628642737865448, rel=1e-14)
    assert hashprice_usd_per_ph_day(100e12, 3.0, 0.125, 80_000.0) == pytest.approx(
        50.29141902923584, rel=1e-12
    )
    # doubling difficulty halves revenue; vectorised input keeps its shape
    arr = expected_blocks_per_day(np.array([1000.0, 1000.0]), np.array([100e12, 200e12]))
    assert arr.shape == (2,) and arr[0] == pytest.approx(2 * arr[1])
    with pytest.raises(EconomicsInputError):
        expected_blocks_per_day(1000.0, 0.0)


def test_hashprice_history_every_day_recomputed_independently() -> None:
    hp = hashprice_history()
    hist = daily_history()
    assert hp.index.equals(hist.index)
    assert hp.index[0] <= pd.Timestamp("2012-01-01") and hp.index[-1] >= pd.Timestamp("2025-01-01")
    # Independent recomputation: subsidy from the consensus function per height, fees per block
    # from the day's total and block count, blocks/day/PH from first principles.
    heights_first = hist["height_first"].to_numpy()
    heights_last = hist["height_last"].to_numpy()
    subsidy = np.array(
        [
            sum(block_subsidy_sat(h) for h in range(a, b + 1)) / (b - a + 1) / 1e8
            for a, b in zip(heights_first.tolist(), heights_last.tolist(), strict=True)
        ]
    )
    fees_per_block = hist["fees_btc_per_day"].to_numpy() / hist["block_count"].to_numpy()
    blocks_per_day_per_ph = 86_400 * 1e15 / (hist["difficulty"].to_numpy() * 2**32)
    expected = blocks_per_day_per_ph * (subsidy + fees_per_block) * hist["price_usd"].to_numpy()
    np.testing.assert_allclose(hp["hashprice_usd_per_ph_day"].to_numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(hp["hashprice_usd_per_th_day"].to_numpy(), expected / 1000, rtol=1e-9)
    assert not hp["hashprice_usd_per_ph_day"].isna().any()
    # Orders of magnitude known from public charts: ~$50/PH/day in spring 2025 (post-halving),
    # ~$300+/PH/day in the 2021 bull market.
    assert 40 < hp.loc["2025-05-01", "hashprice_usd_per_ph_day"] < 60
    assert hp.loc["2021-04-01":"2021-04-30", "hashprice_usd_per_ph_day"].mean() > 300


def test_halving_heights_and_dates_in_history() -> None:
    hist = daily_history()
    found = {}
    for h in (210_000, 420_000, 630_000, 840_000):
        day = hist[(hist["height_first"] <= h) & (hist["height_last"] >= h)].index
        found[h] = day[0].date()
        assert block_subsidy_sat(h) == block_subsidy_sat(h - 1) // 2
    assert found == {
        210_000: dt.date(2012, 11, 28),
        420_000: dt.date(2016, 7, 9),
        630_000: dt.date(2020, 5, 11),
        840_000: dt.date(2024, 4, 20),
    }
    np.testing.assert_array_equal(
        subsidy_btc_at([0, 209_999, 210_000, 839_999, 840_000, 64 * 210_000]), [50, 50, 25, 6.25, 3.125, 0]
    )


def test_halving_forecast_600s_and_with_drift() -> None:
    snap = network_snapshot()
    sched = halving_schedule(snap.height, snap.date, block_time_s=600, count=2)
    assert [s.height for s in sched] == [1_050_000, 1_260_000]
    days = (1_050_000 - snap.height) * 600 / 86_400
    assert sched[0].date == snap.date + dt.timedelta(days=days)
    assert sched[0].subsidy_btc == 1.5625
    faster = halving_schedule(snap.height, snap.date, block_time_s=block_time_with_growth_s(0.001))[0]
    assert faster.date < sched[0].date


def test_block_time_drift_fixed_point() -> None:
    assert block_time_with_growth_s(0.0) == 600.0
    for g in (0.0005, 0.001, 0.003, -0.001):
        bt = block_time_with_growth_s(g)
        T = bt * 2016 / 86_400  # epoch length in days
        r = math.log1p(g)
        assert T * math.exp(r * T) == pytest.approx(14.0, rel=1e-9)
        assert (bt < 600) == (g > 0)
    # ~44 %/year growth: about 591.6 s blocks
    assert block_time_with_growth_s(0.001) == pytest.approx(591.7, abs=0.2)
    with pytest.raises(EconomicsInputError):
        block_time_with_growth_s(-1.5)
