"""The ``hashwatt`` command: one root Typer app, sub-apps registered per room.

Errors: every :class:`~hashwatt.errors.HashwattError` becomes one line on stderr and exit
code 2; Ctrl-C exits 130 quietly. Usage errors are Click's (also exit code 2).
"""

from __future__ import annotations

import sys

import typer

from hashwatt import __version__
from hashwatt.cli import bench as bench_cli
from hashwatt.cli import block as block_cli
from hashwatt.cli import chain as chain_cli
from hashwatt.cli import economics as economics_cli
from hashwatt.cli import energy as energy_cli
from hashwatt.cli import mine as mine_cli
from hashwatt.cli import network as network_cli
from hashwatt.cli import pool as pool_cli
from hashwatt.cli import status as status_cli
from hashwatt.cli._output import err_console
from hashwatt.errors import HashwattError

app = typer.Typer(
    name="hashwatt",
    help="Industrial Bitcoin mining toolkit: mine, model, manage, understand the network.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"hashwatt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Industrial Bitcoin mining toolkit: mine, model, manage, understand the network."""


# Sub-apps: one per room. Each module exposes ``register(app)``.
for _module in (
    status_cli,
    chain_cli,
    block_cli,
    energy_cli,
    network_cli,
    mine_cli,
    pool_cli,
    economics_cli,
    bench_cli,
):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code.

    Typer handles usage errors itself (exit 2); hashwatt's own errors surface here.
    """
    try:
        app(args=argv)
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
