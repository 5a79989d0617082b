"""``hashwatt mine`` and ``hashwatt pool serve`` through the real entry point."""

from __future__ import annotations

import json

import pytest

from hashwatt.cli.main import main


def test_mine_demo_json_finds_a_validated_block(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "mine",
            "--demo",
            "--json",
            "--blocks",
            "1",
            "--threads",
            "1",
            "--duration",
            "60",
            "--demo-block-hashes",
            str(2.0**20),
        ]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "connected" and "subscribed" in kinds and "job" in kinds
    block = next(e for e in events if e["event"] == "block")
    assert block["accepted"] is True and "validate_block" in block["message"]
    assert block["height"] == 924634
    summary = events[-1]
    assert summary["event"] == "summary" and summary["blocks_found"] >= 1
    assert summary["accepted"] >= 1 and summary["hashes_done"] > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["mine"],
        ["mine", "-o", "http://pool:1"],
        ["mine", "--demo", "-o", "stratum+tcp://a:1"],
        ["mine", "--node", "http://u:p@127.0.0.1:1"],
        ["pool", "serve"],
        ["pool", "serve", "--demo", "--node", "http://x:1"],
        ["pool", "serve", "--node", "http://x:1"],
    ],
)
def test_bad_input_is_one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "Traceback" not in err


def test_pool_serve_demo_runs_for_a_duration(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "s.db"
    assert (
        main(
            ["pool", "serve", "--demo", "--port", "0", "--json", "--duration", "0.3", "--share-log", str(db)]
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "listening" and lines[0]["port"] > 0
    assert lines[-1]["event"] == "stats" and lines[-1]["connections"] == 0
    assert db.exists()
