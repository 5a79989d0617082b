"""Real coinbase fixtures for the network tests (tests/data/network)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

NETWORK_DATA = Path(__file__).resolve().parent.parent / "data" / "network"


@lru_cache(maxsize=1)
def real_coinbases() -> dict[str, dict[str, Any]]:
    data = json.loads((NETWORK_DATA / "real_coinbases.json").read_text())
    return {entry["name"]: entry for entry in data["coinbases"]}
