"""Throughput measurements shared by ``hashwatt bench``, ``bench/bench_pow.py`` and ``bench/bench_scrypt.py``.

Each backend is timed beside two references measured in the same run, so a ratio stays
meaningful on a busy machine:

- the plain hashlib loop: ``sha256(sha256(header80).digest())`` per nonce, one thread;
- OpenSSL's raw SHA-256 compression rate: hashlib over a large buffer, in 64-byte blocks
  per second. A midstate sha256d costs two compressions, so half that rate is what one
  OpenSSL stream would hash. OpenSSL uses SHA-NI where the CPU has it, but one stream is
  bound by the latency of ``sha256rnds2``; a kernel that interleaves independent nonces is
  bound by its throughput instead, and can beat this figure (see docs/PERFORMANCE.md).

Scrypt backends are timed the same way beside hashlib's OpenSSL scrypt, and beside pooler's
``minerd -a scrypt`` when it is installed (:func:`external_miner_rate`).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import resource
import statistics
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hashwatt.pow._common import GENESIS_HEADER76, LTC_GENESIS_HEADER76, LTC_GENESIS_NONCE, scrypt_header
from hashwatt.pow._scan import bench_chunk, scan
from hashwatt.pow._scrypt import scan_scrypt

if TYPE_CHECKING:
    from hashwatt.pow._cpu import KernelFamily

#: Reference single-core rates from the issue, measured on this project's 2-core machine [H/s].
CPUMINER_HS_PER_CORE = 14.7e6
CPUMINER_OPT_HS_PER_CORE = 25.0e6
#: A realistic target (mainnet bits 0x17034219, 2024): top word zero, like every real job.
_BENCH_TARGET = 0x034219 << (8 * (0x17 - 3))
#: Litecoin's genesis target (bits 0x1e0ffff0): scrypt kernels hash every nonce in full anyway.
_SCRYPT_BENCH_TARGET = 0x0FFFF0 << (8 * (0x1E - 3))
#: Nonces per scrypt scan call when timing: a multiple of every kernel's lane count
#: (1, 2, 3, 4, 6, 8, 12, 16).
SCRYPT_BENCH_CHUNK = 96
#: "... 12345.6 khash/s" (pooler) or "... 25.1 MH/s" / "25.1 Mh/s" (cpuminer-opt) on any output line.
_MINER_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]?)(?:hash/s|H/s|h/s)")
_SI = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


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


def machine_label() -> str:
    """The CPU for a benchmark's first line: model name, cpuid identity, SHA/AVX flags."""
    from hashwatt.pow._cpu import cpu_model

    flags: list[str] = []
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    flags = [x for x in ("sha_ni", "avx2", "avx512f", "avx512vl") if x in have]
                    break
    except OSError:
        pass
    return f"{model} ({cpu_model()}; {', '.join(flags) or 'no SHA/AVX flags'})"


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

    def run(start: int) -> None:
        scan(GENESIS_HEADER76, start, chunk, _BENCH_TARGET, backend=backend)

    return _threaded_rate(backend, run, chunk, threads, seconds)


def scrypt_backend_rate(backend: str, threads: int, seconds: float) -> BackendRate:
    """Throughput of ``scan_scrypt`` on ``backend`` with ``threads`` threads on disjoint ranges."""
    chunk = SCRYPT_BENCH_CHUNK if backend != "python" else 8
    scan_scrypt(
        LTC_GENESIS_HEADER76, 0, chunk, _SCRYPT_BENCH_TARGET, backend=backend
    )  # build, self-test, choice

    def run(start: int) -> None:
        scan_scrypt(LTC_GENESIS_HEADER76, start, chunk, _SCRYPT_BENCH_TARGET, backend=backend)

    return _threaded_rate(backend, run, chunk, threads, seconds)


def _threaded_rate(
    backend: str, run: Callable[[int], None], chunk: int, threads: int, seconds: float
) -> BackendRate:
    """``run(start)`` scans ``chunk`` nonces from ``start``; ``threads`` threads on disjoint ranges."""
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
            run(start)
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


def scrypt_hashlib_rate(seconds: float) -> float:
    """hashlib's OpenSSL scrypt over full 80-byte headers, one thread, per thread-CPU-second [H/s]."""
    done = 0
    start = time.perf_counter()
    cpu_start = time.thread_time()
    while True:
        for _ in range(16):
            scrypt_header(LTC_GENESIS_HEADER76, LTC_GENESIS_NONCE + done)
            done += 1
        if time.perf_counter() - start >= seconds:
            return done / max(time.thread_time() - cpu_start, 1e-9)


def external_miner_rate(executable: str, args: list[str], seconds: float, *, only: str = "") -> float:
    """Run a miner's own benchmark for ``seconds``; its last reported rate per CPU-second [H/s].

    The miner reports hashes per wall second of its thread; scaled by wall / CPU time of the
    child (``RUSAGE_CHILDREN``), it becomes hashes per CPU-second like the in-process rows.
    ``only``: read rates only from lines containing it (``"Total"`` for a several-thread run,
    whose per-thread lines interleave with the totals). 0.0 when the miner printed no rate
    (too short a run, or not a miner).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    proc = subprocess.Popen(
        [executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    wall = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in out.splitlines() if only in line]
    rates = [float(value) * _SI[unit.lower()] for line in lines for value, unit in _MINER_RATE.findall(line)]
    if not rates or cpu <= 0:
        return 0.0
    return rates[-1] * wall / cpu


def paired_ratio_summary(values: list[float], base: list[float]) -> str:
    """The median of round-by-round ratios ``values[i] / base[i]`` with their range, for a
    benchmark's "paired by round" line ("" when no round has a base): a neighbour that slows
    one round tilts both sides of that round's ratio, not the comparison."""
    paired = sorted(v / b for v, b in zip(values, base, strict=True) if b > 0)
    if not paired:
        return ""
    return f"median {statistics.median(paired):.3f} (range {paired[0]:.3f}-{paired[-1]:.3f}, {len(paired)} rounds)"


def kernel_rate(kernel: str, seconds: float, *, algorithm: str = "sha256d") -> float:
    """One thread on one named C kernel, in hashes per CPU-second of that thread [H/s].

    Thread CPU time, not wall time: on a shared machine the time another process held the
    core is not counted, so kernels timed one after the other stay comparable.
    ``algorithm``: ``"sha256d"`` or ``"scrypt"`` (the kernel family).
    """
    from hashwatt.pow._cpu import resolve_kernel_name, scan_cpu

    family = _family(algorithm)
    name = resolve_kernel_name(kernel, family=family)
    chunk = family.kernels[name].probe_nonces * 8
    scrypt = algorithm == "scrypt"
    header = LTC_GENESIS_HEADER76 if scrypt else GENESIS_HEADER76
    target = _SCRYPT_BENCH_TARGET if scrypt else _BENCH_TARGET
    done = 0
    start = time.perf_counter()
    cpu_start = time.thread_time()
    while True:
        scan_cpu(header, done % (1 << 31), chunk, target, kernel=name, family=family)
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


def kernel_rates(seconds: float, *, algorithm: str = "sha256d") -> list[KernelRate]:
    """Every C kernel of ``algorithm`` this CPU runs, timed ``seconds`` each, the chosen one marked.

    The chosen one is what the ``cpu`` backend runs: forced by ``HASHWATT_POW_KERNEL`` (or
    ``HASHWATT_SCRYPT_KERNEL``), else the cached short measurement (``_cpu.kernel_choice``).
    """
    from hashwatt.pow._cpu import available_kernels, best_kernel

    family = _family(algorithm)
    chosen = best_kernel(family=family)
    return [
        KernelRate(
            name,
            family.kernels[name].description,
            kernel_rate(name, seconds, algorithm=algorithm),
            name == chosen,
        )
        for name in available_kernels(family=family)
    ]


def _family(algorithm: str) -> KernelFamily:
    from hashwatt.pow._cpu import SCRYPT, SHA256D

    return SCRYPT if algorithm == "scrypt" else SHA256D
