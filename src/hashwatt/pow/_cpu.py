"""The C backend: ``_kernel.c`` compiled on first use, loaded through cffi (ABI mode).

Why compile on first use: ``make run`` / ``pip install -e .`` on a fresh clone then needs
nothing but a C compiler; no Python headers, no setuptools build step. The shared library
is cached under ``$HASHWATT_CACHE_DIR`` (else ``$XDG_CACHE_HOME/hashwatt``, else
``~/.cache/hashwatt``) in a file named after the hash of the source, the flags and the
platform, so an edited kernel is rebuilt and an unchanged one is reused. A file lock keeps
parallel test workers from compiling at once; the library is written to a temporary name
and renamed into place, so nobody loads a half-written file.

cffi releases the GIL around every C call, so one Python thread per core scales.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hashwatt.pow.errors import BackendUnavailable, PowError

_SOURCE_PATH = Path(__file__).with_name("_kernel.c")
_CFLAGS = ("-O3", "-fPIC", "-shared", "-fvisibility=hidden", "-fno-strict-aliasing")
_CDEF = """
int hw_cpu_features(void);
uint64_t hw_scan(int kernel, const uint8_t *header76, uint32_t nonce_start, uint64_t count,
                 const uint32_t *target, uint32_t *out, uint32_t out_cap, uint32_t *n_out);
void hw_sha256d(const uint8_t *header76, uint32_t nonce, uint8_t *digest32);
"""

#: Kernel ids understood by ``hw_scan``.
KERNELS: dict[str, int] = {"portable": 0, "sha-ni-x1": 1, "sha-ni-x2": 2, "sha-ni-x4": 3, "avx2-x8": 4}
#: The SHA-NI kernel used by default (fastest measured on ci-2core, see docs/PERFORMANCE.md).
DEFAULT_NI_KERNEL = "sha-ni-x2"
_OUT_CAP = 4096
_FAILED = 2**64 - 1


@dataclass(frozen=True, slots=True)
class _Library:
    ffi: Any
    lib: Any
    path: Path
    sha_ni: bool
    avx2: bool


_lock = threading.Lock()
_library: _Library | None = None
_load_error: str | None = None


def cache_dir() -> Path:
    """Where compiled kernels live (created on demand)."""
    explicit = os.environ.get("HASHWATT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "hashwatt"


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")


def _library_path(source: bytes, base: Path | None = None) -> Path:
    key = hashlib.sha256()
    for part in (source, " ".join(_CFLAGS).encode(), platform.machine().encode(), sys.platform.encode()):
        key.update(part)
        key.update(b"\0")
    suffix = ".dll" if sys.platform == "win32" else ".so"
    folder = (base or cache_dir()) / "kernels"
    return folder / f"hw_kernel-{platform.machine()}-{key.hexdigest()[:16]}{suffix}"


def _compile(source_path: Path, target: Path, compiler: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_suffix(".lock")
    with open(lock_path, "a+b") as lock_file:
        _flock(lock_file)
        if target.exists():
            return
        fd, tmp_name = tempfile.mkstemp(prefix=target.stem, suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            proc = subprocess.run(
                [compiler, *_CFLAGS, "-o", tmp_name, str(source_path)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if proc.returncode != 0:
                raise BackendUnavailable(
                    f"compiling the C kernel with {compiler} failed: {proc.stderr.strip()[:500]}"
                )
            os.replace(tmp_name, target)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)


def _flock(lock_file: Any) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX: rely on the atomic rename alone
        return
    fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)


def _load() -> _Library:
    global _library, _load_error
    with _lock:
        if _library is not None:
            return _library
        if _load_error is not None:
            raise BackendUnavailable(_load_error)
        try:
            _library = _build_and_open()
        except BackendUnavailable as exc:
            _load_error = str(exc)
            raise
        return _library


def _build_and_open() -> _Library:
    try:
        import cffi
    except ImportError as exc:
        raise BackendUnavailable("the cpu backend needs the 'cffi' package (pip install cffi)") from exc
    source = _SOURCE_PATH.read_bytes()
    path = _library_path(source)
    if not path.exists():
        compiler = _compiler()
        if compiler is None:
            raise BackendUnavailable(
                "no C compiler found (set CC or install gcc); the cpu backend is unavailable, "
                "falling back to the slower python backend"
            )
        try:
            _compile(_SOURCE_PATH, path, compiler)
        except OSError as first:
            # An unwritable cache (read-only home in a sandbox): build in the temp dir instead.
            path = _library_path(
                source, Path(tempfile.gettempdir()) / f"hashwatt-{getattr(os, 'getuid', lambda: 0)()}"
            )
            try:
                if not path.exists():
                    _compile(_SOURCE_PATH, path, compiler)
            except OSError as exc:
                raise BackendUnavailable(
                    f"cannot build the C kernel in {cache_dir()} ({first}) nor in {path.parent}: {exc}"
                ) from exc
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    try:
        lib = ffi.dlopen(str(path))
    except OSError as exc:
        raise BackendUnavailable(f"cannot load the C kernel {path}: {exc}") from exc
    features = int(lib.hw_cpu_features())
    library = _Library(ffi, lib, path, bool(features & 1), bool(features & 2))
    _self_test(library)
    return library


def _self_test(library: _Library) -> None:
    """Genesis header through every kernel this CPU runs; a broken build must not mine."""
    from hashwatt.pow._common import GENESIS_HEADER76, GENESIS_NONCE, sha256d_header

    digest = library.ffi.new("uint8_t[32]")
    library.lib.hw_sha256d(GENESIS_HEADER76, GENESIS_NONCE, digest)
    if bytes(library.ffi.buffer(digest, 32)) != sha256d_header(GENESIS_HEADER76, GENESIS_NONCE):
        raise BackendUnavailable(f"the C kernel {library.path} computes wrong hashes; delete it and retry")
    target = int.from_bytes(sha256d_header(GENESIS_HEADER76, GENESIS_NONCE), "little")
    for name in available_kernels(library):
        found = _scan_with(library, KERNELS[name], GENESIS_HEADER76, GENESIS_NONCE - 5, 11, target)
        if found != [GENESIS_NONCE]:
            raise BackendUnavailable(f"the C kernel {name} fails its self-test (found {found})")


def available_kernels(library: _Library | None = None) -> list[str]:
    """C kernels this CPU can run (SHA-NI ones only with the SHA extensions, AVX2 with AVX2)."""
    lib = library or _load()
    return [
        name
        for name in KERNELS
        if name == "portable"
        or (name.startswith("sha-ni") and lib.sha_ni)
        or (name == "avx2-x8" and lib.avx2)
    ]


def cpu_available() -> tuple[bool, str]:
    """(usable, reason) without raising."""
    try:
        lib = _load()
    except BackendUnavailable as exc:
        return False, str(exc)
    sha_ni, avx2 = "yes" if lib.sha_ni else "no", "yes" if lib.avx2 else "no"
    return True, f"C kernel {lib.path.name} (SHA-NI: {sha_ni}, AVX2: {avx2}; using {best_kernel()})"


def best_kernel() -> str:
    """The kernel the ``cpu`` backend uses: SHA-NI x2 where the CPU has it, else AVX2, else portable C."""
    lib = _load()
    if lib.sha_ni:
        return DEFAULT_NI_KERNEL
    return "avx2-x8" if lib.avx2 else "portable"


def scan_cpu(
    header76: bytes, nonce_start: int, count: int, target: int, *, kernel: str | None = None
) -> list[int]:
    """Scan with a C kernel (inputs already validated by the caller)."""
    library = _load()
    name = kernel or best_kernel()
    if name not in available_kernels(library):
        raise BackendUnavailable(f"C kernel {name!r} cannot run on this CPU")
    return _scan_with(library, KERNELS[name], header76, nonce_start, count, target)


def _scan_with(
    library: _Library, kernel_id: int, header76: bytes, nonce_start: int, count: int, target: int
) -> list[int]:
    ffi, lib = library.ffi, library.lib
    limbs = ffi.new("uint32_t[8]", [(target >> (32 * i)) & 0xFFFFFFFF for i in range(8)])
    out = ffi.new("uint32_t[]", _OUT_CAP)
    n_out = ffi.new("uint32_t *")
    found: list[int] = []
    done = 0
    while done < count:
        examined = int(
            lib.hw_scan(kernel_id, header76, nonce_start + done, count - done, limbs, out, _OUT_CAP, n_out)
        )
        if examined == _FAILED:
            raise PowError(f"C kernel {kernel_id} refused to run on this CPU")
        found.extend(out[0 : n_out[0]])
        done += examined
    return found
