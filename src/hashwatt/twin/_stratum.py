"""Optional Stratum V1 link of a twin to its configured pool (``stratum = true`` in a group).

The twin subscribes and authorizes as its pool user, follows jobs and difficulty, and submits
real shares at a scaled-down rate: one search of at most :data:`SEARCH_NONCES` nonces every
``share_interval_s`` while it hashes. A pool change through any firmware API moves the
connection, so the switch is visible on the pool's side. Hashrate on the pool is therefore
not the twin's modelled hashrate (that would need the real hashes); the counters the firmware
API reports stay the physics' counters.

With ``work_scale`` the link instead owes the pool ``work_scale`` times the work its modelled
hashrate does, and pays it in real shares at whatever difficulty the pool sets: the pool then
credits each twin a hashrate proportional to the one its firmware reports (``work_scale`` x
the modelled one), and a sleeping or rebooting twin owes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from hashwatt.chain import HASHES_PER_DIFFICULTY, hashes_per_block
from hashwatt.errors import HashwattError
from hashwatt.pow import scan
from hashwatt.stratum import PoolUrl, difficulty_from_target
from hashwatt.stratum._session import ClientSession, ShareResult  # as hashwatt.miner.client does
from hashwatt.twin._twin import Twin
from hashwatt.work import Solution, header_prefix

__all__ = ["SEARCH_NONCES", "StratumLink"]

#: Nonces tried per share attempt: enough at the low difficulty of a test pool, bounded so a
#: real pool's difficulty costs a site of twins little CPU (a miss just skips the share).
SEARCH_NONCES = 1 << 16
#: Work owed is capped at this many shares, so a stall is not paid back in one burst.
MAX_OWED_SHARES = 4.0


class StratumLink:
    """One twin's pool connection; :meth:`run` until ``stop`` is set."""

    def __init__(
        self,
        twin: Twin,
        now: Callable[[], float],
        *,
        share_interval_s: float = 5.0,
        connect_timeout_s: float = 5.0,
        work_scale: float | None = None,
    ) -> None:
        self.twin = twin
        self.now = now
        self.share_interval_s = share_interval_s
        #: Credited hashes per modelled hash (None: one search every ``share_interval_s``).
        self.work_scale = work_scale
        self.owed_work = 0.0  # [difficulty-1 shares]
        self._cursor: tuple[str, bytes, int] | None = None  # (job id, extranonce2, next nonce)
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
        last = loop.time()
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
            if self.work_scale is not None:
                now = loop.time()
                for solution in self._pay(session, now - last):
                    session.submit(solution)
                last = now
            elif (
                loop.time() >= next_share
                and session.current is not None
                and self.twin.physics.hashrate_ths > 0
            ):
                next_share = loop.time() + self.share_interval_s
                for solution in self._search(session):
                    session.submit(solution)
            out = session.take_outbox()
            if out:
                writer.write(out)
                await writer.drain()

    def _search(self, session: ClientSession) -> list[Solution]:
        job = session.current
        assert job is not None
        self._extranonce2 = (self._extranonce2 + 1) % (1 << (8 * job.extranonce2_size))
        en2 = self._extranonce2.to_bytes(job.extranonce2_size, "big")
        hits = scan(header_prefix(job, en2), 0, SEARCH_NONCES, job.share_target)
        return [Solution(job.job_id, en2, job.ntime, nonce, job.version) for nonce in hits[:1]]

    def _pay(self, session: ClientSession, elapsed_s: float) -> list[Solution]:
        """Shares for the work owed after ``elapsed_s`` more seconds at the modelled hashrate.

        The search walks one header's nonces in steps of about one share's expected hashes and
        resumes where it stopped, so no hash is done twice and a miss only keeps the debt.
        """
        job = session.current
        assert self.work_scale is not None
        if job is None:
            return []
        difficulty = difficulty_from_target(job.share_target)
        hashes = self.work_scale * self.twin.physics.hashrate_ths * 1e12 * max(elapsed_s, 0.0)
        self.owed_work = min(self.owed_work + hashes / HASHES_PER_DIFFICULTY, MAX_OWED_SHARES * difficulty)
        due = int(self.owed_work // difficulty)
        if due < 1:
            return []
        found: list[Solution] = []
        # At most a few shares' worth of hashes per call: a debt left is paid on the next turn.
        for _ in range(2 * due + 2):
            if len(found) >= due:
                break
            cursor = self._cursor
            if cursor is None or cursor[0] != job.job_id or cursor[2] >= 1 << 32:
                self._extranonce2 = (self._extranonce2 + 1) % (1 << (8 * job.extranonce2_size))
                cursor = (job.job_id, self._extranonce2.to_bytes(job.extranonce2_size, "big"), 0)
            job_id, en2, start = cursor
            count = min(max(int(hashes_per_block(difficulty)), 1024), (1 << 32) - start)
            hits = scan(header_prefix(job, en2), start, count, job.share_target)[: due - len(found)]
            # Resume after the last share taken, or after the range when it paid less than owed.
            taken_all = len(hits) == due - len(found)
            self._cursor = (job_id, en2, hits[-1] + 1 if hits and taken_all else start + count)
            found += [Solution(job_id, en2, job.ntime, nonce, job.version) for nonce in hits]
        self.owed_work -= len(found) * difficulty
        return found


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
