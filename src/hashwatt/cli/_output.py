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
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from hashwatt.errors import InputError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


class CommandFailed(Exception):
    """A command ran and failed for a reason outside the input (no pool reachable): exit code 1."""


console = Console()
err_console = Console(stderr=True)

#: Upper bounds of the pool/mine/block numeric options: a value past them is a typo or an
#: attack on the parser (``--duration 1e300``, ``--height 2**70``), refused as one error line.
#: Ten years [s]: the longest a ``--duration`` may ask a process to run.
MAX_DURATION_S = 10 * 365 * 86_400
#: A header's time field (and so any clock it is checked against) is a uint32 [unix s].
MAX_HEADER_TIME = 0xFFFFFFFF
#: Counts (blocks to find, failures to tolerate, transactions to list) beyond any real need.
MAX_COUNT = 1_000_000

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


def output_path(flag: str, help_text: str, *aliases: str) -> Any:
    """A ``--csv``/``--plot``-style option whose folder must exist and which is not a folder."""
    return typer.Option(flag, *aliases, help=help_text, dir_okay=False, callback=_check_output_path)


def write_csv(frame: pd.DataFrame, path: Path, *, index: bool = True) -> None:
    """``frame.to_csv(path)``; a failing write is one clear error, not a traceback."""
    try:
        frame.to_csv(path, index=index)
    except OSError as exc:
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}", field="path", value=str(path), path=str(path)
        ) from exc


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
        raise InputError(
            f"cannot write {path}: {exc.strerror or exc}", field="path", value=str(path), path=str(path)
        ) from exc


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


def fmt_usd(amount_usd: float, *, cents: bool = False) -> str:
    """The one money format of the CLI: ``$12,345`` below a million, ``$1.23M``/``$4.56B`` above.

    A reader compares amounts at a glance; an SI prefix glued to a currency code reads as a unit.
    """
    if not math.isfinite(amount_usd):
        return "n/a"
    sign = "-" if amount_usd < 0 else ""
    value = abs(amount_usd)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if value >= scale:
            return f"{sign}${value / scale:,.2f}{suffix}"
    return f"{sign}${value:,.2f}" if cents else f"{sign}${value:,.0f}"


#: The ``--wide`` flag of the commands whose tables drop columns to fit the terminal.
WIDE_OPTION = Annotated[bool, typer.Option("--wide", help="Show every column, however wide the table gets.")]


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """A table column: ``drop`` orders what goes first when the table is too wide (0 = never).

    Only free text (``wrap=True``, e.g. a model name) may wrap; numbers, amounts and dates are
    never cut, so a column that does not fit is dropped whole instead.
    """

    header: str
    drop: int = 0
    wrap: bool = False
    justify: Literal["left", "right"] = "right"


#: The narrowest a wrapping text column may get before other columns are dropped instead.
WRAP_MIN_WIDTH = 16


def _build_table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for i, col in enumerate(columns):
        longest = max((len(row[i]) for row in rows), default=0)
        table.add_column(
            escape(col.header),
            justify=col.justify,
            no_wrap=not col.wrap,
            overflow="fold" if col.wrap else "ellipsis",
            # a header never wraps into a cut either: numbers' columns are as wide as both
            min_width=min(longest, WRAP_MIN_WIDTH) if col.wrap else max(longest, len(col.header)),
        )
    for row in rows:
        table.add_row(*(escape(str(cell)) for cell in row))
    return table


def print_fitted_table(
    title: str, columns: Sequence[Column], rows: Iterable[Sequence[object]], *, wide: bool = False
) -> None:
    """Print a table that fits the terminal by dropping the least important columns whole.

    Rich would otherwise squeeze every column and cut amounts and dates with an ellipsis; a
    note says which columns were left out and that ``--wide`` shows them.
    """
    cells = [tuple(str(cell) for cell in row) for row in rows]
    keep = list(range(len(columns)))
    width = console.width

    def measure(indices: Sequence[int]) -> Measurement:
        table = _build_table(title, [columns[i] for i in indices], [[r[i] for i in indices] for r in cells])
        return Measurement.get(console, console.options.update(max_width=10_000), table)

    if wide:
        table = _build_table(title, columns, cells)
        # Rich clamps print(width=) to the console's width: a wider console on the same file.
        wide_console = Console(
            file=console.file,
            width=max(width, measure(keep).maximum),
            force_terminal=console.is_terminal,
            no_color=console.no_color,
            color_system="auto" if console.color_system else None,
        )
        wide_console.print(table, crop=False)
        return
    dropped: list[str] = []
    droppable = sorted((i for i, c in enumerate(columns) if c.drop > 0), key=lambda i: -columns[i].drop)
    while measure(keep).minimum > width and droppable:
        gone = droppable.pop(0)
        keep.remove(gone)
        dropped.append(columns[gone].header)
    console.print(_build_table(title, [columns[i] for i in keep], [[r[i] for i in keep] for r in cells]))
    if dropped:
        print_plain(f"not shown at {width} columns: {', '.join(dropped)} (--wide shows them)")
