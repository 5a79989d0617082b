"""Dispatch as a linear (or mixed-integer) program solved by HiGHS (``scipy.optimize.milp``).

Variables per hour h: the power of class k on segment s of its fleet power curve
``y[h,k,s]`` [kW], grid import ``g[h]`` and export ``x[h]`` [kW]; per billing month the
peak ``peak[m]`` [kW] and, for tiered tariffs, block energies ``q[m,b]`` [kWh]; per class
needing them, on/off ``u[h,k]`` (binary) and start ``z[h,k]`` indicators.

Maximize  sum_h,k,s  r[h,k,s] y[h,k,s]                           (hashprice revenue)
        - sum_h  (price_h g[h] - export_h x[h]) / 1000              (energy, or tiered blocks)
        - demand_rate * sum_m peak[m] - 4CP_rate * mean_{cp} g[h]   (demand charges, 4CP)
        + DR credit on (baseline - g[h]) in event hours - penalties - restart_cost * z
subject to
        g[h] - x[h] = pue_h * sum_k,s y[h,k,s] - onsite_h           (power balance)
        g[h] <= peak[m(h)];   g[h] <= DR cap in hard event hours
        |sum_s y[h,k,s] - sum_s y[h-1,k,s]| <= ramp_k
        Pmin_k u[h,k] <= sum_s y[h,k,s] <= Pmax_k u[h,k];  z[h,k] >= u[h,k] - u[h-1,k]
        sum_{t=h-U+1..h} z[t,k] <= u[h,k];  sum_{t=h-D+1..h} z[t,k] <= 1 - u[h-D,k]

with r = slope * 1000 / efficiency * derate_h * hashprice_h / 24,000 * (1 - fee) [USD per kWh].
Segments come from the concave hull of the power curve, so hashrate(power) is concave and
no binaries are needed for power targets. Without demand, 4CP, ramp, DR or min-run terms the
program separates by hour and class, and its optimum is exactly the threshold rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from hashwatt.energy._dispatch import (
    Conditions,
    DispatchResult,
    HashpriceInput,
    _prepare,
    account_schedule,
)
from hashwatt.energy._machines import MachineClass
from hashwatt.energy._tariff import Tariff, TieredEnergy
from hashwatt.energy.errors import SolverError, TariffError

__all__ = ["LpOptions", "dispatch_lp"]


@dataclasses.dataclass(frozen=True, slots=True)
class LpOptions:
    """Solver settings: time limit [s] and relative MIP gap [-] (MILP only)."""

    time_limit_s: float = 60.0
    mip_rel_gap: float = 1e-4


class _Builder:
    """Collects variables (cost, bounds, integrality) and sparse constraint rows."""

    def __init__(self) -> None:
        self.c: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.integ: list[np.ndarray] = []
        self.n = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rlb: list[np.ndarray] = []
        self.rub: list[np.ndarray] = []
        self.m = 0

    def var(
        self, cost: np.ndarray, lb: np.ndarray | float, ub: np.ndarray | float, integer: bool = False
    ) -> np.ndarray:
        cost = np.asarray(cost, dtype=float).ravel()
        k = cost.size
        self.c.append(cost)
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (k,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (k,)).copy())
        self.integ.append(np.full(k, 1 if integer else 0))
        ids = np.arange(self.n, self.n + k)
        self.n += k
        return ids

    def rows_block(self, count: int, lb: np.ndarray | float, ub: np.ndarray | float) -> np.ndarray:
        ids = np.arange(self.m, self.m + count)
        self.rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (count,)).copy())
        self.rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (count,)).copy())
        self.m += count
        return ids

    def coef(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float) -> None:
        rows = np.asarray(rows).ravel()
        cols = np.asarray(cols).ravel()
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel().copy())

    def solve(self, options: LpOptions) -> np.ndarray:
        c = np.concatenate(self.c)
        integrality = np.concatenate(self.integ)
        bounds = Bounds(np.concatenate(self.lb), np.concatenate(self.ub))
        constraints = []
        if self.m:
            a = coo_matrix(
                (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                shape=(self.m, self.n),
            ).tocsr()
            constraints.append(LinearConstraint(a, np.concatenate(self.rlb), np.concatenate(self.rub)))
        opts: dict[str, float | bool] = {"time_limit": options.time_limit_s, "disp": False}
        if integrality.any():
            opts["mip_rel_gap"] = options.mip_rel_gap
        res = milp(c, integrality=integrality, bounds=bounds, constraints=constraints, options=opts)
        if res.x is None:
            raise SolverError(f"HiGHS found no schedule (status {res.status}: {res.message})")
        return np.asarray(res.x, dtype=float)


def dispatch_lp(
    prices: pd.Series,
    machines: Sequence[MachineClass],
    hashprice_usd_per_ph_day: HashpriceInput,
    *,
    tariff: Tariff | None = None,
    conditions: Conditions | None = None,
    options: LpOptions | None = None,
) -> DispatchResult:
    """Optimal schedule under the whole tariff (demand charges, 4CP, DR) and machine limits.

    Power targets follow each class's curve (``curve=None``: 0..nominal, linear hashrate).
    Classes with ``min_up_h``/``min_down_h`` > 1 or a restart cost get binaries (MILP).
    Prices [USD/MWh] on UTC hour starts; hashprice [USD/PH/day], float or Series.
    """
    tariff = tariff or Tariff()
    conditions = conditions or Conditions()
    options = options or LpOptions()
    index, market, hp = _prepare(prices, hashprice_usd_per_ph_day)
    n = len(index)
    pue, derate, onsite, export_price = conditions.arrays(n)
    price = tariff.energy_price_usd_per_mwh(index, market)
    fee = conditions.pool_fee
    b = _Builder()

    # Machine segment variables.
    seg_ids: list[list[np.ndarray]] = []
    seg_slopes: list[np.ndarray] = []
    pmax_kw: list[float] = []
    hour_rev = derate * hp / 24_000.0 * (1.0 - fee)  # USD per (TH/s) per hour
    for m in machines:
        if m.curve is None:
            widths, slopes = np.array([1.0]), np.array([1.0])
        else:
            widths, slopes = m.curve.fleet_segments()
        nominal_kw = m.power_w / 1000.0
        ids_k = []
        for w, s in zip(widths.tolist(), slopes.tolist(), strict=True):
            ths_per_kw = s * 1000.0 / m.efficiency_j_per_th
            ids_k.append(b.var(-ths_per_kw * hour_rev, 0.0, w * nominal_kw))
        seg_ids.append(ids_k)
        seg_slopes.append(slopes)
        pmax_kw.append(float(widths.sum()) * nominal_kw)

    # Grid import / export.
    cap, _base, credit, penalty = tariff.dr_arrays(index)
    hard_cap = ~np.isnan(cap) & np.isnan(penalty)
    g_ub = np.where(hard_cap, cap, np.inf)
    tiered = isinstance(tariff.energy, TieredEnergy)
    g_cost = np.zeros(n) if tiered else price / 1000.0
    g_cost = g_cost - credit / 1000.0  # DR credit: (baseline - g) * credit; constant part added back later
    if tariff.four_cp is not None:
        mask = tariff.four_cp_mask(index, market)
        if mask.any():
            g_cost = g_cost + mask * (tariff.four_cp.usd_per_kw_year / mask.sum())
    g = b.var(g_cost, 0.0, g_ub)
    has_export = conditions.onsite_kw is not None
    x = b.var(-np.minimum(export_price, price) / 1000.0, 0.0, np.inf) if has_export else None

    # Power balance: g - x - pue * sum y = -onsite.
    bal = b.rows_block(n, -onsite, -onsite)
    b.coef(bal, g, 1.0)
    if x is not None:
        b.coef(bal, x, -1.0)
    for ids_k in seg_ids:
        for ids in ids_k:
            b.coef(bal, ids, -pue)

    months = tariff.month_labels(index)
    uniq_months, month_pos = np.unique(months, return_inverse=True)
    if tariff.demand is not None and tariff.demand.usd_per_kw_month > 0:
        peak = b.var(np.full(len(uniq_months), tariff.demand.usd_per_kw_month), 0.0, np.inf)
        rows = b.rows_block(n, -np.inf, 0.0)
        b.coef(rows, g, 1.0)
        b.coef(rows, peak[month_pos], -1.0)
    if tiered:
        assert isinstance(tariff.energy, TieredEnergy)
        if not tariff.energy.is_convex:
            raise TariffError(
                f"tariff {tariff.name!r}: falling block rates are not convex; the LP needs non-decreasing blocks",
                field="energy",
                value=tariff.name,
            )
        limits = [blk.up_to_kwh for blk in tariff.energy.blocks]
        sizes = np.diff(np.r_[0.0, [np.inf if v is None else v for v in limits]])
        rates = np.array([blk.rate_usd_per_kwh for blk in tariff.energy.blocks])
        rows = b.rows_block(len(uniq_months), 0.0, 0.0)
        b.coef(rows[month_pos], g, 1.0)
        for size, rate in zip(sizes.tolist(), rates.tolist(), strict=True):
            q = b.var(np.full(len(uniq_months), rate), 0.0, size)
            b.coef(rows, q, -1.0)
    soft = ~np.isnan(cap) & ~np.isnan(penalty)
    if soft.any():
        hs = np.flatnonzero(soft)
        over = b.var(penalty[hs] / 1000.0, 0.0, np.inf)
        rows = b.rows_block(hs.size, -np.inf, cap[hs])
        b.coef(rows, g[hs], 1.0)
        b.coef(rows, over, -1.0)

    # Ramps and unit commitment per class.
    on_ids: list[np.ndarray | None] = []
    for k, m in enumerate(machines):
        total_rows_cols = seg_ids[k]
        if m.ramp_w_per_h is not None and n > 1:
            ramp_kw = m.ramp_w_per_h / 1000.0
            rows = b.rows_block(n - 1, -ramp_kw, ramp_kw)
            for ids in total_rows_cols:
                b.coef(rows, ids[1:], 1.0)
                b.coef(rows, ids[:-1], -1.0)
        if not m.needs_binaries:
            on_ids.append(None)
            continue
        u = b.var(np.zeros(n), 0.0, 1.0, integer=True)
        down = max(m.min_down_h, 1)
        # Running before the horizon: no restart is possible until min_down_h hours have passed.
        z_ub = np.ones(n)
        z_ub[: down if down > 1 else 0] = 0.0
        z = b.var(np.full(n, m.restart_cost_usd), 0.0, z_ub)
        on_ids.append(u)
        rows = b.rows_block(n, -np.inf, 0.0)  # sum y - Pmax u <= 0
        for ids in total_rows_cols:
            b.coef(rows, ids, 1.0)
        b.coef(rows, u, -pmax_kw[k])
        # Committed means running: at least the curve's lowest point (nominal without a curve).
        pmin_kw = (m.curve.points[0][0] if m.curve is not None else 1.0) * m.power_w / 1000.0
        rows = b.rows_block(n, 0.0, np.inf)  # sum y - Pmin u >= 0
        for ids in total_rows_cols:
            b.coef(rows, ids, 1.0)
        b.coef(rows, u, -pmin_kw)
        # z[h] - u[h] + u[h-1] >= 0; the fleet is running before the horizon (u[-1] = 1).
        rows = b.rows_block(n, np.r_[-1.0, np.zeros(n - 1)], np.inf)
        b.coef(rows, z, 1.0)
        b.coef(rows, u, -1.0)
        if n > 1:
            b.coef(rows[1:], u[:-1], 1.0)
        up = max(m.min_up_h, 1)
        if up > 1:
            rows = b.rows_block(n, -np.inf, 0.0)  # sum_{t=h-U+1..h} z[t] - u[h] <= 0
            b.coef(rows, u, -1.0)
            for lag in range(up):
                b.coef(rows[lag:], z[: n - lag], 1.0)
        if down > 1 and n > down:
            hs = np.arange(down, n)
            rows = b.rows_block(hs.size, -np.inf, 1.0)  # sum_{t=h-D+1..h} z[t] + u[h-D] <= 1
            b.coef(rows, u[hs - down], 1.0)
            for lag in range(down):
                b.coef(rows, z[hs - lag], 1.0)

    sol = b.solve(options)

    load_frac = np.zeros((n, len(machines)))
    hash_frac = np.zeros((n, len(machines)))
    starts = np.zeros(len(machines))
    for k, m in enumerate(machines):
        nominal_kw = m.power_w / 1000.0
        for ids, slope in zip(seg_ids[k], seg_slopes[k].tolist(), strict=True):
            y = np.clip(sol[ids], 0.0, None)
            y[y < 1e-9 * nominal_kw] = 0.0
            load_frac[:, k] += y / nominal_kw
            hash_frac[:, k] += slope * y / nominal_kw
        u_ids = on_ids[k]
        if u_ids is not None:
            u_val = np.round(sol[u_ids]) > 0.5
            starts[k] = np.count_nonzero(u_val & ~np.r_[True, u_val[:-1]])
    return account_schedule(
        "lp" if not any(m.needs_binaries for m in machines) else "milp",
        index,
        market,
        hp,
        machines,
        load_frac,
        hash_frac,
        tariff=tariff,
        conditions=conditions,
        starts=starts if any(u is not None for u in on_ids) else None,
    )
