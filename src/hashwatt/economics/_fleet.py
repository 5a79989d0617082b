"""Catalog ranking, best machine for a budget, and fleets over sites."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from hashwatt.data import MinerModel, hardware_catalog
from hashwatt.data.hardware import _row_to_model
from hashwatt.economics._costs import CostModel
from hashwatt.economics._finance import Capex
from hashwatt.economics._profit import NetworkState, profit
from hashwatt.economics._projection import Scenario, project
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["FleetEntry", "best_for_budget", "fleet_profit", "fleet_sites", "rank_catalog"]


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
    prices_usd: Mapping[str, float],
    *,
    costs: CostModel | None = None,
    network: NetworkState | None = None,
    catalog: pd.DataFrame | None = None,
    max_power_kw: float | None = None,
    scenario: Scenario | None = None,
) -> pd.DataFrame:
    """Which model is the best buy for a budget, given unit prices [USD] by model name.

    Catalog rows carry no market prices, so the caller supplies them (fuzzy model names).
    For each priced model: units = floor(budget / price), capped at floor(max_power_kw x
    1000 / power_w) when a power limit [kW] is given; the day-one view (fleet revenue, cost
    and profit per day at today's economics, payback days = spent / daily profit) and, with a
    ``scenario``, the life view: :func:`project` over its horizon (difficulty growth, halvings,
    price path, discount rate) with the units' price as capex, giving NPV [USD], IRR [-/year]
    and payback [days]. Ranked by NPV when a scenario is given (a machine that earns most on
    day one can lose most over its life), else by day-one profit; ``rank_day_one`` keeps the
    day-one order beside it. ``limited_by`` says whether budget or power capped the units.
    """
    if not math.isfinite(budget_usd) or budget_usd <= 0:
        raise EconomicsInputError(
            f"budget must be a positive number of USD, got {budget_usd}", field="budget_usd", value=budget_usd
        )
    if max_power_kw is not None and not (math.isfinite(max_power_kw) and max_power_kw > 0):
        raise EconomicsInputError(
            f"max power must be a positive number of kW, got {max_power_kw}",
            field="max_power_kw",
            value=max_power_kw,
        )
    if not prices_usd:
        raise EconomicsInputError(
            "no machine prices known: the catalog has no market prices, so give unit prices "
            "(CLI: --price MODEL=USD or --prices FILE.csv)"
        )
    costs = costs or CostModel()
    net = network or NetworkState.latest()
    from hashwatt.data import find_miner

    cat = hardware_catalog() if catalog is None else catalog
    rows = []
    for name, price in prices_usd.items():
        if not (math.isfinite(price) and price > 0):
            raise EconomicsInputError(
                f"unit price of {name} must be a positive number of USD, got {price}",
                field="prices_usd",
                value=price,
            )
        miner = find_miner(name, catalog=cat)
        units = int(budget_usd // price)
        limited_by = "budget"
        if max_power_kw is not None:
            by_power = int(max_power_kw * 1000 // miner.power_w)
            if by_power < units:
                units, limited_by = by_power, "power"
        if units < 1:
            continue
        r = profit(miner, count=units, costs=costs, network=net)
        life: dict[str, object] = {}
        if scenario is not None:
            proj = project(
                miner,
                count=units,
                costs=costs,
                network=net,
                scenario=scenario,
                capex=Capex(machine_usd=price),
            )
            life = {
                "npv_usd": proj.metrics.npv_usd,
                "irr": proj.metrics.irr,
                "payback_days_life": proj.metrics.payback_days,
                "total_profit_usd": proj.metrics.total_cash_flow_usd,
                "horizon_days": scenario.days,
            }
        rows.append(
            {
                "model": miner.model,
                "unit_price_usd": price,
                "units": units,
                "spent_usd": units * price,
                "limited_by": limited_by,
                "hashrate_ths": r.hashrate_ths,
                "power_kw": r.power_w / 1000,
                "efficiency_j_per_th": r.efficiency_j_per_th,
                "revenue_usd_per_day": r.revenue_usd_per_day,
                "total_cost_usd_per_day": r.total_cost_usd_per_day,
                "profit_usd_per_day": r.profit_usd_per_day,
                "break_even_power_price_usd_per_kwh": r.break_even_power_price_usd_per_kwh,
                "payback_days": units * price / r.profit_usd_per_day if r.profit_usd_per_day > 0 else None,
                **life,
            }
        )
    if not rows:
        raise EconomicsInputError("the budget (or the power limit) buys none of the priced models")
    frame = pd.DataFrame(rows)
    frame["rank_day_one"] = frame["profit_usd_per_day"].rank(ascending=False, method="first").astype(int)
    key = "npv_usd" if scenario is not None else "profit_usd_per_day"
    return frame.sort_values([key, "model"], ascending=[False, True]).reset_index(drop=True)


@dataclasses.dataclass(frozen=True, slots=True)
class FleetEntry:
    """``count`` machines of ``miner`` at ``site`` with that site's costs."""

    site: str
    miner: MinerModel
    count: int
    costs: CostModel


#: Columns that add up across machine rows; the break-evens are recomputed from them.
_SUMMED = (
    "count",
    "hashrate_ths",
    "power_kw",
    "energy_kwh_per_day",
    "revenue_btc_per_day",
    "revenue_usd_per_day",
    "energy_cost_usd_per_day",
    "fixed_cost_usd_per_day",
    "total_cost_usd_per_day",
    "profit_usd_per_day",
)


def _break_evens(row: dict[str, float], hashprice_usd_per_ph_day: float) -> dict[str, float]:
    """Break-evens of a (possibly aggregated) row from its daily sums.

    Revenue is linear in hashprice and in BTC price, so for any group of machines:
    power price = (revenue - fixed) / kWh [USD/kWh]; hashprice = cost / revenue x today's
    hashprice [USD/PH/day]; BTC price = cost / BTC per day; shutdown = energy / BTC per day.
    """
    rev_usd, rev_btc = row["revenue_usd_per_day"], row["revenue_btc_per_day"]
    total, energy, kwh = (
        row["total_cost_usd_per_day"],
        row["energy_cost_usd_per_day"],
        row["energy_kwh_per_day"],
    )
    inf = float("inf")
    return {
        "break_even_power_price_usd_per_kwh": (rev_usd - row["fixed_cost_usd_per_day"]) / kwh
        if kwh > 0
        else inf,
        "break_even_hashprice_usd_per_ph_day": total / rev_usd * hashprice_usd_per_ph_day
        if rev_usd > 0
        else inf,
        "cost_per_btc_usd": total / rev_btc if rev_btc > 0 else inf,
        "shutdown_price_usd": energy / rev_btc if rev_btc > 0 else inf,
    }


def fleet_profit(entries: Sequence[FleetEntry], *, network: NetworkState | None = None) -> pd.DataFrame:
    """Daily economics per (site, model) plus a TOTAL row [USD/day, TH/s, kW, kWh/day].

    Columns: site, model, count, hashrate_ths, power_kw, energy_kwh_per_day,
    revenue_btc_per_day, revenue_usd_per_day, energy_cost_usd_per_day,
    fixed_cost_usd_per_day, total_cost_usd_per_day, profit_usd_per_day and the break-evens
    (power price [USD/kWh], hashprice [USD/PH/day], cost per BTC and shutdown BTC price
    [USD]). A site's staff cost [USD/month] is charged once per site (with its first entry),
    not once per model.
    """
    if not entries:
        raise EconomicsInputError("a fleet needs at least one entry")
    net = network or NetworkState.latest()
    rows: list[dict[str, object]] = []
    staffed: set[str] = set()
    for e in entries:
        costs = e.costs
        if e.site in staffed:
            costs = dataclasses.replace(costs, staff_usd_per_month=0.0)
        staffed.add(e.site)
        r = profit(e.miner, count=e.count, costs=costs, network=net)
        row: dict[str, object] = {
            "site": e.site,
            "model": e.miner.model,
            "count": e.count,
            "hashrate_ths": r.hashrate_ths,
            "power_kw": r.power_w / 1000,
            "energy_kwh_per_day": r.energy_kwh_per_day,
            "revenue_btc_per_day": r.revenue_btc_per_day,
            "revenue_usd_per_day": r.revenue_usd_per_day,
            "energy_cost_usd_per_day": r.energy_cost_usd_per_day,
            "fixed_cost_usd_per_day": r.fixed_cost_usd_per_day,
            "total_cost_usd_per_day": r.total_cost_usd_per_day,
            "profit_usd_per_day": r.profit_usd_per_day,
        }
        sums = {k: float(str(row[k])) for k in _SUMMED}
        rows.append({**row, **_break_evens(sums, net.hashprice_usd_per_ph_day)})
    machines = pd.DataFrame(rows)
    frame = pd.DataFrame([*rows, _total_row(machines, "TOTAL", net)])
    frame["count"] = frame["count"].astype(int)
    return frame


def _total_row(frame: pd.DataFrame, site: str, net: NetworkState) -> dict[str, object]:
    sums = {k: float(frame[k].sum()) for k in _SUMMED}
    return {"site": site, "model": "", **sums, **_break_evens(sums, net.hashprice_usd_per_ph_day)}


def fleet_sites(entries: Sequence[FleetEntry], *, network: NetworkState | None = None) -> pd.DataFrame:
    """The fleet summed per site (first-seen order) plus a TOTAL row; same columns as
    :func:`fleet_profit` with ``model`` replaced by ``models`` (how many distinct models)."""
    net = network or NetworkState.latest()
    machines = fleet_profit(entries, network=net).iloc[:-1]
    rows = []
    for site in dict.fromkeys(machines["site"].tolist()):
        part = machines[machines["site"] == site]
        row = _total_row(part, str(site), net)
        row["model"] = len(set(part["model"].tolist()))
        rows.append(row)
    total = _total_row(machines, "TOTAL", net)
    total["model"] = len(set(machines["model"].tolist()))
    rows.append(total)
    frame = pd.DataFrame(rows)
    frame["count"] = frame["count"].astype(int)
    return frame.rename(columns={"model": "models"})
