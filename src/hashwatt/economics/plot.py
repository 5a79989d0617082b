"""Charts of the economics results, as matplotlib figures.

Each function draws on the ``ax`` it is given, or on a new :class:`~matplotlib.figure.Figure`
that is not registered with pyplot, and returns the figure. Nothing here picks a backend
(``matplotlib.use``): a notebook keeps its own, and the caller saves or shows the figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_backtest", "plot_forecast_bands", "plot_hashprice", "plot_profit_heatmap"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        return cast("Figure", ax.get_figure(root=True)), ax
    fig = Figure(figsize=figsize, layout="tight")
    return fig, fig.add_subplot()


def plot_profit_heatmap(grid: pd.DataFrame, *, title: str = "", ax: Axes | None = None) -> Figure:
    """Daily profit [USD/day] of a :func:`profit_heatmap` grid (rows power price, columns BTC price)."""
    fig, ax = _axes(ax, (10, 6))
    values = grid.to_numpy(dtype=float)
    lim = float(np.abs(values).max()) or 1.0
    image = ax.imshow(values, origin="lower", aspect="auto", cmap="RdYlGn", vmin=-lim, vmax=lim)
    ax.set_xticks(range(grid.shape[1]), [f"{float(b) / 1000:.0f}k" for b in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{float(p) * 100:.0f}" for p in grid.index])
    ax.set_xlabel("BTC price [USD]")
    ax.set_ylabel("power price [US cents/kWh]")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="USD/day")
    return fig


def plot_forecast_bands(bands: pd.DataFrame, *, title: str = "") -> Figure:
    """P5-P95 bands and the median of BTC price, hashprice and cumulative profit over time."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9), layout="tight")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, metric, label in zip(
        axes,
        ("price_usd", "hashprice_usd_per_ph_day", "cumulative_profit_usd"),
        ("BTC price [USD]", "hashprice [USD/PH/day]", "cumulative profit [USD]"),
        strict=True,
    ):
        ax.fill_between(bands.index, bands[f"{metric}_p5"], bands[f"{metric}_p95"], alpha=0.3, label="P5-P95")
        ax.plot(bands.index, bands[f"{metric}_p50"], label="P50")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    axes[0].set_title(title)
    return fig


def plot_backtest(
    frame: pd.DataFrame, *, capex_usd: float = 0.0, title: str = "", ax: Axes | None = None
) -> Figure:
    """Cumulative profit actually earned beside the flat forecast made on the purchase day [USD]."""
    fig, ax = _axes(ax, (9, 5))
    ax.plot(frame.index, frame["cumulative_profit_usd"], label="actual")
    ax.plot(frame.index, frame["forecast_cumulative_profit_usd"], "--", label="flat forecast at purchase")
    if capex_usd > 0:
        ax.axhline(capex_usd, color="grey", lw=1, label="capex")
    ax.set_ylabel("cumulative profit [USD]")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_hashprice(history: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Daily hashprice [USD per PH/s per day] of :func:`hashprice_history`, log scale."""
    fig, ax = _axes(ax, (10, 5))
    ax.semilogy(history.index, history["hashprice_usd_per_ph_day"], lw=0.8)
    ax.set_ylabel("hashprice [USD per PH/s per day], log scale")
    ax.set_title(f"Bitcoin hashprice {history.index[0].date()} .. {history.index[-1].date()}")
    ax.grid(alpha=0.3, which="both")
    return fig
