"""Sensitivity (tornado) and profit heatmaps."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.data import MinerModel
from hashwatt.economics._costs import CostModel, FlatPrice
from hashwatt.economics._finance import Capex
from hashwatt.economics._profit import NetworkState, profit
from hashwatt.economics._projection import Scenario, project
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["TornadoMetric", "profit_heatmap", "tornado"]

TornadoMetric = Literal["npv_usd", "total_profit_usd", "roi"]


def _metric(
    miner: MinerModel,
    count: int,
    costs: CostModel,
    net: NetworkState,
    scen: Scenario,
    capex: Capex,
    metric: str,
) -> float:
    m = project(miner, count=count, costs=costs, network=net, scenario=scen, capex=capex).metrics
    if metric == "npv_usd":
        return m.npv_usd
    if metric == "total_profit_usd":
        return m.total_cash_flow_usd
    return m.roi


def tornado(
    miner: MinerModel,
    *,
    count: int = 1,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    scenario: Scenario | None = None,
    capex: Capex | None = None,
    metric: TornadoMetric = "npv_usd",
    relative_swing: float = 0.2,
    difficulty_growth_range: tuple[float, float] | None = None,
    uptime_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of ``metric`` to power price, BTC price, difficulty growth, uptime.

    Power and BTC price move by +/- ``relative_swing``; difficulty growth [-/year] and uptime
    [-] over the given ranges (default: base growth +/- 20 points; uptime 0.90..1.00).
    Returns one row per parameter (low/high input, metric at each, swing), widest first.
    """
    if not 0 < relative_swing < 1:
        raise EconomicsInputError(
            "relative swing must be in (0, 1)", field="relative_swing", value=relative_swing
        )
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    scen = scenario or Scenario()
    capex = capex or Capex()
    base = _metric(miner, count, costs, net, scen, capex, metric)
    pp = costs.mean_energy_price_usd_per_kwh()
    g = scen.difficulty_growth_per_year
    g_lo, g_hi = difficulty_growth_range or (max(g - 0.2, -0.9), g + 0.2)
    u_lo, u_hi = uptime_range or (0.90, 1.0)
    rows = []
    cases: list[tuple[str, float, float, object, object]] = [
        ("power_price_usd_per_kwh", pp * (1 - relative_swing), pp * (1 + relative_swing), None, None),
        (
            "btc_price_usd",
            net.price_usd * (1 - relative_swing),
            net.price_usd * (1 + relative_swing),
            None,
            None,
        ),
        ("difficulty_growth_per_year", g_lo, g_hi, None, None),
        ("uptime", u_lo, u_hi, None, None),
    ]
    for name, lo, hi, _, _ in cases:
        vals = []
        for v in (lo, hi):
            c, n, s = costs, net, scen
            if name == "power_price_usd_per_kwh":
                c = dataclasses.replace(costs, electricity=FlatPrice(v), all_in_usd_per_kwh=None)
            elif name == "btc_price_usd":
                n = net.replace(price_usd=v)
                if scen.price_path is not None:
                    ratio = v / net.price_usd
                    s = dataclasses.replace(scen, price_path=tuple(p * ratio for p in scen.price_path))
            elif name == "difficulty_growth_per_year":
                s = dataclasses.replace(scen, difficulty_growth_per_year=v)
            else:
                c = dataclasses.replace(costs, uptime=v)
            vals.append(_metric(miner, count, c, n, s, capex, metric))
        rows.append(
            {
                "parameter": name,
                "low_input": lo,
                "high_input": hi,
                f"{metric}_at_low": vals[0],
                f"{metric}_at_high": vals[1],
                "swing": abs(vals[1] - vals[0]),
                "base": base,
            }
        )
    return pd.DataFrame(rows).sort_values("swing", ascending=False).reset_index(drop=True)


def profit_heatmap(
    miner: MinerModel,
    *,
    power_prices_usd_per_kwh: npt.ArrayLike,
    btc_prices_usd: npt.ArrayLike,
    count: int = 1,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
) -> pd.DataFrame:
    """Daily profit [USD/day] over a grid: rows = power price [USD/kWh], columns = BTC price [USD]."""
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    pp = np.asarray(power_prices_usd_per_kwh, dtype=float)
    bp = np.asarray(btc_prices_usd, dtype=float)
    if (pp < 0).any() or (bp < 0).any():
        raise EconomicsInputError(
            "prices in a heatmap cannot be negative", field="btc_prices_usd", value=float(bp.min())
        )
    base = profit(miner, count=count, costs=costs.with_power_price(0.0), network=net)
    rev = base.revenue_btc_per_day * bp[None, :]
    grid = rev - base.energy_kwh_per_day * pp[:, None] - base.fixed_cost_usd_per_day
    return pd.DataFrame(
        grid,
        index=pd.Index(pp, name="power_price_usd_per_kwh"),
        columns=pd.Index(bp, name="btc_price_usd"),
    )
