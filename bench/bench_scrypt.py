"""Scrypt benchmark: every scrypt C kernel, the chosen one, hashlib's OpenSSL scrypt and pooler's
``minerd -a scrypt`` side by side, in hashes per CPU-second (kernels on one thread; the cpu
backend and minerd on ``--threads``, default 1).

Thread CPU time for in-process kernels, the child's CPU time for minerd, so a busy neighbour
on a shared machine stretches the wall clock but not the ratio. Runs are interleaved round by
round (kernels, hashlib, minerd, then again) and the median per contender is reported, with
ratios against minerd, hashlib and the single-nonce kernels (scalar, sse2-x1).

    python bench/bench_scrypt.py [--seconds 2] [--rounds 3] [--minerd PATH] [--no-external] [--threads N]
                                 [--kernels avx2-x6,avx2-x8]

minerd is looked up as ``--minerd``, else ``$MINERD``, else ``minerd`` on PATH; it is not in
the package registries: build it from github.com/pooler/cpuminer (docs/PERFORMANCE.md).
``HASHWATT_SCRYPT_KERNEL`` forces the kernel the ``cpu backend`` row runs.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable

from hashwatt.errors import HashwattError
from hashwatt.pow import _cpu
from hashwatt.pow._bench import (
    external_miner_rate,
    kernel_rate,
    machine_label,
    paired_ratio_summary,
    scrypt_backend_rate,
    scrypt_hashlib_rate,
)

#: pooler's own scrypt benchmark (no pool, random work); ``-t`` is appended.
MINERD_ARGS = ["--benchmark", "-a", "scrypt"]


def _minerd_path(explicit: str | None) -> str | None:
    for candidate in (explicit, os.environ.get("MINERD"), "minerd"):
        if candidate:
            found = shutil.which(candidate)
            if found:
                return found
    return None


def _minerd(path: str, threads: int, seconds: float) -> float:
    # minerd prints its first rate after a few seconds: give it at least 6 s. With several
    # threads only its "Total" lines count (the per-thread lines interleave with them).
    args = [*MINERD_ARGS, "-t", str(threads)]
    return external_miner_rate(path, args, max(seconds, 6.0), only="Total" if threads > 1 else "")


def _cpu_backend(threads: int, seconds: float) -> float:
    return scrypt_backend_rate("cpu", threads, seconds).hashes_per_cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per run [s]")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    parser.add_argument("--minerd", help="pooler's minerd executable (else $MINERD, else PATH)")
    parser.add_argument("--no-external", action="store_true", help="skip minerd")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for the cpu backend and minerd (-t): per-CPU-second rates with every core busy",
    )
    parser.add_argument(
        "--kernels", help="comma-separated kernel rows to time (default: all; scalar and sse2-x1 are kept)"
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    if not 1 <= args.threads <= 1024:
        print(f"error: --threads: {args.threads} is not between 1 and 1024", file=sys.stderr)
        sys.exit(2)
    unknown = set(args.kernels.split(",")) - set(_cpu.SCRYPT.kernels) if args.kernels else set()
    if unknown:
        print(f"error: --kernels: unknown scrypt kernel(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        sys.exit(2)
    choice = _cpu.kernel_choice(family=_cpu.SCRYPT)
    forced = os.environ.get(_cpu.SCRYPT_KERNEL_ENV, "")
    chosen = _cpu.best_kernel(family=_cpu.SCRYPT)
    print(f"machine: {machine_label()}")
    how = f"forced by {_cpu.SCRYPT_KERNEL_ENV}={forced}" if forced else f"{choice.source} {choice.path}"
    print(f"scrypt kernel choice: {chosen} ({how})")
    contenders: dict[str, Callable[[float], float]] = {
        f"kernel {name}": functools.partial(kernel_rate, name, algorithm="scrypt")
        for name in _cpu.available_kernels(family=_cpu.SCRYPT)
        if not args.kernels or name in {"scalar", "sse2-x1", *args.kernels.split(",")}
    }
    contenders["cpu backend (chosen)"] = functools.partial(_cpu_backend, args.threads)
    contenders["hashlib.scrypt (OpenSSL)"] = scrypt_hashlib_rate
    minerd = None if args.no_external else _minerd_path(args.minerd)
    if minerd:
        contenders["pooler minerd -a scrypt"] = functools.partial(_minerd, minerd, args.threads)
        print(f"minerd: {minerd} {' '.join(MINERD_ARGS)} -t {args.threads}")
    elif not args.no_external:
        print("pooler minerd: not found (--minerd, $MINERD, PATH); compared with hashlib and scalar only")
    results: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(args.rounds):
        for label, run in contenders.items():
            results[label].append(run(args.seconds))
    med = {label: statistics.median(values) for label, values in results.items()}
    refs = [
        ("minerd", med.get("pooler minerd -a scrypt", 0.0)),
        ("hashlib", med["hashlib.scrypt (OpenSSL)"]),
        ("scalar", med["kernel scalar"]),
        ("sse2-x1", med["kernel sse2-x1"]),
    ]
    print(
        f"scrypt hashes per CPU-second (kernels: one thread; backend and minerd: {args.threads}), "
        f"median of {args.rounds} interleaved rounds:"
    )
    for label, rate in med.items():
        ratios = "   ".join(f"{rate / ref:6.2f} x {name}" for name, ref in refs if ref > 0)
        print(f"  {label:<28} {rate / 1e3:8.2f} kH/CPU-s   {ratios}")
    if refs[0][1] > 0:
        best_label = max((label for label in med if label.startswith("kernel ")), key=med.__getitem__)
        print(
            f"hashwatt cpu backend / minerd: {med['cpu backend (chosen)'] / refs[0][1]:.3f}; "
            f"best kernel ({best_label.removeprefix('kernel ')}) / minerd: {med[best_label] / refs[0][1]:.3f}"
        )
        # Ratios taken round by round (each round's contenders ran minutes apart at most), so a
        # neighbour who slows a whole round does not tilt the comparison.
        minerd_runs = results["pooler minerd -a scrypt"]
        for label in ("cpu backend (chosen)", best_label):
            summary = paired_ratio_summary(results[label], minerd_runs)
            if summary:
                print(f"  paired by round, {label} / minerd: {summary}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except HashwattError as exc:  # e.g. HASHWATT_SCRYPT_KERNEL names a kernel this CPU cannot run
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
