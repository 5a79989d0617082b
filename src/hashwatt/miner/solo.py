"""Solo mining through Bitcoin Core: getblocktemplate -> Job -> search -> submitblock.

Each solution (the engine searches at the block target) is assembled into a full block,
checked with :func:`hashwatt.chain.validate_block`, and submitted; the node's answer is
reported. The template is polled every ``poll_s`` seconds and replaced when the tip moves.
The miner reports through ``on_event`` and its return value; printing is the CLI's
(``hashwatt mine --node``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from hashwatt.chain import block_subsidy_sat, hash_to_hex, header_hash, validate_block
from hashwatt.errors import HashwattError
from hashwatt.miner.client import Searcher
from hashwatt.node import (
    BlockTemplate,
    RpcClient,
    fetch_template,
    job_from_template,
    submit_block,
    template_coinbase,
)
from hashwatt.work import BlockResult, Job, Solution, assemble_block

__all__ = ["SoloMiner"]


class SoloMiner:
    """Drive ``engine`` with templates from ``rpc``; blocks pay ``payout_script``."""

    def __init__(
        self,
        rpc: RpcClient,
        payout_script: bytes,
        engine: Searcher,
        *,
        poll_s: float = 2.0,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.rpc = rpc
        self.payout_script = payout_script
        self.engine = engine
        self.poll_s = poll_s
        self.on_event = on_event
        self.results: list[BlockResult] = []
        self.invalid = 0
        self.template: BlockTemplate | None = None
        self.job: Job | None = None
        self._jobs = 0
        self._stop = asyncio.Event()

    def _emit(self, kind: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(kind, {"event": kind, "time_unix_s": round(time.time(), 3), **data})

    def stop(self) -> None:
        self._stop.set()

    async def _refresh(self, *, force: bool = False) -> None:
        template = await asyncio.to_thread(fetch_template, self.rpc)
        if not force and self.template is not None and template.prev_hash == self.template.prev_hash:
            return
        self._jobs += 1
        parts = template_coinbase(template, self.payout_script, extranonce1_size=0, extranonce2_size=8)
        self.template = template
        self.job = job_from_template(
            template, parts, job_id=f"solo{self._jobs}", ntime=max(template.curtime, int(time.time()))
        )
        self.engine.set_job(self.job)
        self._emit(
            "template",
            height=template.height,
            transactions=len(template.transactions),
            bits=f"{template.bits:08x}",
        )

    async def _on_solution(self, solution: Solution) -> None:
        job, template = self.job, self.template
        if job is None or template is None or solution.job_id != job.job_id:
            return
        block = assemble_block(job, solution)
        fees = template.coinbase_value_sat - block_subsidy_sat(template.height)
        errors = validate_block(block, height=template.height, fees_sat=max(fees, 0), now=int(time.time()))
        block_hash = hash_to_hex(header_hash(block.header))
        if errors:
            self.invalid += 1
            self._emit("invalid_block", block_hash=block_hash, errors=[str(e) for e in errors])
            return
        try:
            result = await asyncio.to_thread(submit_block, self.rpc, block)
        except HashwattError as exc:
            result = BlockResult(block_hash, template.height, False, str(exc))
        result = BlockResult(result.block_hash_hex, template.height, result.accepted, result.message)
        self.results.append(result)
        self._emit(
            "block",
            block_hash=block_hash,
            height=template.height,
            accepted=result.accepted,
            message=result.message,
        )
        await self._refresh(force=True)

    async def run(
        self, *, max_blocks: int | None = None, duration_s: float | None = None
    ) -> list[BlockResult]:
        loop = asyncio.get_running_loop()
        found: asyncio.Queue[Solution] = asyncio.Queue()
        await self._refresh(force=True)

        def on_solution(solution: Solution) -> None:  # engine worker thread
            loop.call_soon_threadsafe(found.put_nowait, solution)

        self.engine.start(on_solution)
        deadline = None if duration_s is None else loop.time() + duration_s
        next_poll = loop.time() + self.poll_s
        try:
            while not self._stop.is_set():
                if max_blocks is not None and sum(r.accepted for r in self.results) >= max_blocks:
                    break
                now = loop.time()
                if deadline is not None and now >= deadline:
                    break
                timeout = next_poll - now if deadline is None else min(next_poll, deadline) - now
                try:
                    solution = await asyncio.wait_for(found.get(), max(timeout, 0.0))
                except TimeoutError:
                    pass
                else:
                    await self._on_solution(solution)
                    continue
                if loop.time() >= next_poll:
                    next_poll = loop.time() + self.poll_s
                    try:
                        await self._refresh()
                    except HashwattError as exc:
                        self._emit("node_error", error=str(exc))
        finally:
            self.engine.stop()
        return self.results
