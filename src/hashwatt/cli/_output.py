"""Shared output helpers for every command: rich tables on a terminal, JSON for machines.

Conventions: every reporting command takes ``--json`` (:data:`JSON_OPTION`); results go to
stdout; errors go to stderr as one line (see :mod:`hashwatt.cli.main`). Rich parses square
brackets as markup, so every piece of user or remote text reaches it as a :class:`~rich.text.Text`
or through :func:`rich.markup.escape`: tables built here escape every cell and title.
Output files (``--csv``, ``--plot``, ``--heatmap``) are checked by :func:`output_path` before
any work starts, and written through :func:`write_csv` / :func:`save_figure`, which turn an
``OSError`` into the one-line error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hashwatt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


class CommandFailed(Exception):
    """A command ran and failed for a reason outside the input (no pool reachable): exit code 1."""


console = Console()
err_console = Console(stderr=True)

#: The ``--json`` flag every reporting command takes.
JSON_OPTION = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, numpy/pandas scalars, bytes, dates and paths into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # pandas DataFrame
        return to_jsonable(value.to_dict(orient="records"))
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalar
        return to_jsonable(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Iterable):
        return [to_jsonable(v) for v in value]
    return str(value)


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout (plain print: no rich markup or wrapping)."""
    print(json.dumps(to_jsonable(value), indent=2, sort_keys=False))


def key_value_table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    """A two-column table of labelled values; title and cells are plain text, never markup."""
    table = Table(title=escape(title), show_header=False, title_justify="left")
    table.add_column("field", style="bold cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, val in rows:
        table.add_row(escape(key), escape(val))
    return table


def records_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A table with a header row; title, headers and cells are plain text, never markup."""
    table = Table(title=escape(title), title_justify="left")
    for col in columns:
        table.add_column(escape(col))
    for row in rows:
        table.add_row(*(escape(str(cell)) for cell in row))
    return table


def print_plain(text: str) -> None:
    """Print ``text`` to stdout through Rich without reading markup in it."""
    console.print(text, markup=False, highlight=False)


def _check_output_path(value: Path | None) -> Path | None:
    """Typer callback: the file can be created (its folder exists) and is not a folder."""
    if value is None:
        return None
    if value.is_dir():
        raise typer.BadParameter(f"{value} is a directory; give a file name")
    parent = value.parent
    if not parent.is_dir():
        raise typer.BadParameter(f"folder {parent} does not exist")
    return value


def output_path(flag: str, help_text: str) -> Any:
    """A ``--csv``/``--plot``-style option whose folder must exist and which is not a folder."""
    return typer.Option(flag, help=help_text, dir_okay=False, callback=_check_output_path)


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    """``frame.to_csv(path)``; a failing write is one clear error, not a traceback."""
    try:
        frame.to_csv(path, index=index)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def save_figure(fig: Figure, path: Path) -> None:
    """Save ``fig`` exactly at ``path`` (format from its suffix, PNG when the suffix is unknown).

    Matplotlib would append ``.png`` to a name without a suffix; the file goes where it was
    asked to, so that "written to PATH" is true.
    """
    suffix = path.suffix.lower().lstrip(".")
    fmt = suffix if suffix in fig.canvas.get_supported_filetypes() else "png"
    try:
        fig.savefig(path, format=fmt, dpi=110)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def fmt_int(n: int) -> str:
    return f"{n:,}"


def fmt_btc_from_sat(sat: int) -> str:
    """Satoshis shown as BTC with all eight decimals (exact, no float)."""
    sign = "-" if sat < 0 else ""
    whole, frac = divmod(abs(sat), 100_000_000)
    return f"{sign}{whole:,}.{frac:08d} BTC"


def fmt_si(value: float, unit: str) -> str:
    """Engineering notation: 1.23 EH/s, 456.7 TH/s."""
    prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"]
    magnitude = 0
    while abs(value) >= 1000 and magnitude < len(prefixes) - 1:
        value /= 1000
        magnitude += 1
    return f"{value:,.2f} {prefixes[magnitude]}{unit}"
