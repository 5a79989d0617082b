"""Pool-side share accounting, pure: job book, share validation, vardiff and hashrate meters.

No I/O here; the asyncio server feeds submits in and sends the verdicts out.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import NamedTuple

from hashwatt.chain import HASHES_PER_DIFFICULTY, AuxPowBlock, Block, hash_to_hex
from hashwatt.errors import HashwattError
from hashwatt.stratum._codec import Submit, notify_params, rolled_version
from hashwatt.stratum._coin import BITCOIN_SHARES, ShareRules
from hashwatt.stratum._wire import encode_request
from hashwatt.stratum.errors import ErrorCode
from hashwatt.work import Job, Solution, assemble_aux_block, assemble_block, header_prefix, prefix_hash

#: How far ntime may run ahead of the job's ntime (Core rejects blocks > 2 h in the future) [s].
NTIME_MAX_AHEAD_S = 7200


@dataclass(frozen=True, slots=True)
class ShareRecord:
    """One accepted share, as the share log stores it (the input of PPS/FPPS/PPLNS payouts).

    ``difficulty`` is in the coin's Stratum convention; ``share_hash_hex`` is the proof-of-work
    hash (scrypt on a scrypt coin). ``chain`` is the coin credited; a merged-mined share also
    credits ``aux_chain`` with the same work (``aux_is_block``: it made a block there too, at
    ``aux_height``).
    """

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
    chain: str = "BTC"
    aux_chain: str | None = None
    aux_is_block: bool = False
    aux_height: int | None = None
    #: What the share's own job's coinbase pays [sat] (``None`` for upstream jobs): the FPPS
    #: value of a share found on an older template is that template's, not the newest one's.
    coinbase_value_sat: int | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid share; ``block`` is set when it also meets the network target; ``digest`` is its
    proof-of-work hash in internal byte order (the duplicate key); ``aux_block`` is set when it
    meets the merged-mined child's target."""

    record: ShareRecord
    block: Block | None = None
    digest: bytes = b""
    aux_block: AuxPowBlock | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    code: ErrorCode
    reason: str


class JobBook:
    """A connection group's recent job templates, by id; jobs before the last clean_jobs are stale.

    Templates have ``extranonce1 = b""``; each connection splices its own. Duplicates are found
    by the header hash across every live job (the same proof of work submitted under two job
    ids whose templates are identical is credited once, as ckpool does), and a job's hashes
    are forgotten when it goes stale or leaves the book, so the set is bounded by job
    lifetime: at most ``max_jobs`` jobs [jobs]. Only shares that met their target are
    remembered, so a flood of random nonces never grows it.
    """

    def __init__(self, max_jobs: int = 32) -> None:
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._stale: set[str] = set()
        self._seen: dict[bytes, str] = {}
        self._seen_by_job: dict[str, list[bytes]] = {}
        self._notify: dict[tuple[str, bool], bytes] = {}

    def add(self, job: Job) -> None:
        if job.clean_jobs:
            for old in self._jobs:
                if old not in self._stale:
                    self._stale.add(old)
                    self._drop_seen(old)
        self._jobs[job.job_id] = job
        self._drop_seen(job.job_id)
        self._seen_by_job[job.job_id] = []
        self._notify = {k: v for k, v in self._notify.items() if k[0] in self._jobs and k[0] != job.job_id}
        while len(self._jobs) > self.max_jobs:
            old, _ = self._jobs.popitem(last=False)
            self._stale.discard(old)
            self._drop_seen(old)
            self._notify.pop((old, True), None)
            self._notify.pop((old, False), None)

    def _drop_seen(self, job_id: str) -> None:
        for digest in self._seen_by_job.pop(job_id, ()):
            if self._seen.get(digest) == job_id:
                del self._seen[digest]

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def is_stale(self, job_id: str) -> bool:
        return job_id in self._stale

    @property
    def latest(self) -> Job | None:
        return next(reversed(self._jobs.values())) if self._jobs else None

    @property
    def seen_count(self) -> int:
        """Share hashes remembered for duplicate detection [shares]."""
        return len(self._seen)

    def mark_seen(self, job_id: str, digest: bytes) -> bool:
        """Record a share's header hash; False when any live job already had it (a duplicate)."""
        if digest in self._seen:
            return False
        self._seen[digest] = job_id
        self._seen_by_job.setdefault(job_id, []).append(digest)
        return True

    def forget_seen(self, digest: bytes) -> None:
        """Undo :meth:`mark_seen` for a share that was not stored, so its resend can be accepted."""
        job_id = self._seen.pop(digest, None)
        if job_id is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._seen_by_job[job_id].remove(digest)

    def notify_line(self, job: Job, *, clean: bool) -> bytes:
        """The encoded ``mining.notify`` of a job, made once per job and shared by every miner."""
        key = (job.job_id, clean)
        line = self._notify.get(key)
        if line is None:
            params = notify_params(job)
            params[-1] = clean
            line = self._notify[key] = encode_request(None, "mining.notify", params)
        return line


def validate_share(
    book: JobBook,
    submit: Submit,
    *,
    user: str,
    extranonce1: bytes,
    version_mask: int,
    share_target: int,
    now_unix_s: float,
    views: dict[tuple[str, bytes, int], tuple[Job, int]] | None = None,
    rules: ShareRules = BITCOIN_SHARES,
) -> Accepted | Rejected:
    """Check one ``mining.submit`` against the pool's jobs; the order follows the cheap checks first.

    job known -> not stale -> extranonce2 size -> ntime window -> version mask -> meets the
    share target -> not a duplicate (by header hash, across every live job) -> and, if it
    meets the block target, assemble the block. Difficulty comes before the duplicate check
    so that shares without work never enter the duplicate set. ``views`` caches the
    connection's copy of each template (its extranonce1 and mask spliced in, with its block
    target) so a miner's shares do not rebuild it every time. The share is hashed with the
    job's proof-of-work hash; ``rules`` give its difficulty and the chain credited.
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
    view_key = (submit.job_id, extranonce1, version_mask)
    view = views.get(view_key) if views is not None else None
    if view is None or view[0].prev_hash != job.prev_hash or view[0].coinb1 != job.coinb1:
        conn_job = dataclasses.replace(job, extranonce1=extranonce1, version_mask=version_mask)
        view = (conn_job, conn_job.block_target)  # (the target is decoded from bits on each read)
        if views is not None:
            if len(views) >= 16:
                views.pop(next(iter(views)))
            views[view_key] = view
    conn_job, block_target = view
    try:
        # The 80 header bytes hashed as they are: a BlockHeader (parsed, range-checked and
        # packed again) is built only for a block, not for every share.
        header = header_prefix(conn_job, submit.extranonce2, version=version, ntime=submit.ntime)
    except HashwattError as exc:
        return Rejected(ErrorCode.OTHER, f"invalid share: {exc}")
    digest = prefix_hash(header, submit.nonce, conn_job.pow_algorithm)
    value = int.from_bytes(digest, "little")
    if value > share_target:
        return Rejected(ErrorCode.LOW_DIFFICULTY, "Low difficulty share")
    if not book.mark_seen(submit.job_id, digest):
        return Rejected(ErrorCode.DUPLICATE_SHARE, "Duplicate share")
    is_block = value <= block_target
    aux = conn_job.aux
    is_aux_block = aux is not None and value <= aux.target
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
        difficulty=rules.difficulty(share_target),
        share_hash_hex=hash_to_hex(digest),
        is_block=is_block,
        height=job.height,
        chain=rules.coin.ticker,
        aux_chain=None if aux is None else aux.chain,
        aux_is_block=is_aux_block,
        aux_height=None if aux is None else aux.height,
        coinbase_value_sat=job.coinbase_value_sat,
    )
    block = aux_block = None
    if is_block or is_aux_block:
        solution = Solution(submit.job_id, submit.extranonce2, submit.ntime, submit.nonce, version)
        block = assemble_block(conn_job, solution) if is_block else None
        aux_block = assemble_aux_block(conn_job, solution) if is_aux_block else None
    return Accepted(record, block, digest, aux_block)


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

    Each share of difficulty d stands for ``d * HASHES_PER_DIFFICULTY`` hashes on average.
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
        return max(self._sum, 0.0) * HASHES_PER_DIFFICULTY / self.window_s


class WorkerRow(NamedTuple):
    """One worker's line in the pool statistics."""

    user: str
    worker: str
    accepted: int
    rejected: int
    hashrate_hs: float


@dataclass(slots=True)
class WorkerStats:
    """Accounting per ``user.worker`` name: counts and a 60 s hashrate from share difficulty."""

    user: str
    worker: str
    accepted: int = 0
    rejected: int = 0
    accepted_work: float = 0.0
    last_seen_s: float = 0.0
    meter: HashrateMeter = dataclasses.field(default_factory=HashrateMeter)

    def row(self, now_s: float) -> WorkerRow:
        return WorkerRow(self.user, self.worker, self.accepted, self.rejected, self.meter.hashrate_hs(now_s))


class WorkerTable:
    """Per-worker statistics, bounded and aged: worker names are chosen by clients, so at most
    ``max_workers`` are kept (the least recently active goes first) and a worker with no share
    for ``ttl_s`` is forgotten [workers, s]."""

    def __init__(self, *, max_workers: int = 50_000, ttl_s: float = 3600.0) -> None:
        self.max_workers = max_workers
        self.ttl_s = ttl_s
        self._rows: OrderedDict[tuple[str, str], WorkerStats] = OrderedDict()
        #: Workers dropped to keep the bound (not by age) [workers].
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._rows)

    def touch(self, user: str, worker: str, now_s: float) -> WorkerStats:
        key = (user, worker)
        stats = self._rows.get(key)
        if stats is None:
            while len(self._rows) >= self.max_workers:
                self._rows.popitem(last=False)
                self.evicted += 1
            stats = self._rows[key] = WorkerStats(user, worker)
        else:
            self._rows.move_to_end(key)
        stats.last_seen_s = now_s
        return stats

    def prune(self, now_s: float) -> int:
        """Forget workers idle for longer than ``ttl_s``; returns how many went [workers]."""
        gone = 0
        while self._rows:
            key, stats = next(iter(self._rows.items()))
            if now_s - stats.last_seen_s <= self.ttl_s:
                break
            del self._rows[key]
            gone += 1
        return gone

    def values(self) -> list[WorkerStats]:
        return list(self._rows.values())

    def top(self, now_s: float, count: int) -> tuple[WorkerRow, ...]:
        """The ``count`` workers with the highest 60 s hashrate (then most accepted shares)."""
        rows = [s.row(now_s) for s in self._rows.values()]
        rows.sort(key=lambda r: (-r.hashrate_hs, -r.accepted, r.user, r.worker))
        return tuple(rows[:count])
