"""Proof-of-work benchmark: the C kernel against a plain hashlib loop measured in the same run.

Prints, per core: the hashlib double-SHA loop (the naive baseline), OpenSSL's SHA-256 block
rate, every C kernel on one thread, the ``cpu`` backend on 1 and on all cores (scaling), the
numba kernel; ratios against the hashlib loop and the issue's reference miners (cpuminer
14.7 MH/s/core, cpuminer-opt 25 MH/s/core on the project's machine). Medians of 3 repeats.

    python bench/bench_pow.py [--seconds 1.5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from hashwatt.pow._bench import (
    CPUMINER_HS_PER_CORE,
    CPUMINER_OPT_HS_PER_CORE,
    backend_rate,
    cpu_count,
    hashlib_loop_rate,
    kernel_rate,
    sha256_block_rate,
)
from hashwatt.pow._cpu import available_kernels, best_kernel


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or "unknown"
    model = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?"
    )
    flags_line = next((line for line in info.splitlines() if line.startswith("flags")), "")
    flags = [f for f in ("sha_ni", "avx2", "avx512f", "ssse3", "sse4_1") if f" {f}" in flags_line]
    return f"{model} ({', '.join(flags)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cores = cpu_count()
    secs, reps = args.seconds, args.repeats
    print(f"machine: {_cpu_model()}, {cores} cores usable, Python {platform.python_version()}")
    t0 = time.perf_counter()

    def median(fn: object) -> float:
        assert callable(fn)
        return statistics.median(fn() for _ in range(reps))

    loop = median(lambda: hashlib_loop_rate(secs))
    blocks = median(lambda: sha256_block_rate(secs))
    one_runs = [backend_rate("cpu", 1, secs) for _ in range(reps)]
    many_runs = [backend_rate("cpu", cores, secs) for _ in range(reps)] if cores > 1 else one_runs
    one = statistics.median(r.hashrate_hs for r in one_runs)
    many = statistics.median(r.hashrate_hs for r in many_runs)
    busy = statistics.median(r.cores_busy for r in many_runs)
    many_per_cpu_s = statistics.median(r.hashes_per_cpu_s for r in many_runs)
    kernels = {name: kernel_rate(name, secs) for name in available_kernels()}
    numba_hs = backend_rate("numba", 1, secs).hashrate_hs

    def line(label: str, hs: float) -> None:
        print(
            f"  {label:<34} {hs / 1e6:8.2f} MH/s   x{hs / loop:6.1f} hashlib loop   "
            f"{hs / CPUMINER_HS_PER_CORE:5.2f} x cpuminer   {hs / CPUMINER_OPT_HS_PER_CORE:5.2f} x cpuminer-opt"
        )

    print(f"baseline (same run, median of {reps}):")
    print(f"  hashlib double-SHA loop, 1 thread  {loop / 1e6:8.3f} MH/s")
    print(
        f"  OpenSSL SHA-256, 1 thread          {blocks / 1e6:8.2f} M blocks/s  (= {blocks / 2e6:.2f} MH/s of sha256d)"
    )
    print("per core:")
    line(f"cpu backend ({best_kernel()}), 1 thread", one)
    for name, hs in kernels.items():
        line(f"C kernel {name}, 1 thread", hs)
    line("numba kernel, 1 thread", numba_hs)
    print(f"all {cores} cores:")
    line(f"cpu backend, {cores} threads (total)", many)
    print(f"  scaling {cores} threads / 1 thread: {many / one:.2f}x wall-clock")
    print(
        f"  cores actually received: {busy:.2f} of {cores} (process CPU s / wall s; the machine is shared); "
        f"hashes per CPU-second: {many_per_cpu_s / 1e6:.2f} MH/s per core "
        f"-> {many_per_cpu_s * cores / one:.2f}x one thread if every thread had its core"
    )
    print(f"ratio cpu backend / hashlib loop: {one / loop:.1f}x (floor in the issue: 13x)")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
