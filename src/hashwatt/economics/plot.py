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

__all__ = ["halving_days", "plot_backtest", "plot_forecast_bands", "plot_hashprice", "plot_profit_heatmap"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    if ax is not None:
        return cast("Figure", ax.get_figure(root=True)), ax
    fig = Figure(figsize=figsize, layout="tight")
    return fig, fig.add_subplot()


def _thousands(ax: Axes, axis: str = "y") -> None:
    """Tick labels with thousands separators (``12,345``) instead of offsets or exponents."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.3g}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(fmt)
    if target.get_scale() == "log":
        from matplotlib.ticker import NullFormatter

        # Minor ticks read "4 x 10^4" otherwise: label 2x and 5x of each decade, and none at
        # all over more than two decades (they would crowd out).
        def minor(v: float, pos: int | None) -> str:
            lead = v / 10 ** np.floor(np.log10(v)) if v > 0 else 0.0
            return fmt(v, pos) if round(lead) in (2, 5) and abs(lead - round(lead)) < 1e-6 else ""

        lo, hi = sorted(target.get_view_interval())
        target.set_minor_formatter(FuncFormatter(minor) if lo > 0 and hi / lo < 100 else NullFormatter())


def plot_profit_heatmap(
    grid: pd.DataFrame,
    *,
    title: str = "",
    ax: Axes | None = None,
    current: tuple[float, float] | None = None,
) -> Figure:
    """Daily profit [USD/day] of a :func:`profit_heatmap` grid (rows power price, columns BTC price).

    The zero contour (break-even) is drawn where profit changes sign; ``current`` marks
    today's point as (BTC price [USD], power price [USD/kWh]) (with a time-of-use tariff, its
    mean price: the rows are flat prices a 24-hour machine pays on average).
    """
    fig, ax = _axes(ax, (10, 6))
    values = grid.to_numpy(dtype=float)
    btc = grid.columns.to_numpy(dtype=float)
    cents = grid.index.to_numpy(dtype=float) * 100.0
    lim = float(np.abs(values).max()) or 1.0
    mesh = ax.pcolormesh(btc, cents, values, shading="nearest", cmap="RdYlGn", vmin=-lim, vmax=lim)
    if values.min() < 0.0 < values.max():
        ax.contour(btc, cents, values, levels=[0.0], colors="black", linewidths=1.2)
        ax.plot([], [], color="black", linewidth=1.2, label="break-even (profit = 0)")
    if current is not None:
        ax.plot(
            [current[0]],
            [current[1] * 100.0],
            marker="o",
            markersize=9,
            markerfacecolor="white",
            markeredgecolor="black",
            linestyle="none",
            label="now",
        )
    _thousands(ax, "x")
    ax.set_xlabel("BTC price [USD]")
    ax.set_ylabel("power price [US cents/kWh]")
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")
    fig.colorbar(mesh, ax=ax, label="profit [USD/day]")
    return fig


def plot_forecast_bands(bands: pd.DataFrame, *, title: str = "", capex_usd: float = 0.0) -> Figure:
    """P5-P95 bands and the median of BTC price (log scale), hashprice and cumulative profit.

    The three panels share the time axis; a capex above zero is drawn on the cumulative-profit
    panel (profit crossing it is the break-even, the payback day).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 9), layout="tight")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, metric, label in zip(
        axes,
        ("price_usd", "hashprice_usd_per_ph_day", "cumulative_profit_usd"),
        ("BTC price [USD], log scale", "hashprice [USD/PH/day]", "cumulative profit [USD]"),
        strict=True,
    ):
        ax.fill_between(bands.index, bands[f"{metric}_p5"], bands[f"{metric}_p95"], alpha=0.3, label="P5-P95")
        ax.plot(bands.index, bands[f"{metric}_p50"], label="P50")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_yscale("log")
    for ax in axes:
        _thousands(ax)
    if capex_usd > 0:
        axes[2].axhline(
            capex_usd,
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"capex {capex_usd:,.0f} USD (break-even)",
        )
    axes[2].axhline(0.0, color="grey", linewidth=0.6)
    axes[0].legend()
    axes[2].legend(loc="upper left")
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
    _thousands(ax)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def halving_days(history: pd.DataFrame) -> list[pd.Timestamp]:
    """Days on which the block subsidy fell (the halvings), from ``subsidy_btc_per_block``.

    The day's value is a mean over its blocks, so the halving day itself sits between two
    levels: a day's era is ``ceil(log2(50 / subsidy))``, which the halving day already joins.
    """
    subsidy = history["subsidy_btc_per_block"].to_numpy(dtype=float)
    era = np.ceil(np.log2(50.0 / subsidy) - 1e-9)
    drops = np.flatnonzero(era[1:] > era[:-1]) + 1
    index = pd.DatetimeIndex(history.index)
    return [pd.Timestamp(index[int(i)]) for i in drops]


def plot_hashprice(history: pd.DataFrame, *, ax: Axes | None = None, title: str = "") -> Figure:
    """Daily hashprice [USD per PH/s per day] of :func:`hashprice_history`, log scale.

    Halvings are marked when the frame carries ``subsidy_btc_per_block`` (as the history does).
    """
    from matplotlib.dates import date2num

    fig, ax = _axes(ax, (10, 5))
    ax.semilogy(history.index, history["hashprice_usd_per_ph_day"], lw=0.8)
    halvings = halving_days(history) if "subsidy_btc_per_block" in history.columns else []
    for i, day in enumerate(halvings):
        x = float(date2num(day.to_pydatetime()))  # type: ignore[no-untyped-call]  # matplotlib stub gap
        ax.axvline(x, color="tab:red", linestyle="--", linewidth=0.9, label="halving" if i == 0 else None)
        ax.annotate(
            f"{day:%Y-%m-%d}",
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="tab:red",
        )
    _thousands(ax)
    ax.set_ylabel("hashprice [USD per PH/s per day], log scale")
    ax.set_title(title or f"Bitcoin hashprice {history.index[0].date()} .. {history.index[-1].date()}")
    ax.grid(alpha=0.3, which="both")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right")
    return fig
