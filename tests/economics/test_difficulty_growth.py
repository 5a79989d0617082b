"""Issue 15 point 5: a stated-window difficulty-growth fit and its backtest against every year."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashwatt.data import load_retarget_history
from hashwatt.economics import (
    DEFAULT_GROWTH_WINDOW_DAYS,
    backtest_difficulty_growth,
    fit_difficulty_growth,
    fit_difficulty_growth_per_day,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ECONOMICS.md"


def _in_force(day: dt.date) -> float:
    rt = load_retarget_history()
    times = pd.to_datetime(rt["time_utc"], utc=True)
    return float(rt.loc[times <= pd.Timestamp(day, tz="UTC"), "difficulty"].iloc[-1])


def test_fit_is_least_squares_over_the_stated_window() -> None:
    fit = fit_difficulty_growth(730, end=dt.date(2025, 1, 1))
    rt = load_retarget_history()
    times = pd.to_datetime(rt["time_utc"], utc=True)
    inside = (times >= pd.Timestamp("2023-01-03", tz="UTC")) & (times < pd.Timestamp("2025-01-02", tz="UTC"))
    x = rt.loc[inside, "timestamp_unix"].to_numpy(dtype=float) / 86_400
    slope = np.polyfit(x, np.log(rt.loc[inside, "difficulty"].to_numpy(dtype=float)), 1)[0]
    assert fit.points == int(inside.sum()) and fit.window_end == dt.date(2025, 1, 1)
    assert fit.window_start >= dt.date(2023, 1, 2)
    assert fit.growth_per_year == pytest.approx(math.expm1(slope * 365.25), rel=1e-9)
    assert 0 < fit.growth_per_year_se < fit.growth_per_year


def test_default_no_longer_overshoots_the_2026_difficulty() -> None:
    # The issue: from 2025-05-01 the old default (365-day fit, 54.6 %/yr) put the median at
    # ~190 T on 2026-05-01 where the chain had 135.6 T.
    start, later = dt.date(2025, 5, 1), dt.date(2026, 5, 1)
    d0, actual = _in_force(start), _in_force(later)
    old = (1 + fit_difficulty_growth_per_day(365, end=start)) ** 365.25 - 1
    new = fit_difficulty_growth(end=start).damped_growth_per_year()
    assert old == pytest.approx(0.546, abs=0.01)
    assert abs(math.log(d0 * (1 + new) / actual)) < abs(math.log(d0 * (1 + old) / actual))


def test_backtest_uses_only_the_past_and_matches_the_docs_table() -> None:
    bt = backtest_difficulty_growth()
    assert DEFAULT_GROWTH_WINDOW_DAYS == 730
    assert list(bt["start"].iloc[:3]) == [dt.date(2011, 1, 1), dt.date(2012, 1, 1), dt.date(2013, 1, 1)]
    for row in bt.itertuples():
        fit = fit_difficulty_growth(end=row.start - dt.timedelta(days=1))
        assert fit.window_end < row.start and row.growth_per_year == fit.growth_per_year
        assert math.log1p(row.forecast_growth_per_year) == pytest.approx(
            0.75 * math.log1p(fit.growth_per_year)
        )
        assert row.p5 < row.median < row.p95
        assert row.actual == pytest.approx(_in_force(row.start + dt.timedelta(days=365)))
    # docs/ECONOMICS.md carries this table (error and band per start); rebuild it if data change
    text = DOCS.read_text(encoding="utf-8")
    docs_rows = re.findall(r"^\| (\d{4}-\d\d-\d\d) \|.*\| ([+-]\d+) % \| (yes|no) \|$", text, flags=re.M)
    assert [(d, int(e), b == "yes") for d, e, b in docs_rows] == [
        (r.start.isoformat(), round(r.error_pct), bool(r.inside_band)) for r in bt.itertuples()
    ]
