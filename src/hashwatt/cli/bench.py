"""``hashwatt bench``: hash backends beside same-run baselines (hashlib loop, SHA-256 blocks/s)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.table import Table

from hashwatt.cli._output import JSON_OPTION, console, err_console, fmt_si, print_json, records_table
from hashwatt.errors import InputError
from hashwatt.pow import BACKEND_NAMES, available_backends, check_backend
from hashwatt.pow._bench import (
    CPUMINER_HS_PER_CORE,
    CPUMINER_OPT_HS_PER_CORE,
    BackendRate,
    KernelRate,
    References,
    backend_rate,
    cpu_count,
    kernel_rates,
    measure_references,
)


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
            "--backend", "-b", help=f"Backend(s) to time: {', '.join(BACKEND_NAMES)}; default: all here."
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", "-t", help="Threads per backend (default: one per core).")
    ] = None,
    seconds: Annotated[float, typer.Option("--seconds", "-s", help="Seconds per measurement.")] = 3.0,
    json_output: JSON_OPTION = False,
) -> None:
    """Time the SHA-256d backends in H/s, per core, and against baselines measured in the same run.

    Baselines: a plain Python hashlib double-SHA loop and OpenSSL's SHA-256 block rate.

    Half the block rate is what one OpenSSL stream gives for a midstate sha256d (2 blocks/hash).

    Reference miners on the project's machine: cpuminer 14.7, cpuminer-opt 25 MH/s per core.
    """
    if not 0.2 <= seconds <= 600:
        raise InputError(f"--seconds must lie in [0.2, 600], got {seconds}")
    n_threads = cpu_count() if threads is None else threads
    if not 1 <= n_threads <= 1024:
        raise InputError(f"--threads must lie in 1..1024, got {n_threads}")
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


def _time_kernels(seconds: float) -> list[KernelRate]:
    """Every C kernel this CPU runs (the ``cpu`` backend runs the one marked chosen)."""
    with console.status("timing every C kernel on one thread...", spinner="dots"):
        return kernel_rates(min(seconds, 1.0))


def _kernel_row(rate: KernelRate) -> dict[str, object]:
    return {
        "kernel": rate.kernel,
        "description": rate.description,
        "hashes_per_cpu_s": rate.hashes_per_cpu_s,
        "chosen": rate.chosen,
    }


def _kernel_table(kernels: list[KernelRate]) -> Table:
    return records_table(
        "C kernels, one thread (* = what the cpu backend runs here)",
        ["", "kernel", "MH/CPU-s", "what"],
        [
            ("*" if k.chosen else "", k.kernel, f"{k.hashes_per_cpu_s / 1e6:.2f}", k.description)
            for k in kernels
        ],
    )


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
