"""``external_miner_rate``: another miner's own benchmark output read as hashes per CPU-second.

The stand-in miners are small Python scripts that burn CPU and print lines in pooler's minerd
format (the real minerd is not in the package registries; bench/bench_scrypt.py runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

from hashwatt.pow._bench import external_miner_rate


def _miner(tmp_path: Path, lines: list[str]) -> str:
    script = tmp_path / "miner"
    script.write_text(
        f"#!{sys.executable}\n"
        "import time\n"
        "end = time.process_time() + 0.3\n"
        "while time.process_time() < end:\n"
        "    pass\n"
        f"for line in {lines!r}:\n"
        "    print(line, flush=True)\n"
    )
    script.chmod(0o755)
    return str(script)


def test_the_last_rate_counts_scaled_to_cpu_time(tmp_path: Path) -> None:
    miner = _miner(
        tmp_path, ["thread 0: 4104 hashes, 15.20 khash/s", "thread 0: 76008 hashes, 19.20 khash/s"]
    )
    rate = external_miner_rate(miner, [], 30.0)
    # 19.2 kH per wall second of a process that was busy nearly all its wall time: the scaling
    # by wall / CPU can only raise it, and not by much.
    assert 19.2e3 <= rate < 19.2e3 * 3


def test_only_keeps_the_totals_of_a_several_thread_run(tmp_path: Path) -> None:
    lines = [
        "thread 0: 1000 hashes, 1.00 khash/s",
        "Total: 100.0 khash/s",
        "thread 1: 1000 hashes, 1.00 khash/s",
    ]
    miner = _miner(tmp_path, lines)
    # The last line is a per-thread figure: without the filter it is taken for the run's.
    # (wall / CPU scaling lifts either by a small factor on a busy machine, never 50x.)
    assert external_miner_rate(miner, [], 30.0) < 50e3
    assert external_miner_rate(miner, [], 30.0, only="Total") >= 100e3


def test_no_rate_printed_is_zero(tmp_path: Path) -> None:
    assert (
        external_miner_rate(_miner(tmp_path, ["starting", "Total: none yet"]), [], 30.0, only="Total") == 0.0
    )


def test_paired_ratios_are_taken_round_by_round() -> None:
    from hashwatt.pow._bench import paired_ratio_summary

    # rounds: 2/1, 3/1, 4/2 -> 2, 3, 2 (a median of the medians would give 3/1 = 3)
    assert (
        paired_ratio_summary([2.0, 3.0, 4.0], [1.0, 1.0, 2.0]) == "median 2.000 (range 2.000-3.000, 3 rounds)"
    )
    assert paired_ratio_summary([2.0, 5.0], [0.0, 2.0]) == "median 2.500 (range 2.500-2.500, 1 rounds)"
    assert paired_ratio_summary([1.0], [0.0]) == ""
