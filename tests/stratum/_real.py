"""Real blocks as Stratum would have carried them: notify params built from the raw bytes."""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

from hashwatt.chain import Block, merkle_branch, txid

DATA = Path(__file__).resolve().parent.parent / "data" / "stratum"


@lru_cache(maxsize=4)
def real_block(name: str) -> Block:
    if name == "testnet3_924634":
        return Block.from_hex((DATA / "block_testnet3_924634.hex").read_text())
    vectors = json.loads((DATA / "btc_block_test_vectors.json").read_text())["blocks"]
    (entry,) = [b for b in vectors if str(b["height"]) == name]
    return Block.from_hex(entry["block_hex"])


def stratum_prevhash_by_words(prev_internal: bytes) -> str:
    """The documented rule written independently: each little-endian word printed big-endian."""
    return "".join(f"{w:08x}" for w in struct.unpack("<8I", prev_internal))


def notify_from_block(block: Block, split_at: int, en_sizes: tuple[int, int] = (4, 4)) -> dict[str, Any]:
    """Cut the real non-witness coinbase into coinb1 | en1 | en2 | coinb2 at ``split_at``."""
    cb = block.transactions[0].to_bytes(include_witness=False)
    n1, n2 = en_sizes
    coinb1, en1, en2, coinb2 = (
        cb[:split_at],
        cb[split_at : split_at + n1],
        cb[split_at + n1 : split_at + n1 + n2],
        cb[split_at + n1 + n2 :],
    )
    txids = [txid(tx) for tx in block.transactions]
    h = block.header
    params = [
        "job1",
        stratum_prevhash_by_words(h.prev_hash),
        coinb1.hex(),
        coinb2.hex(),
        [x.hex() for x in merkle_branch(txids, 0)],
        f"{h.version & 0xFFFFFFFF:08x}",
        f"{h.bits:08x}",
        f"{h.time:08x}",
        True,
    ]
    return {"params": params, "en1": en1, "en2": en2, "nonce": h.nonce}
