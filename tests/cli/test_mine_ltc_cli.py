"""``hashwatt mine --coin ltc`` against ``hashwatt pool serve --coin ltc --demo``: two real
processes on loopback. The miner's shares are accepted, and the pool reports a Litecoin block
(``validate_block(params=LTC)``) and a merged Dogecoin block (``validate_auxpow_block``), both
credited in its share log. Bad ``--coin`` input is one line, exit 2."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from hashwatt.cli.main import main
from hashwatt.stratum import ShareLog, sqlite_url

ROOT = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], queue.Queue[dict[str, Any]]]:
    """``hashwatt ARGS`` with its JSON lines on a queue (read by a thread: no blocking reads) and
    its stderr in ``cwd/<command>.err``."""
    err = (cwd / f"{args[0]}.err").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hashwatt", *args],
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def pump(stream: IO[str]) -> None:
        for line in stream:
            if line.startswith("{"):
                lines.put(json.loads(line))

    assert proc.stdout is not None
    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    return proc, lines


def _until(
    lines: queue.Queue[dict[str, Any]], seen: list[dict[str, Any]], done: Any, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done(seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; seen {seen[-5:]}"
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue


def _stop(proc: subprocess.Popen[str], cwd: Path, name: str) -> str:
    """SIGINT (a clean stop with a summary), then the process's stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return (cwd / f"{name}.err").read_text()


def test_mine_coin_ltc_finds_shares_and_merged_blocks_against_the_pool(tmp_path: Path) -> None:
    db = tmp_path / "shares.db"
    pool, pool_lines = _spawn(
        [
            "pool", "serve", "--coin", "ltc", "--demo", "--port", "0", "--json",
            "--share-log", str(db), "--demo-block-hashes", "512", "--demo-aux-block-hashes", "128",
        ],
        tmp_path,
    )  # fmt: skip
    miner: subprocess.Popen[str] | None = None
    try:
        pool_seen: list[dict[str, Any]] = []
        _until(pool_lines, pool_seen, lambda s: any(e["event"] == "listening" for e in s), 60)
        listening = next(e for e in pool_seen if e["event"] == "listening")
        assert listening["coin"] == "LTC"
        url = f"stratum+tcp://127.0.0.1:{listening['port']}"
        miner, miner_lines = _spawn(
            ["mine", "--coin", "ltc", "-o", url, "--json", "--threads", "1", "--duration", "180"], tmp_path
        )

        def both_blocks(seen: list[dict[str, Any]]) -> bool:
            chains = {e.get("chain") for e in seen if e["event"] == "block" and e["accepted"]}
            return {"LTC", "DOGE"} <= chains

        _until(pool_lines, pool_seen, both_blocks, 150)
        # The pool has judged the blocks; wait until the miner has read an acceptance too (on a
        # loaded machine its reply can still be in flight), then stop it for its summary.
        miner_seen: list[dict[str, Any]] = []
        _until(miner_lines, miner_seen, lambda s: any(e["event"] == "share" and e["accepted"] for e in s), 60)
        miner_err = _stop(miner, tmp_path, "mine")
        _until(miner_lines, miner_seen, lambda s: any(e["event"] == "summary" for e in s), 30)
    finally:
        if miner is not None:
            _stop(miner, tmp_path, "mine")
        pool_err = _stop(pool, tmp_path, "pool")
    assert miner.returncode == 0, miner_err
    assert pool.returncode == 0, pool_err
    summary = miner_seen[-1]
    assert summary["coin"] == "LTC" and summary["accepted"] >= 1 and summary["error"] is None
    shares = [e for e in miner_seen if e["event"] == "share"]
    assert any(e["accepted"] for e in shares)
    blocks = [e for e in pool_seen if e["event"] == "block" and e["accepted"]]
    ltc = next(b for b in blocks if b["chain"] == "LTC")
    doge = next(b for b in blocks if b["chain"] == "DOGE")
    assert "validate_block" in ltc["message"] and ltc["height"] == 1
    assert "validate_auxpow_block" in doge["message"] and doge["height"] == 1
    log = ShareLog(sqlite_url(db))
    try:
        records = log.records()
        assert records and {(r.chain, r.aux_chain) for r in records} == {("LTC", "DOGE")}
        assert any(r.is_block for r in records) and any(r.aux_is_block for r in records)
        credit = log.credit_by_chain()
        assert credit["LTC"] == credit["DOGE"] and credit["LTC"]["hashwatt"] > 0
    finally:
        log.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["mine", "--coin", "doge", "--demo"],
        ["mine", "--coin", "ltc", "--backend", "gpu", "-o", "stratum+tcp://127.0.0.1:1"],
        ["mine", "--coin", "ltc", "--node", "http://u:p@127.0.0.1:1", "--address", "x"],
        ["pool", "serve", "--coin", "ltc", "--node", "http://x:1", "--address", "x"],
        ["pool", "serve", "--demo", "--demo-aux-block-hashes", "4"],
        ["pool", "serve", "--coin", "ltc", "--demo", "--demo-aux-block-hashes", "0"],
    ],
)
def test_bad_coin_input_is_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "Traceback" not in err and len(err.splitlines()) == 1


def test_mine_demo_coin_ltc_in_one_process(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "mine", "--demo", "--coin", "LTC", "--json", "--blocks", "1", "--threads", "1",
            "--duration", "120", "--demo-block-hashes", "256",
        ]
    )  # fmt: skip
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    blocks = [e for e in events if e["event"] == "block" and e["accepted"]]
    assert blocks and {b["chain"] for b in blocks} <= {"LTC", "DOGE"}
    assert events[-1]["event"] == "summary" and events[-1]["coin"] == "LTC"
