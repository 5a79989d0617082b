"""Daily network history of the other proof-of-work coins, and their mining hardware.

The shipped daily files are Coin Metrics' community data (via SciEcon/data, CC BY-NC 4.0) and
**end on 2020-07-27** for every coin (Ethereum's proof of work on 2022-09-14, the day before
the Merge); nothing redistributable was found after that (see ``files/SOURCES.md``). Today's
difficulty, price and reward therefore come from the user (``hashwatt profit --coin-data``).
The hardware rows (``files/alt_algo_hardware.csv``) carry a source on every row.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import math
import re
from functools import lru_cache

import pandas as pd

from hashwatt.data._embedded import embedded_path
from hashwatt.data.hardware import AmbiguousMinerError, UnknownMinerError, lookup_miner
from hashwatt.errors import DataError, DataInputError

__all__ = [
    "COIN_HISTORY_FILES",
    "ETH_LAST_POW_BLOCK",
    "ETH_MERGE_DATE",
    "AlgoMachine",
    "AlgoRate",
    "MiningAlgorithm",
    "alt_hardware_rows",
    "coin_daily_history",
    "lookup_algo_machine",
    "parse_hashrate_hs",
]

#: Ethereum's last proof-of-work block (the Merge, EIP-3675) and its day (UTC).
ETH_LAST_POW_BLOCK = 15_537_393
ETH_MERGE_DATE = pd.Timestamp("2022-09-15").date()


class MiningAlgorithm(enum.StrEnum):
    """The proof-of-work functions hardware is rated for (``hashwatt.chain.PowAlgorithm`` is the
    subset whose hash hashwatt computes; the two shared names are spelt the same)."""

    SHA256D = "sha256d"
    SCRYPT = "scrypt"
    X11 = "x11"
    ETCHASH = "etchash"
    ETHASH = "ethash"
    RANDOMX = "randomx"
    EQUIHASH = "equihash"
    KAWPOW = "kawpow"
    AUTOLYKOS2 = "autolykos2"

    @classmethod
    def parse(cls, text: str) -> MiningAlgorithm:
        """An algorithm from its name, any case, with or without dashes (``SHA-256`` is sha256d)."""
        key = re.sub(r"[^a-z0-9]", "", text.lower())
        key = {"sha256": "sha256d", "equihash2009": "equihash", "autolykos": "autolykos2"}.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise DataInputError(
                f"unknown algorithm {text!r} (one of {names})", field="algorithm", value=text
            ) from None


#: Coin ticker (lower case) -> shipped daily file (Coin Metrics columns, unchanged).
COIN_HISTORY_FILES = {
    "ltc": "ltc_daily_coinmetrics_2011_2020.csv.gz",
    "doge": "doge_daily_coinmetrics_2013_2020.csv.gz",
    "bch": "bch_daily_coinmetrics_2017_2020.csv.gz",
    "etc": "etc_daily_coinmetrics_2016_2020.csv.gz",
    "eth": "eth_pow_daily_coinmetrics_2015_2022.csv.gz",
    "xmr": "xmr_daily_coinmetrics_2014_2020.csv.gz",
    "zec": "zec_daily_coinmetrics_2016_2020.csv.gz",
    "dash": "dash_daily_coinmetrics_2014_2020.csv.gz",
}


#: Blocks before a file's first day that its cumulative count leaves out. Bitcoin Cash's file
#: starts on 2017-08-01, the day it split from Bitcoin after block 478,558, and counts that day's
#: Bitcoin blocks too: with 478,476-478,478 added, every one of the 78 shipped BCH headers
#: (shared/data, every 2016 blocks to 2020-05) falls on its own day's heights; the middle is
#: taken (tests/economics/test_coins.py checks all 78 and the 630,000 halving day).
HEIGHT_BEFORE_FILE = {"bch": 478_477}


@lru_cache(maxsize=len(COIN_HISTORY_FILES))
def _history_cached(ticker: str) -> pd.DataFrame:
    frame = pd.read_csv(embedded_path(COIN_HISTORY_FILES[ticker]), parse_dates=["date"], index_col="date")
    frame = frame.rename(columns={"difficulty_mean": "difficulty"})
    if ticker == "eth":
        # the merge day mixes PoW and PoS blocks (flagged in the source's note): not PoW history
        frame = frame.loc[frame.index < pd.Timestamp(ETH_MERGE_DATE)]
    frame["height"] = frame["block_count"].cumsum().astype("int64") + HEIGHT_BEFORE_FILE.get(ticker, 0)
    columns = ["block_count", "height", "difficulty", "issuance_native", "fees_native", "price_usd"]
    return frame[columns]


def coin_daily_history(ticker: str) -> pd.DataFrame:
    """One coin's shipped daily history, indexed by UTC day.

    Columns: block_count, height (cumulative block count: the last height of the day for LTC,
    and for BCH with the blocks before its file added (:data:`HEIGHT_BEFORE_FILE`), within a
    few thousand blocks for DOGE, whose file starts two days after genesis),
    difficulty (the day's mean, in the coin's own convention), issuance_native (**all** new
    coins, miners' or not: ZEC's funding streams, DASH's masternodes and treasury, ETH/ETC's
    uncles are in it), fees_native, price_usd. Ends 2020-07-27 (ETH: 2022-09-14, issuance and
    fees blank after 2020-07-27).
    """
    key = ticker.strip().lower()
    if key not in COIN_HISTORY_FILES:
        known = ", ".join(COIN_HISTORY_FILES)
        raise DataInputError(
            f"no shipped daily history for {ticker!r} (shipped: {known})", field="ticker", value=ticker
        )
    return _history_cached(key).copy()


# --------------------------------------------------------------------------- hashrates

_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
_RATE = re.compile(
    r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgtpe]?)\s*(?:h/s|sol/s|h|sol)?\s*$", re.IGNORECASE
)


def parse_hashrate_hs(text: str | float) -> float:
    """A hashrate [H/s] from ``"15GH/s"``, ``"15 G"``, ``"24.5MH/s"``, ``"1539"`` or ``"300 kSol/s"``."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _RATE.match(text)
        if m is None:
            raise DataInputError(
                f"hashrate must be a number with an optional k/M/G/T/P unit, got {text!r}",
                field="hashrate",
                value=text,
            )
        value = float(m.group(1)) * _PREFIX[m.group(2).lower()]
    if not (math.isfinite(value) and value > 0):
        raise DataInputError(
            f"hashrate must be positive and finite, got {text!r}", field="hashrate", value=text
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class AlgoRate:
    """A device's rating on one algorithm: hashrate [H/s] (Sol/s for Equihash) and power [W].

    ``power_w`` is NaN where the source gives none (the RandomX CPU table); a range in the
    source is taken at its upper end (the cost side errs high).
    """

    algorithm: MiningAlgorithm
    hashrate_hs: float
    power_w: float
    source: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hashrate_hs) and self.hashrate_hs > 0):
            raise DataInputError(
                f"{self.algorithm}: hashrate must be > 0 H/s, got {self.hashrate_hs}",
                field="hashrate_hs",
                value=self.hashrate_hs,
            )
        if not (math.isnan(self.power_w) or (math.isfinite(self.power_w) and self.power_w > 0)):
            raise DataInputError(
                f"{self.algorithm}: power must be > 0 W, got {self.power_w}",
                field="power_w",
                value=self.power_w,
            )


@dataclasses.dataclass(frozen=True, slots=True)
class AlgoMachine:
    """A machine or card with its ratings, one per algorithm it can mine."""

    model: str
    maker: str
    device_type: str
    rates: tuple[AlgoRate, ...]

    def rate(self, algorithm: MiningAlgorithm) -> AlgoRate | None:
        return next((r for r in self.rates if r.algorithm is algorithm), None)

    def with_rate(self, rate: AlgoRate) -> AlgoMachine:
        """This machine with ``rate`` replacing its rating on the same algorithm (user values win)."""
        rest = tuple(r for r in self.rates if r.algorithm is not rate.algorithm)
        return dataclasses.replace(self, rates=(*rest, rate))


def _power_w(text: str) -> float:
    text = text.strip()
    if not text:
        return math.nan
    try:
        return max(float(part) for part in text.split("-"))
    except ValueError as exc:
        raise DataError(f"alt_algo_hardware.csv: power {text!r} is not W or a W-W range") from exc


@lru_cache(maxsize=1)
def _alt_rows() -> pd.DataFrame:
    raw = pd.read_csv(embedded_path("alt_algo_hardware.csv"), dtype=str, keep_default_na=False)
    rows = []
    for rec in raw.to_dict(orient="records"):
        rows.append(
            {
                "model": rec["model"],
                "maker": rec["manufacturer"],
                "device_type": rec["device_type"],
                "algorithm": MiningAlgorithm.parse(rec["algorithm"]).value,
                "hashrate_hs": parse_hashrate_hs(f"{rec['hashrate']} {rec['hashrate_unit']}"),
                "power_w": _power_w(rec["power_w"]),
                "source": f"{rec['source_repo_or_url']} {rec['source_path_commit']}".strip(),
                "confidence": rec["confidence"],
            }
        )
    return pd.DataFrame(rows)


def alt_hardware_rows() -> pd.DataFrame:
    """The shipped non-SHA-256 hardware ratings, one row per device and algorithm.

    Columns: model, maker, device_type, algorithm, hashrate_hs, power_w (NaN: not given),
    source, confidence.
    """
    return _alt_rows().copy()


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _machine(model: str, rows: pd.DataFrame) -> AlgoMachine:
    sel = rows[rows["model"] == model]
    first = sel.iloc[0]
    rates = tuple(
        AlgoRate(
            MiningAlgorithm(r["algorithm"]), float(r["hashrate_hs"]), float(r["power_w"]), str(r["source"])
        )
        for r in sel.to_dict(orient="records")
    )
    return AlgoMachine(
        model=model, maker=str(first["maker"]), device_type=str(first["device_type"]), rates=rates
    )


def lookup_algo_machine(query: str) -> AlgoMachine:
    """A machine by fuzzy name from the alt-algorithm rows, then the SHA-256 catalog.

    Every word of ``query`` must appear in the model name (``"l9"``, ``"rtx 3080"``); several
    different models matching is an :class:`AmbiguousMinerError`, none an
    :class:`UnknownMinerError` with the closest names.
    """
    words = _tokens(query)
    if not words:
        raise DataInputError("empty machine name")
    alt = _alt_rows()
    names = list(dict.fromkeys(alt["model"]))
    hits = [n for n in names if words <= _tokens(n)]
    exact = [n for n in hits if _tokens(n) == words]
    if len(exact) == 1 or len(hits) == 1:
        return _machine((exact or hits)[0], alt)
    if hits:
        raise AmbiguousMinerError(query, tuple(hits))
    try:
        miner = lookup_miner(query).miner
    except UnknownMinerError:
        close = difflib.get_close_matches(query, names, n=3, cutoff=0.4)
        raise UnknownMinerError(query, tuple(close)) from None
    rate = AlgoRate(MiningAlgorithm.SHA256D, miner.hashrate_ths * 1e12, miner.power_w, miner.source)
    return AlgoMachine(model=miner.model, maker=miner.maker, device_type="ASIC", rates=(rate,))
