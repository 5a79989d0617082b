"""The search engine: worker threads that turn a :class:`~hashwatt.work.Job` into
nonce scans on a :mod:`hashwatt.pow` backend and report every share they find.

Search space and partitioning. A job's work is one sequence of *work items*; item ``k`` is
batch ``k mod B`` of unit ``k div B``, where ``B = ceil(nonces_per_header / batch)`` batches
cover the nonce space of one header (``2**32`` nonces unless the engine is told otherwise). Unit ``u`` fixes the header: ``extranonce2 = u mod E``
(little-endian, ``job.extranonce2_size`` bytes, ``E = 256**size``) and the version rolled by
``u div E`` inside ``job.version_mask`` (BIP 310: the bits of ``u div E`` deposited into the
mask, XORed onto ``job.version``). So the engine rolls the nonce over all ``2**32``, then
extranonce2, and versions once extranonce2 is spent; it never idles while a mask bit is left.

Workers take the next item from one shared counter, so no two workers ever scan the same
range, and the set of items done after ``n`` items is the first ``n`` whatever the thread
count: results depend only on the job and how far the search got (see :meth:`SearchEngine.search`).

Every hit is recomputed on the host with hashlib through :func:`~hashwatt.work.solution_hash`
(an independent path: coinbase, merkle branch, header) before ``on_solution`` sees it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hashwatt.chain import MAX_TARGET, PowAlgorithm
from hashwatt.miner.errors import EngineError, EngineInputError
from hashwatt.pow import NONCE_SPACE, check_backend, resolve_scrypt_backend, scan, scan_scrypt
from hashwatt.pow import default_batch_nonces as pow_default_batch_nonces
from hashwatt.pow.errors import KernelError
from hashwatt.work import Job, Solution, header_prefix, solution_hash

__all__ = [
    "EngineStats",
    "SearchEngine",
    "WorkItem",
    "default_batch_nonces",
    "effective_batch_nonces",
    "expected_hashes_per_share",
    "expected_seconds_to_share",
    "work_item",
]

#: How long a worker waits before re-checking the stop flag when there is no work [s].
_IDLE_POLL_S = 0.05
#: Worker and callback errors kept for the caller to read; older ones only count.
MAX_KEPT_ERRORS = 32
#: Nonces per work item on a scrypt backend: ~0.2 s of hashlib's scrypt on one core, a few ms
#: of a native kernel (scrypt costs ~10,000 x a SHA256d hash).
SCRYPT_BATCH_NONCES = 256
#: Hashrate windows [s].
_SHORT_WINDOW_S = 5.0
_LONG_WINDOW_S = 60.0


#: Most worker threads one engine runs.
MAX_THREADS = 1024


@dataclass(frozen=True, slots=True)
class EngineStats:
    """A snapshot of the engine: totals since it was created and recent hashrates.

    ``hashrate_hs_5s`` / ``hashrate_hs_60s`` are averages over the last 5 s / 60 s (or since
    start, when younger) [H/s]; ``solutions`` counts reported shares.
    """

    hashes_done: int
    hashrate_hs_5s: float
    hashrate_hs_60s: float
    solutions: int
    backend: str
    threads: int


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One batch of the search space: a header (extranonce2, version) and a nonce range."""

    extranonce2: bytes
    version: int
    nonce_start: int
    nonce_count: int


def default_batch_nonces(backend: str) -> int:
    """Nonces per work item: about 0.05-0.5 s of one worker, so a job switch or a stop is prompt.

    The figure comes from the backend table (:data:`hashwatt.pow.BACKENDS`)."""
    return pow_default_batch_nonces(backend)


def effective_batch_nonces(batch_nonces: int, share_target: int) -> int:
    """Nonces per work item for a job: ``batch_nonces``, cut so one batch holds at most ~64
    expected shares (never below 1,024). Each share is re-hashed on the host, so with a very
    easy target a full batch would take seconds and delay ``stop()`` and job switches."""
    cap = max(1024, int(min(expected_hashes_per_share(share_target) * 64, NONCE_SPACE)))
    return min(batch_nonces, cap)


def expected_hashes_per_share(share_target: int) -> float:
    """Mean hashes per share: a uniform 256-bit hash meets ``target`` with probability (target+1)/2**256."""
    if not 0 <= share_target <= MAX_TARGET:
        raise EngineInputError("share target must lie in [0, 2**256)")
    return float(MAX_TARGET + 1) / (share_target + 1)


def expected_seconds_to_share(share_target: int, hashrate_hs: float) -> float:
    """Mean time to the next share at ``hashrate_hs`` [s]; ``inf`` while nothing is hashing."""
    if hashrate_hs <= 0:
        return float("inf")
    return expected_hashes_per_share(share_target) / hashrate_hs


def _deposit_bits(value: int, mask: int) -> int:
    """Scatter the low bits of ``value`` into the set bits of ``mask`` (x86 PDEP)."""
    out = 0
    bit = 1
    while mask:
        low = mask & -mask
        if value & bit:
            out |= low
        mask ^= low
        bit <<= 1
    return out


def _items_per_unit(batch_nonces: int, nonces_per_header: int) -> int:
    return -(-nonces_per_header // batch_nonces)


def _total_units(job: Job) -> int:
    return (1 << (8 * job.extranonce2_size)) * (1 << bin(job.version_mask & 0xFFFFFFFF).count("1"))


def work_item(
    job: Job, item: int, batch_nonces: int, nonces_per_header: int = NONCE_SPACE
) -> WorkItem | None:
    """Item ``item`` of ``job``'s search sequence, or ``None`` once the space is spent."""
    per_unit = _items_per_unit(batch_nonces, nonces_per_header)
    unit, batch = divmod(item, per_unit)
    if item < 0 or unit >= _total_units(job):
        return None
    en2_space = 1 << (8 * job.extranonce2_size)
    en2_value, version_roll = unit % en2_space, unit // en2_space
    version = (
        job.version ^ _deposit_bits(version_roll, job.version_mask & 0xFFFFFFFF)
        if version_roll
        else job.version
    )
    start = batch * batch_nonces
    return WorkItem(
        extranonce2=en2_value.to_bytes(job.extranonce2_size, "little"),
        version=version,
        nonce_start=start,
        nonce_count=min(batch_nonces, nonces_per_header - start),
    )


def _work_key(job: Job) -> Job:
    """The job with the fields that do not change the headers normalised away."""
    return dataclasses.replace(job, share_target=1, clean_jobs=False)


class _WorkQueue:
    """The shared item counter of the current job (one lock, one condition)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.job: Job | None = None
        self.batch = 1
        self.generation = 0
        self.next_item = 0
        self.limit: int | None = None
        self.completed = 0
        self.stopping = False

    def set_job(self, job: Job, batch: int, limit: int | None = None) -> None:
        with self.cond:
            self.job = job
            self.batch = batch
            self.generation += 1
            self.next_item = 0
            self.completed = 0
            self.limit = limit
            self.cond.notify_all()

    def update_job(self, job: Job) -> bool:
        """Swap in ``job`` without restarting the item counter if it describes the same work.

        Same work: every field but ``share_target`` and ``clean_jobs`` equal (a pool that
        re-sends a job with a new difficulty). Restarting would rescan the same headers and
        submit duplicate shares. Returns whether the job was swapped in.
        """
        with self.cond:
            current = self.job
            if current is None or self.limit is not None or _work_key(current) != _work_key(job):
                return False
            self.job = job
            self.cond.notify_all()
            return True

    def take(self) -> tuple[int, Job, int, int] | None:
        """Next (generation, job, item, batch); ``None`` when stopping. Blocks while there is no work."""
        with self.cond:
            while True:
                if self.stopping:
                    return None
                if self.job is not None and (self.limit is None or self.next_item < self.limit):
                    item = self.next_item
                    self.next_item += 1
                    return self.generation, self.job, item, self.batch
                self.cond.wait(_IDLE_POLL_S)

    def exhausted(self, generation: int) -> None:
        """The job's search space is spent: stop handing out items until the next job."""
        with self.cond:
            if generation == self.generation:
                self.limit = self.next_item

    def done(self, generation: int) -> None:
        with self.cond:
            if generation == self.generation:
                self.completed += 1
                self.cond.notify_all()


class SearchEngine:
    """Multi-threaded nonce search over jobs on one hash backend.

    ``threads`` defaults to one per CPU core (one for the GPU backend, which drives the
    device from a single host thread); ``batch_nonces`` to :func:`default_batch_nonces`.
    ``nonces_per_header`` (default ``2**32``) rolls extranonce2 sooner: for demos and tests
    that must see extranonce2 and version rolling without spending 2**32 hashes per header.
    ``on_solution`` runs on a worker thread: keep it short and thread-safe (e.g. put the
    solution on a queue). A solution found on a batch of a job that has since been replaced
    is still reported, with its own ``job_id``; the caller decides whether it is stale.
    ``pow_algorithm`` picks the hash (SHA256d backends, or :func:`hashwatt.pow.scan_scrypt`'s
    with ``backend`` naming a scrypt backend); every job must be of that algorithm.
    """

    def __init__(
        self,
        *,
        backend: str = "auto",
        threads: int | None = None,
        batch_nonces: int | None = None,
        nonces_per_header: int = NONCE_SPACE,
        pow_algorithm: PowAlgorithm = PowAlgorithm.SHA256D,
    ) -> None:
        self._pow_algorithm = pow_algorithm
        if pow_algorithm is PowAlgorithm.SCRYPT:
            self._backend = resolve_scrypt_backend(backend)
        else:
            self._backend = check_backend(backend)
        if threads is None:
            threads = 1 if self._backend == "gpu" else (os.cpu_count() or 1)
        if not isinstance(threads, int) or isinstance(threads, bool) or not 1 <= threads <= MAX_THREADS:
            raise EngineInputError(
                f"threads must be an int in 1..{MAX_THREADS}, got {threads!r}", field="threads", value=threads
            )
        if batch_nonces is None:
            scrypt = pow_algorithm is PowAlgorithm.SCRYPT
            batch_nonces = SCRYPT_BATCH_NONCES if scrypt else default_batch_nonces(self._backend)
        if (
            not isinstance(batch_nonces, int)
            or isinstance(batch_nonces, bool)
            or not 1 <= batch_nonces <= NONCE_SPACE
        ):
            raise EngineInputError(
                f"batch_nonces must be an int in 1..2**32, got {batch_nonces!r}",
                field="batch_nonces",
                value=batch_nonces,
            )
        if not isinstance(nonces_per_header, int) or not 1 <= nonces_per_header <= NONCE_SPACE:
            raise EngineInputError(
                f"nonces_per_header must be an int in 1..2**32, got {nonces_per_header!r}",
                field="nonces_per_header",
                value=nonces_per_header,
            )
        self._threads = threads
        self._batch_nonces = min(batch_nonces, nonces_per_header)
        self._nonces_per_header = nonces_per_header
        self._queue = _WorkQueue()
        self._workers: list[threading.Thread] = []
        self._on_solution: Callable[[Solution], None] | None = None
        self._stats_lock = threading.Lock()
        self._hashes_done = 0
        self._solutions = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._errors: deque[BaseException] = deque(maxlen=MAX_KEPT_ERRORS)
        self._error_count = 0

    # ------------------------------------------------------------------ public API
    @property
    def backend(self) -> str:
        return self._backend

    @property
    def pow_algorithm(self) -> PowAlgorithm:
        return self._pow_algorithm

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def batch_nonces(self) -> int:
        return self._batch_nonces

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._workers)

    @property
    def errors(self) -> list[BaseException]:
        """The latest exceptions raised by workers, their kernel or ``on_solution``, oldest first.

        At most :data:`MAX_KEPT_ERRORS` are kept (a kernel failing on every batch would fill
        memory otherwise); :attr:`error_count` counts them all. The workers keep going: the
        caller decides whether an error ends the run (``hashwatt mine`` stops and reports).
        """
        with self._stats_lock:
            return list(self._errors)

    @property
    def error_count(self) -> int:
        """Errors since the engine was created, including those no longer kept in :attr:`errors`."""
        with self._stats_lock:
            return self._error_count

    def set_job(self, job: Job) -> None:
        """Switch to ``job``; workers pick it up after their current batch. extranonce2 restarts at 0.

        A job that differs from the current one only in ``share_target`` / ``clean_jobs`` (a
        difficulty change) continues the current search instead, so no header is scanned twice.
        """
        self._check_algorithm(job)
        if not self._queue.update_job(job):
            self._queue.set_job(job, effective_batch_nonces(self._batch_nonces, job.share_target))

    def start(self, on_solution: Callable[[Solution], None]) -> None:
        """Start the worker threads; they idle until :meth:`set_job` gives them work."""
        if self.running:
            raise EngineError("the search engine is already running")
        self._on_solution = on_solution
        self._queue.stopping = False
        with self._stats_lock:
            self._samples.clear()
            self._samples.append((time.monotonic(), self._hashes_done))
        self._workers = [
            threading.Thread(target=self._work, name=f"hashwatt-engine-{i}", daemon=True)
            for i in range(self._threads)
        ]
        for worker in self._workers:
            worker.start()

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop every worker (each finishes at most its current batch); waits up to ``timeout_s``."""
        with self._queue.cond:
            self._queue.stopping = True
            self._queue.cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    @property
    def stats(self) -> EngineStats:
        now = time.monotonic()
        with self._stats_lock:
            total = self._hashes_done
            rate_5 = self._rate(now, total, _SHORT_WINDOW_S)
            rate_60 = self._rate(now, total, _LONG_WINDOW_S)
            return EngineStats(
                hashes_done=total,
                hashrate_hs_5s=rate_5,
                hashrate_hs_60s=rate_60,
                solutions=self._solutions,
                backend=self._backend,
                threads=self._threads,
            )

    def search(self, job: Job, *, hashes: int, timeout_s: float | None = None) -> list[Solution]:
        """Scan the first ``ceil(hashes / batch)`` work items of ``job`` and return its shares.

        ``batch`` is :func:`effective_batch_nonces` of the engine's batch and the job's target.

        Deterministic: the same solutions, in search order, whatever the thread count.
        Blocks until done (or ``timeout_s``, then raises :class:`EngineError`).
        """
        if self.running:
            raise EngineError("search() needs an idle engine; stop() it first")
        if hashes < 0:
            raise EngineInputError(f"hashes must be >= 0, got {hashes}", field="hashes", value=hashes)
        self._check_algorithm(job)
        batch = effective_batch_nonces(self._batch_nonces, job.share_target)
        n_items = -(-hashes // batch)
        found: list[tuple[int, Solution]] = []
        lock = threading.Lock()
        item_of: dict[tuple[bytes, int, int], int] = {}
        for k in range(n_items):
            spec = work_item(job, k, batch, self._nonces_per_header)
            if spec is None:
                n_items = k
                break
            item_of[(spec.extranonce2, spec.version, spec.nonce_start)] = k

        def collect(solution: Solution) -> None:
            nonce_start = (solution.nonce // batch) * batch
            with lock:
                found.append((item_of[(solution.extranonce2, solution.version, nonce_start)], solution))

        self._queue.set_job(job, batch, limit=n_items)
        self.start(collect)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            with self._queue.cond:
                while self._queue.completed < n_items:
                    if self.error_count:
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise EngineError(f"search of {hashes} hashes did not finish within {timeout_s} s")
                    self._queue.cond.wait(_IDLE_POLL_S if remaining is None else min(remaining, _IDLE_POLL_S))
        finally:
            self.stop()
            self._queue.set_job(job, batch, limit=0)
        errors = self.errors
        if errors:
            raise EngineError(f"search failed: {errors[0]}") from errors[0]
        found.sort(key=lambda pair: (pair[0], pair[1].nonce))
        return [solution for _, solution in found]

    def _check_algorithm(self, job: Job) -> None:
        if job.pow_algorithm is not self._pow_algorithm:
            raise EngineInputError(
                f"job {job.job_id} is {job.pow_algorithm} work; this engine hashes {self._pow_algorithm}",
                field="job",
                value=job.job_id,
            )

    # ------------------------------------------------------------------ workers
    def _rate(self, now: float, total: int, window_s: float) -> float:
        samples = self._samples
        if not samples:
            return 0.0
        base_t, base_h = samples[0]
        for t, h in samples:
            if t > now - window_s:
                break
            base_t, base_h = t, h
        elapsed = now - base_t
        return (total - base_h) / elapsed if elapsed > 0 else 0.0

    def _record(self, hashes: int, solutions: int) -> None:
        now = time.monotonic()
        with self._stats_lock:
            self._hashes_done += hashes
            self._solutions += solutions
            self._samples.append((now, self._hashes_done))
            while len(self._samples) > 2 and self._samples[1][0] < now - _LONG_WINDOW_S - 1.0:
                self._samples.popleft()

    def _work(self) -> None:
        cached_key: tuple[int, bytes, int] | None = None
        header = b""
        while True:
            task = self._queue.take()
            if task is None:
                return
            generation, job, item, batch = task
            try:
                spec = work_item(job, item, batch, self._nonces_per_header)
                if spec is None:
                    self._queue.exhausted(generation)
                    continue
                key = (generation, spec.extranonce2, spec.version)
                if key != cached_key:
                    header = header_prefix(job, spec.extranonce2, version=spec.version)
                    cached_key = key
                scanner = scan_scrypt if job.pow_algorithm is PowAlgorithm.SCRYPT else scan
                nonces = scanner(
                    header, spec.nonce_start, spec.nonce_count, job.share_target, backend=self._backend
                )
                solutions = [self._checked(job, spec, nonce) for nonce in nonces]
                self._record(spec.nonce_count, len(solutions))
                for solution in solutions:
                    self._report(solution)
            except Exception as exc:  # a worker must not die silently
                self._record_error(exc)
            finally:
                self._queue.done(generation)

    @staticmethod
    def _checked(job: Job, spec: WorkItem, nonce: int) -> Solution:
        solution = Solution(job.job_id, spec.extranonce2, job.ntime, nonce, spec.version)
        if int.from_bytes(solution_hash(job, solution), "little") > job.share_target:
            raise KernelError(f"job {job.job_id}: nonce {nonce} does not meet the share target on re-check")
        return solution

    def _report(self, solution: Solution) -> None:
        callback = self._on_solution
        if callback is None:
            return
        try:
            callback(solution)
        except Exception as exc:
            self._record_error(exc)

    def _record_error(self, exc: BaseException) -> None:
        with self._stats_lock:
            self._errors.append(exc)
            self._error_count += 1
