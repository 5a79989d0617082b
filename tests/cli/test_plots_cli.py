"""Issue 15 point 13: every chart is rendered and its axes checked (scale, labels, shared x).

The CLI's figures are caught at ``save_figure`` (the edge that writes the PNG) so the test reads
the same Figure object a user gets, with the inputs the CLI put in its title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hashwatt.cli.main import main
from hashwatt.data.cbeci import load_cbeci_csv
from hashwatt.economics import hashprice_history
from hashwatt.economics.plot import plot_forecast_bands, plot_hashprice
from hashwatt.network import network_energy_history
from hashwatt.network.plot import plot_energy_history

CBECI_FILE = Path(__file__).resolve().parents[1] / "data" / "network" / "cbeci_daily_2019_2024.csv"


@pytest.fixture
def caught(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    figures: list[Figure] = []

    def keep(fig: Figure, path: Path) -> None:
        figures.append(fig)

    import hashwatt.cli.economics as econ_cli
    import hashwatt.cli.energy as energy_cli

    monkeypatch.setattr(econ_cli, "save_figure", keep)
    monkeypatch.setattr(energy_cli, "save_figure", keep)
    return figures


def _drawn(fig: Figure) -> Figure:
    FigureCanvasAgg(fig).draw()  # a canvas of its own: no global backend is chosen
    return fig


def _title(fig: Figure) -> str:
    sup = fig.get_suptitle()
    return " ".join([sup, *(ax.get_title() for ax in fig.axes)])


def test_forecast_bands_log_price_thousands_and_capex_line() -> None:
    days = pd.date_range("2026-01-01", periods=400, freq="D")
    grow = np.linspace(1.0, 3.0, len(days))
    cols: dict[str, Any] = {}
    for metric, base in (
        ("price_usd", 80_000.0),
        ("hashprice_usd_per_ph_day", 40.0),
        ("cumulative_profit_usd", 10.0),
    ):
        for q, k in (("p5", 0.5), ("p50", 1.0), ("p95", 2.0)):
            cols[f"{metric}_{q}"] = (
                base * k * grow * (np.arange(len(days)) if metric.startswith("cum") else 1)
            )
    fig = _drawn(plot_forecast_bands(pd.DataFrame(cols, index=days), title="t", capex_usd=3_000.0))
    price, hashprice, profit = fig.axes[:3]
    assert price.get_yscale() == "log" and hashprice.get_yscale() == "linear"
    assert price.get_xlim() == hashprice.get_xlim() == profit.get_xlim()
    assert price.get_shared_x_axes().joined(price, profit)
    assert price.yaxis.get_major_formatter()(100_000.0, 0) == "100,000"
    capex = [ln for ln in profit.get_lines() if "capex" in str(ln.get_label())]
    assert len(capex) == 1 and list(capex[0].get_ydata()) == [3_000.0, 3_000.0]
    assert "log scale" in price.get_ylabel()


def test_profit_heatmap_has_zero_contour_and_the_tou_point(caught: list[Figure], tmp_path: Path) -> None:
    # TOU 14-20 h at 0.20 over 0.05: the mean a 24-hour machine pays is 0.0875 USD/kWh.
    args = ["profit", "s21", "--power-price", "0.05", "--tou", "14-20:0.20", "--pool-fee", "2%"]
    code = main([*args, "--plot", str(tmp_path / "h.png")])
    assert code == 0
    fig = _drawn(caught[-1])
    ax = fig.axes[0]
    title = _title(fig)
    assert "pool fee 2.0%" in title and "TOU mean" in title
    now = [ln for ln in ax.get_lines() if ln.get_label() == "now"]
    assert len(now) == 1 and float(now[0].get_ydata()[0]) == pytest.approx(8.75)
    contours = [c for c in ax.collections if hasattr(c, "levels")]
    assert len(contours) == 1 and list(contours[0].levels) == [0.0]
    assert ax.get_xlabel() == "BTC price [USD]" and "cents/kWh" in ax.get_ylabel()
    assert ax.xaxis.get_major_formatter()(40_000.0, 0) == "40,000"


def test_dispatch_panels_share_x_and_width_and_dst_is_a_gap(caught: list[Figure], tmp_path: Path) -> None:
    args = [
        "dispatch",
        "--market",
        "ERCOT",
        "--year",
        "2021",
        "--model",
        "s21",
        "--count",
        "10",
        "--hashprice",
        "50",
        "--pool-fee",
        "2%",
    ]
    code = main([*args, "--plot", str(tmp_path / "d.png")])
    assert code == 0
    fig = _drawn(caught[-1])
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:3]
    price, _load, margin = panels
    assert price.get_shared_x_axes().joined(price, margin) and price.get_xlim() == margin.get_xlim()
    widths = {round(ax.get_position().width, 6) for ax in panels}
    assert len(widths) == 1  # the colorbars do not shrink the panels they label
    title = fig.get_suptitle()
    assert "ERCOT 2021" in title and "Antminer S21" in title and "pool fee 2.0%" in title
    grid = price.get_images()[0].get_array()
    assert isinstance(grid, np.ma.MaskedArray)
    # 2021-03-14 (day 72 of the local year) has no 02:00 in Central time: the one empty cell.
    assert bool(grid.mask[2, 72]) and int(grid.mask.sum()) == 1


def test_hashprice_marks_the_halvings_on_a_log_axis() -> None:
    fig = _drawn(plot_hashprice(hashprice_history()))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    from matplotlib.dates import num2date

    marked = sorted(
        num2date(float(ln.get_xdata()[0])).date().isoformat()
        for ln in ax.get_lines()
        if ln.get_linestyle() == "--"
    )
    assert marked == ["2012-11-28", "2016-07-09", "2020-05-11", "2024-04-20"]


def test_energy_history_overlays_cbeci_on_the_same_days() -> None:
    frame = network_energy_history(start="2019-01-01")
    fig = _drawn(plot_energy_history(frame, title="p 0.05 USD/kWh", reference=load_cbeci_csv(CBECI_FILE)))
    ax = fig.axes[0]
    labels = [str(ln.get_label()) for ln in ax.get_lines()]
    assert "CBECI (CCAF) best guess" in labels and "hashwatt best guess" in labels
    ref = next(ln for ln in ax.get_lines() if ln.get_label() == "CBECI (CCAF) best guess")
    ours = next(ln for ln in ax.get_lines() if ln.get_label() == "hashwatt best guess")
    assert min(ref.get_xdata()) >= min(ours.get_xdata()) and max(ref.get_xdata()) <= max(ours.get_xdata())
    assert "TWh/yr" in ax.get_ylabel() and "0.05 USD/kWh" in ax.get_title()
