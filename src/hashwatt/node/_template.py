"""getblocktemplate (BIP 22/23, BIP 9/141 rules) -> :class:`~hashwatt.work.Job`.

The coinbase pays ``coinbasevalue`` (subsidy + fees) to the payout script and, when the
template is segwit-aware, carries the BIP 141 witness commitment computed from the template's
transactions (so it always matches the block we build, even if the node's
``default_witness_commitment`` was computed over a different list).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hashwatt.chain import (
    Block,
    CoinbaseParts,
    Transaction,
    address_to_script,
    bits_to_target,
    block_subsidy_sat,
    build_coinbase,
    coinbase_outputs,
    hash_from_hex,
    hash_to_hex,
    header_hash,
    merkle_branch,
    txid,
    validate_block,
    witness_commitment,
    witness_merkle_root,
    wtxid,
)
from hashwatt.errors import ChainError, HashwattError
from hashwatt.node._rpc import RpcClient
from hashwatt.node.errors import NodeError, TemplateError
from hashwatt.work import BlockResult, Job

log = logging.getLogger("hashwatt.node")

#: Coinbase tag hashwatt puts after the BIP 34 height.
COINBASE_TAG = b"/hashwatt/"


@dataclass(frozen=True, slots=True)
class BlockTemplate:
    """The fields of a getblocktemplate result that a miner needs (hashes in internal order)."""

    version: int
    prev_hash: bytes
    transactions: tuple[Transaction, ...]
    fees_sat: int
    coinbase_value_sat: int
    bits: int
    height: int
    curtime: int
    mintime: int
    rules: tuple[str, ...]
    default_witness_commitment: bytes | None = None
    longpollid: str | None = None
    coinbase_flags: bytes = b""
    longpolluri: str | None = None

    @property
    def segwit(self) -> bool:
        """The template is segwit-active (``segwit`` / ``!segwit`` rule or a commitment)."""
        return (
            any(r.lstrip("!") == "segwit" for r in self.rules) or self.default_witness_commitment is not None
        )

    @property
    def target(self) -> int:
        return bits_to_target(self.bits)


def _field(result: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = result.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TemplateError(f"getblocktemplate: field {key!r} missing or not {kind}")
    return value


def parse_template(result: Mapping[str, Any]) -> BlockTemplate:
    """Validate and decode a getblocktemplate ``result`` object."""
    if not isinstance(result, Mapping):
        raise TemplateError("getblocktemplate result is not an object")
    try:
        txs: list[Transaction] = []
        fees = 0
        for i, entry in enumerate(_field(result, "transactions", list)):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("data"), str):
                raise TemplateError(f"template transaction {i} has no hex data")
            tx = Transaction.from_bytes(bytes.fromhex(entry["data"]))
            if "txid" in entry and hash_to_hex(txid(tx)) != entry["txid"]:
                raise TemplateError(f"template transaction {i}: txid does not match its data")
            if "hash" in entry and hash_to_hex(wtxid(tx)) != entry["hash"]:
                raise TemplateError(f"template transaction {i}: wtxid does not match its data")
            fee = entry.get("fee", 0)
            fees += int(fee) if isinstance(fee, int) else 0
            txs.append(tx)
        commitment_hex = result.get("default_witness_commitment")
        commitment = None
        if isinstance(commitment_hex, str):
            script = bytes.fromhex(commitment_hex)
            commitment = script[6:38] if len(script) >= 38 else None
        flags = (
            result.get("coinbaseaux", {}).get("flags", "")
            if isinstance(result.get("coinbaseaux"), Mapping)
            else ""
        )
        bits = int(_field(result, "bits", str), 16)
        template = BlockTemplate(
            version=int(_field(result, "version", int)) & 0xFFFFFFFF,
            prev_hash=hash_from_hex(_field(result, "previousblockhash", str)),
            transactions=tuple(txs),
            fees_sat=fees,
            coinbase_value_sat=int(_field(result, "coinbasevalue", int)),
            bits=bits,
            height=int(_field(result, "height", int)),
            curtime=int(_field(result, "curtime", int)),
            mintime=int(result.get("mintime", 0) or 0),
            rules=tuple(str(r) for r in result.get("rules", [])),
            default_witness_commitment=commitment,
            longpollid=str(result["longpollid"]) if result.get("longpollid") else None,
            coinbase_flags=bytes.fromhex(flags) if isinstance(flags, str) else b"",
            longpolluri=str(result["longpolluri"]) if result.get("longpolluri") else None,
        )
        bits_to_target(bits)
    except (ValueError, ChainError) as exc:
        if isinstance(exc, TemplateError):
            raise
        raise TemplateError(f"getblocktemplate result is malformed: {exc}") from exc
    if template.coinbase_value_sat < 0:
        raise TemplateError("coinbasevalue is negative")
    return template


def template_commitment(template: BlockTemplate) -> bytes:
    """BIP 141 commitment over the template's transactions (coinbase wtxid = 0)."""
    return witness_commitment(witness_merkle_root([bytes(32), *(wtxid(tx) for tx in template.transactions)]))


def template_coinbase(
    template: BlockTemplate,
    payout_script: bytes,
    *,
    extranonce1_size: int = 4,
    extranonce2_size: int = 4,
    tag: bytes = COINBASE_TAG,
) -> CoinbaseParts:
    """Coinbase paying ``coinbasevalue`` to ``payout_script`` (+ witness commitment if segwit)."""
    commitment = template_commitment(template) if template.segwit else None
    return build_coinbase(
        template.height,
        coinbase_outputs(payout_script, template.coinbase_value_sat, witness_commitment=commitment),
        tag=template.coinbase_flags + tag,
        extranonce1_size=extranonce1_size,
        extranonce2_size=extranonce2_size,
        segwit=commitment is not None,
    )


def job_from_template(
    template: BlockTemplate,
    coinbase: CoinbaseParts,
    *,
    job_id: str,
    extranonce1: bytes = b"",
    share_target: int | None = None,
    clean_jobs: bool = True,
    ntime: int | None = None,
    version_mask: int = 0,
) -> Job:
    """A :class:`Job` for this template and coinbase (``share_target`` defaults to the block target)."""
    branch = merkle_branch([bytes(32), *(txid(tx) for tx in template.transactions)], 0)
    return Job(
        job_id=job_id,
        prev_hash=template.prev_hash,
        coinb1=coinbase.coinb1,
        coinb2=coinbase.coinb2,
        merkle_branch=tuple(branch),
        version=template.version,
        bits=template.bits,
        ntime=max(template.curtime, template.mintime) if ntime is None else ntime,
        extranonce1=extranonce1,
        extranonce2_size=coinbase.extranonce2_size,
        share_target=template.target if share_target is None else share_target,
        clean_jobs=clean_jobs,
        version_mask=version_mask,
        height=template.height,
        transactions=template.transactions,
        coinbase_witness=coinbase.segwit,
        coinbase_value_sat=template.coinbase_value_sat,
    )


def fetch_template(
    rpc: RpcClient, *, longpollid: str | None = None, timeout_s: float | None = None
) -> BlockTemplate:
    result = rpc.getblocktemplate(longpollid=longpollid, timeout_s=timeout_s)
    if not isinstance(result, Mapping):
        raise TemplateError("getblocktemplate returned no object")
    return parse_template(result)


def submit_block(rpc: RpcClient, block: Block) -> BlockResult:
    """submitblock and report the node's answer (``None`` = accepted)."""
    block_hash = hash_to_hex(header_hash(block.header))
    answer = rpc.submitblock(block.to_bytes().hex())
    height = None
    return BlockResult(
        block_hash, height, answer is None, "accepted by the node" if answer is None else answer
    )


class GbtJobSource:
    """Pool job source fed by Bitcoin Core's getblocktemplate: BIP 22 longpoll, polling as fallback.

    When the template carries a ``longpollid``, one request ``{"longpollid": ...}`` is kept open
    on its own connection (to ``longpolluri`` if given) for up to ``longpoll_timeout_s``; the
    node answers it when the tip (or, after a while, the mempool) changes and the new work is
    published at once. Polling every ``poll_s`` goes on beside it as the safety net (a node
    without longpoll, a longpoll that errors or times out, a connection that silently died).
    A new previous hash makes a clean job; otherwise a refreshed template (new transactions or
    time) is published every ``refresh_s`` without clean_jobs, or at once when it came from a
    longpoll. Block candidates go to ``submitblock`` and the node's answer comes back as a
    :class:`BlockResult`.
    """

    def __init__(
        self,
        rpc: RpcClient,
        *,
        payout: str | bytes,
        network: str | None = None,
        extranonce1_size: int = 4,
        extranonce2_size: int = 4,
        poll_s: float = 2.0,
        refresh_s: float = 30.0,
        longpoll: bool = True,
        longpoll_timeout_s: float = 600.0,
    ) -> None:
        self.rpc = rpc
        self.payout_script = payout if isinstance(payout, bytes) else address_to_script(payout, network)
        self.extranonce1_size = extranonce1_size
        self.extranonce2_size = extranonce2_size
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self.longpoll = longpoll
        self.longpoll_timeout_s = longpoll_timeout_s
        #: How many templates came from each path (``longpoll``/``poll``) and longpoll failures.
        self.counters: dict[str, int] = {"longpoll": 0, "poll": 0, "longpoll_errors": 0}
        self._generation = 0
        self._lp_task: asyncio.Task[None] | None = None
        self.template: BlockTemplate | None = None
        self.current: Job | None = None
        self.results: list[BlockResult] = []
        self._listeners: list[Callable[[Job], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._jobs = 0
        #: Job ids (and each coinbase) start with a random per-process value: ids never repeat
        #: across restarts, and no two jobs share a coinbase even when the node's template did
        #: not change, so one proof of work can never count under two job ids.
        self._id_prefix = f"{secrets.randbits(32):08x}"
        self._published_at = 0.0
        self._templates: dict[str, BlockTemplate] = {}

    def attach(self, on_job: Callable[[Job], None]) -> None:
        self._listeners.append(on_job)

    def _publish(self, template: BlockTemplate, *, clean: bool) -> None:
        self._jobs += 1
        parts = template_coinbase(
            template,
            self.payout_script,
            extranonce1_size=self.extranonce1_size,
            extranonce2_size=self.extranonce2_size,
            tag=COINBASE_TAG + bytes.fromhex(self._id_prefix) + self._jobs.to_bytes(4, "little"),
        )
        job = job_from_template(
            template,
            parts,
            job_id=f"{self._id_prefix}{self._jobs:x}",
            clean_jobs=clean,
            ntime=max(template.curtime, int(time.time())),
        )
        self.template = template
        self.current = job
        self._templates[job.job_id] = template
        while len(self._templates) > 64:
            self._templates.pop(next(iter(self._templates)))
        self._published_at = time.monotonic()
        self._generation += 1
        for listener in self._listeners:
            listener(job)

    async def poll_once(self) -> None:
        generation = self._generation
        template = await asyncio.to_thread(fetch_template, self.rpc)
        if generation != self._generation:
            return  # a longpoll published while this poll was in flight: its answer may be older
        self.counters["poll"] += 1
        old = self.template
        if old is None or template.prev_hash != old.prev_hash:
            self._publish(template, clean=True)
        elif time.monotonic() - self._published_at >= self.refresh_s:
            self._publish(template, clean=False)

    async def longpoll_once(self, longpollid: str, uri: str | None = None) -> BlockTemplate:
        """One BIP 22 longpoll: returns when the node has new work (or raises on error/timeout)."""
        rpc = self.rpc.at(uri) if uri else self.rpc
        request: dict[str, Any] = {
            "rules": ["segwit"],
            "capabilities": ["coinbasetxn", "workid", "longpoll"],
            "longpollid": longpollid,
        }
        result = await rpc.acall("getblocktemplate", request, timeout_s=self.longpoll_timeout_s)
        if not isinstance(result, Mapping):
            raise TemplateError("getblocktemplate (longpoll) returned no object")
        return parse_template(result)

    async def _longpoll(self) -> None:
        while True:
            current = self.template
            if current is None or current.longpollid is None:
                await asyncio.sleep(self.poll_s)  # the node does not offer longpoll (yet)
                continue
            started = time.monotonic()
            try:
                template = await self.longpoll_once(current.longpollid, current.longpolluri)
            except Exception as exc:  # errors and timeouts alike: polling covers the gap
                self.counters["longpoll_errors"] += 1
                log.warning("getblocktemplate longpoll failed, polling meanwhile: %s", exc)
                await asyncio.sleep(self.poll_s)
                continue
            self.counters["longpoll"] += 1
            old = self.template
            if old is None or template.prev_hash != old.prev_hash:
                self._publish(template, clean=True)
            elif template.longpollid != old.longpollid or template.transactions != old.transactions:
                self._publish(template, clean=False)
            elif time.monotonic() - started < self.poll_s:
                # Answered at once with nothing new: a node that does not hold longpolls.
                await asyncio.sleep(self.poll_s)

    async def start(self) -> None:
        await self.poll_once()
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._poll())
        if self.longpoll:
            self._lp_task = loop.create_task(self._longpoll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.poll_once()
            except HashwattError as exc:
                log.warning("getblocktemplate failed: %s", exc)

    async def stop(self) -> None:
        for task in (self._task, self._lp_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._lp_task = None

    async def submit_block(self, block: Block, job: Job) -> BlockResult:
        """Check the candidate with :func:`hashwatt.chain.validate_block`, then submitblock."""
        template = self._templates.get(job.job_id)
        if template is not None:
            fees = max(template.coinbase_value_sat - block_subsidy_sat(template.height), 0)
            errors = validate_block(block, height=template.height, fees_sat=fees, now=int(time.time()))
            if errors:
                result = BlockResult(
                    hash_to_hex(header_hash(block.header)),
                    job.height,
                    False,
                    "not submitted, fails local checks: " + "; ".join(str(e) for e in errors),
                )
                self.results.append(result)
                return result
        try:
            result = await asyncio.to_thread(submit_block, self.rpc, block)
        except NodeError as exc:
            result = BlockResult(hash_to_hex(header_hash(block.header)), job.height, False, str(exc))
        result = BlockResult(result.block_hash_hex, job.height, result.accepted, result.message)
        self.results.append(result)
        if result.accepted:
            with contextlib.suppress(HashwattError):
                await self.poll_once()
        return result
