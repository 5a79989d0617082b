"""Issue 15 point 12: the wide reports read at 80 columns (the width of a pipe).

Each table drops its least important columns whole rather than cutting a cell: no line is
wider than the terminal, no cell ends in an ellipsis, and ``--wide`` brings every column back.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hashwatt.cli._output import Column, console, print_fitted_table
from tests._support.cli import Run

SITES = Path(__file__).resolve().parents[2] / "src" / "hashwatt" / "energy" / "examples" / "sites.toml"
FLEET = Path(__file__).resolve().parents[2] / "src" / "hashwatt" / "economics" / "examples" / "fleet.toml"

#: command -> (a header shown only with --wide, a value that must appear uncut)
REPORTS: dict[tuple[str, ...], str] = {
    ("rank", "--top", "40"): "power/d",
    ("profit", "rtx 3080", "--rank"): "power/d",
    ("forecast", "s21", "--paths", "40", "--years", "3"): "BTC P5",
    ("network", "pools"): "HHI excl. unknown",
    ("sites", "compare", str(SITES)): "kgCO2/PH-day",
    # the tornado's "range" goes last (the year-end bands above drop their own columns first)
    ("forecast", "s21", "--paths", "40", "--years", "2", "--tornado"): "range",
    ("plan", str(FLEET)): "MW",
}


@pytest.fixture
def at_80(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(console, "width", 80)
    return 80


def _assert_fits(out: str, width: int) -> None:
    assert "\u2026" not in out, out  # rich's ellipsis: a cut cell
    too_wide = [line for line in out.splitlines() if len(line) > width]
    assert not too_wide, too_wide


@pytest.mark.parametrize("args", sorted(REPORTS), ids=lambda a: " ".join(a[:2]))
def test_reports_fit_80_columns_and_wide_shows_everything(
    cli: Run, at_80: int, args: tuple[str, ...]
) -> None:
    narrow = cli(*args)
    assert narrow.code == 0, narrow.err
    _assert_fits(narrow.out, at_80)
    hidden = REPORTS[args]
    assert f"not shown at {at_80} columns:" in narrow.out and hidden in narrow.out.split("not shown at")[-1]
    wide = cli(*args, "--wide")
    assert wide.code == 0, wide.err
    assert "\u2026" not in wide.out
    assert "not shown at" not in wide.out
    header_lines = [line for line in wide.out.splitlines() if line.startswith("\u2503")]
    assert any(hidden in line for line in header_lines), wide.out
    assert max(len(line) for line in wide.out.splitlines()) > at_80  # really wider


def test_amounts_and_dates_are_never_cut(capsys: pytest.CaptureFixture[str], at_80: int) -> None:
    columns = [
        Column("name", wrap=True, justify="left"),
        Column("date"),
        Column("amount"),
        *(Column(f"extra {i}", drop=i) for i in range(1, 6)),
    ]
    rows = [("a rather long free-text name that may wrap", "2026-11-30", "$1,234,567.89", *["x" * 9] * 5)]
    print_fitted_table("t", columns, rows)
    out = capsys.readouterr().out
    _assert_fits(out, at_80)
    assert "2026-11-30" in out and "$1,234,567.89" in out
    # the least important (highest drop) went first, the most important extra stayed
    assert "extra 5" in out.split("not shown")[-1] and "extra 1" not in out.split("not shown")[-1]
    assert "extra 1" in out.split("not shown")[0]


def test_a_table_that_fits_drops_nothing(capsys: pytest.CaptureFixture[str], at_80: int) -> None:
    print_fitted_table("t", [Column("a"), Column("b", drop=1)], [("1", "2")])
    out = capsys.readouterr().out
    assert "not shown" not in out and " b " in out


def test_tornado_names_inputs_and_ranges_in_reader_units(cli: Run) -> None:
    wide = cli(
        "forecast", "s21", "--paths", "40", "--years", "2", "--tornado", "--power-price", "0.05", "--wide"
    )
    assert wide.code == 0, wide.err
    table = wide.out.split("Sensitivity of NPV")[-1]
    for name in ("power price", "BTC price", "difficulty growth", "uptime"):
        assert name in table
    assert "4.00 c/kWh .. 6.00 c/kWh" in table and "90 % .. 100 %" in table
    assert "_usd_per_kwh" not in table and "e+0" not in table


def test_profit_luck_rows_fit_80_columns(cli: Run, at_80: int) -> None:
    for args in (
        ("profit", "s21", "--scheme", "solo"),
        ("profit", "s21", "--scheme", "pplns", "--pool-hashrate-ehs", "5"),
    ):
        result = cli(*args)
        assert result.code == 0, result.err
        _assert_fits(result.out, at_80)
        assert "P(no block in 30 days)" in result.out and "BTC in 365 days: P5 / mean / P95" in result.out
