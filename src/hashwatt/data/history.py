"""The daily Bitcoin network history (2010-07-18 .. 2025-12-29) and the dated network snapshot.

Built once from the project's reference data by :mod:`hashwatt.data._build` and shipped as
``files/btc_daily_history.csv.gz``; each value names its source in a ``*_source`` column
(see ``files/SOURCES.md``). Days are UTC calendar days (by block header time).

Sources by preference: per-block header times (BSD-2-Clause) and the consensus rules for
heights, block counts, subsidy and difficulty; a Bitstamp-derived daily close for the price;
blockchain.com daily fees; Coin Metrics (**CC BY-NC 4.0, non-commercial**) only where no
other daily source covers the day (block counts before 2021-01-03, fees before 2019-05 and
2025-05-02..2025-12-29, price before 2012); the every-4th-day blockchain.com series,
time-interpolated and flagged (``fees_interpolated``), for the 2022-04-30..2023-04-29 fee gap
and 2025-02-03..2025-05-01.

:func:`current_snapshot` is the package's one "as of": newer than the history where the
shipped retargets and prices reach further, each input with its own date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import lru_cache

import pandas as pd

from hashwatt.chain import COIN, HASHES_PER_DIFFICULTY, TARGET_BLOCK_INTERVAL_S, block_subsidy_sat
from hashwatt.data._embedded import embedded_path, load_retarget_history
from hashwatt.data.asof import AsOf, DatedInput
from hashwatt.errors import DataInputError

__all__ = [
    "HISTORY_COLUMNS",
    "DateOutOfRangeError",
    "NetworkSnapshot",
    "current_snapshot",
    "daily_history",
    "history_range",
    "network_snapshot",
    "recent_prices",
]

_HISTORY_FILE = "btc_daily_history.csv.gz"
_RECENT_PRICES = "btc_price_daily_recent.csv"

#: Columns of :func:`daily_history` (index: ``date``, UTC day).
HISTORY_COLUMNS = (
    "height_first",
    "height_last",
    "block_count",
    "blocks_source",
    "difficulty",
    "difficulty_source",
    "hashrate_ehs",
    "subsidy_btc_per_block",
    "subsidy_btc",
    "fees_btc_per_day",
    "fees_btc_per_block",
    "fees_source",
    "fees_interpolated",
    "price_usd",
    "price_source",
)


class DateOutOfRangeError(DataInputError):
    """A date outside the shipped history was asked for."""


@lru_cache(maxsize=1)
def _history_cached() -> pd.DataFrame:
    frame = pd.read_csv(embedded_path(_HISTORY_FILE), index_col="date", parse_dates=["date"])
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame["fees_interpolated"] = frame["fees_interpolated"].astype(bool)
    return frame[list(HISTORY_COLUMNS)]


def daily_history() -> pd.DataFrame:
    """One row per UTC day from 2010-07-18 to the last day with fees (2025-12-29).

    Columns (units in the names): height_first/height_last (block heights of the day's
    first and last block), block_count, difficulty (mean over the day's blocks),
    hashrate_ehs (difficulty x 2^32 x block_count / 86,400 s, EH/s), subsidy_btc_per_block
    (mean subsidy of the day's blocks), subsidy_btc (the day's issuance), fees_btc_per_day,
    fees_btc_per_block, price_usd (daily close), plus blocks_source, difficulty_source,
    fees_source, price_source and the bool fees_interpolated.
    """
    return _history_cached().copy()


def history_range() -> tuple[dt.date, dt.date]:
    """First and last UTC day of the shipped history."""
    idx = _history_cached().index
    return idx[0].date(), idx[-1].date()


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise DataInputError(f"not an ISO date (YYYY-MM-DD): {value!r}", field="date", value=value) from exc


def check_in_history(day: dt.date | str) -> dt.date:
    """The date, or :class:`DateOutOfRangeError` when the history does not cover it."""
    d = _as_date(day)
    first, last = history_range()
    if not first <= d <= last:
        hint = (
            f"; the last shipped day is {last}: for later days give the network "
            "(--difficulty, --btc-price, --fees-btc-per-block or --network FILE)"
            if d > last
            else ""
        )
        raise DateOutOfRangeError(
            f"{d.isoformat()} is outside the shipped history ({first} .. {last}){hint}", field="date", value=d
        )
    return d


@dataclasses.dataclass(frozen=True, slots=True)
class NetworkSnapshot:
    """The network on one UTC day: what a profitability calculator needs as "now"."""

    date: dt.date
    height: int
    difficulty: float
    price_usd: float
    fees_btc_per_block: float
    subsidy_btc_per_block: float
    hashrate_ehs: float
    price_source: str
    fees_source: str
    difficulty_source: str
    as_of: AsOf | None = None


def network_snapshot(day: dt.date | str | None = None) -> NetworkSnapshot:
    """The snapshot of ``day`` (default: :func:`current_snapshot`, the newest shipped state).

    ``height`` is the day's last block; ``difficulty`` the day's mean difficulty.
    """
    frame = _history_cached()
    if day is None:
        return current_snapshot()
    d = check_in_history(day)
    row: dict[str, object] = {str(k): v for k, v in frame.loc[pd.Timestamp(d)].to_dict().items()}
    return NetworkSnapshot(
        date=d,
        height=int(str(row["height_last"])),
        difficulty=float(str(row["difficulty"])),
        price_usd=float(str(row["price_usd"])),
        fees_btc_per_block=float(str(row["fees_btc_per_block"])),
        subsidy_btc_per_block=float(str(row["subsidy_btc_per_block"])),
        hashrate_ehs=float(str(row["hashrate_ehs"])),
        price_source=str(row["price_source"]),
        fees_source=str(row["fees_source"]),
        difficulty_source=str(row["difficulty_source"]),
        as_of=AsOf(
            (
                DatedInput("difficulty", d, str(row["difficulty_source"])),
                DatedInput("price", d, str(row["price_source"])),
                DatedInput("fees", d, str(row["fees_source"])),
            )
        ),
    )


@lru_cache(maxsize=1)
def _recent_prices_cached() -> pd.Series:
    frame = pd.read_csv(embedded_path(_RECENT_PRICES), parse_dates=["date"])
    return pd.Series(
        frame["close_usd"].to_numpy(dtype=float), index=pd.DatetimeIndex(frame["date"], name="date")
    )


def recent_prices() -> pd.Series:
    """Daily BTC closes [USD] after the history's last day too (to the newest shipped close)."""
    hist = _history_cached()["price_usd"]
    recent = _recent_prices_cached()
    out: pd.Series = pd.concat([hist, recent[recent.index > hist.index[-1]]])
    return out.rename("price_usd")


def current_snapshot() -> NetworkSnapshot:
    """The newest network state the shipped data support, each input with its own date.

    Difficulty and height: the newest shipped retarget (its date estimated where no header
    time is shipped); price: the newest shipped daily close; fees per block: the newest shipped
    day with a fee figure. Hashrate is the difficulty's at 600-s blocks.
    """
    rt = load_retarget_history().iloc[-1]
    height = int(rt["height"])
    difficulty = float(rt["difficulty"])
    rt_date = pd.Timestamp(rt["time_utc"]).date()
    estimated = str(rt.get("time_source", "header")) == "estimated_retarget_ratio"
    hist = _history_cached()
    last = hist.iloc[-1]
    prices = recent_prices()
    price_day = prices.index[-1].date()
    price_source = "bitstamp_recent_close" if price_day > hist.index[-1].date() else str(last["price_source"])
    as_of = AsOf(
        (
            DatedInput("difficulty", rt_date, f"retarget {height:,} ({rt['source']})", estimated),
            DatedInput("price", price_day, price_source),
            DatedInput("fees", hist.index[-1].date(), str(last["fees_source"])),
        )
    )
    return NetworkSnapshot(
        date=rt_date,
        height=height,
        difficulty=difficulty,
        price_usd=float(prices.iloc[-1]),
        fees_btc_per_block=float(last["fees_btc_per_block"]),
        subsidy_btc_per_block=block_subsidy_sat(height + 1) / COIN,
        hashrate_ehs=difficulty * HASHES_PER_DIFFICULTY / TARGET_BLOCK_INTERVAL_S / 1e18,
        price_source=price_source,
        fees_source=str(last["fees_source"]),
        difficulty_source=f"retarget_{rt['source']}",
        as_of=as_of,
    )
