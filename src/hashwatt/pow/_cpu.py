"""The C backend: ``_kernel.c`` compiled on first use, loaded through cffi (ABI mode).

Why compile on first use: ``make run`` / ``pip install -e .`` on a fresh clone then needs
nothing but a C compiler; no Python headers, no setuptools build step. The shared library
is cached under ``$HASHWATT_CACHE_DIR`` (else ``$XDG_CACHE_HOME/hashwatt``, else
``~/.cache/hashwatt``) in a file named after the hash of the source, the flags and the
platform, so an edited kernel is rebuilt and an unchanged one is reused. A file lock keeps
parallel test workers from compiling at once; the library is written to a temporary name
and renamed into place, so nobody loads a half-written file.

cffi releases the GIL around every C call, so one Python thread per core scales.

Which kernel the ``cpu`` backend runs (``best_kernel``): the one ``HASHWATT_POW_KERNEL``
forces, else the fastest in a short measurement of every kernel this CPU runs, cached next
to the library per CPU model and library build (``kernel_choice``). A fixed preference
order was wrong somewhere: SHA-NI wins on Zen 3, an AVX-512 16-lane kernel on Zen 4.

The scrypt kernels are a second library (``_kernel_scrypt.c``, which includes ``_kernel.c``
for SHA-256 and the cpuid probe), built and loaded the same way on first scrypt use.
A :class:`KernelFamily` (``SHA256D``, ``SCRYPT``) names what differs per proof of work: the
kernel table, aliases, override variable (``HASHWATT_SCRYPT_KERNEL``) and exported scan
function; build, cache, self-test, measured choice and override are this module's, once.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hashwatt.pow.errors import BackendUnavailable, PowError, PowInputError

_SOURCE_PATH = Path(__file__).with_name("_kernel.c")
#: The scrypt library's source; it includes ``_kernel.c`` for SHA-256 and the cpuid probe.
_SCRYPT_SOURCE_PATH = Path(__file__).with_name("_kernel_scrypt.c")
_CFLAGS = ("-O3", "-fPIC", "-shared", "-fvisibility=hidden", "-fno-strict-aliasing")
_CDEF = """
int hw_cpu_features(void);
uint64_t hw_scan(int kernel, const uint8_t *header76, uint32_t nonce_start, uint64_t count,
                 const uint32_t *target, uint32_t *out, uint32_t out_cap, uint32_t *n_out);
void hw_sha256d(const uint8_t *header76, uint32_t nonce, uint8_t *digest32);
uint64_t hw_scrypt_scan(int kernel, const uint8_t *header76, uint32_t nonce_start, uint64_t count,
                        const uint32_t *target, uint32_t *out, uint32_t out_cap, uint32_t *n_out);
void hw_scrypt_hash(const uint8_t *header80, uint8_t *digest32);
"""

_OUT_CAP = 4096
_FAILED = 2**64 - 1
_NO_MEMORY = 2**64 - 2


@dataclass(frozen=True, slots=True)
class CKernel:
    """One C kernel: its id in ``hw_scan``, the CPU features it needs, what it does."""

    name: str
    kernel_id: int
    needs: frozenset[str]
    description: str
    #: Nonces hashed side by side per step of the main loop (a partial step runs portable C).
    lanes: int
    #: Nonces per measurement round of the chooser: a few milliseconds on the CPUs it suits.
    probe_nonces: int


_SHA, _AVX2, _AVX512 = "sha", "avx2", "avx512"
#: Every C kernel, in the order ``hw_scan`` numbers them; the chooser measures those this CPU runs.
C_KERNELS: dict[str, CKernel] = {
    k.name: k
    for k in (
        CKernel("portable", 0, frozenset(), "scalar C, any CPU", 1, 1 << 12),
        CKernel("sha-ni-x1", 1, frozenset({_SHA}), "SHA-NI, one nonce at a time", 1, 1 << 15),
        CKernel("sha-ni-x2", 2, frozenset({_SHA}), "SHA-NI, two nonces interleaved", 2, 1 << 15),
        CKernel("sha-ni-x4", 3, frozenset({_SHA}), "SHA-NI, four nonces interleaved", 4, 1 << 15),
        CKernel(
            "avx2-x8", 4, frozenset({_AVX2}), "AVX2, eight nonces in ymm lanes (hand-written)", 8, 1 << 14
        ),
        CKernel(
            "vec16-avx2",
            5,
            frozenset({_AVX2}),
            "16-lane generic vectors, AVX2 build (2 ymm each)",
            16,
            1 << 14,
        ),
        CKernel(
            "vec16-avx512",
            6,
            frozenset({_AVX512}),
            "16-lane generic vectors, AVX-512 build (zmm)",
            16,
            1 << 15,
        ),
        CKernel(
            "sha-ni+vec16-avx2",
            7,
            frozenset({_SHA, _AVX2}),
            "SHA-NI x2 interleaved with vec16 (AVX2)",
            18,
            1 << 15,
        ),
        CKernel(
            "sha-ni+vec16-avx512",
            8,
            frozenset({_SHA, _AVX512}),
            "SHA-NI x2 interleaved with vec16 (AVX-512)",
            18,
            1 << 15,
        ),
    )
}
#: Short names ``HASHWATT_POW_KERNEL`` accepts beside the full kernel names.
KERNEL_ALIASES: dict[str, str] = {
    "shani": "sha-ni-x2",
    "avx2": "avx2-x8",
    "vec16": "vec16-avx2",
    "avx512": "vec16-avx512",
    "mixed": "sha-ni+vec16-avx2",
}
#: The kernel the ``cpu`` backend used before the chooser existed (a fixed preference order):
#: the baseline the measured choice is compared with in docs/PERFORMANCE.md.
FIXED_CHOICE_ORDER = ("sha-ni-x2", "avx2-x8", "portable")
#: Environment variable that forces one kernel (a name of :data:`C_KERNELS` or an alias).
KERNEL_ENV = "HASHWATT_POW_KERNEL"
#: Environment variable that forces one scrypt kernel (a name of :data:`SCRYPT_KERNELS` or an alias).
SCRYPT_KERNEL_ENV = "HASHWATT_SCRYPT_KERNEL"
#: The scrypt kernels, in the order ``hw_scrypt_scan`` numbers them. Each runs its SHA-256
#: blocks (PBKDF2, about 3 % of the work) on SHA-NI where the CPU has it. Probes of 96 nonces
#: (7-20 ms): a few ms per kernel let a busy neighbour pick the winner.
SCRYPT_KERNELS: dict[str, CKernel] = {
    k.name: k
    for k in (
        CKernel("scalar", 0, frozenset(), "scalar C, one nonce at a time", 1, 24),
        CKernel("sse2-x1", 1, frozenset(), "one nonce in 128-bit vectors", 1, 96),
        CKernel("sse2-x2", 2, frozenset(), "two nonces interleaved, 128-bit vectors", 2, 96),
        CKernel("sse2-x3", 3, frozenset(), "three nonces interleaved, 128-bit vectors", 3, 96),
        CKernel("sse2-x4", 4, frozenset(), "four nonces interleaved, 128-bit vectors", 4, 96),
        CKernel("avx2-x2", 5, frozenset({_AVX2}), "two nonces in one 256-bit vector", 2, 96),
        CKernel("avx2-x4", 6, frozenset({_AVX2}), "four nonces, two 256-bit vectors interleaved", 4, 96),
        CKernel(
            "avx2-x6",
            7,
            frozenset({_AVX2}),
            "six nonces, three 256-bit vectors, registers fixed in inline assembly (x86-64)",
            6,
            96,
        ),
        CKernel("avx2-x8", 8, frozenset({_AVX2}), "eight nonces, four 256-bit vectors interleaved", 8, 96),
        CKernel(
            "avx2-q8", 9, frozenset({_AVX2}), "the 512-bit template built for AVX2 (two ymm a vector)", 8, 96
        ),
        CKernel("avx512-x8", 10, frozenset({_AVX512}), "eight nonces, two 512-bit vectors, vprold", 8, 96),
        CKernel(
            "avx512-x12", 11, frozenset({_AVX512}), "twelve nonces, three 512-bit vectors, vprold", 12, 96
        ),
        CKernel(
            "avx512-x16", 12, frozenset({_AVX512}), "sixteen nonces, four 512-bit vectors, vprold", 16, 96
        ),
    )
}
#: Short names ``HASHWATT_SCRYPT_KERNEL`` accepts beside the full names.
SCRYPT_KERNEL_ALIASES: dict[str, str] = {"sse2": "sse2-x3", "avx2": "avx2-x6"}
#: ``hw_scrypt_scan`` kernel-id bit that keeps the SHA-256 blocks off SHA-NI (measurement only).
SCRYPT_NO_SHA_NI = 0x100


@dataclass(frozen=True, slots=True)
class KernelFamily:
    """The C kernels of one proof of work behind one exported scan function (``hw_scan``'s contract).

    Build, cache, self-test, measured choice and override are shared; only this differs.
    """

    name: str
    kernels: dict[str, CKernel]
    aliases: dict[str, str]
    #: Environment variable that forces one kernel of the family.
    env: str
    #: The exported C scan function.
    entry: str
    #: The file compiled into the family's own library, then every file it includes (all of
    #: them key the cached build, so an edit to any rebuilds it). One library per family: the
    #: scrypt kernels double the one-time build, and Bitcoin-only users should not pay for them.
    sources: tuple[Path, ...]
    #: File-name prefix of the cached library.
    stem: str


SHA256D = KernelFamily(
    "sha256d", C_KERNELS, KERNEL_ALIASES, KERNEL_ENV, "hw_scan", (_SOURCE_PATH,), "hw_kernel"
)
SCRYPT = KernelFamily(
    "scrypt",
    SCRYPT_KERNELS,
    SCRYPT_KERNEL_ALIASES,
    SCRYPT_KERNEL_ENV,
    "hw_scrypt_scan",
    (_SCRYPT_SOURCE_PATH, _SOURCE_PATH),
    "hw_scrypt",
)

#: Measurement rounds per kernel; the best (least CPU time) counts, so a busy neighbour that
#: preempts one round does not decide the choice.
_PROBE_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class _Library:
    ffi: Any
    lib: Any
    path: Path
    features: frozenset[str]


_lock = threading.Lock()
_choice_lock = threading.Lock()
#: Loaded (and self-tested) libraries, and why a family's could not be built, by family name.
_libraries: dict[str, _Library] = {}
_load_errors: dict[str, str] = {}


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


def _library_path(source: bytes, base: Path | None = None, stem: str = "hw_kernel") -> Path:
    key = hashlib.sha256()
    for part in (source, " ".join(_CFLAGS).encode(), platform.machine().encode(), sys.platform.encode()):
        key.update(part)
        key.update(b"\0")
    suffix = ".dll" if sys.platform == "win32" else ".so"
    folder = (base or cache_dir()) / "kernels"
    return folder / f"{stem}-{platform.machine()}-{key.hexdigest()[:16]}{suffix}"


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


def _load(family: KernelFamily | None = None) -> _Library:
    """The library of ``family`` (SHA-256d by default), built on first use and self-tested."""
    family = family or SHA256D
    with _lock:
        library = _libraries.get(family.name)
        if library is not None:
            return library
        error = _load_errors.get(family.name)
        if error is not None:
            raise BackendUnavailable(error)
        try:
            library = _build_and_open(family)
        except BackendUnavailable as exc:
            _load_errors[family.name] = str(exc)
            raise
        _libraries[family.name] = library
        return library


def _build_and_open(family: KernelFamily) -> _Library:
    try:
        import cffi
    except ImportError as exc:
        raise BackendUnavailable("the cpu backend needs the 'cffi' package (pip install cffi)") from exc
    source = b"".join(p.read_bytes() for p in family.sources)
    path = _library_path(source, stem=family.stem)
    if not path.exists():
        compiler = _compiler()
        if compiler is None:
            raise BackendUnavailable(
                "no C compiler found (set CC or install gcc); the cpu backend is unavailable, "
                "falling back to the slower python backend"
            )
        try:
            _compile(family.sources[0], path, compiler)
        except OSError as first:
            # An unwritable cache (read-only home in a sandbox): build in the temp dir instead.
            path = _library_path(
                source,
                Path(tempfile.gettempdir()) / f"hashwatt-{getattr(os, 'getuid', lambda: 0)()}",
                family.stem,
            )
            try:
                if not path.exists():
                    _compile(family.sources[0], path, compiler)
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
    bits = int(lib.hw_cpu_features())
    features = frozenset(name for bit, name in ((1, _SHA), (2, _AVX2), (4, _AVX512)) if bits & bit)
    library = _Library(ffi, lib, path, features)
    if family is SCRYPT:
        _scrypt_self_test(library)
    else:
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
        # 40 nonces: every lane width runs a full block and a scalar tail.
        found = _scan_with(
            library, C_KERNELS[name].kernel_id, GENESIS_HEADER76, GENESIS_NONCE - 21, 40, target
        )
        if found != [GENESIS_NONCE]:
            raise BackendUnavailable(f"the C kernel {name} fails its self-test (found {found})")


def _scrypt_self_test(library: _Library) -> None:
    """Litecoin's genesis header through every scrypt kernel this CPU runs (the scrypt library's
    load-time check; SHA-256d users never load that library)."""
    from hashwatt.pow._common import LTC_GENESIS_HEADER76, LTC_GENESIS_NONCE, scrypt_header

    expected = scrypt_header(LTC_GENESIS_HEADER76, LTC_GENESIS_NONCE)
    digest = library.ffi.new("uint8_t[32]")
    library.lib.hw_scrypt_hash(LTC_GENESIS_HEADER76 + LTC_GENESIS_NONCE.to_bytes(4, "little"), digest)
    if bytes(library.ffi.buffer(digest, 32)) != expected:
        raise BackendUnavailable(f"the C kernel {library.path} computes wrong scrypt hashes; delete it")
    target = int.from_bytes(expected, "little")
    for name in available_kernels(library, family=SCRYPT):
        kernel = SCRYPT_KERNELS[name]
        # One full group of lanes with the genesis nonce in its middle lane, then one tail nonce.
        start = LTC_GENESIS_NONCE - kernel.lanes // 2
        found = _scan_with(library, kernel.kernel_id, LTC_GENESIS_HEADER76, start, kernel.lanes + 1, target,
                           family=SCRYPT)  # fmt: skip
        if found != [LTC_GENESIS_NONCE]:
            raise BackendUnavailable(f"the scrypt C kernel {name} fails its self-test (found {found})")


def available_kernels(library: _Library | None = None, *, family: KernelFamily = SHA256D) -> list[str]:
    """C kernels of ``family`` this CPU can run: those whose needed features cpuid (and the OS) report."""
    lib = library or _load(family)
    return [name for name, kernel in family.kernels.items() if kernel.needs <= lib.features]


def cpu_features() -> frozenset[str]:
    """What the kernel's cpuid probe found: a subset of ``{"sha", "avx2", "avx512"}``."""
    return _load().features


def cpu_available(*, family: KernelFamily = SHA256D) -> tuple[bool, str]:
    """(usable, reason) without raising: whether ``family``'s library builds, loads and passes."""
    try:
        lib = _load(family)
    except BackendUnavailable as exc:
        return False, str(exc)
    found = ", ".join(sorted(lib.features)) or "none"
    return True, f"C kernel {lib.path.name} (CPU features: {found})"


def resolve_kernel_name(name: str, *, family: KernelFamily = SHA256D) -> str:
    """A full kernel name for ``name`` (an alias or a full name); unknown names raise."""
    full = family.aliases.get(name, name)
    if full not in family.kernels:
        choices = ", ".join([*family.aliases, *family.kernels])
        what = "C kernel" if family is SHA256D else f"{family.name} C kernel"
        raise PowInputError(f"unknown {what} {name!r}; choose one of {choices}", field="kernel", value=name)
    return full


def forced_kernel(*, family: KernelFamily = SHA256D) -> str | None:
    """The kernel ``family.env`` forces, checked against this CPU; ``None`` when unset.

    Raises :class:`PowInputError` for an unknown name and :class:`BackendUnavailable` for a
    kernel this CPU cannot run, so a forced choice never silently falls back.
    """
    raw = os.environ.get(family.env, "").strip()
    if not raw:
        return None
    try:
        name = resolve_kernel_name(raw, family=family)
    except PowInputError as exc:
        raise PowInputError(f"{family.env}={raw}: {exc}", field=family.env, value=raw) from None
    library = _load(family)
    if name not in available_kernels(library, family=family):
        missing = ", ".join(sorted(family.kernels[name].needs - library.features))
        raise BackendUnavailable(
            f"{family.env}={raw}: C kernel {name} needs CPU features this machine lacks ({missing})"
        )
    return name


def best_kernel(*, family: KernelFamily = SHA256D) -> str:
    """The kernel the ``cpu`` backend uses: forced by ``family.env``, else measured once."""
    forced = forced_kernel(family=family)
    if forced is not None:
        return forced
    return kernel_choice(family=family).kernel


def fixed_choice() -> str:
    """What the old fixed preference order would run here (the no-regression baseline)."""
    names = available_kernels()
    return next(name for name in FIXED_CHOICE_ORDER if name in names)


def scan_cpu(
    header76: bytes,
    nonce_start: int,
    count: int,
    target: int,
    *,
    kernel: str | None = None,
    family: KernelFamily = SHA256D,
) -> list[int]:
    """Scan with a C kernel of ``family`` (inputs already validated by the caller)."""
    library = _load(family)
    name = resolve_kernel_name(kernel, family=family) if kernel else best_kernel(family=family)
    if name not in available_kernels(library, family=family):
        raise BackendUnavailable(f"C kernel {name!r} cannot run on this CPU")
    return _scan_with(
        library, family.kernels[name].kernel_id, header76, nonce_start, count, target, family=family
    )


def _scan_with(
    library: _Library,
    kernel_id: int,
    header76: bytes,
    nonce_start: int,
    count: int,
    target: int,
    *,
    family: KernelFamily = SHA256D,
) -> list[int]:
    ffi = library.ffi
    entry = getattr(library.lib, family.entry)
    limbs = ffi.new("uint32_t[8]", [(target >> (32 * i)) & 0xFFFFFFFF for i in range(8)])
    out = ffi.new("uint32_t[]", _OUT_CAP)
    n_out = ffi.new("uint32_t *")
    found: list[int] = []
    done = 0
    while done < count:
        examined = int(
            entry(kernel_id, header76, nonce_start + done, count - done, limbs, out, _OUT_CAP, n_out)
        )
        if examined == _FAILED:
            raise PowError(f"C kernel {kernel_id} refused to run on this CPU")
        if examined == _NO_MEMORY:
            raise PowError(f"{family.name} C kernel {kernel_id} could not allocate its scratchpad")
        found.extend(out[0 : n_out[0]])
        done += examined
    return found


# ---------------------------------------------------------------- the measured choice


@dataclass(frozen=True, slots=True)
class KernelChoice:
    """The kernel the ``cpu`` backend runs here and the rates that chose it."""

    kernel: str
    #: Hashes per CPU-second of the calling thread, per kernel, from the short probe [H/s].
    rates_hs: dict[str, float]
    #: ``"measured"`` (this process ran the probe) or ``"cache"`` (read from ``path``).
    source: str
    path: Path | None


_choices: dict[str, KernelChoice] = {}


def cpu_model() -> str:
    """The CPU as the choice cache keys it: vendor, family, model, stepping and model name."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    parts = [fields.get(k, "") for k in ("vendor_id", "cpu family", "model", "stepping", "model name")]
    return " / ".join(parts) if any(parts) else f"{platform.machine()} {platform.processor()}"


def choice_cache_path(
    library: _Library | None = None, base: Path | None = None, *, family: KernelFamily = SHA256D
) -> Path:
    """Where the measured choice of ``family`` for this CPU model and this kernel build is kept.

    The name hashes the family, the CPU model, the features cpuid reported and the library's
    own file name (itself a hash of the kernel source and flags): a new CPU or an edited
    kernel measures again instead of trusting an old figure.
    """
    lib = library or _load(family)
    parts = [family.name, cpu_model(), ",".join(sorted(lib.features)), lib.path.name]
    key = hashlib.sha256("\0".join(parts).encode())
    return (base or lib.path.parent) / f"choice-{key.hexdigest()[:16]}.json"


def _probe_header(family: KernelFamily) -> bytes:
    from hashwatt.pow._common import GENESIS_HEADER76, LTC_GENESIS_HEADER76

    return LTC_GENESIS_HEADER76 if family is SCRYPT else GENESIS_HEADER76


def measure_kernels(
    library: _Library | None = None, *, rounds: int = _PROBE_ROUNDS, family: KernelFamily = SHA256D
) -> dict[str, float]:
    """Hashes per thread-CPU-second of every kernel of ``family`` this CPU runs, a few ms each [H/s].

    Rounds are interleaved across kernels and each kernel keeps its best round: thread CPU
    time does not count the time another process held the core, and a round slowed by cache
    or frequency effects does not decide.
    """
    lib = library or _load(family)
    header = _probe_header(family)
    names = available_kernels(lib, family=family)
    best: dict[str, float] = {}
    for round_index in range(rounds):
        for name in names:
            kernel = family.kernels[name]
            start = (round_index + 1) * kernel.probe_nonces
            begin = time.thread_time()
            _scan_with(lib, kernel.kernel_id, header, start, kernel.probe_nonces, 0, family=family)
            spent = max(time.thread_time() - begin, 1e-9)
            best[name] = max(best.get(name, 0.0), kernel.probe_nonces / spent)
    return best


def kernel_choice(*, refresh: bool = False, family: KernelFamily = SHA256D) -> KernelChoice:
    """This process's choice for ``family``: made once (from the cache file or a fresh probe), then kept.

    ``refresh=True`` measures again and rewrites the cache.
    """
    library = _load(family)
    with _choice_lock:
        choice = _choices.get(family.name)
        if choice is None or refresh:
            path = choice_cache_path(library, family=family)
            choice = _choices[family.name] = choose_kernel(library, path, refresh=refresh, family=family)
        return choice


def choose_kernel(
    library: _Library, path: Path, *, refresh: bool = False, family: KernelFamily = SHA256D
) -> KernelChoice:
    """The choice cached at ``path`` when it belongs to this build and runs here, else a probe.

    A fresh probe is written to ``path`` (atomically) for the next process.
    """
    cached = None if refresh else _read_choice(path, library, family)
    if cached is not None:
        return cached
    rates = measure_kernels(library, family=family)
    choice = KernelChoice(max(rates, key=lambda name: rates[name]), rates, "measured", path)
    _write_choice(path, choice, library, family)
    return choice


def _read_choice(path: Path, library: _Library, family: KernelFamily) -> KernelChoice | None:
    """A cached choice, or ``None`` when missing, unreadable, or naming a kernel not runnable here."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        kernel = data["kernel"]
        rates = {str(k): float(v) for k, v in data["rates_hs"].items()}
        build = data["build"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if build != library.path.name or kernel not in available_kernels(library, family=family):
        return None
    return KernelChoice(str(kernel), rates, "cache", path)


def _write_choice(path: Path, choice: KernelChoice, library: _Library, family: KernelFamily) -> None:
    """Atomic write (temp file + rename); an unwritable cache only costs a probe next time."""
    payload = {
        "kernel": choice.kernel,
        "rates_hs": choice.rates_hs,
        "cpu": cpu_model(),
        "build": library.path.name,
        "family": family.name,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=path.stem, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=1, sort_keys=True)
        os.replace(tmp_name, path)
    except OSError:
        return


def reset_choice() -> None:
    """Forget this process's choices (tests; after ``HASHWATT_CACHE_DIR`` changes)."""
    with _choice_lock:
        _choices.clear()
