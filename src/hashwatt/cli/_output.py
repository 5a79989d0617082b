"""Shared output helpers for every command: rich tables on a terminal, JSON for machines.

Conventions: every reporting command takes ``--json`` (:data:`JSON_OPTION`); results go to
stdout; errors go to stderr as one line (see :mod:`hashwatt.cli.main`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

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
    """A two-column table of labelled values."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, val in rows:
        table.add_row(key, val)
    return table


def records_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """A table with a header row; numeric columns right-aligned by the caller's formatting."""
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


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
