"""The ``cli`` fixture: run the real ``hashwatt`` entry point in-process."""

from __future__ import annotations

import pytest

from hashwatt.cli.main import main
from tests._support.cli import Result, Run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """``cli("profit", "s21")`` runs the entry point and returns its code, stdout and stderr."""

    def run(*args: str) -> Result:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run
