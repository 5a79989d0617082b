"""A self-contained demo job source: a little chain grown from a real block at an easy target.

The first template is rebuilt from testnet3 block 924,634 (shipped as
``hashwatt/data/files/block_testnet3_924634.hex``): its previous hash, version, height, its 14
non-coinbase transactions (one segwit) and its real coinbase value, with a fresh coinbase
carrying the witness commitment. Only ``bits`` is replaced by an easy demo target, so blocks
are found in seconds on a CPU. Each accepted block is checked with
:func:`hashwatt.chain.validate_block`, becomes the next template's parent, and later blocks
carry only their coinbase (the demo transactions were spent by the first block).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hashwatt.chain import (
    MAX_TARGET,
    Block,
    Transaction,
    block_subsidy_sat,
    hash_to_hex,
    header_hash,
    target_to_bits,
    validate_block,
)
from hashwatt.data import embedded_path
from hashwatt.node import BlockTemplate, job_from_template, template_coinbase
from hashwatt.work import BlockResult, Job

DEMO_BLOCK_FILE = "block_testnet3_924634.hex"
#: Tag in the demo coinbase scriptSig.
DEMO_TAG = b"/hashwatt-demo/"


#: The hardest demo chain: beyond 2**64 expected hashes a demo block is never found.
MAX_DEMO_BLOCK_HASHES = 2.0**64


def bits_for_expected_hashes(expected_hashes: float) -> int:
    """Compact bits whose target needs about ``expected_hashes`` hashes per block [hashes]."""
    target = int((MAX_TARGET + 1) / max(expected_hashes, 1.0)) - 1
    return target_to_bits(min(target, MAX_TARGET >> 1))  # the compact sign bit stays clear


def script_height(script_sig: bytes) -> int:
    """The BIP 34 height pushed at the start of a coinbase scriptSig."""
    n = script_sig[0]
    if 0x51 <= n <= 0x60:
        return n - 0x50
    return int.from_bytes(script_sig[1 : 1 + n], "little")


@dataclass(slots=True)
class DemoChain:
    """Mutable tip of the demo chain (the source's own state, not a consensus value)."""

    prev_hash: bytes
    height: int
    version: int
    time: int
    transactions: tuple[Transaction, ...]
    fees_sat: int
    blocks: list[Block] = field(default_factory=list)


def load_demo_chain() -> tuple[DemoChain, bytes]:
    """The demo chain's starting point and the real block's payout script."""
    block = Block.from_hex(embedded_path(DEMO_BLOCK_FILE).read_text())
    coinbase = block.transactions[0]
    height = script_height(coinbase.inputs[0].script_sig)
    coinbase_value = sum(o.value_sat for o in coinbase.outputs)
    chain = DemoChain(
        prev_hash=block.header.prev_hash,
        height=height,
        version=block.header.version & 0xFFFFFFFF,
        time=block.header.time,
        transactions=block.transactions[1:],
        fees_sat=coinbase_value - block_subsidy_sat(height),
    )
    return chain, coinbase.outputs[0].script_pubkey


class PublishingSource:
    """What the demo sources share: listeners, a per-process job-id prefix, the template -> job
    step, and a publish of :meth:`make_job` at start (clean) and every ``refresh_s`` s (not clean)."""

    def __init__(
        self, *, payout_script: bytes, extranonce1_size: int, extranonce2_size: int, refresh_s: float
    ) -> None:
        self.payout_script = payout_script
        self.extranonce1_size = extranonce1_size
        self.extranonce2_size = extranonce2_size
        self.refresh_s = refresh_s
        self.results: list[BlockResult] = []
        self._listeners: list[Callable[[Job], None]] = []
        self._jobs_made = 0
        #: Job ids start with a random per-process value, so ids never repeat across restarts
        #: (a miner carrying shares over a restart must not match an old id to a new job).
        self._id_prefix = f"{secrets.randbits(32):08x}"
        self._task: asyncio.Task[None] | None = None
        self.current: Job | None = None

    def make_job(self, *, clean_jobs: bool) -> Job:
        raise NotImplementedError

    def template_job(self, template: BlockTemplate, *, clean_jobs: bool, commitment: bytes = b"") -> Job:
        """The job of ``template``: a coinbase paying ``payout_script`` whose tag is ``commitment``
        (merged mining) and a per-job value, so no two jobs share a template and one proof of
        work can never count under two job ids (``extranonce1`` left empty for the pool)."""
        self._jobs_made += 1
        coinbase = template_coinbase(
            template,
            self.payout_script,
            extranonce1_size=self.extranonce1_size,
            extranonce2_size=self.extranonce2_size,
            tag=commitment + DEMO_TAG + self._id_prefix.encode() + self._jobs_made.to_bytes(4, "little"),
        )
        return job_from_template(
            template,
            coinbase,
            job_id=f"{self._id_prefix}{self._jobs_made:x}",
            share_target=MAX_TARGET,
            clean_jobs=clean_jobs,
        )

    def attach(self, on_job: Callable[[Job], None]) -> None:
        self._listeners.append(on_job)
        if self.current is not None:
            on_job(self.current)

    def _publish(self, *, clean_jobs: bool) -> None:
        self.current = self.make_job(clean_jobs=clean_jobs)
        for listener in self._listeners:
            listener(self.current)

    async def start(self) -> None:
        self._publish(clean_jobs=True)
        self._task = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            self._publish(clean_jobs=False)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class DemoJobSource(PublishingSource):
    """Demo templates for the pool server; refreshes ntime every ``refresh_s`` seconds."""

    def __init__(
        self,
        *,
        block_expected_hashes: float = 2.0**22,
        payout_script: bytes | None = None,
        extranonce1_size: int = 4,
        extranonce2_size: int = 4,
        refresh_s: float = 30.0,
        bits: int | None = None,
    ) -> None:
        self.chain, real_script = load_demo_chain()
        super().__init__(
            payout_script=payout_script if payout_script is not None else real_script,
            extranonce1_size=extranonce1_size,
            extranonce2_size=extranonce2_size,
            refresh_s=refresh_s,
        )
        self.bits = bits if bits is not None else bits_for_expected_hashes(block_expected_hashes)

    def make_job(self, *, clean_jobs: bool) -> Job:
        """The template for the current tip (``extranonce1`` left empty for the pool)."""
        chain = self.chain
        txs = chain.transactions
        fees_sat = chain.fees_sat if txs else 0
        # The demo tip as a segwit getblocktemplate answer, so the Job is assembled the one
        # way a node's template is (coinbase, witness commitment, merkle branch).
        template = BlockTemplate(
            version=chain.version,
            prev_hash=chain.prev_hash,
            transactions=txs,
            fees_sat=fees_sat,
            coinbase_value_sat=block_subsidy_sat(chain.height) + fees_sat,
            bits=self.bits,
            height=chain.height,
            curtime=max(chain.time + 1, int(time.time())),
            mintime=0,
            rules=("segwit",),
        )
        return self.template_job(template, clean_jobs=clean_jobs)

    async def submit_block(self, block: Block, job: Job) -> BlockResult:
        """Validate with :func:`hashwatt.chain.validate_block`; extend the demo chain if valid."""
        block_hash = hash_to_hex(header_hash(block.header))
        stale = block.header.prev_hash != self.chain.prev_hash
        errors = validate_block(
            block,
            height=job.height,
            fees_sat=self.chain.fees_sat if job.transactions else 0,
            now=int(time.time()),
            bip34_height=0,
        )
        if stale:
            result = BlockResult(block_hash, job.height, False, "stale: the demo tip moved on")
        elif errors:
            result = BlockResult(block_hash, job.height, False, "; ".join(str(e) for e in errors))
        else:
            result = BlockResult(block_hash, job.height, True, "valid (hashwatt.chain.validate_block)")
            self.chain.blocks.append(block)
            self.chain.prev_hash = header_hash(block.header)
            self.chain.height += 1
            self.chain.time = block.header.time
            self.chain.transactions = ()
            self._publish(clean_jobs=True)
        self.results.append(result)
        return result


#: Demo defaults: a block every ~2**26 hashes (a few seconds on one SHA-NI core), shares
#: every ~2**22 hashes until vardiff settles on one share per ``target_share_interval_s``.
DEMO_BLOCK_EXPECTED_HASHES = 2.0**26
DEMO_SHARE_DIFFICULTY = 2.0**-10
