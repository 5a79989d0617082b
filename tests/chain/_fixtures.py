"""Loaders for the real chain fixtures (cached per test process)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from hashwatt.chain import Block

CHAIN_DATA = Path(__file__).resolve().parent.parent / "data" / "chain"


@lru_cache(maxsize=1)
def block_vectors() -> list[dict[str, Any]]:
    return list(json.loads((CHAIN_DATA / "btc_block_test_vectors.json").read_text())["blocks"])


@lru_cache(maxsize=1)
def witness_commitment_vector() -> dict[str, str]:
    return dict(
        json.loads((CHAIN_DATA / "btc_block_test_vectors.json").read_text())["witness_commitment_empty_block"]
    )


@lru_cache(maxsize=2)
def raw_block(name: str) -> bytes:
    return bytes.fromhex((CHAIN_DATA / name).read_text().strip())


@lru_cache(maxsize=2)
def parsed_block(name: str) -> Block:
    return Block.from_bytes(raw_block(name))


def csv_rows(name: str) -> list[dict[str, str]]:
    with (CHAIN_DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))
