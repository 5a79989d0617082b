"""Charts of the network analytics, as matplotlib figures.

Each function returns a :class:`~matplotlib.figure.Figure` that is not registered with pyplot.
Nothing here picks a backend (``matplotlib.use``): a notebook keeps its own, and the caller
saves or shows the figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hashwatt.data.pools import UNKNOWN_POOL
from hashwatt.network._decentralization import share_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_energy_history", "plot_pool_shares"]


def plot_pool_shares(
    counts: pd.DataFrame,
    *,
    top: int = 8,
    title: str = "Bitcoin block share by pool",
    unknown_label: str = UNKNOWN_POOL,
) -> Figure:
    """Stacked-area chart of pool shares per window [% of blocks], the 50 % line marked."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    table = share_table(counts, top=top, unknown_label=unknown_label)
    fig = Figure(figsize=(11, 5.5), layout="tight")
    ax = fig.add_subplot()
    x = pd.DatetimeIndex(table.index).tz_localize(None).to_pydatetime()
    ys = [table[c].to_numpy() * 100.0 for c in table.columns]
    palette = colormaps["tab20"]
    colors = [
        *[to_hex(palette(i % 20)) for i in range(len(table.columns) - 2)],
        "#bbbbbb",
        "#444444",
    ]
    ax.stackplot(x, ys, labels=[str(c) for c in table.columns], colors=colors, linewidth=0)
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of blocks [%]")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    ax.axhline(50, color="red", linewidth=0.8, linestyle="--")
    return fig


def plot_energy_history(
    frame: pd.DataFrame,
    *,
    title: str = "Bitcoin network power",
    reference: pd.DataFrame | None = None,
    reference_label: str = "CBECI (CCAF)",
) -> Figure:
    """Best guess with the lower-upper band of annualised consumption [TWh/yr] over time.

    ``reference``: another estimate's daily ``power_min_gw``, ``power_guess_gw`` and
    ``power_max_gw`` (e.g. CBECI's, read by :func:`hashwatt.data.cbeci.load_cbeci_csv`), drawn
    over the same days as its best guess (dashed) and bounds (dotted), annualised alike.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    x = pd.DatetimeIndex(frame.index).to_pydatetime()
    fig = Figure(figsize=(11, 5), layout="tight")
    ax = fig.add_subplot()
    ax.fill_between(
        x,
        frame["energy_lower_twh_per_year"].to_numpy(),
        frame["energy_upper_twh_per_year"].to_numpy(),
        color="#f2b134",
        alpha=0.35,
        label="hashwatt lower - upper bound",
    )
    ax.plot(x, frame["energy_best_twh_per_year"].to_numpy(), color="#c0392b", label="hashwatt best guess")
    if reference is not None:
        ref = reference.loc[(reference.index >= frame.index.min()) & (reference.index <= frame.index.max())]
        rx = pd.DatetimeIndex(ref.index).to_pydatetime()
        twh = 8766.0 / 1e3  # GW -> TWh/yr, as the hashwatt columns are annualised
        ax.plot(
            rx,
            ref["power_guess_gw"].to_numpy() * twh,
            color="#1f4e79",
            linestyle="--",
            label=f"{reference_label} best guess",
        )
        for col in ("power_min_gw", "power_max_gw"):
            ax.plot(rx, ref[col].to_numpy() * twh, color="#1f4e79", linestyle=":", linewidth=0.9)
        ax.plot(
            [], [], color="#1f4e79", linestyle=":", linewidth=0.9, label=f"{reference_label} lower / upper"
        )
    ax.set_ylabel("annualized consumption [TWh/yr]")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig
