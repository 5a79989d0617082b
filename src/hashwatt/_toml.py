"""Reading user TOML files (tariffs, sites, fleets, catalogs) with one-line typed errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hashwatt.errors import HashwattError


def read_toml(path: str | Path, *, what: str, error: type[HashwattError]) -> dict[str, Any]:
    """The parsed document at ``path``; a missing file or bad TOML raises ``error``.

    ``what`` names the file in the message (``"tariff file"`` -> "tariff file not found: ...").
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {exc}") from exc
