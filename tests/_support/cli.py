"""Running ``hashwatt`` in-process, and the list of its commands read from the app itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import typer
from typer._click.core import Command
from typer.core import TyperGroup

from hashwatt.cli.main import build_app


@dataclass(frozen=True, slots=True)
class Result:
    """What one run of the entry point gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str


#: ``cli("profit", "s21")`` (the ``cli`` fixture of tests/cli/conftest.py).
Run = Callable[..., Result]


def _walk(command: Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Command]]:
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))
    else:
        yield path, command


def leaf_commands() -> list[tuple[tuple[str, ...], Command]]:
    """Every runnable command of the full app as (path, command), e.g. (("network", "pools"), ...)."""
    return list(_walk(typer.main.get_command(build_app()), ()))
