"""One job, many views: Stratum's mining.notify, a getblocktemplate response and the demo
source all become a :class:`Job`; the header and the block are assembled here and nowhere else.

All hashes are internal byte order. Wire-order quirks (Stratum's word-swapped prevhash,
big-endian hex of version/bits/ntime) are undone by the codec that builds the Job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hashwatt.chain import (
    WITNESS_RESERVED_VALUE,
    AuxPow,
    AuxPowBlock,
    Block,
    BlockHeader,
    PowAlgorithm,
    Transaction,
    TxIn,
    bits_to_target,
    header_hash,
    merkle_root_from_branch,
    sha256d,
)
from hashwatt.work.errors import WorkInputError

_PREFIX = struct.Struct("<i32s32sII")  # version, prev_hash, merkle_root, time, bits: 76 bytes
_NONCE = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class AuxWork:
    """A merged-mined child block waiting for a parent share (AuxPoW, as Dogecoin takes it).

    ``header`` is final (its proof of work will be the parent's); the parent coinbase commits to
    its hash through ``chain_branch``/``chain_index`` (empty/0 for a tree of one chain).
    ``chain`` names the child coin (its ticker) and ``height`` its height.
    """

    chain: str
    header: BlockHeader
    transactions: tuple[Transaction, ...]
    chain_branch: tuple[bytes, ...] = ()
    chain_index: int = 0
    height: int | None = None

    @property
    def target(self) -> int:
        """The child's network target: a parent share at or below it is a child block."""
        return bits_to_target(self.header.bits)


@dataclass(frozen=True, slots=True)
class Job:
    """Everything needed to build headers for one unit of mining work.

    ``coinb1 || extranonce1 || extranonce2 || coinb2`` is the non-witness coinbase;
    ``merkle_branch`` folds its txid up to the merkle root. ``version_mask`` holds the
    version bits the miner may roll (BIP 310; 0 = none). ``share_target`` is the pool's
    share target (for solo mining, the block target). ``transactions`` are the block's
    non-coinbase transactions when known (solo / demo), needed to assemble a full block.
    ``coinbase_value_sat`` is what this job's coinbase pays (its template's subsidy + fees;
    ``None`` when the job came from an upstream pool): a share is credited with its own job's
    value, not with whatever the newest template pays.
    """

    job_id: str
    prev_hash: bytes
    coinb1: bytes
    coinb2: bytes
    merkle_branch: tuple[bytes, ...]
    version: int
    bits: int
    ntime: int
    extranonce1: bytes
    extranonce2_size: int
    share_target: int
    clean_jobs: bool = False
    version_mask: int = 0
    height: int | None = None
    transactions: tuple[Transaction, ...] = field(default=())
    #: The coinbase carries the BIP 141 witness reserved value in the full block.
    coinbase_witness: bool = False
    #: The hash shares and blocks are measured with (the coin's ``ChainParams.pow_algorithm``).
    pow_algorithm: PowAlgorithm = PowAlgorithm.SHA256D
    #: The merged-mined child block this job's coinbase commits to (pool side only; never on the wire).
    aux: AuxWork | None = None
    coinbase_value_sat: int | None = None

    def __post_init__(self) -> None:
        if len(self.prev_hash) != 32:
            raise WorkInputError("prev_hash must be 32 bytes", job_id=self.job_id)
        if any(len(h) != 32 for h in self.merkle_branch):
            raise WorkInputError("merkle branch hashes must be 32 bytes", job_id=self.job_id)
        if not 0 <= self.extranonce2_size <= 32:
            raise WorkInputError("extranonce2 size must be 0..32 bytes", job_id=self.job_id)
        if self.share_target <= 0:
            raise WorkInputError("share target must be positive", job_id=self.job_id)
        if self.coinbase_value_sat is not None and self.coinbase_value_sat < 0:
            raise WorkInputError("coinbase value must be >= 0 sat", job_id=self.job_id)

    @property
    def block_target(self) -> int:
        """The network target of this job's bits."""
        return bits_to_target(self.bits)


@dataclass(frozen=True, slots=True)
class Solution:
    """A header the miner found: what ``mining.submit`` carries (plus the version used)."""

    job_id: str
    extranonce2: bytes
    ntime: int
    nonce: int
    version: int


def coinbase_bytes(job: Job, extranonce2: bytes) -> bytes:
    """Non-witness coinbase with this extranonce2 spliced in."""
    if len(extranonce2) != job.extranonce2_size:
        raise WorkInputError(
            f"extranonce2 must be {job.extranonce2_size} bytes, got {len(extranonce2)}", job_id=job.job_id
        )
    return job.coinb1 + job.extranonce1 + extranonce2 + job.coinb2


def job_merkle_root(job: Job, extranonce2: bytes) -> bytes:
    """Merkle root for this extranonce2 (coinbase txid folded up the branch)."""
    return merkle_root_from_branch(sha256d(coinbase_bytes(job, extranonce2)), job.merkle_branch)


def _rolled_version(job: Job, version: int | None) -> int:
    if version is None:
        return job.version
    if (version ^ job.version) & ~job.version_mask & 0xFFFFFFFF:
        raise WorkInputError(
            f"version {version & 0xFFFFFFFF:08x} changes bits outside the mask {job.version_mask:08x}",
            job_id=job.job_id,
        )
    return version


def header_prefix(
    job: Job, extranonce2: bytes, *, version: int | None = None, ntime: int | None = None
) -> bytes:
    """The first 76 header bytes (everything but the nonce): what a hash backend scans."""
    v = _rolled_version(job, version)
    signed_v = v - (1 << 32) if v >= 1 << 31 else v
    return _PREFIX.pack(
        signed_v,
        job.prev_hash,
        job_merkle_root(job, extranonce2),
        job.ntime if ntime is None else ntime,
        job.bits,
    )


def prefix_hash(prefix: bytes, nonce: int, pow_algorithm: PowAlgorithm = PowAlgorithm.SHA256D) -> bytes:
    """Proof-of-work hash (internal order) of a 76-byte header prefix and a nonce: the one place
    a solved header is hashed, for the pool's share check and the miner's hit check alike (no
    :class:`BlockHeader` is built, so a pool checking every share pays for none). SHA-256d, or
    the coin's hash (scrypt) for a scrypt job; the block id stays ``header_hash``."""
    if pow_algorithm is PowAlgorithm.SHA256D:
        return sha256d(prefix + _NONCE.pack(nonce))
    return pow_algorithm.hash(prefix + _NONCE.pack(nonce))


def assemble_header(job: Job, solution: Solution) -> BlockHeader:
    """The full header of a solution."""
    return BlockHeader.from_bytes(
        header_prefix(job, solution.extranonce2, version=solution.version, ntime=solution.ntime)
        + _NONCE.pack(solution.nonce)
    )


def solution_hash(job: Job, solution: Solution) -> bytes:
    """Proof-of-work hash of a solution (internal order; SHA256d, or scrypt for a scrypt job):
    compare with ``job.share_target``. The block id stays :func:`~hashwatt.chain.header_hash`."""
    prefix = header_prefix(job, solution.extranonce2, version=solution.version, ntime=solution.ntime)
    return prefix_hash(prefix, solution.nonce, job.pow_algorithm)


def assemble_block(job: Job, solution: Solution) -> Block:
    """A full block: the solved header, the coinbase and the job's transactions."""
    coinbase = Transaction.from_bytes(coinbase_bytes(job, solution.extranonce2))
    if job.coinbase_witness:
        txin = coinbase.inputs[0]
        coinbase = Transaction(
            coinbase.version,
            (TxIn(txin.prevout, txin.script_sig, txin.sequence, (WITNESS_RESERVED_VALUE,)),),
            coinbase.outputs,
            coinbase.locktime,
        )
    return Block(assemble_header(job, solution), (coinbase, *job.transactions))


def assemble_aux_block(job: Job, solution: Solution) -> AuxPowBlock:
    """The merged-mined child block a parent share makes: ``job.aux``'s header and transactions
    with the AuxPoW proof (the parent's non-witness coinbase, its branch, the chain branch and
    the solved parent header)."""
    aux = job.aux
    if aux is None:
        raise WorkInputError("the job commits to no merged-mined block", job_id=job.job_id)
    parent = assemble_header(job, solution)
    proof = AuxPow(
        coinbase_tx=Transaction.from_bytes(coinbase_bytes(job, solution.extranonce2)),
        parent_hash=header_hash(parent),
        coinbase_branch=job.merkle_branch,
        coinbase_index=0,
        chain_branch=aux.chain_branch,
        chain_index=aux.chain_index,
        parent_header=parent,
    )
    return AuxPowBlock(aux.header, proof, aux.transactions)


@dataclass(frozen=True, slots=True)
class BlockResult:
    """What the job source said about a block candidate (``accepted`` by the node or demo chain);
    ``chain`` names the coin when a source mines more than one (merged mining), else ``""``."""

    block_hash_hex: str
    height: int | None
    accepted: bool
    message: str
    chain: str = ""
