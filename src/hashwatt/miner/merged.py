"""A merged-mining demo job source: Litecoin jobs whose coinbase commits to a Dogecoin block.

Two regtest-like chains grow from their real genesis hashes at easy demo targets, so a CPU finds
blocks of both in seconds. Each Litecoin job's coinbase scriptSig carries the merged-mining
commitment (``fabe6d6d`` + the Dogecoin block hash as a one-chain merkle root + tree size 1 +
nonce 0, :class:`~hashwatt.chain.MergedMiningCommitment`); the pending Dogecoin block rides on
the job as :class:`~hashwatt.work.AuxWork`. The pool hashes every share with scrypt: one that
meets Litecoin's target is a Litecoin block, checked with ``validate_block(params=LTC_DEMO)``;
one that meets Dogecoin's is a Dogecoin block with its AuxPoW proof, checked with
:func:`~hashwatt.chain.validate_auxpow_block` (Dogecoin's block rules plus ``check_auxpow``).
A valid block becomes its chain's new tip and a new job follows.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from hashwatt.chain import (
    DOGE,
    LTC,
    AuxPowBlock,
    Block,
    BlockHeader,
    BlockInvalid,
    ChainParams,
    MergedMiningCommitment,
    build_coinbase,
    coinbase_outputs,
    expected_chain_index,
    hash_to_hex,
    header_hash,
    txid,
    validate_auxpow_block,
    validate_block,
)
from hashwatt.miner.demo import DEMO_TAG, PublishingSource, bits_for_expected_hashes
from hashwatt.miner.errors import MinerInputError
from hashwatt.node import BlockTemplate
from hashwatt.work import AuxWork, BlockResult, Job

#: Regtest's proof-of-work limit (compact 0x207fffff), shared by Litecoin and Dogecoin regtest.
REGTEST_POW_LIMIT = (1 << 255) - 1
#: Litecoin with regtest's easy limit: the demo parent chain (every other rule is Litecoin's).
LTC_DEMO = dataclasses.replace(LTC, name="litecoin-demo", pow_limit=REGTEST_POW_LIMIT)
#: Dogecoin with regtest's easy limit and AuxPoW from height 0 (as Dogecoin regtest allows).
DOGE_DEMO = dataclasses.replace(
    DOGE,
    name="dogecoin-demo",
    pow_limit=REGTEST_POW_LIMIT,
    auxpow=dataclasses.replace(DOGE.auxpow, start_height=0) if DOGE.auxpow is not None else None,
)
#: Demo defaults: a Litecoin block every ~2**14 scrypt hashes, a Dogecoin block 4 x as often
#: (Dogecoin's blocks come 2.5 x as often as Litecoin's), shares every ~2**8 hashes (scrypt
#: Stratum difficulty 2**-8: difficulty 1 is ~2**16 hashes) until vardiff settles.
MERGED_DEMO_BLOCK_EXPECTED_HASHES = 2.0**14
MERGED_DEMO_SHARE_DIFFICULTY = 2.0**-8
#: Litecoin's block version with BIP 9 signalling bits; Dogecoin's AuxPoW blocks are version 4.
_PARENT_VERSION = 0x20000000
_CHILD_BASE_VERSION = 4
#: Anyone-can-spend payout (OP_TRUE), as regtest demos use: the demo coins are worthless.
DEMO_PAYOUT_SCRIPT = b"\x51"


@dataclass(slots=True)
class ChainTip:
    """The mutable tip of one demo chain (the source's own state, not a consensus value)."""

    params: ChainParams
    prev_hash: bytes
    height: int
    bits: int
    found: int = 0


class MergedDemoJobSource(PublishingSource):
    """Scrypt demo templates with merged mining, for :class:`~hashwatt.stratum.PoolServer`.

    ``block_expected_hashes`` / ``aux_block_expected_hashes`` set the two demo targets
    [hashes per block]; jobs are refreshed every ``refresh_s`` seconds.
    """

    def __init__(
        self,
        *,
        parent: ChainParams = LTC_DEMO,
        aux: ChainParams = DOGE_DEMO,
        block_expected_hashes: float = MERGED_DEMO_BLOCK_EXPECTED_HASHES,
        aux_block_expected_hashes: float | None = None,
        payout_script: bytes = DEMO_PAYOUT_SCRIPT,
        extranonce1_size: int = 4,
        extranonce2_size: int = 4,
        refresh_s: float = 30.0,
    ) -> None:
        super().__init__(
            payout_script=payout_script,
            extranonce1_size=extranonce1_size,
            extranonce2_size=extranonce2_size,
            refresh_s=refresh_s,
        )
        if aux.auxpow is None:
            raise MinerInputError(f"{aux.name} is not a merged-mined chain", field="aux", value=aux.name)
        aux_hashes = (
            block_expected_hashes / 4 if aux_block_expected_hashes is None else aux_block_expected_hashes
        )
        self.parent = ChainTip(
            parent, parent.genesis_hash, 1, bits_for_expected_hashes(block_expected_hashes)
        )
        self.aux = ChainTip(aux, aux.genesis_hash, 1, bits_for_expected_hashes(aux_hashes))
        #: Accepted blocks, oldest first (parent blocks and merged-mined child blocks).
        self.blocks: list[Block] = []
        self.aux_blocks: list[AuxPowBlock] = []

    # -- templates -------------------------------------------------------------------------

    def aux_work(self, now: int) -> AuxWork:
        """The child block the next jobs commit to: a coinbase-only block on the child tip."""
        tip = self.aux
        params = tip.params
        assert params.auxpow is not None  # checked in __init__
        coinbase = build_coinbase(
            tip.height,
            coinbase_outputs(self.payout_script, params.block_subsidy_sat(tip.height)),
            tag=DEMO_TAG + self._id_prefix.encode(),
            extranonce1_size=0,
            extranonce2_size=0,
        ).transaction(b"", b"")
        header = BlockHeader(
            (params.auxpow.chain_id << 16) | params.auxpow.version_flag | _CHILD_BASE_VERSION,
            tip.prev_hash,
            txid(coinbase),
            now,
            tip.bits,
            0,
        )
        return AuxWork(params.ticker, header, (coinbase,), (), 0, tip.height)

    def make_job(self, *, clean_jobs: bool) -> Job:
        """A parent template committing to the pending child block (``extranonce1`` left empty)."""
        now = int(time.time())
        aux = self.aux_work(now)
        assert self.aux.params.auxpow is not None
        commitment = MergedMiningCommitment(chain_root=header_hash(aux.header), tree_size=1, nonce=0)
        # One chain in the tree: no branch, and the slot the nonce and chain id select is 0.
        assert expected_chain_index(commitment.nonce, self.aux.params.auxpow.chain_id, 0) == aux.chain_index
        tip = self.parent
        template = BlockTemplate(
            version=_PARENT_VERSION,
            prev_hash=tip.prev_hash,
            transactions=(),
            fees_sat=0,
            coinbase_value_sat=tip.params.block_subsidy_sat(tip.height),
            bits=tip.bits,
            height=tip.height,
            curtime=now,
            mintime=0,
            rules=("segwit",),
        )
        job = self.template_job(template, clean_jobs=clean_jobs, commitment=commitment.to_bytes())
        return dataclasses.replace(job, pow_algorithm=tip.params.pow_algorithm, aux=aux)

    async def submit_block(self, block: Block, job: Job) -> BlockResult:
        """A parent block: ``validate_block(params=parent)``; the parent tip moves on if valid."""
        errors = validate_block(
            block, height=job.height, fees_sat=0, now=int(time.time()), params=self.parent.params
        )
        result = self._judge(self.parent, block.header, job.height, errors, _VALID)
        if result.accepted:
            self.blocks.append(block)
            self._publish(clean_jobs=True)
        return result

    async def submit_aux_block(self, block: AuxPowBlock, job: Job) -> BlockResult:
        """A merged-mined child block: :func:`validate_auxpow_block`; the child tip moves on if valid."""
        height = job.aux.height if job.aux is not None else None
        now = int(time.time())
        errors = validate_auxpow_block(block, self.aux.params, height=height, fees_sat=0, now=now)
        result = self._judge(self.aux, block.header, height, errors, _VALID_AUX)
        if result.accepted:
            self.aux_blocks.append(block)
            # The parent's work stays valid; its coinbase must now commit to the next child.
            self._publish(clean_jobs=False)
        return result

    def _judge(
        self, tip: ChainTip, header: BlockHeader, height: int | None, errors: list[BlockInvalid], valid: str
    ) -> BlockResult:
        """The verdict on one chain's block (stale first: the tip moved on); a good one moves the tip."""
        stale = header.prev_hash != tip.prev_hash
        message = "stale: the demo tip moved on" if stale else "; ".join(str(e) for e in errors)
        result = BlockResult(
            hash_to_hex(header_hash(header)), height, not message, message or valid, tip.params.ticker
        )
        if result.accepted:
            tip.prev_hash = header_hash(header)
            tip.height += 1
            tip.found += 1
        self.results.append(result)
        return result


_VALID = "valid (hashwatt.chain.validate_block)"
_VALID_AUX = "valid AuxPoW (hashwatt.chain.validate_auxpow_block)"
