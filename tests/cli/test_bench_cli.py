"""``hashwatt bench``: JSON report with same-run baselines; bad flags exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hashwatt.cli.main import main
from hashwatt.pow import _cpu
from tests._support.cudasim import enable_cuda_simulator

enable_cuda_simulator()  # ``-b gpu`` below must meet the simulator, as in tests/pow


def test_bench_json_reports_rates_and_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--seconds", "0.3", "-b", "cpu", "-b", "python", "--threads", "2", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hashlib_loop_hs"] > 1e4 and report["sha256_blocks_per_s"] > 1e5
    rows = {(r["backend"], r["threads"]): r for r in report["results"]}
    assert set(rows) == {("cpu", 1), ("cpu", 2), ("python", 1), ("python", 2)}
    for row in rows.values():
        assert row["hashrate_hs"] > 0 and row["hashes"] > 0
        assert row["hashrate_hs_per_core"] == pytest.approx(row["hashrate_hs"] / row["threads"])
        assert row["vs_hashlib_loop"] == pytest.approx(
            row["hashrate_hs_per_core"] / report["hashlib_loop_hs"]
        )
    # The C kernel beats the plain hashlib loop by a wide margin even on a busy machine.
    assert rows[("cpu", 1)]["vs_hashlib_loop"] > 3


def test_bench_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--seconds", "0.2", "-b", "cpu", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "hashlib double-SHA loop" in out and "SHA-256d backends" in out and "cpu" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "0"], "--seconds"),
        (["--threads", "0"], "--threads"),
        (["-b", "fpga"], "unknown backend"),
        (["-b", "gpu"], "simulator"),  # enabled above
    ],
)
def test_bench_bad_flags(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *args]) == 2
    assert message in capsys.readouterr().err


def test_ctrl_c_stops_the_bench_within_a_second() -> None:
    import os
    import queue
    import signal
    import subprocess
    import sys
    import threading
    import time

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hashwatt", "bench", "-b", "cpu", "--threads", "2", "--seconds", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or []], daemon=True)
    reader.start()
    try:
        # Wait for the condition, not a guess of start-up time: the timed worker phase began.
        seen: list[str] = []
        while not any("timing cpu with 1 thread(s)" in line for line in seen):
            seen.append(lines.get(timeout=120))  # past start-up and the baselines
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        # Prompt: the run would go on for two minutes. The bound leaves room for interpreter
        # shutdown on a loaded 2-core machine (1.4 s seen there under the full suite).
        assert time.monotonic() - sent < 5.0
        assert proc.returncode == 130  # the CLI's exit code for Ctrl-C
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _hashwatt(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    full_env.pop("NUMBA_ENABLE_CUDASIM", None)
    code = "import sys; from hashwatt.cli.main import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=full_env, capture_output=True, text=True, timeout=120
    )


def test_cli_refuses_a_forced_kernel_the_cpu_cannot_run() -> None:
    missing = next(
        (
            k
            for k in ("avx512", "shani", "avx2")
            if _cpu.resolve_kernel_name(k) not in _cpu.available_kernels()
        ),
        None,
    )
    env_value = missing or "fpga"  # on a CPU that runs everything, a misspelt name
    proc = _hashwatt(["bench", "--backend", "cpu", "--seconds", "0.2"], HASHWATT_POW_KERNEL=env_value)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and env_value in lines[0]
    assert "Traceback" not in proc.stderr
