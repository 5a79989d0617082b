"""The work unit, at the foundation: a :class:`Job` (from Stratum, getblocktemplate or the demo
source) and the :class:`Solution` that answers it; headers and blocks are assembled here and
nowhere else, so the protocols (``stratum``, ``node``) and the miner share one definition."""

from hashwatt.work._job import (
    AuxWork,
    BlockResult,
    Job,
    Solution,
    assemble_aux_block,
    assemble_block,
    assemble_header,
    coinbase_bytes,
    header_prefix,
    job_merkle_root,
    prefix_hash,
    solution_hash,
)
from hashwatt.work.errors import WorkError, WorkInputError

__all__ = [
    "AuxWork",
    "BlockResult",
    "Job",
    "Solution",
    "WorkError",
    "WorkInputError",
    "assemble_aux_block",
    "assemble_block",
    "assemble_header",
    "coinbase_bytes",
    "header_prefix",
    "job_merkle_root",
    "prefix_hash",
    "solution_hash",
]
