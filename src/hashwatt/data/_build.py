"""Rebuild the shipped economics datasets from the project's reference data folder.

Run by maintainers, never at import time::

    python -m hashwatt.data._build /path/to/shared/data

It writes ``files/asic_miners_catalog.csv``, ``files/btc_retarget_history.csv``,
``files/btc_price_daily_recent.csv`` and ``files/btc_daily_history.csv.gz``. Every
number comes from a file in the reference folder (see ``files/SOURCES.md``); the only
arithmetic is unit conversion, power = hashrate x stated efficiency where only the
efficiency is printed, and the consensus rules (subsidy by height, retarget by header time).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hashwatt.chain import (
    COIN,
    HASHES_PER_DIFFICULTY,
    RETARGET_INTERVAL,
    SECONDS_PER_DAY,
    TARGET_BLOCK_INTERVAL_S,
    TARGET_TIMESPAN_S,
    block_subsidy_sat,
    difficulty_from_bits,
    hashes_per_block,
    next_bits,
)
from hashwatt.data.hardware import CATALOG_COLUMNS
from hashwatt.data.history import HISTORY_COLUMNS
from hashwatt.errors import DataError

_FILES = Path(__file__).parent / "files"

# --------------------------------------------------------------------------- catalog

_F2POOL_SRC = (
    "F2Pool 'Popular Mining Devices' snapshot 2020-03 via github.com/mattk8/mining-data "
    "mining-devices.csv @ f4b94058100d9b501e3aa01e82d216bc91b74430"
)
_ASICSTOOLS_SRC = (
    "github.com/nhamilton1/asics-tools src/utils/asic-queries/asicWattList.ts "
    "@ 31a4c43cb1f9aaa640b3529a71adbbe762f7bc48"
)
_MAKER_NAMES = {"Whatsminer": "MicroBT", "INNOSILICON": "Innosilicon"}

# asics-tools lower-case names -> (maker, display model)
_ASICSTOOLS_NAMES = {
    "bitmain antminer s9": ("Bitmain", "Antminer S9"),
    "bitmain antminer s11": ("Bitmain", "Antminer S11"),
    "bitmain antminer s17e": ("Bitmain", "Antminer S17e"),
    "bitmain antminer s19 pro": ("Bitmain", "Antminer S19 Pro"),
    "bitmain antminer s19j pro": ("Bitmain", "Antminer S19j Pro"),
    "bitmain antminer s19j": ("Bitmain", "Antminer S19j"),
    "bitmain antminer s19": ("Bitmain", "Antminer S19"),
    "bitmain antminer s19a": ("Bitmain", "Antminer S19a"),
    "bitmain antminer s19a pro": ("Bitmain", "Antminer S19a Pro"),
    "bitmain antminer s19 xp": ("Bitmain", "Antminer S19 XP"),
    "whatsminer m50": ("MicroBT", "Whatsminer M50"),
    "whatsminer m30s": ("MicroBT", "Whatsminer M30S"),
    "whatsminer m31s": ("MicroBT", "Whatsminer M31S"),
    "whatsminer m31s+": ("MicroBT", "Whatsminer M31S+"),
    "whatsminer m30s+": ("MicroBT", "Whatsminer M30S+"),
    "whatsminer m30s++": ("MicroBT", "Whatsminer M30S++"),
    "whatsminer m21s": ("MicroBT", "Whatsminer M21S"),
    "whatsminer m20s": ("MicroBT", "Whatsminer M20S"),
    "canaan avalonminer 1066": ("Canaan", "Avalon 1066"),
    "canaan avalonminer 1246": ("Canaan", "Avalon 1246"),
    "canaan avalonminer 1166": ("Canaan", "Avalon 1166"),
    "canaan avalonminer 1166 pro": ("Canaan", "Avalon 1166 Pro"),
    "canaan avalonminer 1146": ("Canaan", "Avalon 1146"),
    "canaan avalonminer 1146 pro": ("Canaan", "Avalon 1146 Pro"),
    "canaan avalon 1246": ("Canaan", "Avalon 1246"),
}

# Rows of the two newer-model files that are superseded by another row for the same model,
# with the reason (kept out of the catalog, listed in SOURCES.md).
_SUPERSEDED = {
    (
        "Antminer S21",
        3200.0,
    ): "btccontract.de 'around 3200W' is low-confidence; Bitmain-quoted 17.5 J/TH kept",
    ("Antminer S21 Pro", 3531.0): "3531 W from one blog; 3510 W (15 J/TH) from lmc-mining.vercel.app kept",
}
# asics-tools lists the non-Pro S19j with the S19j Pro's four bins, figure for figure (a copy,
# not a measurement): those rows are left out; the cited S19j row is in asic_miners_additions.csv.
_COPIED_MODELS = {"Antminer S19j": "asics-tools repeats the S19j Pro's bins under the S19j name"}

_CATALOG_COLUMNS = [*CATALOG_COLUMNS, "note"]


def _catalog_rows(shared: Path) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    f2 = pd.read_csv(shared / "asic_miners_sha256_f2pool_2020.csv")
    for rec in f2.to_dict(orient="records"):
        # F2Pool names some bins "(48T)"; bins are re-labelled uniformly below.
        model = re.sub(r"\s*\(\d+(\.\d+)?T\)\s*$", "", str(rec["model"])).strip()
        model = re.sub(r"\s+\)", ")", model).replace("INNOSILICON", "Innosilicon")
        rows.append(
            {
                "model": model,
                "maker": _MAKER_NAMES.get(str(rec["manufacturer"]), str(rec["manufacturer"])),
                "algorithm": "SHA-256",
                "hashrate_ths": float(rec["hashrate_ths"]),
                "power_w": float(rec["power_w"]),
                "release_date": dt.date(int(rec["release_year"]), int(rec["release_month"]), 1).isoformat(),
                "price_usd": None,
                "source": _F2POOL_SRC,
                "note": "release_date = F2Pool listing month",
                "priority": 1,
            }
        )
    at = pd.read_csv(shared / "asic_miners_sha256_variants_asicstools_2022.csv")
    for rec in at.to_dict(orient="records"):
        maker, model = _ASICSTOOLS_NAMES[str(rec["model_lowercase"]).lower()]
        if model in _COPIED_MODELS:
            continue
        rows.append(
            {
                "model": model,
                "maker": maker,
                "algorithm": "SHA-256",
                "hashrate_ths": float(rec["hashrate_ths"]),
                "power_w": float(rec["power_w"]),
                "release_date": None,
                "price_usd": None,
                "source": _ASICSTOOLS_SRC,
                "note": "",
                "priority": 0,
            }
        )
    new = pd.read_csv(shared / "asic_miners_2021_2025.csv")
    for rec in new.to_dict(orient="records"):
        if rec["hashrate_unit"] != "TH/s":
            continue  # Scrypt machines (GH/s) have no power figure in the source
        power = rec["power_w_stated"] if pd.notna(rec["power_w_stated"]) else rec["power_w_derived"]
        if pd.isna(power):
            continue
        derived = pd.isna(rec["power_w_stated"])
        rows.append(
            {
                "model": str(rec["model"]),
                "maker": str(rec["manufacturer"]),
                "algorithm": str(rec["algorithm"]),
                "hashrate_ths": float(rec["hashrate"]),
                "power_w": float(power),
                "release_date": None,
                "price_usd": None,
                "source": str(rec["source_url"]),
                "note": ("power = hashrate x stated J/TH; " if derived else "")
                + (str(rec["date_info"]) if pd.notna(rec["date_info"]) else ""),
                "priority": 2,
            }
        )
    extra = pd.read_csv(shared / "asic_miners_extra_2020_2025.csv")
    for rec in extra.to_dict(orient="records"):
        if rec["hashrate_unit"] != "TH/s":
            continue
        hashrate = float(rec["hashrate"])
        derived = pd.isna(rec["power_w"])
        if derived and pd.isna(rec["efficiency_j_per_th"]):
            continue  # Bitaxe rows: no wattage in the source
        power = float(rec["power_w"]) if not derived else hashrate * float(rec["efficiency_j_per_th"])
        release = str(rec["release"]) if pd.notna(rec["release"]) else None
        rows.append(
            {
                "model": str(rec["model"]),
                "maker": str(rec["manufacturer"]),
                "algorithm": str(rec["algorithm"]),
                "hashrate_ths": hashrate,
                "power_w": power,
                "release_date": f"{release}-01" if release else None,
                "price_usd": None,
                "source": str(rec["source_url"]),
                "note": ("power = hashrate x stated J/TH; " if derived else "")
                + f"cooling: {rec['cooling']}",
                "priority": 2,
            }
        )
    # Rows found for issue 7 (one cited page each; see files/SOURCES.md).
    added = pd.read_csv(_FILES / "asic_miners_additions.csv")
    for rec in added.to_dict(orient="records"):
        rows.append(
            {
                "model": str(rec["model"]),
                "maker": str(rec["manufacturer"]),
                "algorithm": str(rec["algorithm"]),
                "hashrate_ths": float(rec["hashrate_ths"]),
                "power_w": float(rec["power_w"]),
                "release_date": f"{rec['release']}-01" if pd.notna(rec["release"]) else None,
                "price_usd": None,
                "source": str(rec["source_url"]),
                "note": str(rec["quote"]),
                "priority": 3,
            }
        )
    frame = pd.DataFrame(rows)
    frame["note"] = frame["note"].fillna("").astype(str).str.strip("; ")
    return frame


def _with_launch_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """Launch prices [USD] from ``files/asic_miners_launch_prices.csv`` onto (model, hashrate) rows.

    Each price has its own dated source; it goes into the row's note (the row's ``source``
    stays the spec source).
    """
    prices = pd.read_csv(_FILES / "asic_miners_launch_prices.csv")
    frame = frame.copy()
    for rec in prices.to_dict(orient="records"):
        hit = (frame["model"] == rec["model"]) & (frame["hashrate_ths"] == float(rec["hashrate_ths"]))
        if int(hit.sum()) != 1:
            raise DataError(
                f"launch price for {rec['model']} {rec['hashrate_ths']} TH/s matches no catalog row"
            )
        frame.loc[hit, "price_usd"] = float(rec["price_usd"])
        note = f"launch price {float(rec['price_usd']):g} USD as of {rec['date']}: {rec['source_url']} ({rec['quote']})"
        old = str(frame.loc[hit, "note"].iloc[0])
        frame.loc[hit, "note"] = f"{old}; {note}" if old else note
    return frame


def _with_release_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """First-shipment months from ``files/asic_miners_release_dates.csv`` onto every bin of a model.

    Only rows without a date get one (a source's own date wins); the month's source and quote go
    into the note.
    """
    dates = pd.read_csv(_FILES / "asic_miners_release_dates.csv")
    frame = frame.copy()
    for rec in dates.to_dict(orient="records"):
        hit = (frame["model"] == rec["model"]) & frame["release_date"].isna()
        if not bool((frame["model"] == rec["model"]).any()):
            raise DataError(f"release date for {rec['model']} matches no catalog row")
        frame.loc[hit, "release_date"] = f"{rec['release']}-01"
        note = f"available from {rec['release']}: {rec['source_url']} ({rec['quote']})"
        frame.loc[hit, "note"] = [f"{old}; {note}" if old else note for old in frame.loc[hit, "note"]]
    return frame


def build_catalog(shared: Path) -> pd.DataFrame:
    """The merged SHA-256 catalog: one row per distinct (model, hashrate bin)."""
    frame = _catalog_rows(shared)
    keep = [(m, p) not in _SUPERSEDED for m, p in zip(frame["model"], frame["power_w"], strict=True)]
    frame = frame[keep]
    # Same model and hashrate from several files: keep the cited newer file, then F2Pool.
    frame = frame.sort_values(["model", "hashrate_ths", "priority"], ascending=[True, True, False])
    frame = frame.drop_duplicates(["model", "hashrate_ths"], keep="first")
    frame = _with_launch_prices(frame)
    frame = _with_release_dates(frame)
    # Same model at several hashrate bins: name each bin "Model (104T)".
    counts = frame.groupby("model")["model"].transform("size")
    multi = counts > 1
    frame.loc[multi, "model"] = [
        f"{m} ({h:g}T)"
        for m, h in zip(frame.loc[multi, "model"], frame.loc[multi, "hashrate_ths"], strict=True)
    ]
    frame = frame.drop_duplicates(["model"], keep="first")
    frame["efficiency_j_per_th"] = (frame["power_w"] / frame["hashrate_ths"]).round(3)
    frame = frame.sort_values(["efficiency_j_per_th", "model"]).reset_index(drop=True)
    return frame[_CATALOG_COLUMNS]


# --------------------------------------------------------------------------- retargets

_RETARGET_COLUMNS = [
    "epoch",
    "height",
    "block_hash",
    "timestamp_unix",
    "time_utc",
    "bits_hex",
    "difficulty",
    "difficulty_change_pct",
    "epoch_duration_s",
    "implied_hashrate_ehs",
    "chainwork_hex",
    "source",
    "time_source",
]


def build_retargets(shared: Path) -> pd.DataFrame:
    """Every retarget: bitcoinj's checkpoints to 878,976, then Electrum's to 953,568.

    Electrum's checkpoints carry bits but no header time. The time comes from the per-block
    file where it covers the height; past it, the consensus rule is inverted: a retarget sets
    D' = D x 1,209,600 s / span, so span = 1,209,600 x D / D' gives time(h - 1) from
    time(h - 2016) (exact up to compact-bits rounding, a few seconds), and block h is put one
    target interval later (``time_source`` = estimated_retarget_ratio).
    """
    bj = pd.read_csv(shared / "btc_retarget_history.csv", dtype=str, keep_default_na=False)
    bj["source"] = "bitcoinj"
    bj["time_source"] = "header"
    el = pd.read_csv(shared / "btc_retargets_electrum_880992_953568.csv", dtype={"bits_hex": str})
    blocks = pd.read_csv(
        shared / "btc_blocks_pool_664063_946236.csv.gz", usecols=["height", "timestamp_unix"]
    ).set_index("height")["timestamp_unix"]
    known = dict(zip(bj["height"].astype(int).tolist(), bj["bits_hex"].tolist(), strict=True))
    rows: list[dict[str, object]] = []
    prev_bits = int(str(bj["bits_hex"].iloc[-1]), 16)
    prev_height = int(str(bj["height"].iloc[-1]))
    prev_time = int(str(bj["timestamp_unix"].iloc[-1]))
    for rec in el.sort_values("height").to_dict(orient="records"):
        height = int(rec["height"])
        bits = int(str(rec["bits_hex"]), 16)
        if height in known:
            if known[height] != str(rec["bits_hex"]):
                raise DataError(f"Electrum and bitcoinj disagree on the bits at {height}")
            continue
        if height != prev_height + RETARGET_INTERVAL:
            raise DataError(f"Electrum checkpoints skip a retarget before {height}")
        if height - 1 in blocks.index and next_bits(prev_bits, prev_time, int(blocks[height - 1])) != bits:
            raise DataError(f"retarget rule disagrees with Electrum at {height}")
        if height in blocks.index:
            time_unix, time_source = int(blocks[height]), "blocks_file"
        else:
            span = TARGET_TIMESPAN_S * difficulty_from_bits(prev_bits) / difficulty_from_bits(bits)
            time_unix = round(prev_time + span + TARGET_BLOCK_INTERVAL_S)
            time_source = "estimated_retarget_ratio"
        rows.append(
            {
                "epoch": height // RETARGET_INTERVAL,
                "height": height,
                "block_hash": "",
                "timestamp_unix": time_unix,
                "time_utc": dt.datetime.fromtimestamp(time_unix, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "bits_hex": f"{bits:08x}",
                "chainwork_hex": "",
                "source": "electrum",
                "time_source": time_source,
            }
        )
        prev_bits, prev_height, prev_time = bits, height, time_unix
    new = pd.DataFrame(rows)
    # Derived columns as in the bitcoinj rows (which are kept verbatim, strings and all).
    times = pd.concat([bj["timestamp_unix"].iloc[-1:].astype(int), new["timestamp_unix"]], ignore_index=True)
    bits_all = [str(bj["bits_hex"].iloc[-1]), *new["bits_hex"].tolist()]
    diffs = np.array([difficulty_from_bits(int(b, 16)) for b in bits_all])
    duration = (times.shift(-1) - times).to_numpy(dtype=float)
    implied = diffs * HASHES_PER_DIFFICULTY / (duration / RETARGET_INTERVAL) / 1e18
    new["difficulty"] = [f"{d:.10g}" for d in diffs[1:]]
    new["difficulty_change_pct"] = [f"{x:.4f}" for x in (diffs[1:] / diffs[:-1] - 1) * 100]
    new["epoch_duration_s"] = ["" if np.isnan(d) else str(int(d)) for d in duration[1:]]
    new["implied_hashrate_ehs"] = ["" if np.isnan(x) else f"{x:.9g}" for x in implied[1:]]
    bj = bj.astype(str).replace("nan", "")
    last = len(bj) - 1
    bj.loc[last, "epoch_duration_s"] = str(int(duration[0]))
    bj.loc[last, "implied_hashrate_ehs"] = f"{implied[0]:.9g}"
    frame = pd.concat([bj, new.astype(str)], ignore_index=True)
    return frame[_RETARGET_COLUMNS]


def build_recent_prices(shared: Path) -> pd.DataFrame:
    """Bitstamp daily closes after the OHLCV file (CC BY-SA 4.0, shipped as its own file)."""
    frame = pd.read_csv(shared / "btc_price_daily_bitstamp_2025-06-01_2026-08-21.csv")
    frame["source"] = "bitstamp_zielak_typedcypher"
    return frame[["date", "close_usd", "source"]]


# --------------------------------------------------------------------------- daily history


def _epoch_difficulties(shared: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """Difficulty of every retarget epoch to the end of the per-block file.

    Epochs 0..436 come from the bitcoinj headers; later epochs are recomputed with the
    consensus retarget rule from the per-block header times (checked against the headers
    where both exist).
    """
    rt = pd.read_csv(shared / "btc_retarget_history.csv", dtype={"bits_hex": str})
    bits = [int(b, 16) for b in rt["bits_hex"]]
    blocks = pd.read_csv(
        shared / "btc_blocks_pool_664063_946236.csv.gz", usecols=["height", "timestamp_unix"]
    )
    times = dict(zip(blocks["height"].tolist(), blocks["timestamp_unix"].tolist(), strict=True))
    last_height = int(blocks["height"].max())
    epoch = 1
    while epoch * RETARGET_INTERVAL <= last_height:
        h = epoch * RETARGET_INTERVAL
        if (h - RETARGET_INTERVAL) in times and (h - 1) in times:
            recomputed = next_bits(bits[epoch - 1], times[h - RETARGET_INTERVAL], times[h - 1])
            if epoch < len(bits):
                if recomputed != bits[epoch]:
                    raise DataError(f"retarget rule disagrees with headers at {h}")
            else:
                bits.append(recomputed)
        epoch += 1
    diffs = np.array([difficulty_from_bits(b) for b in bits])
    return diffs, blocks


def _per_block_day(blocks: pd.DataFrame) -> pd.DataFrame:
    day = pd.to_datetime(blocks["timestamp_unix"], unit="s").dt.normalize()
    return pd.DataFrame({"height": blocks["height"], "date": day})


def build_history(shared: Path) -> pd.DataFrame:
    """The daily network history; see ``files/SOURCES.md`` for every column's origin."""
    epoch_diff, blocks = _epoch_difficulties(shared)
    cm = pd.read_csv(shared / "btc_daily_coinmetrics_2009_2023.csv", parse_dates=["date"]).set_index("date")
    start = cm["price_usd"].first_valid_index()
    fees4 = pd.read_csv(shared / "btc_fees_price_blockchaincom_4day_2009_2025.csv", parse_dates=["date"])
    fee_pts = fees4[fees4["metric"] == "transaction-fees"].set_index("date")["value"].astype(float)
    price_pts = fees4[fees4["metric"] == "market-price"].set_index("date")["value"].astype(float)
    cm25 = pd.read_csv(
        shared / "btc_network_daily_coinmetrics_2025-05-02_2025-12-29.csv", parse_dates=["date"]
    ).set_index("date")
    end = cm25.index.max()  # the last day with a fee figure
    days = pd.date_range(pd.Timestamp(str(start)), pd.Timestamp(str(end)), freq="D")
    out = pd.DataFrame(index=pd.DatetimeIndex(days, name="date"))

    # Block counts and heights: per-block header times (BSD-2) from the first whole UTC day,
    # Coin Metrics cumulative counts (CC BY-NC) before.
    per = _per_block_day(blocks)
    g = per.groupby("date")["height"]
    first_full = g.min().index[1]
    last_full = g.min().index[-2]
    bl = pd.DataFrame({"first": g.min(), "last": g.max(), "n": g.size()}).loc[first_full:last_full]
    cm_cum = cm["block_count"].cumsum()
    out["block_count"] = cm["block_count"].reindex(days)
    out["height_last"] = cm_cum.reindex(days) - 1  # genesis (height 0) is not in the day counts
    out["blocks_source"] = "coinmetrics"
    in_bl = out.index.isin(bl.index)
    out.loc[in_bl, "block_count"] = bl["n"].reindex(out.index[in_bl]).to_numpy()
    out.loc[in_bl, "height_last"] = bl["last"].reindex(out.index[in_bl]).to_numpy()
    out.loc[in_bl, "blocks_source"] = "blocks_file"
    out["block_count"] = out["block_count"].astype(int)
    out["height_last"] = out["height_last"].astype(int)
    out["height_first"] = out["height_last"] - out["block_count"] + 1
    # Blocks in the file with header times out of order can make a day's span wider than its
    # count; mean difficulty and subsidy use the contiguous span [first, last].
    subsidy_sum = np.zeros(len(out))
    diff_mean = np.zeros(len(out))
    for i, (h0, h1) in enumerate(zip(out["height_first"].tolist(), out["height_last"].tolist(), strict=True)):
        hs = np.arange(h0, h1 + 1) if h1 >= h0 else np.array([h1])
        epochs = hs // RETARGET_INTERVAL
        if int(epochs.max()) >= len(epoch_diff):
            raise DataError(f"no difficulty for height {int(hs.max())}")
        diff_mean[i] = float(epoch_diff[epochs].mean())
        subsidy_sum[i] = sum(block_subsidy_sat(int(h)) for h in hs) / len(hs)
    out["difficulty"] = diff_mean
    out["difficulty_source"] = np.where(
        out["height_last"] < 437 * RETARGET_INTERVAL, "retarget_history", "retarget_rule_blocks_file"
    )
    out["subsidy_btc_per_block"] = subsidy_sum / COIN
    out["subsidy_btc"] = out["subsidy_btc_per_block"] * out["block_count"]

    # Price: Bitstamp-derived daily close from 2012, Coin Metrics before.
    ohlcv = pd.read_csv(shared / "btc_price_daily_ohlcv_2012_2025.csv", parse_dates=["date"]).set_index(
        "date"
    )
    price = ohlcv["close_usd"].reindex(days)
    src = pd.Series(np.where(price.notna(), "bitstamp_ohlcv_close", ""), index=days, dtype=object)
    cm_price = cm["price_usd"].reindex(days)
    fill = price.isna() & cm_price.notna()
    price[fill] = cm_price[fill]
    src[fill] = "coinmetrics"
    recent = build_recent_prices(shared)
    recent_close = recent.set_index(pd.to_datetime(recent["date"]))["close_usd"].reindex(days)
    fill = price.isna() & recent_close.notna()
    price[fill] = recent_close[fill]
    src[fill] = "bitstamp_recent_close"
    fill = price.isna()
    if fill.any():
        interp = price_pts.reindex(price_pts.index.union(days)).interpolate(method="time").reindex(days)
        price[fill] = interp[fill]
        src[fill] = "blockchaincom_4day_interpolated"
    out["price_usd"] = price
    out["price_source"] = src

    # Fees: blockchain.com daily where present, Coin Metrics daily before 2019-05, the 4-day
    # blockchain.com series (exact on its days, time-interpolated between) elsewhere.
    daily = pd.read_csv(shared / "btc_daily_fees_blockchaincom_2019_2024.csv", parse_dates=["date_utc"])
    daily_fees = daily.set_index("date_utc")["fees_btc"].reindex(days)
    more = pd.read_csv(
        shared / "btc_fees_daily_blockchaincom_2024-02-06_2025-02-02.csv", parse_dates=["date"]
    )
    more_fees = more.set_index("date")["fees_btc"].reindex(days)
    both = daily_fees.notna() & more_fees.notna()
    if not np.allclose(daily_fees[both], more_fees[both], rtol=1e-9):
        raise DataError("the two blockchain.com daily fee exports disagree where they overlap")
    fees = daily_fees.fillna(more_fees)
    fsrc = pd.Series(np.where(fees.notna(), "blockchaincom_daily", ""), index=days, dtype=object)
    # Coin Metrics 2025 (CC BY-NC, transcribed by hand from a stored copy: less certain).
    cm25_fees = cm25["fees_btc"].reindex(days)
    fill = fees.isna() & cm25_fees.notna()
    fees[fill] = cm25_fees[fill]
    fsrc[fill] = "coinmetrics_2025_transcribed"
    cm_fees = cm["fees_btc"].reindex(days)
    fill = fees.isna() & cm_fees.notna()
    fees[fill] = cm_fees[fill]
    fsrc[fill] = "coinmetrics"
    exact4 = fee_pts.reindex(days)
    fill = fees.isna() & exact4.notna()
    fees[fill] = exact4[fill]
    fsrc[fill] = "blockchaincom_4day"
    fill = fees.isna()
    interp = fee_pts.reindex(fee_pts.index.union(days)).interpolate(method="time").reindex(days)
    fees[fill] = interp[fill]
    fsrc[fill] = "blockchaincom_4day_interpolated"
    if fees.isna().any():
        raise DataError(f"no fee figure for {fees.index[fees.isna()][0].date()}")
    out["fees_btc_per_day"] = fees
    out["fees_source"] = fsrc
    out["fees_interpolated"] = fsrc == "blockchaincom_4day_interpolated"
    out["fees_btc_per_block"] = out["fees_btc_per_day"] / out["block_count"].where(out["block_count"] > 0)
    # Implied hashrate: the day's expected hashes (blocks x hashes per block) over the day.
    out["hashrate_ehs"] = [
        hashes_per_block(d) * n / SECONDS_PER_DAY / 1e18
        for d, n in zip(out["difficulty"].tolist(), out["block_count"].tolist(), strict=True)
    ]
    return out[list(HISTORY_COLUMNS)]


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 else Path("../shared/data")
    catalog = build_catalog(shared)
    catalog.to_csv(_FILES / "asic_miners_catalog.csv", index=False)
    retargets = build_retargets(shared)
    retargets.to_csv(_FILES / "btc_retarget_history.csv", index=False, lineterminator="\r\n")
    build_recent_prices(shared).to_csv(_FILES / "btc_price_daily_recent.csv", index=False)
    history = build_history(shared)
    history.to_csv(
        _FILES / "btc_daily_history.csv.gz",
        float_format="%.15g",
        compression={"method": "gzip", "mtime": 0},
    )
    print(
        f"catalog: {len(catalog)} models; history: {len(history)} days {history.index[0]}..{history.index[-1]}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
