"""Proof-of-work benchmark: every C kernel, the chosen one against the old fixed choice, and
cpuminer-opt / pooler minerd side by side when they are on PATH.

Every figure is hashes per CPU-second (thread CPU time for in-process kernels, the child's
CPU time for external miners), so a busy neighbour on a shared machine stretches the wall
clock but not the ratio. Runs are interleaved round by round (kernel A, B, ..., miner X, Y,
then again) and the median per contender is reported, with ratios against the same-run
hashlib loop, the old fixed kernel choice and each external miner found.

    python bench/bench_pow.py [--seconds 1.0] [--rounds 3] [--no-external] [--external-seconds 12]
                              [--kernels vec16-avx512,sha-ni-x2]

``--kernels`` times only those kernel rows (the old fixed choice and the chosen kernel are
always kept, the ratios need them); every kernel row also gets the median of its per-round
ratio to the fixed choice ("paired"), which a neighbour slowing one round tilts less.

An external miner runs at least ``--external-seconds`` (default 12) and its last report
counts: cpuminer-opt's first report, 2 s after start, read about 10 % above its steady rate
on the Zen 4 machine (30.7 then 28.3 and 27.5 MH/s in one 20 s run), and the second comes 5 s
later.

Forced paths: ``HASHWATT_POW_KERNEL=shani`` / ``avx2`` / ``avx512`` / ``vec16`` rows are the
kernels of those names below (each is timed directly); the ``cpu backend`` row runs whatever
``HASHWATT_POW_KERNEL`` forces, or the measured choice when it is unset.
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
from dataclasses import dataclass

from hashwatt.errors import HashwattError
from hashwatt.pow import _cpu
from hashwatt.pow._bench import (
    backend_rate,
    external_miner_rate,
    hashlib_loop_rate,
    kernel_rate,
    machine_label,
    paired_ratio_summary,
)

#: External miners: (label, executable names to look for, arguments for a one-thread sha256d benchmark).
_EXTERNAL = (
    ("cpuminer-opt", ("cpuminer-opt", "cpuminer"), ["-a", "sha256d", "--benchmark", "-t", "1"]),
    ("pooler minerd", ("minerd",), ["-a", "sha256d", "--benchmark", "-t", "1"]),
)


@dataclass(frozen=True, slots=True)
class Contender:
    label: str
    run: Callable[[float], float]  # seconds -> hashes per CPU-second


def _external(executable: str, args: list[str], min_seconds: float, seconds: float) -> float:
    return external_miner_rate(executable, args, max(seconds, min_seconds))


def _cpu_backend_rate(seconds: float) -> float:
    return backend_rate("cpu", 1, seconds).hashes_per_cpu_s


def _contenders(
    external: bool, external_seconds: float, only: set[str] | None = None
) -> tuple[list[Contender], list[str]]:
    found: list[Contender] = []
    missing: list[str] = []
    keep = None if only is None else only | {_cpu.fixed_choice(), _cpu.best_kernel()}
    for name in _cpu.available_kernels():
        if keep is None or name in keep:
            found.append(Contender(f"kernel {name}", functools.partial(kernel_rate, name)))
    found.append(Contender("cpu backend (chosen)", _cpu_backend_rate))
    for label, names, args in _EXTERNAL if external else ():
        path = next((p for p in (shutil.which(n) for n in names) if p), None)
        if path is None:
            missing.append(label)
            continue
        found.append(Contender(label, functools.partial(_external, path, args, external_seconds)))
    return found, missing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per run [s]")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    parser.add_argument("--no-external", action="store_true", help="skip cpuminer-opt and minerd")
    parser.add_argument(
        "--external-seconds", type=float, default=12.0, help="least seconds per external miner run [s]"
    )
    parser.add_argument("--kernels", help="comma-separated kernel rows to time (default: all)")
    args = parser.parse_args()
    only = set(args.kernels.split(",")) if args.kernels else None
    unknown = (only or set()) - set(_cpu.C_KERNELS)
    if unknown:
        print(f"error: --kernels: unknown kernel(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        sys.exit(2)
    t0 = time.perf_counter()
    forced = os.environ.get(_cpu.KERNEL_ENV, "")
    choice = _cpu.kernel_choice()
    print(f"machine: {machine_label()}")
    print(
        f"kernel choice: {_cpu.best_kernel()} "
        f"({'forced by ' + _cpu.KERNEL_ENV + '=' + forced if forced else choice.source + ' ' + str(choice.path)}); "
        f"old fixed choice: {_cpu.fixed_choice()}"
    )
    contenders, missing = _contenders(not args.no_external, args.external_seconds, only)
    for label in missing:
        print(f"{label}: not on PATH, not compared")
    results: dict[str, list[float]] = {c.label: [] for c in contenders}
    loop: list[float] = []
    for _ in range(args.rounds):
        loop.append(hashlib_loop_rate(min(args.seconds, 0.5), per_cpu_second=True))
        for contender in contenders:
            results[contender.label].append(contender.run(args.seconds))
    med = {label: statistics.median(values) for label, values in results.items()}
    base_loop = statistics.median(loop)
    fixed = med[f"kernel {_cpu.fixed_choice()}"]
    externals = [label for label, _, _ in _EXTERNAL if label in med]
    print(f"hashes per CPU-second, one thread, median of {args.rounds} interleaved rounds:")
    print(f"  {'hashlib double-SHA loop':<30} {base_loop / 1e6:8.3f} MH/CPU-s")
    for label, rate in med.items():
        ratios = [f"x{rate / base_loop:6.1f} hashlib", f"{rate / fixed:5.2f} x fixed choice"]
        ratios += [f"{rate / med[e]:5.2f} x {e}" for e in externals if med[e] > 0]
        print(f"  {label:<30} {rate / 1e6:8.2f} MH/CPU-s   " + "   ".join(ratios))
    fixed_label = f"kernel {_cpu.fixed_choice()}"
    for label, values in results.items():
        if label.startswith("kernel ") and label != fixed_label:
            summary = paired_ratio_summary(values, results[fixed_label])
            if summary:
                print(f"  paired by round, {label} / {fixed_label}: {summary}")
    chosen = med[f"kernel {_cpu.best_kernel()}"]
    print(f"chosen ({_cpu.best_kernel()}) / old fixed choice ({_cpu.fixed_choice()}): {chosen / fixed:.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except HashwattError as exc:  # e.g. HASHWATT_POW_KERNEL names a kernel this CPU cannot run
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
