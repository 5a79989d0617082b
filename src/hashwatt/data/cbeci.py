"""Read a Cambridge Bitcoin Electricity Consumption Index (CBECI) daily CSV supplied by the user.

CBECI's data are CC BY-NC-SA 4.0 (Cambridge Centre for Alternative Finance), so hashwatt ships
none of it: a user who downloaded the export (or a tidy copy of it) passes the file, and
``network energy --cbeci FILE`` compares and overlays it. Accepted headers: the tidy
``date, power_min_gw, power_guess_gw, power_max_gw`` or CCAF's export names, any column whose
name holds "date" and "power" with "min", "guess" or "max" (case and punctuation ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from hashwatt.errors import DataError, DataInputError

__all__ = ["CBECI_COLUMNS", "load_cbeci_csv"]

#: Columns of :func:`load_cbeci_csv`'s frame [GW], indexed by UTC day.
CBECI_COLUMNS = ("power_min_gw", "power_guess_gw", "power_max_gw")


def _key(name: str) -> str:
    return re.sub(r"[^a-z]+", " ", name.lower())


def load_cbeci_csv(path: str | Path) -> pd.DataFrame:
    """CBECI's daily network power: lower bound, best guess, upper bound [GW] per UTC day."""
    path = Path(path)
    if not path.is_file():
        raise DataInputError(f"CBECI file not found: {path}", field="path", value=str(path), path=str(path))
    try:
        raw = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    keys = {str(c): _key(str(c)) for c in raw.columns}
    dates = [c for c, k in keys.items() if "date" in k]
    found: dict[str, str] = {}
    for out, word in zip(CBECI_COLUMNS, ("min", "guess", "max"), strict=True):
        hits = [c for c, k in keys.items() if "power" in k and word in k.split()]
        if hits:
            found[out] = hits[0]
    if not dates or len(found) != len(CBECI_COLUMNS):
        raise DataError(
            f"{path}: expected a date column and power min / guess / max columns [GW], got {list(raw.columns)}"
        )
    try:
        index = pd.to_datetime(raw[dates[0]], utc=True).dt.tz_localize(None).dt.normalize()
        frame = pd.DataFrame(
            {out: pd.to_numeric(raw[col], errors="raise").to_numpy() for out, col in found.items()},
            index=pd.DatetimeIndex(index, name="date"),
        )
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: unreadable date or power value ({exc})") from exc
    if frame.empty:
        raise DataError(f"{path}: no rows")
    return frame.sort_index()
