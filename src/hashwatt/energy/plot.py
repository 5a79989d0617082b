"""Schedule plot: price heat-strip (day x hour of day) above the load the schedule ran.

The figure is a :class:`~matplotlib.figure.Figure` not registered with pyplot; nothing here
picks a backend (``matplotlib.use``), so a notebook keeps its own. The caller saves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hashwatt.energy._dispatch import DispatchResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_schedule"]


def _day_hour_grid(series: pd.Series, timezone: str) -> tuple[np.ndarray, list[pd.Timestamp]]:
    local = pd.DatetimeIndex(series.index).tz_convert(timezone)
    frame = pd.DataFrame({"v": series.to_numpy(), "day": local.normalize(), "hour": local.hour})
    grid = frame.pivot_table(index="hour", columns="day", values="v", aggfunc="mean")
    grid = grid.reindex(range(24))
    return grid.to_numpy(dtype=float), [pd.Timestamp(c) for c in grid.columns.tolist()]


def plot_schedule(result: DispatchResult, *, title: str = "", timezone: str = "UTC") -> Figure:
    """Price heat-strip [USD/MWh], IT load [% of capacity] by day and local hour, cumulative margin.

    The three panels share one x axis (day of the schedule) and one width: the colorbars sit in
    their own column, so they do not shrink the panels they label. Local hours that do not
    exist (the spring DST change) stay empty cells, drawn as gaps, not filled in.
    """
    from matplotlib import colormaps
    from matplotlib.colors import SymLogNorm
    from matplotlib.figure import Figure

    sched = result.schedule
    capacity_kw = float(sched["it_load_kw"].max()) or 1.0
    price_grid, days = _day_hour_grid(sched["price_usd_per_mwh"], timezone)
    load_grid, _ = _day_hour_grid(sched["it_load_kw"] / capacity_kw * 100.0, timezone)
    fig = Figure(figsize=(12, 8), layout="constrained")
    grid = fig.add_gridspec(3, 2, width_ratios=[60, 1], height_ratios=[3, 3, 2])
    ax1 = fig.add_subplot(grid[0, 0])
    ax2 = fig.add_subplot(grid[1, 0], sharex=ax1)
    ax3 = fig.add_subplot(grid[2, 0], sharex=ax1)
    extent = (0.0, float(len(days)), 24.0, 0.0)
    vmax = float(np.nanmax(np.abs(price_grid))) if np.isfinite(price_grid).any() else 1.0
    gap = "#bdbdbd"  # grey: a missing local hour, unlike 0 % load (white) or any price
    im1 = ax1.imshow(
        np.ma.masked_invalid(price_grid),
        aspect="auto",
        cmap=colormaps["magma"].with_extremes(bad=gap),
        extent=extent,
        norm=SymLogNorm(linthresh=10.0, vmin=min(float(np.nanmin(price_grid)), 0.0), vmax=vmax),
        interpolation="nearest",
    )
    fig.colorbar(im1, cax=fig.add_subplot(grid[0, 1]), label="price [USD/MWh]")
    ax1.set_ylabel(f"hour ({timezone})")
    im2 = ax2.imshow(
        np.ma.masked_invalid(load_grid),
        aspect="auto",
        cmap=colormaps["Greens"].with_extremes(bad=gap),
        extent=extent,
        vmin=0,
        interpolation="nearest",
    )
    fig.colorbar(im2, cax=fig.add_subplot(grid[1, 1]), label="IT load [% of peak]")
    ax2.set_ylabel(f"hour ({timezone})")
    daily = sched["profit_usd"].groupby(pd.DatetimeIndex(sched.index).tz_convert(timezone).normalize()).sum()
    ax3.plot(np.arange(len(daily)) + 0.5, daily.cumsum().to_numpy() / 1e3, color="tab:blue")
    ax3.set_xlim(0.0, float(len(days)))
    ax3.set_ylabel("cum. energy margin [kUSD]")
    ax3.set_xlabel(f"day from {days[0].date() if days else ''}")
    s = result.summary
    summary = (
        f"{s.method}: uptime {s.uptime_fraction:.1%}, profit {s.profit_usd:,.0f} USD, "
        f"savings vs always-on {s.savings_vs_always_on_usd:,.0f} USD"
    )
    fig.suptitle(f"{title}\n{summary}" if title else summary)
    return fig
