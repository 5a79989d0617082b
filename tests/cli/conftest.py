"""Shared helpers of the CLI tests: run ``hashwatt`` in-process and the list of its commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import typer
from typer._click.core import Command
from typer.core import TyperGroup

from hashwatt.cli.main import build_app, main


@dataclass(frozen=True, slots=True)
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """``cli("profit", "s21")`` runs the real entry point and returns its code, stdout and stderr."""

    def run(*args: str) -> Result:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def _walk(command: Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Command]]:
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield path, command


def leaf_commands() -> list[tuple[tuple[str, ...], Command]]:
    """Every runnable command of the full app as (path, command), e.g. (("network", "pools"), ...)."""
    return list(_walk(typer.main.get_command(build_app()), ()))
