"""`profit --live-url` against a replayed mempool.space API on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support.replay import Replay


def test_cli_profit_live(replay: Replay, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hashwatt.cli.main import main

    code = main(["profit", "s21 xp", "--live-url", replay.url, "--cache-dir", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["snapshot_source"] == "live" and data["height"] == 894_803
    assert replay.hits["/api/v1/prices"] == 1
    code = main(["profit", "s21 xp", "--live-url", replay.url, "--date", "2024-01-01"])
    assert code == 2 and "exclude" in capsys.readouterr().err
