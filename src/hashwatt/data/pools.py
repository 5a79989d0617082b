"""Mining-pool data: the pool definitions (coinbase tags, payout addresses) and per-block pool labels.

Shipped files (attribution in ``files/SOURCES.md``):

- ``mining_pools_v2.json``: mempool.space's pool list (MIT), verbatim.
- ``btc_blocks_pool_664063_946236.csv.gz``: the pool label of every mainnet block from height
  664,063 (2021-01-02) to 946,236 (2026-04-22), from sorukumar/bitcoin-mining-pools (BSD-2-Clause).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from hashwatt.data._embedded import embedded_path
from hashwatt.errors import DataError

POOL_BLOCKS_FILE = "btc_blocks_pool_664063_946236.csv.gz"
POOLS_FILE = "mining_pools_v2.json"
#: The label the block file gives to blocks no pool definition matched.
UNKNOWN_POOL = "unknown"
#: First and last heights in the shipped block file [height].
POOL_BLOCKS_FIRST_HEIGHT = 664_063
POOL_BLOCKS_LAST_HEIGHT = 946_236


@dataclass(frozen=True, slots=True)
class Pool:
    """A mining pool as mempool.space's ``pools-v2.json`` defines it.

    ``tags`` are case-insensitive regular expressions searched in the coinbase scriptSig text;
    ``addresses`` are payout addresses of its coinbase outputs.
    """

    id: int
    name: str
    link: str
    tags: tuple[str, ...]
    addresses: tuple[str, ...]


def _pool_from_json(entry: dict[str, Any]) -> Pool:
    try:
        return Pool(
            id=int(entry["id"]),
            name=str(entry["name"]),
            link=str(entry.get("link", "")),
            tags=tuple(str(t) for t in entry.get("tags", [])),
            addresses=tuple(str(a) for a in entry.get("addresses", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"malformed pool entry in {POOLS_FILE}: {entry!r:.200}") from exc


@lru_cache(maxsize=1)
def load_pools() -> tuple[Pool, ...]:
    """Every pool in the shipped ``mining_pools_v2.json``, in file order (168 pools)."""
    raw = json.loads(embedded_path(POOLS_FILE).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise DataError(f"{POOLS_FILE}: expected a JSON list of pools")
    return tuple(_pool_from_json(entry) for entry in raw)


def parse_pools_json(text: str) -> tuple[Pool, ...]:
    """Parse a pools-v2 style JSON document (e.g. a newer copy of mempool's list)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"pool list is not valid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise DataError("pool list: expected a JSON list of pools")
    return tuple(_pool_from_json(entry) for entry in raw)


@lru_cache(maxsize=1)
def _pool_blocks_cached() -> pd.DataFrame:
    frame = pd.read_csv(
        embedded_path(POOL_BLOCKS_FILE),
        usecols=["height", "timestamp_unix", "pool_slug", "pool_name", "pool_name_mining_pools_v2"],
        dtype={"height": "int64", "timestamp_unix": "int64", "pool_slug": "str", "pool_name": "str"},
        keep_default_na=False,
    )
    heights = frame["height"].to_numpy()
    if len(frame) == 0 or heights[0] != POOL_BLOCKS_FIRST_HEIGHT or heights[-1] != POOL_BLOCKS_LAST_HEIGHT:
        raise DataError(f"{POOL_BLOCKS_FILE}: unexpected height range")
    frame["time_utc"] = pd.to_datetime(frame["timestamp_unix"], unit="s", utc=True)
    for column in ("pool_slug", "pool_name", "pool_name_mining_pools_v2"):
        frame[column] = frame[column].astype("category")
    return frame[
        ["height", "time_utc", "timestamp_unix", "pool_slug", "pool_name", "pool_name_mining_pools_v2"]
    ]


def load_pool_blocks() -> pd.DataFrame:
    """One row per mainnet block, heights 664,063 .. 946,236 (2021-01-02 .. 2026-04-22).

    Columns: height; time_utc (header time, tz-aware UTC); timestamp_unix [s]; pool_slug (the
    source's label, ``unknown`` when no pool matched); pool_name (display name);
    pool_name_mining_pools_v2 (the matching ``name`` in ``mining_pools_v2.json``, empty when none).
    Header times are not monotonic (miners set them within consensus bounds), as on mainnet.
    """
    return _pool_blocks_cached().copy()


__all__ = [
    "POOLS_FILE",
    "POOL_BLOCKS_FILE",
    "POOL_BLOCKS_FIRST_HEIGHT",
    "POOL_BLOCKS_LAST_HEIGHT",
    "UNKNOWN_POOL",
    "Pool",
    "load_pool_blocks",
    "load_pools",
    "parse_pools_json",
]
