"""Small derived figures that reports show: payback, annualised growth, yearly summaries.

They lived in the CLI; here every edge (CLI, web, notebooks) gets the same numbers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "daily_to_annual",
    "hashprice_yearly",
    "heatmap_price_axes",
    "simple_payback_days",
    "year_end_rows",
]

#: Days per year for compounding (Julian year, as ``annual_to_daily`` uses).
_DAYS_PER_YEAR = 365.25


def simple_payback_days(capex_usd: float, profit_usd_per_day: float) -> float | None:
    """Days until today's daily profit repays ``capex_usd``; ``None`` when it never does [d]."""
    return capex_usd / profit_usd_per_day if profit_usd_per_day > 0 else None


def daily_to_annual(rate_per_day: float) -> float:
    """Compound daily rate -> annual rate: (1 + r)^365.25 - 1 (inverse of ``annual_to_daily``)."""
    if rate_per_day <= -1:
        raise EconomicsInputError("a daily rate must be > -100 %", field="rate_per_day", value=rate_per_day)
    return float((1.0 + rate_per_day) ** _DAYS_PER_YEAR - 1.0)


def year_end_rows(bands: pd.DataFrame, years: float) -> pd.DataFrame:
    """The rows of a daily band table at each full year's end (the last row if under a year)."""
    picks = [min(len(bands) - 1, int(_DAYS_PER_YEAR * k) - 1) for k in range(1, int(years) + 1)]
    return bands.iloc[picks or [-1]]


def hashprice_yearly(history: pd.DataFrame) -> pd.DataFrame:
    """Yearly means of a :func:`hashprice_history` table, with day counts and interpolated-fee days."""
    return history.groupby(pd.DatetimeIndex(history.index).year).agg(
        hashprice_usd_per_ph_day=("hashprice_usd_per_ph_day", "mean"),
        hashprice_btc_per_ph_day=("hashprice_btc_per_ph_day", "mean"),
        days=("hashprice_usd_per_ph_day", "size"),
        interpolated_fee_days=("fees_interpolated", "sum"),
    )


def heatmap_price_axes(
    btc_price_usd: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The default profit-heatmap grid: power 0-15 c/kWh [USD/kWh] x 40-160 % of the BTC price [USD]."""
    power = np.round(np.linspace(0.0, 0.15, 16), 4)
    btc = np.round(btc_price_usd * np.linspace(0.4, 1.6, 13), -2)
    return power, btc
