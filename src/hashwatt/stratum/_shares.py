"""Pool-side share accounting, pure: job book, share validation, vardiff and hashrate meters.

No I/O here; the asyncio server feeds submits in and sends the verdicts out.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, deque
from dataclasses import dataclass

from hashwatt.chain import Block, hash_to_hex, sha256d, target_to_difficulty
from hashwatt.errors import HashwattError
from hashwatt.stratum._codec import Submit, rolled_version
from hashwatt.stratum.errors import ErrorCode
from hashwatt.work import Job, Solution, assemble_block, assemble_header

#: Work represented by one share of difficulty 1 [hashes] (2**32, up to 0xffff/0x10000).
HASHES_PER_DIFF1 = 2**32
#: How far ntime may run ahead of the job's ntime (Core rejects blocks > 2 h in the future) [s].
NTIME_MAX_AHEAD_S = 7200


@dataclass(frozen=True, slots=True)
class ShareRecord:
    """One accepted share, as the share log stores it (the input of PPS/FPPS/PPLNS payouts)."""

    time_unix_s: float
    user: str
    worker: str
    job_id: str
    extranonce1: bytes
    extranonce2: bytes
    ntime: int
    nonce: int
    version: int
    difficulty: float
    share_hash_hex: str
    is_block: bool = False
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid share; ``block`` is set when it also meets the network target."""

    record: ShareRecord
    block: Block | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    code: ErrorCode
    reason: str


class JobBook:
    """The pool's recent job templates, by id; jobs before the last clean_jobs are stale.

    Templates have ``extranonce1 = b""``; each connection splices its own. Duplicate keys are
    tracked per job and dropped with it. At most ``max_jobs`` are kept [jobs].
    """

    def __init__(self, max_jobs: int = 32) -> None:
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._stale: set[str] = set()
        self._seen: dict[str, set[tuple[bytes, bytes, int, int, int]]] = {}

    def add(self, job: Job) -> None:
        if job.clean_jobs:
            self._stale.update(self._jobs)
        self._jobs[job.job_id] = job
        self._seen[job.job_id] = set()
        while len(self._jobs) > self.max_jobs:
            old, _ = self._jobs.popitem(last=False)
            self._stale.discard(old)
            self._seen.pop(old, None)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def is_stale(self, job_id: str) -> bool:
        return job_id in self._stale

    @property
    def latest(self) -> Job | None:
        return next(reversed(self._jobs.values())) if self._jobs else None

    def mark_seen(self, job_id: str, key: tuple[bytes, bytes, int, int, int]) -> bool:
        """Record a share key; False when it was already there (a duplicate)."""
        seen = self._seen.setdefault(job_id, set())
        if key in seen:
            return False
        seen.add(key)
        return True

    def forget_seen(self, job_id: str, key: tuple[bytes, bytes, int, int, int]) -> None:
        """Undo :meth:`mark_seen` for a share that was not stored, so its resend can be accepted."""
        seen = self._seen.get(job_id)
        if seen is not None:
            seen.discard(key)


def share_key(record: ShareRecord) -> tuple[bytes, bytes, int, int, int]:
    """The duplicate-detection key of a share (what :meth:`JobBook.mark_seen` remembers)."""
    return (record.extranonce1, record.extranonce2, record.ntime, record.nonce, record.version)


def validate_share(
    book: JobBook,
    submit: Submit,
    *,
    user: str,
    extranonce1: bytes,
    version_mask: int,
    share_target: int,
    now_unix_s: float,
    views: dict[tuple[str, bytes, int], Job] | None = None,
) -> Accepted | Rejected:
    """Check one ``mining.submit`` against the pool's jobs; the order follows the cheap checks first.

    job known -> not stale -> extranonce2 size -> ntime window -> version mask -> duplicate ->
    meets the share target (and, if it meets the block target, assemble the block).
    ``views`` caches the connection's copy of each template (its extranonce1 and mask spliced
    in) so a miner's shares do not rebuild it every time.
    """
    job = book.get(submit.job_id)
    if job is None:
        return Rejected(ErrorCode.JOB_NOT_FOUND, "Job not found")
    if book.is_stale(submit.job_id):
        return Rejected(ErrorCode.JOB_NOT_FOUND, "Stale job")
    if len(submit.extranonce2) != job.extranonce2_size:
        return Rejected(ErrorCode.OTHER, f"extranonce2 must be {job.extranonce2_size} bytes")
    if not job.ntime <= submit.ntime <= max(job.ntime, int(now_unix_s)) + NTIME_MAX_AHEAD_S:
        return Rejected(ErrorCode.OTHER, "ntime out of range")
    if submit.version_bits is not None:
        outside = submit.version_bits & ~version_mask & 0xFFFFFFFF
        if outside and outside != job.version & ~version_mask & 0xFFFFFFFF:
            return Rejected(ErrorCode.OTHER, "Invalid version bits (outside the negotiated mask)")
    version = rolled_version(job.version, submit.version_bits, version_mask)
    key = (extranonce1, submit.extranonce2, submit.ntime, submit.nonce, version)
    if not book.mark_seen(submit.job_id, key):
        return Rejected(ErrorCode.DUPLICATE_SHARE, "Duplicate share")
    view_key = (submit.job_id, extranonce1, version_mask)
    conn_job = views.get(view_key) if views is not None else None
    if conn_job is None or conn_job.prev_hash != job.prev_hash or conn_job.coinb1 != job.coinb1:
        conn_job = dataclasses.replace(job, extranonce1=extranonce1, version_mask=version_mask)
        if views is not None:
            if len(views) >= 16:
                views.pop(next(iter(views)))
            views[view_key] = conn_job
    solution = Solution(submit.job_id, submit.extranonce2, submit.ntime, submit.nonce, version)
    try:
        header = assemble_header(conn_job, solution)
    except HashwattError as exc:
        return Rejected(ErrorCode.OTHER, f"invalid share: {exc}")
    digest = sha256d(header.to_bytes())
    value = int.from_bytes(digest, "little")
    if value > share_target:
        return Rejected(ErrorCode.LOW_DIFFICULTY, "Low difficulty share")
    is_block = value <= conn_job.block_target
    record = ShareRecord(
        time_unix_s=now_unix_s,
        user=user,
        worker=submit.worker,
        job_id=submit.job_id,
        extranonce1=extranonce1,
        extranonce2=submit.extranonce2,
        ntime=submit.ntime,
        nonce=submit.nonce,
        version=version,
        difficulty=target_to_difficulty(share_target),
        share_hash_hex=hash_to_hex(digest),
        is_block=is_block,
        height=job.height,
    )
    block = assemble_block(conn_job, solution) if is_block else None
    return Accepted(record, block)


class VarDiff:
    """Per-connection variable difficulty: aim at one share every ``target_interval_s``.

    Retargets after ``retarget_interval_s`` (or once ``2 x`` the expected shares arrived),
    never by more than ``max_step`` x per retarget, within ``[min_difficulty, max_difficulty]``,
    and only when the observed rate is off by more than 40 % (hysteresis).
    """

    __slots__ = (
        "_count",
        "_since",
        "difficulty",
        "max_difficulty",
        "max_step",
        "min_difficulty",
        "retarget_interval_s",
        "target_interval_s",
    )

    def __init__(
        self,
        *,
        start_difficulty: float,
        min_difficulty: float,
        max_difficulty: float,
        target_interval_s: float = 10.0,
        retarget_interval_s: float = 60.0,
        max_step: float = 4.0,
        now_s: float = 0.0,
    ) -> None:
        self.difficulty = min(max(start_difficulty, min_difficulty), max_difficulty)
        self.min_difficulty = min_difficulty
        self.max_difficulty = max_difficulty
        self.target_interval_s = target_interval_s
        self.retarget_interval_s = retarget_interval_s
        self.max_step = max_step
        self._count = 0
        self._since = now_s

    def suggest(self, difficulty: float) -> None:
        """A miner's mining.suggest_difficulty, clamped to the allowed range."""
        self.difficulty = min(max(difficulty, self.min_difficulty), self.max_difficulty)

    def on_share(self, now_s: float) -> float | None:
        self._count += 1
        return self.retarget(now_s)

    def retarget(self, now_s: float) -> float | None:
        """The new difficulty if it is time to change it, else ``None``."""
        elapsed = now_s - self._since
        expected = self.retarget_interval_s / self.target_interval_s
        if elapsed < self.retarget_interval_s and self._count < 2 * expected:
            return None
        if elapsed <= 0:
            return None
        rate_per_s = self._count / elapsed
        ratio = rate_per_s * self.target_interval_s  # >1: too many shares, raise the difficulty
        self._count = 0
        self._since = now_s
        if 0.6 <= ratio <= 1.4:
            return None
        ratio = min(max(ratio, 1 / self.max_step), self.max_step)
        new = min(max(self.difficulty * ratio, self.min_difficulty), self.max_difficulty)
        if new == self.difficulty:
            return None
        self.difficulty = new
        return new


class HashrateMeter:
    """Hashrate from accepted share difficulty over a sliding window [H/s].

    Each share of difficulty d stands for ``d * 2**32`` hashes on average.
    """

    __slots__ = ("_events", "_sum", "window_s")

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, float]] = deque()
        self._sum = 0.0

    def add(self, now_s: float, difficulty: float) -> None:
        self._events.append((now_s, difficulty))
        self._sum += difficulty
        self._trim(now_s)

    def _trim(self, now_s: float) -> None:
        while self._events and self._events[0][0] < now_s - self.window_s:
            self._sum -= self._events.popleft()[1]

    def hashrate_hs(self, now_s: float) -> float:
        self._trim(now_s)
        return max(self._sum, 0.0) * HASHES_PER_DIFF1 / self.window_s
