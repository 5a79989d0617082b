"""A realistic work unit for engine and backend tests (shared so test modules never import each other)."""

from __future__ import annotations

from hashwatt.chain import TxOut, build_coinbase, merkle_branch, sha256d
from hashwatt.pow import MAX_TARGET
from hashwatt.work import Job


def make_job(
    job_id: str = "job-1",
    *,
    share_target: int = MAX_TARGET >> 8,
    extranonce2_size: int = 4,
    version_mask: int = 0,
    version: int = 0x20000000,
) -> Job:
    """A job on a BIP 34 coinbase at height 840,000 with four stand-in transactions."""
    parts = build_coinbase(
        840_000,
        [TxOut(312_500_000, bytes.fromhex("0014") + bytes(range(20)))],
        tag=b"/hashwatt-test/",
        extranonce1_size=4,
        extranonce2_size=extranonce2_size,
    )
    other_txids = [sha256d(bytes([i])) for i in range(1, 5)]  # four stand-in transactions
    branch = tuple(merkle_branch([b"\x00" * 32, *other_txids], 0))
    return Job(
        job_id=job_id,
        prev_hash=sha256d(b"previous block"),
        coinb1=parts.coinb1,
        coinb2=parts.coinb2,
        merkle_branch=branch,
        version=version,
        bits=0x17034219,
        ntime=1_713_571_767,
        extranonce1=bytes.fromhex("f000000d"),
        extranonce2_size=extranonce2_size,
        share_target=share_target,
        version_mask=version_mask,
    )
