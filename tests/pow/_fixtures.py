"""Real headers and an independent oracle (plain hashlib: no midstate, no early reject)."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "pow"


@dataclass(frozen=True)
class RealHeader:
    height: int
    header76: bytes
    nonce: int
    block_hash_hex: str
    bits: int


def load_headers() -> list[RealHeader]:
    with open(DATA / "btc_headers_sample.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        raw = bytes.fromhex(row["header_hex"])
        bits = int.from_bytes(raw[72:76], "little")
        out.append(RealHeader(int(row["height"]), raw[:76], int(row["nonce"]), row["block_hash"], bits))
    return out


def oracle_hash(header76: bytes, nonce: int) -> int:
    header = header76 + nonce.to_bytes(4, "little")
    return int.from_bytes(hashlib.sha256(hashlib.sha256(header).digest()).digest(), "little")


def oracle_scan(header76: bytes, start: int, count: int, target: int) -> list[int]:
    return [n for n in range(start, start + count) if oracle_hash(header76, n) <= target]
