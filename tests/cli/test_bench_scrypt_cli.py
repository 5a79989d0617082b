"""``hashwatt bench --algorithm scrypt``: scrypt backends and kernels per CPU-second beside
hashlib.scrypt, and beside a minerd given with ``--minerd``; bad input is one line, exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests._support.cli import Run


def _fake_minerd(tmp_path: Path, line: str) -> Path:
    # pooler's minerd is not installable from the package registries: a stand-in that prints
    # its benchmark line after burning some CPU (the real one is timed by bench/bench_scrypt.py).
    script = tmp_path / "minerd"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, time\n"
        "end = time.process_time() + 0.2\n"
        "while time.process_time() < end:\n"
        "    pass\n"
        f"print({line!r}, flush=True)\n"
    )
    script.chmod(0o755)
    return script


def test_scrypt_bench_json_reports_rates_against_hashlib_and_minerd(cli: Run, tmp_path: Path) -> None:
    minerd = _fake_minerd(tmp_path, "[2026-11-30 15:03:39] thread 0: 10392 hashes, 10.43 khash/s")
    result = cli(
        "bench",
        "-a",
        "scrypt",
        "-s",
        "0.3",
        "-t",
        "1",
        "-b",
        "cpu",
        "-b",
        "python",
        "--minerd",
        str(minerd),
        "--json",
    )
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["algorithm"] == "scrypt" and report["hashlib_scrypt_hs_per_cpu_s"] > 100
    assert report["minerd_hs_per_cpu_s"] > 0
    rows = {r["backend"]: r for r in report["results"]}
    assert set(rows) == {"cpu", "python"}
    for row in rows.values():
        assert row["threads"] == 1 and row["hashes"] > 0
        assert row["vs_minerd"] * report["minerd_hs_per_cpu_s"] == pytest.approx(row["hashes_per_cpu_s"])
        assert row["vs_hashlib_scrypt"] * report["hashlib_scrypt_hs_per_cpu_s"] == pytest.approx(
            row["hashes_per_cpu_s"]
        )
    # The C kernels beat OpenSSL's one-nonce-at-a-time scrypt even on a busy machine.
    assert rows["cpu"]["hashes_per_cpu_s"] > 2 * rows["python"]["hashes_per_cpu_s"]
    kernels = {k["kernel"]: k for k in report["kernels"]}
    assert {"scalar", "sse2-x1", "sse2-x2", "sse2-x4"} <= set(kernels)
    assert sum(k["chosen"] for k in kernels.values()) == 1


def test_scrypt_bench_table(cli: Run) -> None:
    result = cli("bench", "--algorithm", "scrypt", "-s", "0.2", "-t", "1", "-b", "cpu")
    assert result.code == 0, result.err
    assert "Scrypt backends" in result.out and "Scrypt C kernels" in result.out
    assert "hashlib.scrypt" in result.out and "minerd" not in result.out.split("\n", 1)[0]


def test_scrypt_bench_bad_input_is_one_line(cli: Run, tmp_path: Path) -> None:
    silent = _fake_minerd(tmp_path, "no rate here")
    for args, needle in (
        (["-a", "scrypt", "-b", "gpu"], "unknown scrypt backend"),
        (["-a", "x11"], "--algorithm"),
        (["--minerd", str(silent), "-s", "0.2"], "--algorithm scrypt"),
        (["-a", "scrypt", "-s", "0.2", "-b", "python", "--minerd", str(silent)], "printed no hash rate"),
        (["-a", "scrypt", "--minerd", str(tmp_path / "missing")], "--minerd"),
    ):
        result = cli("bench", *args)
        assert result.code == 2, (args, result)
        lines = result.err.strip().splitlines()
        assert lines[-1].startswith("error:") and needle in lines[-1], (args, result.err)
        assert "Traceback" not in result.err
