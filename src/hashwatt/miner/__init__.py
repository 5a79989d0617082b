"""The mining loop: turns a :class:`Job` (from Stratum, getblocktemplate or the demo source)
into work for :mod:`hashwatt.pow` and hits back into submissions."""

from hashwatt.miner.job import (
    Job,
    Solution,
    assemble_block,
    assemble_header,
    coinbase_bytes,
    header_prefix,
    job_merkle_root,
    solution_hash,
)

__all__ = [
    "Job",
    "Solution",
    "assemble_block",
    "assemble_header",
    "coinbase_bytes",
    "header_prefix",
    "job_merkle_root",
    "solution_hash",
]
