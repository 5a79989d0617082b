"""The ``hashwatt`` command: one root Typer app, sub-apps registered per room.

Errors: bad input (every :class:`~hashwatt.errors.HashwattError`, and Click's usage errors:
a value out of range, an unknown option, a missing argument) becomes one ``error:`` line on
stderr and exit code 2; a runtime failure (:class:`~hashwatt.cli._output.CommandFailed`,
e.g. no pool reachable) one line and exit code 1; Ctrl-C exits 130 quietly. Help text is
escaped before Rich renders it, so bracketed units (``[years]``) stay visible.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text
from typer._click import exceptions as click_exc  # typer 0.29 ships its own click
from typer._click.core import Command
from typer.core import TyperGroup

from hashwatt import __version__
from hashwatt.cli._output import CommandFailed, err_console
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
    "plan": "economics",
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


def _escape_attribute(obj: object, attr: str) -> None:
    text = getattr(obj, attr, None)
    if isinstance(text, str):
        setattr(obj, attr, escape(text))


def escape_help(command: Command) -> None:
    """Escape every help text of ``command`` and its subcommands: Rich reads them as markup."""
    for attr in ("help", "short_help", "epilog"):
        _escape_attribute(command, attr)
    for param in command.params:
        _escape_attribute(param, "help")  # options and Typer's arguments carry help
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            escape_help(sub)


def error_line(message: str) -> None:
    """Print ``error: MESSAGE`` as one line on stderr; the message is plain text, never markup."""
    one_line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    err_console.print(Text.assemble(("error:", "bold red"), " ", one_line), soft_wrap=True, highlight=False)


def _usage_message(exc: click_exc.UsageError) -> str:
    message = exc.format_message()
    ctx = exc.ctx
    if ctx is not None and ctx.command_path:
        message += f" (see {ctx.command_path} --help)"
    return message


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code (0, 1 runtime failure, 2 bad input)."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args and not args[0].startswith("-") else None
    # Charts are files: no window. Figures are drawn without pyplot, this covers any that is not.
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        cli = typer.main.get_command(build_app(command))
        escape_help(cli)
        result = cli.main(args=args, prog_name="hashwatt", standalone_mode=False)
    except click_exc.NoArgsIsHelpError as exc:
        help_text = exc.format_message()  # Rich help is already printed; plain help is returned
        if help_text.strip():
            print(help_text)
        return 2
    except click_exc.UsageError as exc:
        error_line(_usage_message(exc))
        return 2
    except click_exc.ClickException as exc:
        error_line(exc.format_message())
        return 2
    except typer.Abort:
        error_line("aborted")
        return 1
    except HashwattError as exc:
        error_line(str(exc))
        return 2
    except CommandFailed as exc:
        error_line(str(exc))
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except OSError as exc:
        error_line(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return 1
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def run() -> None:  # pragma: no cover - thin wrapper for python -m
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
