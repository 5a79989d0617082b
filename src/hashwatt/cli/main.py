"""The ``hashwatt`` command: one root Typer app, sub-apps registered per room.

Errors: every :class:`~hashwatt.errors.HashwattError` becomes one line on stderr and exit
code 2; Ctrl-C exits 130 quietly. Usage errors are Click's (also exit code 2).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from hashwatt import __version__
from hashwatt.cli._output import err_console
from hashwatt.errors import HashwattError

#: CLI modules in help order; each exposes ``register(app)``.
_MODULES = (
    "status",
    "chain",
    "block",
    "bench",
    "mine",
    "pool",
    "economics",
    "energy",
    "network",
    "fleet",
    "twin",
    "serve",
    "users",
)
#: The module behind each top-level command. Only that module is imported when the command
#: runs (pandas, scipy, SQLAlchemy and numba cost seconds to import); help loads them all.
_COMMAND_MODULES = {
    "status": "status",
    "demo": "status",
    "chain": "chain",
    "block": "block",
    "bench": "bench",
    "mine": "mine",
    "pool": "pool",
    "profit": "economics",
    "rank": "economics",
    "forecast": "economics",
    "backtest": "economics",
    "hashprice": "economics",
    "fleet": "fleet",
    "best": "economics",
    "dispatch": "energy",
    "sites": "energy",
    "network": "network",
    "twin": "twin",
    "serve": "serve",
    "users": "users",
}


def _version(value: bool) -> None:
    if value:
        print(f"hashwatt {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Industrial Bitcoin mining toolkit: mine, model, manage, understand the network."""


def build_app(command: str | None = None) -> typer.Typer:
    """The root app with the module for ``command`` registered, or every module if unknown/None."""
    app = typer.Typer(
        name="hashwatt",
        help="Industrial Bitcoin mining toolkit: mine, model, manage, understand the network.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.callback()(_root)
    wanted = _COMMAND_MODULES.get(command or "")
    for name in _MODULES if wanted is None else (wanted,):
        importlib.import_module(f"hashwatt.cli.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    """``hashwatt.cli.main.app``: the full app, built on first access."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code.

    Typer handles usage errors itself (exit 2); hashwatt's own errors surface here.
    """
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args and not args[0].startswith("-") else None
    try:
        build_app(command)(args=args, prog_name="hashwatt")
    except HashwattError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True, markup=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def run() -> None:  # pragma: no cover - thin wrapper for python -m
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
