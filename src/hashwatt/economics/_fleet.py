"""Catalog ranking, best machine for a budget, and fleets over sites."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from hashwatt.data import MinerModel, hardware_catalog
from hashwatt.data.hardware import _row_to_model
from hashwatt.economics._costs import CostModel
from hashwatt.economics._profit import NetworkState, profit
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["FleetEntry", "best_for_budget", "fleet_profit", "rank_catalog"]


def rank_catalog(
    *,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    catalog: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every catalog model at one power price and network state, most profitable first.

    Columns: model, maker, hashrate_ths, power_w, efficiency_j_per_th, revenue_usd_per_day,
    energy_cost_usd_per_day, profit_usd_per_day, break_even_power_price_usd_per_kwh,
    shutdown_price_usd, price_usd, source.
    """
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    cat = hardware_catalog() if catalog is None else catalog
    rows = []
    for rec in cat.to_dict(orient="records"):
        miner = _row_to_model({str(k): v for k, v in rec.items()})
        r = profit(miner, costs=costs, network=net)
        rows.append(
            {
                "model": miner.model,
                "maker": miner.maker,
                "hashrate_ths": miner.hashrate_ths,
                "power_w": miner.power_w,
                "efficiency_j_per_th": r.efficiency_j_per_th,
                "revenue_usd_per_day": r.revenue_usd_per_day,
                "energy_cost_usd_per_day": r.energy_cost_usd_per_day,
                "profit_usd_per_day": r.profit_usd_per_day,
                "break_even_power_price_usd_per_kwh": r.break_even_power_price_usd_per_kwh,
                "shutdown_price_usd": r.shutdown_price_usd,
                "price_usd": miner.price_usd,
                "source": miner.source,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["profit_usd_per_day", "model"], ascending=[False, True]).reset_index(drop=True)


def best_for_budget(
    budget_usd: float,
    prices_usd: dict[str, float],
    *,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    catalog: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Which model maximises daily profit for a budget, given unit prices [USD] by model name.

    For each priced model: units = floor(budget / price), fleet profit per day, payback
    days at today's economics (capex / daily profit). Best first.
    """
    if budget_usd <= 0:
        raise EconomicsInputError("budget must be positive")
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    from hashwatt.data import find_miner

    cat = hardware_catalog() if catalog is None else catalog
    rows = []
    for name, price in prices_usd.items():
        if price <= 0:
            raise EconomicsInputError(f"unit price of {name} must be positive")
        miner = find_miner(name, catalog=cat)
        units = int(budget_usd // price)
        if units < 1:
            continue
        r = profit(miner, count=units, costs=costs, network=net)
        rows.append(
            {
                "model": miner.model,
                "unit_price_usd": price,
                "units": units,
                "spent_usd": units * price,
                "hashrate_ths": r.hashrate_ths,
                "power_kw": r.power_w / 1000,
                "profit_usd_per_day": r.profit_usd_per_day,
                "payback_days": units * price / r.profit_usd_per_day if r.profit_usd_per_day > 0 else None,
            }
        )
    if not rows:
        raise EconomicsInputError("the budget buys none of the priced models")
    return pd.DataFrame(rows).sort_values("profit_usd_per_day", ascending=False).reset_index(drop=True)


@dataclasses.dataclass(frozen=True, slots=True)
class FleetEntry:
    """``count`` machines of ``miner`` at ``site`` with that site's costs."""

    site: str
    miner: MinerModel
    count: int
    costs: CostModel


def fleet_profit(entries: Sequence[FleetEntry], *, network: NetworkState | None = None) -> pd.DataFrame:
    """Daily economics per (site, model) plus a TOTAL row [USD/day, TH/s, kW]."""
    net = network or NetworkState.latest()
    rows = []
    for e in entries:
        r = profit(e.miner, count=e.count, costs=e.costs, network=net)
        rows.append(
            {
                "site": e.site,
                "model": e.miner.model,
                "count": e.count,
                "hashrate_ths": r.hashrate_ths,
                "power_kw": r.power_w / 1000,
                "revenue_usd_per_day": r.revenue_usd_per_day,
                "total_cost_usd_per_day": r.total_cost_usd_per_day,
                "profit_usd_per_day": r.profit_usd_per_day,
            }
        )
    frame = pd.DataFrame(rows)
    total = frame.drop(columns=["site", "model"]).sum()
    frame.loc[len(frame)] = {"site": "TOTAL", "model": "", **total.to_dict()}
    return frame
