"""Optional Stratum V1 link of a twin to its configured pool (``stratum = true`` in a group).

The twin subscribes and authorizes as its pool user, follows jobs and difficulty, and submits
real shares at a scaled-down rate: one search of at most :data:`SEARCH_NONCES` nonces every
``share_interval_s`` while it hashes. A pool change through any firmware API moves the
connection, so the switch is visible on the pool's side. Hashrate on the pool is therefore
not the twin's modelled hashrate (that would need the real hashes); the counters the firmware
API reports stay the physics' counters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from hashwatt.errors import HashwattError
from hashwatt.pow import scan
from hashwatt.stratum import PoolUrl
from hashwatt.stratum._session import ClientSession, ShareResult  # as hashwatt.miner.client does
from hashwatt.twin._twin import Twin
from hashwatt.work import Solution, header_prefix

__all__ = ["SEARCH_NONCES", "StratumLink"]

#: Nonces tried per share attempt: enough at the low difficulty of a test pool, bounded so a
#: real pool's difficulty costs a site of twins little CPU (a miss just skips the share).
SEARCH_NONCES = 1 << 16


class StratumLink:
    """One twin's pool connection; :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        twin: Twin,
        now: Callable[[], float],
        *,
        share_interval_s: float = 5.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.twin = twin
        self.now = now
        self.share_interval_s = share_interval_s
        self.connect_timeout_s = connect_timeout_s
        self.connected_to: tuple[str, str] | None = None  # (url, user) of the live session
        self.accepted = 0
        self.rejected = 0
        self._extranonce2 = 0

    def _wanted(self) -> tuple[str, str, str] | None:
        now = self.now()
        self.twin.advance(now)
        i = self.twin.active_pool()
        if i is None or not self.twin.mining or not self.twin.is_up(now):
            return None
        pool = self.twin.pools[i]
        return pool.url, pool.user, pool.password

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            wanted = self._wanted()
            if wanted is None:
                await _sleep(stop, 1.0)
                continue
            try:
                url = PoolUrl.parse(wanted[0])
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(url.host, url.port, limit=1 << 16), self.connect_timeout_s
                )
            except (HashwattError, OSError, TimeoutError):
                await _sleep(stop, 5.0)
                continue
            try:
                await self._session(wanted, reader, writer, stop)
            except (HashwattError, OSError, TimeoutError):
                await _sleep(stop, 2.0)
            finally:
                self.connected_to = None
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def _session(
        self,
        wanted: tuple[str, str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stop: asyncio.Event,
    ) -> None:
        session = ClientSession(user=wanted[1], password=wanted[2], version_mask=None)
        session.start()
        writer.write(session.take_outbox())
        self.connected_to = (wanted[0], wanted[1])
        loop = asyncio.get_running_loop()
        next_share = loop.time() + self.share_interval_s
        while not stop.is_set() and self._wanted() == wanted:
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                data = None
            if data == b"":
                return
            if data:
                for event in session.receive(data):
                    if isinstance(event, ShareResult):
                        if event.accepted:
                            self.accepted += 1
                        else:
                            self.rejected += 1
            if (
                loop.time() >= next_share
                and session.current is not None
                and self.twin.physics.hashrate_ths > 0
            ):
                next_share = loop.time() + self.share_interval_s
                solution = self._search(session)
                if solution is not None:
                    session.submit(solution)
            out = session.take_outbox()
            if out:
                writer.write(out)
                await writer.drain()

    def _search(self, session: ClientSession) -> Solution | None:
        job = session.current
        assert job is not None
        self._extranonce2 = (self._extranonce2 + 1) % (1 << (8 * job.extranonce2_size))
        en2 = self._extranonce2.to_bytes(job.extranonce2_size, "big")
        hits = scan(header_prefix(job, en2), 0, SEARCH_NONCES, job.share_target)
        if not hits:
            return None
        return Solution(job.job_id, en2, job.ntime, hits[0], job.version)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
