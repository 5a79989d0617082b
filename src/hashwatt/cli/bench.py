"""``hashwatt bench``: hash backends beside same-run baselines (hashlib loop, SHA-256 blocks/s;
for scrypt, hashlib's OpenSSL scrypt and, when given, pooler's minerd)."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hashwatt.cli._output import JSON_OPTION, console, err_console, fmt_si, print_json, records_table
from hashwatt.errors import InputError
from hashwatt.pow import BACKEND_NAMES, SCRYPT_BACKEND_NAMES, available_backends, check_backend
from hashwatt.pow._bench import (
    CPUMINER_HS_PER_CORE,
    CPUMINER_OPT_HS_PER_CORE,
    BackendRate,
    KernelRate,
    References,
    backend_rate,
    cpu_count,
    external_miner_rate,
    kernel_rates,
    measure_references,
    scrypt_backend_rate,
    scrypt_hashlib_rate,
)
from hashwatt.pow._scrypt import SCRYPT_BACKENDS, check_scrypt_backend

#: pooler's own one-thread scrypt benchmark (bench/bench_scrypt.py runs the same).
MINERD_ARGS = ["--benchmark", "-a", "scrypt", "-t", "1"]


class Algorithm(enum.StrEnum):
    """The proof of work to time."""

    SHA256D = "sha256d"
    SCRYPT = "scrypt"


def _gpu_simulated() -> bool:
    from hashwatt.pow import _gpu

    return _gpu.gpu_status()[1]


def _default_backends() -> list[str]:
    """Every backend that runs here, except the CUDA simulator (which is not a speed)."""
    from hashwatt.pow import _gpu

    _, simulated, _ = _gpu.gpu_status()
    return [b for b in available_backends() if not (b == "gpu" and simulated)]


@contextlib.contextmanager
def _phase(message: str) -> Iterator[None]:
    """A spinner on a terminal; otherwise one line on stderr, so logs show where a run was."""
    if console.is_terminal:
        with console.status(message, spinner="dots"):
            yield
    else:
        err_console.print(message, markup=False, highlight=False)
        yield


def _row(rate: BackendRate, refs: References) -> dict[str, object]:
    per_core = rate.hashrate_hs_per_thread
    return {
        "backend": rate.backend,
        "threads": rate.threads,
        "hashrate_hs": rate.hashrate_hs,
        "hashrate_hs_per_core": per_core,
        "vs_hashlib_loop": per_core / refs.hashlib_loop_hs,
        "vs_openssl_sha256d": per_core / refs.openssl_sha256d_hs,
        "vs_cpuminer": per_core / CPUMINER_HS_PER_CORE,
        "vs_cpuminer_opt": per_core / CPUMINER_OPT_HS_PER_CORE,
        "cores_busy": rate.cores_busy,
        "seconds": rate.seconds,
        "hashes": rate.hashes,
    }


def bench(
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            "-b",
            help=f"Backend(s) to time: {', '.join(BACKEND_NAMES)} (scrypt: "
            f"{', '.join(SCRYPT_BACKEND_NAMES)}); default: all here.",
        ),
    ] = None,
    algorithm: Annotated[
        Algorithm,
        typer.Option(
            "--algorithm", "-a", help="Proof of work: sha256d (Bitcoin) or scrypt (Litecoin, Dogecoin)."
        ),
    ] = Algorithm.SHA256D,
    minerd: Annotated[
        Path | None,
        typer.Option(
            "--minerd",
            exists=True,
            dir_okay=False,
            help="pooler's minerd: time its 'minerd --benchmark -a scrypt -t 1' beside scrypt (at least 6 s).",
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", "-t", help="Threads per backend (default: one per core).")
    ] = None,
    seconds: Annotated[float, typer.Option("--seconds", "-s", help="Seconds per measurement.")] = 3.0,
    json_output: JSON_OPTION = False,
) -> None:
    """Time the hash backends in H/s, per core, and against baselines measured in the same run.

    SHA-256d baselines: a plain Python hashlib double-SHA loop and OpenSSL's SHA-256 block rate.

    Half the block rate is what one OpenSSL stream gives for a midstate sha256d (2 blocks/hash).

    Reference miners on the project's machine: cpuminer 14.7, cpuminer-opt 25 MH/s per core.

    --algorithm scrypt: the scrypt backends and kernels per CPU-second beside hashlib.scrypt and,
    with --minerd, pooler's minerd -a scrypt in the same run.
    """
    if not 0.2 <= seconds <= 600:
        raise InputError(f"--seconds must lie in [0.2, 600], got {seconds}", field="--seconds", value=seconds)
    n_threads = cpu_count() if threads is None else threads
    if not 1 <= n_threads <= 1024:
        raise InputError(
            f"--threads must lie in 1..1024, got {n_threads}", field="--threads", value=n_threads
        )
    if algorithm is Algorithm.SCRYPT:
        _bench_scrypt(backend, n_threads, seconds, minerd, json_output)
        return
    if minerd is not None:
        raise InputError("--minerd is compared with scrypt only: add --algorithm scrypt")
    names = [check_backend(b) for b in backend] if backend else _default_backends()
    if "gpu" in names and _gpu_simulated():
        raise InputError(
            "the gpu backend runs on numba's CUDA simulator here (NUMBA_ENABLE_CUDASIM=1): nothing to time"
        )
    rates: list[BackendRate] = []
    with _phase("measuring baselines (hashlib loop, SHA-256 blocks/s)..."):
        refs = measure_references(min(seconds, 2.0))
    for name in names:
        thread_counts = [1] if name == "gpu" or n_threads == 1 else [1, n_threads]
        for count in thread_counts:
            with _phase(f"timing {name} with {count} thread(s) for {seconds:g} s..."):
                rates.append(backend_rate(name, count, seconds))
    rows = [_row(rate, refs) for rate in rates]
    report = {
        "cores": cpu_count(),
        "hashlib_loop_hs": refs.hashlib_loop_hs,
        "sha256_blocks_per_s": refs.sha256_blocks_per_s,
        "openssl_sha256d_hs_per_core": refs.openssl_sha256d_hs,
        "reference_cpuminer_hs_per_core": CPUMINER_HS_PER_CORE,
        "reference_cpuminer_opt_hs_per_core": CPUMINER_OPT_HS_PER_CORE,
        "results": rows,
    }
    kernels = _time_kernels(seconds) if "cpu" in names else []
    report["kernels"] = [_kernel_row(k) for k in kernels]
    if json_output:
        print_json(report)
        return
    console.print(
        f"baselines (1 core, same run): hashlib double-SHA loop {fmt_si(refs.hashlib_loop_hs, 'H/s')}; "
        f"OpenSSL SHA-256 {fmt_si(refs.sha256_blocks_per_s, 'blocks/s')} "
        f"= {fmt_si(refs.openssl_sha256d_hs, 'H/s')} of midstate sha256d per core"
    )
    console.print(
        "x opt = x cpuminer-opt; cores got = process CPU s / wall s (below the thread count when "
        "the machine is shared or the GIL serialises the backend)"
    )
    console.print(
        records_table(
            "SHA-256d backends",
            [
                "backend",
                "thr",
                "MH/s",
                "MH/s/core",
                "cores got",
                "x hashlib",
                "x openssl",
                "x cpuminer",
                "x opt",
            ],
            [
                (
                    r["backend"],
                    r["threads"],
                    f"{rate.hashrate_hs / 1e6:.2f}",
                    f"{rate.hashrate_hs_per_thread / 1e6:.2f}",
                    f"{rate.cores_busy:.2f}",
                    f"{r['vs_hashlib_loop']:.1f}",
                    f"{r['vs_openssl_sha256d']:.2f}",
                    f"{r['vs_cpuminer']:.2f}",
                    f"{r['vs_cpuminer_opt']:.2f}",
                )
                for r, rate in zip(rows, rates, strict=True)
            ],
        )
    )
    if kernels:
        console.print(_kernel_table(kernels))


def _time_kernels(seconds: float, algorithm: Algorithm = Algorithm.SHA256D) -> list[KernelRate]:
    """Every C kernel this CPU runs (the ``cpu`` backend runs the one marked chosen)."""
    with _phase(f"timing every {algorithm} C kernel on one thread..."):
        return kernel_rates(min(seconds, 1.0), algorithm=algorithm.value)


def _bench_scrypt(
    backend: list[str] | None, n_threads: int, seconds: float, minerd: Path | None, json_output: bool
) -> None:
    """Scrypt backends and kernels per CPU-second beside hashlib's scrypt and, if given, minerd."""
    names = (
        [check_scrypt_backend(b) for b in backend]
        if backend
        else [name for name, entry in SCRYPT_BACKENDS.items() if entry.status()[0]]
    )
    with _phase("measuring hashlib.scrypt (OpenSSL), one thread..."):
        hashlib_hs = scrypt_hashlib_rate(min(seconds, 2.0))
    minerd_hs: float | None = None
    if minerd is not None:
        with _phase(f"timing {minerd} {' '.join(MINERD_ARGS)}..."):
            minerd_hs = external_miner_rate(str(minerd), MINERD_ARGS, max(seconds, 6.0))
        if minerd_hs <= 0:
            raise InputError(
                f"{minerd} printed no hash rate: is it pooler's minerd?", field="--minerd", value=str(minerd)
            )
    rates: list[BackendRate] = []
    for name in names:
        for count in [1] if n_threads == 1 else [1, n_threads]:
            with _phase(f"timing scrypt {name} with {count} thread(s) for {seconds:g} s..."):
                rates.append(scrypt_backend_rate(name, count, seconds))
    kernels = _time_kernels(seconds, Algorithm.SCRYPT) if "cpu" in names else []
    rows = [
        {
            "backend": rate.backend,
            "threads": rate.threads,
            "hashrate_hs": rate.hashrate_hs,
            "hashrate_hs_per_core": rate.hashrate_hs_per_thread,
            "hashes_per_cpu_s": rate.hashes_per_cpu_s,
            "vs_hashlib_scrypt": rate.hashes_per_cpu_s / hashlib_hs,
            "vs_minerd": rate.hashes_per_cpu_s / minerd_hs if minerd_hs else None,
            "cores_busy": rate.cores_busy,
            "seconds": rate.seconds,
            "hashes": rate.hashes,
        }
        for rate in rates
    ]
    if json_output:
        print_json(
            {
                "algorithm": "scrypt",
                "cores": cpu_count(),
                "hashlib_scrypt_hs_per_cpu_s": hashlib_hs,
                "minerd_hs_per_cpu_s": minerd_hs,
                "results": rows,
                "kernels": [_kernel_row(k) for k in kernels],
            }
        )
        return
    reference = f"hashlib.scrypt {fmt_si(hashlib_hs, 'H/s')}"
    if minerd_hs:
        reference += f"; minerd -a scrypt {fmt_si(minerd_hs, 'H/s')}"
    console.print(f"baselines (1 thread, same run, per CPU-second): {reference}")
    console.print("kH/CPU-s = hashes per CPU-second the process got (a per-core rate on a shared machine)")
    console.print(
        records_table(
            "Scrypt backends",
            ["backend", "thr", "kH/s", "kH/CPU-s", "cores got", "x hashlib", "x minerd"],
            [
                (
                    r["backend"],
                    r["threads"],
                    f"{rate.hashrate_hs / 1e3:.2f}",
                    f"{rate.hashes_per_cpu_s / 1e3:.2f}",
                    f"{rate.cores_busy:.2f}",
                    f"{rate.hashes_per_cpu_s / hashlib_hs:.1f}",
                    f"{rate.hashes_per_cpu_s / minerd_hs:.2f}" if minerd_hs else "-",
                )
                for r, rate in zip(rows, rates, strict=True)
            ],
        )
    )
    if kernels:
        console.print(_kernel_table(kernels, Algorithm.SCRYPT))


def _kernel_row(rate: KernelRate) -> dict[str, object]:
    return {
        "kernel": rate.kernel,
        "description": rate.description,
        "hashes_per_cpu_s": rate.hashes_per_cpu_s,
        "chosen": rate.chosen,
    }


def _kernel_table(kernels: list[KernelRate], algorithm: Algorithm = Algorithm.SHA256D) -> Table:
    prefix, scale = ("k", 1e3) if algorithm is Algorithm.SCRYPT else ("M", 1e6)
    title = "Scrypt C kernels" if algorithm is Algorithm.SCRYPT else "C kernels"
    return records_table(
        f"{title}, one thread (* = what the cpu backend runs here)",
        ["", "kernel", f"{prefix}H/CPU-s", "what"],
        [
            ("*" if k.chosen else "", k.kernel, f"{k.hashes_per_cpu_s / scale:.2f}", k.description)
            for k in kernels
        ],
    )


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
