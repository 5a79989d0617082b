"""Throughput measurements shared by ``hashwatt bench`` and ``bench/bench_pow.py``.

Each backend is timed beside two references measured in the same run, so a ratio stays
meaningful on a busy machine:

- the plain hashlib loop: ``sha256(sha256(header80).digest())`` per nonce, one thread;
- OpenSSL's raw SHA-256 compression rate: hashlib over a large buffer, in 64-byte blocks
  per second. A midstate sha256d costs two compressions, so half that rate is what one
  OpenSSL stream would hash. OpenSSL uses SHA-NI where the CPU has it, but one stream is
  bound by the latency of ``sha256rnds2``; a kernel that interleaves independent nonces is
  bound by its throughput instead, and can beat this figure (see docs/PERFORMANCE.md).
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import time
from dataclasses import dataclass

from hashwatt.pow._common import GENESIS_HEADER76
from hashwatt.pow._scan import bench_chunk, scan

#: Reference single-core rates from the issue, measured on this project's 2-core machine [H/s].
CPUMINER_HS_PER_CORE = 14.7e6
CPUMINER_OPT_HS_PER_CORE = 25.0e6
#: A realistic target (mainnet bits 0x17034219, 2024): top word zero, like every real job.
_BENCH_TARGET = 0x034219 << (8 * (0x17 - 3))


@dataclass(frozen=True, slots=True)
class BackendRate:
    """Measured throughput of one backend at a thread count."""

    backend: str
    threads: int
    hashes: int
    seconds: float
    hashrate_hs: float
    hashrate_hs_per_thread: float
    #: Process CPU time over wall time during the run: ~threads when every thread had a core
    #: to itself; less when the GIL or other processes got in the way [cores].
    cores_busy: float

    @property
    def hashes_per_cpu_s(self) -> float:
        """Hashes per CPU-second actually received: a per-core rate that survives a shared machine [H/s]."""
        return self.hashrate_hs / self.cores_busy if self.cores_busy > 0 else 0.0


@dataclass(frozen=True, slots=True)
class References:
    """Same-run baselines: hashlib double-SHA loop [H/s] and SHA-256 blocks [blocks/s], one core."""

    hashlib_loop_hs: float
    sha256_blocks_per_s: float

    @property
    def openssl_sha256d_hs(self) -> float:
        """Midstate sha256d at OpenSSL's single-stream block rate: two compressions per hash [H/s]."""
        return self.sha256_blocks_per_s / 2


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def hashlib_loop_rate(seconds: float, *, per_cpu_second: bool = False) -> float:
    """The plain hashlib double-SHA loop over full 80-byte headers, one thread [H/s].

    ``per_cpu_second=True`` divides by this thread's CPU time instead of wall time, for
    ratios against other per-CPU-second figures on a shared machine.
    """
    sha256 = hashlib.sha256
    pack = struct.Struct("<I").pack
    prefix = GENESIS_HEADER76
    done = 0
    start = time.perf_counter()
    cpu_start = time.thread_time()
    deadline = start + seconds
    nonce = 0
    while True:
        for _ in range(20_000):
            sha256(sha256(prefix + pack(nonce)).digest()).digest()
            nonce += 1
        done += 20_000
        now = time.perf_counter()
        if now >= deadline:
            spent = max(time.thread_time() - cpu_start, 1e-9) if per_cpu_second else now - start
            return done / spent


def sha256_block_rate(seconds: float) -> float:
    """OpenSSL's SHA-256 over a 4 MiB buffer, one thread [64-byte blocks/s]."""
    buffer = bytes(4 << 20)
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        hashlib.sha256(buffer).digest()
        done += len(buffer)
        now = time.perf_counter()
        if now >= deadline:
            return done / 64 / (now - start)


def measure_references(seconds: float) -> References:
    return References(hashlib_loop_rate(seconds), sha256_block_rate(seconds))


def backend_rate(backend: str, threads: int, seconds: float) -> BackendRate:
    """Throughput of ``scan`` on ``backend`` with ``threads`` threads on disjoint ranges."""
    chunk = bench_chunk(backend)
    scan(GENESIS_HEADER76, 0, min(chunk, 4096), _BENCH_TARGET, backend=backend)  # build / JIT / warm up
    counts = [0] * threads
    ends = [0.0] * threads
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        start = (index * (1 << 32) // threads) // chunk * chunk
        barrier.wait()
        while True:
            if start + chunk > 1 << 32:
                start = 0
            scan(GENESIS_HEADER76, start, chunk, _BENCH_TARGET, backend=backend)
            start += chunk
            counts[index] += chunk
            now = time.perf_counter()
            if now >= deadline[0]:
                ends[index] = now
                return

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    cpu_begin = time.process_time()
    begin = time.perf_counter()
    deadline[0] = begin + seconds
    barrier.wait()
    for thread in pool:
        thread.join()
    elapsed = max(ends) - begin
    cpu_s = time.process_time() - cpu_begin
    total = sum(counts)
    rate = total / elapsed
    return BackendRate(backend, threads, total, elapsed, rate, rate / threads, cpu_s / elapsed)


def kernel_rate(kernel: str, seconds: float) -> float:
    """One thread on one named C kernel, in hashes per CPU-second of that thread [H/s].

    Thread CPU time, not wall time: on a shared machine the time another process held the
    core is not counted, so kernels timed one after the other stay comparable.
    """
    from hashwatt.pow._cpu import C_KERNELS, resolve_kernel_name, scan_cpu

    name = resolve_kernel_name(kernel)
    chunk = C_KERNELS[name].probe_nonces * 8
    done = 0
    start = time.perf_counter()
    cpu_start = time.thread_time()
    while True:
        scan_cpu(GENESIS_HEADER76, done % (1 << 31), chunk, _BENCH_TARGET, kernel=name)
        done += chunk
        if time.perf_counter() - start >= seconds:
            return done / max(time.thread_time() - cpu_start, 1e-9)


@dataclass(frozen=True, slots=True)
class KernelRate:
    """One C kernel's rate on one thread, and whether the ``cpu`` backend runs it here."""

    kernel: str
    description: str
    hashes_per_cpu_s: float
    chosen: bool


def kernel_rates(seconds: float) -> list[KernelRate]:
    """Every C kernel this CPU runs, timed ``seconds`` each, the chosen one marked.

    The chosen one is what ``hashwatt mine --backend cpu`` runs: forced by
    ``HASHWATT_POW_KERNEL``, else the cached short measurement (see ``_cpu.kernel_choice``).
    """
    from hashwatt.pow._cpu import C_KERNELS, available_kernels, best_kernel

    chosen = best_kernel()
    return [
        KernelRate(name, C_KERNELS[name].description, kernel_rate(name, seconds), name == chosen)
        for name in available_kernels()
    ]
