"""The GPU backend: a numba.cuda kernel built from the generated straight-line sha256d.

Per thread: the job-invariant prologue once (rounds 0..2 of the second block, the invariant
parts of the schedule and of ``K[i] + W[i]``), then a grid-stride loop over many nonces,
each costing the 61 remaining rounds of the first hash and 61 rounds of the second, with the
early reject on the top word. Candidates go to a device buffer through one atomic counter;
the host recomputes each with hashlib and keeps those that meet the full 256-bit target, so
a wrong kernel can lose shares but never report a bad one. When the buffer overflows (an easy
target), the range is rescanned in pieces no larger than the buffer.

On numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) the same kernel source runs in Python
threads: correct and very slow (~1 kH/s), used by the tests on tiny ranges.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from hashwatt.pow._common import GENESIS_HEADER76, GENESIS_NONCE, hash_value, kernel_params
from hashwatt.pow._kernelgen import generate, indent
from hashwatt.pow.errors import BackendUnavailable

_CUDA_TEMPLATE = """
def sha256d_scan_kernel(params, nonce_start, count, per_thread, target_top, out, out_count):
    tid = cuda.grid(1)
    nthreads = cuda.gridsize(1)
{prologue}
    for i in range(per_thread):
        off = tid + i * nthreads
        if off < count:
            nonce = U(nonce_start + off)
{body}
            if top <= target_top:
                slot = cuda.atomic.add(out_count, 0, 1)
                if slot < out.shape[0]:
                    out[slot] = nonce
"""

#: Threads per block on a real device; blocks per SM (enough warps to hide latency).
_THREADS_PER_BLOCK = 256
_BLOCKS_PER_SM = 32
#: Candidate buffer [nonces]; overflow triggers a rescan in pieces of this size.
_OUT_CAP = 1 << 16
_SIM_OUT_CAP = 1 << 10

_lock = threading.RLock()
_kernel: Any = None
_status: tuple[bool, bool, str] | None = None


def gpu_status() -> tuple[bool, bool, str]:
    """(usable, simulated, reason). Simulated only when ``NUMBA_ENABLE_CUDASIM=1``."""
    global _status
    with _lock:
        if _status is None:
            _status = _probe()
        return _status


def _probe() -> tuple[bool, bool, str]:
    try:
        import importlib

        config: Any = importlib.import_module("numba.core.config")
        cuda: Any = importlib.import_module("numba.cuda")
    except Exception as exc:  # numba missing or broken
        return False, False, f"numba.cuda cannot be imported: {exc}"
    if config.ENABLE_CUDASIM:
        return True, True, "numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1): correct but slow"
    try:
        if not cuda.is_available():
            return False, False, "no CUDA device (numba.cuda.is_available() is false)"
        device = cuda.get_current_device()
        name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
    except Exception as exc:
        return False, False, f"CUDA is present but unusable: {exc}"
    # Compile and run the kernel once: a device without a usable CUDA toolkit (NVVM) must
    # not be picked by ``auto`` only to fail at the first scan.
    try:
        params = np.array(kernel_params(GENESIS_HEADER76), dtype=np.uint32)
        found = _launch_all(params, GENESIS_NONCE - 64, 128, 0, simulated=False)
    except Exception as exc:
        return False, False, f"CUDA device {name} found but the kernel does not build or run: {exc}"
    if GENESIS_NONCE not in found:
        return False, False, f"CUDA device {name}: the kernel fails its self-test (genesis nonce not found)"
    return True, False, f"CUDA device {name}"


def kernel_source() -> str:
    """The CUDA kernel's Python source (for docs/POW.md and the curious)."""
    gen = generate()
    return _CUDA_TEMPLATE.format(prologue=indent(gen.prologue, 1), body=indent(gen.body, 3))


def _get_kernel(simulated: bool) -> Any:
    global _kernel
    if _kernel is None:
        import numba
        from numba import cuda

        gen = generate()
        if simulated:
            # Simulator: the same source on Python ints; U masks to 32 bits (numpy scalars
            # would be exact too, but warn on every wrap-around and run ~10x slower).
            namespace: dict[str, Any] = {"U": _mask32, "cuda": cuda}
            namespace.update(gen.constants)
        else:
            namespace = {"U": numba.uint32, "cuda": cuda}
            namespace.update({name: np.uint32(value) for name, value in gen.constants.items()})
        exec(compile(kernel_source(), "<hashwatt-cuda-kernel>", "exec"), namespace)
        _kernel = cuda.jit(namespace["sha256d_scan_kernel"])  # type: ignore[no-untyped-call]
    return _kernel


def _mask32(x: Any) -> int:
    return int(x) & 0xFFFFFFFF


def default_batch_nonces() -> int:
    """Nonces per engine work item: ~0.15 s on a 7 GH/s device; 64 on the simulator."""
    ok, simulated, _ = gpu_status()
    return 64 if simulated or not ok else 1 << 30


def scan_gpu(header76: bytes, nonce_start: int, count: int, target: int) -> list[int]:
    """Scan on the GPU (inputs validated by the caller); hits checked with hashlib, ascending."""
    ok, simulated, why = gpu_status()
    if not ok:
        raise BackendUnavailable(f"gpu backend unavailable: {why}")
    params = np.array(kernel_params(header76), dtype=np.uint32)
    with _lock:
        candidates = _launch_all(params, nonce_start, count, target >> 224, simulated)
    return sorted(n for n in set(candidates) if hash_value(header76, n) <= target)


def _launch_all(
    params: np.ndarray, nonce_start: int, count: int, target_top: int, simulated: bool
) -> list[int]:
    from numba import cuda

    cap = _SIM_OUT_CAP if simulated else _OUT_CAP
    kernel = _get_kernel(simulated)
    d_params = cuda.to_device(params)
    d_out = cuda.device_array(cap, dtype=np.uint32)
    found: list[int] = []
    pending = [(nonce_start, count)]
    while pending:
        start, n = pending.pop()
        d_count = cuda.to_device(np.zeros(1, dtype=np.uint32))
        blocks, threads, per_thread = _geometry(n, simulated)
        kernel[blocks, threads](d_params, start, n, per_thread, np.uint32(target_top), d_out, d_count)
        hits = int(d_count.copy_to_host()[0])
        if hits > cap:  # buffer overflowed: rescan in pieces that cannot overflow
            pending.extend((s, min(cap, start + n - s)) for s in range(start, start + n, cap))
            continue
        found.extend(int(x) for x in d_out.copy_to_host()[:hits])
    return found


def _geometry(count: int, simulated: bool) -> tuple[int, int, int]:
    """(blocks, threads per block, nonces per thread) covering ``count`` nonces."""
    if simulated:
        threads = min(8, count)
        blocks = max(1, min(4, math.ceil(count / threads)))
    else:
        from numba import cuda

        sms = int(cuda.get_current_device().MULTIPROCESSOR_COUNT)  # type: ignore[no-untyped-call]
        threads = _THREADS_PER_BLOCK
        blocks = max(1, min(sms * _BLOCKS_PER_SM, math.ceil(count / threads)))
    per_thread = math.ceil(count / (blocks * threads))
    return blocks, threads, per_thread
