"""Access to the files embedded in the package (``hashwatt/data/files``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from hashwatt.errors import DataError

_PACKAGE = "hashwatt.data"


def embedded_path(name: str) -> Path:
    """Filesystem path of an embedded data file; :class:`DataError` if it is not shipped."""
    path = Path(str(resources.files(_PACKAGE).joinpath("files", name)))
    if not path.is_file():
        raise DataError(f"embedded data file {name!r} is not in this installation")
    return path


@lru_cache(maxsize=1)
def _retarget_history_cached() -> pd.DataFrame:
    frame = pd.read_csv(
        embedded_path("btc_retarget_history.csv"),
        dtype={"bits_hex": str, "block_hash": str, "chainwork_hex": str},
        keep_default_na=False,
        na_values={"epoch_duration_s": [""], "implied_hashrate_ehs": [""], "difficulty_change_pct": [""]},
    )
    frame["time_utc"] = pd.to_datetime(frame["time_utc"], utc=True)
    return frame


def load_retarget_history() -> pd.DataFrame:
    """Mainnet difficulty at genesis and every retarget (heights 0, 2016, ..., 953,568).

    Columns: epoch, height, block_hash, timestamp_unix, time_utc, bits_hex, difficulty,
    difficulty_change_pct, epoch_duration_s, implied_hashrate_ehs, chainwork_hex, source
    (bitcoinj to 878,976, Apache-2.0; electrum after, MIT), time_source (header, blocks_file,
    or estimated_retarget_ratio where no header time is shipped; block_hash and chainwork are
    blank on Electrum rows). See ``files/SOURCES.md``.
    """
    return _retarget_history_cached().copy()
