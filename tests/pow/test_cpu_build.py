"""The C kernel builds on first use into a cache keyed by its source, safely in parallel,
and its absence (no compiler) degrades to the python backend with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import warnings
from hashwatt.pow import GENESIS_HEADER76, GENESIS_NONCE, available_backends, scan
from hashwatt.pow.errors import BackendUnavailable
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(scan(GENESIS_HEADER76, GENESIS_NONCE - 10, 20, 0xFFFF << 208))
print("cpu" in available_backends())
print([str(w.message) for w in caught])
try:
    scan(GENESIS_HEADER76, 0, 1, 1, backend="cpu")
    print("cpu ok")
except BackendUnavailable as exc:
    print("unavailable:", exc)
"""


def run(cache: Path, **env: str) -> subprocess.Popen[str]:
    full_env = {**os.environ, "HASHWATT_CACHE_DIR": str(cache), **env}
    full_env.pop("NUMBA_ENABLE_CUDASIM", None)
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_parallel_first_use_builds_one_library(tmp_path: Path) -> None:
    procs = [run(tmp_path) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        lines = out.splitlines()
        assert lines[0] == "[2083236893]" and lines[1] == "True" and lines[3] == "cpu ok"
    built = sorted(p.name for p in (tmp_path / "kernels").iterdir())
    assert len([n for n in built if n.endswith(".so")]) == 1
    assert not [n for n in built if n.endswith(".tmp")]
    # A second process reuses the cached library (no compiler needed any more).
    proc = run(tmp_path, PATH="", CC="/nonexistent")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[3] == "cpu ok"


def test_without_a_compiler_auto_falls_back_with_a_message(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run(tmp_path / "cache", PATH=str(empty), CC="/nonexistent/cc")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "[2083236893]"  # the python backend still finds the nonce
    assert lines[1] == "False"
    assert "no C compiler" in lines[2] and "python backend" in lines[2]
    assert lines[3].startswith("unavailable:") and "no C compiler" in lines[3]


def test_an_unwritable_cache_falls_back_to_the_temp_dir(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache directory should be")
    (tmp_path / "tmp").mkdir()
    proc = run(blocked / "cache", TMPDIR=str(tmp_path / "tmp"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.splitlines()[3] == "cpu ok"
    assert list((tmp_path / "tmp").glob("hashwatt-*/kernels/hw_kernel-*.so"))
