"""Hashprice for every day of the shipped history."""

from __future__ import annotations

import pandas as pd

from hashwatt.data import daily_history
from hashwatt.economics._revenue import hashprice_btc_per_ph_day

__all__ = ["hashprice_history"]


def hashprice_history(start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Daily hashprice over the shipped history (2010-07-18 to its last day).

    Index: ``date`` (UTC day). Columns: hashprice_btc_per_ph_day, hashprice_usd_per_ph_day,
    hashprice_btc_per_th_day, hashprice_usd_per_th_day, and the inputs (difficulty,
    subsidy_btc_per_block, fees_btc_per_block, price_usd, fees_interpolated,
    fees_source, price_source). Expected value at the day's mean difficulty:
    ``86,400 * 1e15 / (difficulty * 2**32) * (subsidy + fees per block)`` [BTC/PH/day].
    """
    hist = daily_history()
    if start is not None or end is not None:
        hist = hist.loc[start:end]
    hp_btc = hashprice_btc_per_ph_day(
        hist["difficulty"].to_numpy(),
        hist["subsidy_btc_per_block"].to_numpy(),
        hist["fees_btc_per_block"].to_numpy(),
    )
    out = pd.DataFrame(index=hist.index)
    out["hashprice_btc_per_ph_day"] = hp_btc
    out["hashprice_usd_per_ph_day"] = hp_btc * hist["price_usd"].to_numpy()
    out["hashprice_btc_per_th_day"] = out["hashprice_btc_per_ph_day"] / 1000.0
    out["hashprice_usd_per_th_day"] = out["hashprice_usd_per_ph_day"] / 1000.0
    for col in (
        "difficulty",
        "subsidy_btc_per_block",
        "fees_btc_per_block",
        "price_usd",
        "fees_interpolated",
        "fees_source",
        "price_source",
    ):
        out[col] = hist[col]
    return out
