"""``hashwatt twin serve``: an inventory written and a clean stop; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hashwatt.cli.main import build_app, main
from tests.twin._site import private_subnet


def test_cli_serve_writes_inventory_and_stops(tmp_path: Path) -> None:
    subnet = private_subnet()
    out = tmp_path / "inventory.json"
    result = CliRunner().invoke(
        build_app("twin"),
        [
            "twin",
            "serve",
            "--model",
            "S19j Pro",
            "--firmware",
            "luxos",
            "--count",
            "3",
            "--range",
            f"{subnet}.10-{subnet}.20",
            "--listen",
            "per-address",
            "--ramp-seconds",
            "0",
            "--port-offset",
            "20000",
            "--inventory-out",
            str(out),
            "--duration",
            "0.5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output.splitlines()[0])
    saved = json.loads(out.read_text())
    assert saved["twins"] == printed["twins"]
    assert [t["host"] for t in saved["twins"]] == [f"{subnet}.{i}" for i in (10, 11, 12)]
    assert saved["twins"][0]["ports"] == {"rpc": 24028, "web": 20080}
    assert saved["twins"][0]["firmware"] == "luxos" and saved["twins"][0]["model"].startswith(
        "Antminer S19j Pro"
    )


def test_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["twin", "serve", "--model", "S19 Pro", "--range", "192.168.1.1"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "loopback" in err and "Traceback" not in err
    assert main(["twin", "serve"]) == 2
    assert main(["twin", "example"]) == 0
