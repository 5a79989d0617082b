"""A directory where a TOML file was expected: one line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashwatt.cli.main import main


@pytest.mark.parametrize("args", [["sites", "compare"], ["plan"]])
def test_cli_directory_instead_of_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main([*args, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not found" in err and "Traceback" not in err
