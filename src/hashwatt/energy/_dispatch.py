"""Threshold dispatch and the accounting every schedule shares.

The threshold rule is the optimal schedule when costs are per hour and linear: a class runs
in hour h when what it earns beats what it pays,

    hashrate_ths * derate_h * hashprice_h / 24,000 * (1 - pool_fee)  >  power_mw * pue_h * price_h

i.e. while ``price_h < hashprice_h * derate_h * (1 - fee) * 1000 / (24 * efficiency * pue_h)``
[USD/MWh], with hashprice in [USD/PH/day] and efficiency in [J/TH]. Power cancels out, so the
rule is per machine class and vectorizes over hours x classes. On-site generation is
consumed in merit order (most efficient class first) at the export price it displaces.
Demand charges, 4CP, ramps and minimum run times couple hours; that is the LP's job
(:func:`hashwatt.energy.dispatch_lp`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hashwatt.energy._machines import MachineClass, machine_arrays
from hashwatt.energy._tariff import Bill, Tariff
from hashwatt.energy.errors import EnergyError

__all__ = [
    "Conditions",
    "DispatchResult",
    "DispatchSummary",
    "account_schedule",
    "dispatch_always_on",
    "dispatch_threshold",
    "hourly_hashprice",
    "threshold_load_fraction",
]

HashpriceInput = float | pd.Series


@dataclasses.dataclass(frozen=True, slots=True)
class Conditions:
    """Site conditions per hour (a float applies to every hour).

    pue: facility power / IT power [-]; hashrate_derate: hashrate multiplier from heat [-];
    onsite_kw: on-site generation [kW]; export_usd_per_mwh: what surplus generation earns
    (the retail price for net metering) [USD/MWh]; pool_fee [-];
    carbon_g_per_kwh: grid carbon intensity for emissions [gCO2/kWh].
    """

    pue: float | np.ndarray = 1.0
    hashrate_derate: float | np.ndarray = 1.0
    onsite_kw: np.ndarray | None = None
    export_usd_per_mwh: float | np.ndarray = 0.0
    pool_fee: float = 0.0
    carbon_g_per_kwh: float | np.ndarray | None = None

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pue, derate, onsite_kw, export price) as length-n arrays, validated."""
        pue = _as_hourly(self.pue, n, "pue")
        derate = _as_hourly(self.hashrate_derate, n, "hashrate_derate")
        onsite = np.zeros(n) if self.onsite_kw is None else _as_hourly(self.onsite_kw, n, "onsite_kw")
        export = _as_hourly(self.export_usd_per_mwh, n, "export_usd_per_mwh")
        if np.any(pue < 1.0) or np.any(~np.isfinite(pue)):
            raise EnergyError("pue must be finite and >= 1")
        if np.any(derate < 0) or np.any(derate > 1.5) or np.any(~np.isfinite(derate)):
            raise EnergyError("hashrate_derate must be in [0, 1.5]")
        if np.any(onsite < 0):
            raise EnergyError("onsite_kw must be >= 0")
        if not 0 <= self.pool_fee < 1:
            raise EnergyError("pool_fee must be in [0, 1)")
        return pue, derate, onsite, export


def _as_hourly(value: float | np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise EnergyError(f"{name} has {arr.shape[0] if arr.ndim else 0} values for {n} hours")
    return arr


def hourly_hashprice(hashprice_usd_per_ph_day: HashpriceInput, index: pd.DatetimeIndex) -> np.ndarray:
    """Hashprice for each hour of ``index`` [USD/PH/day].

    A float applies to every hour. A Series indexed by dates (daily) or timestamps is
    forward-filled onto the hours; it must start no later than the first hour's UTC day
    and end no earlier than the last hour's UTC day.
    """
    n = len(index)
    if isinstance(hashprice_usd_per_ph_day, pd.Series):
        s = hashprice_usd_per_ph_day.dropna()
        if s.empty:
            raise EnergyError("hashprice series is empty")
        sidx = pd.DatetimeIndex(pd.to_datetime(s.index))
        sidx = sidx.tz_localize("UTC") if sidx.tz is None else sidx.tz_convert("UTC")
        s = pd.Series(s.to_numpy(dtype=float), index=sidx.as_unit("ns")).sort_index()
        s = s[~s.index.duplicated(keep="last")]
        first_day = index[0].floor("D")
        last_day = index[-1].floor("D")
        if s.index[0] > first_day or s.index[-1] < last_day:
            raise EnergyError(
                f"hashprice history covers {s.index[0].date()}..{s.index[-1].date()}, "
                f"not the price period {first_day.date()}..{last_day.date()}"
            )
        values = s.reindex(s.index.union(index.as_unit("ns"))).ffill().reindex(index.as_unit("ns"))
        out = values.to_numpy(dtype=float)
    else:
        out = np.full(n, float(hashprice_usd_per_ph_day))
    if np.any(~np.isfinite(out)) or np.any(out < 0):
        raise EnergyError("hashprice must be finite and >= 0 USD/PH/day")
    return out


def threshold_load_fraction(
    price_usd_per_mwh: np.ndarray,
    hashprice_usd_per_ph_day: np.ndarray,
    efficiency_j_per_th: np.ndarray,
    *,
    power_w: np.ndarray | None = None,
    pue: np.ndarray | float = 1.0,
    hashrate_derate: np.ndarray | float = 1.0,
    pool_fee: float = 0.0,
    onsite_kw: np.ndarray | None = None,
    export_usd_per_mwh: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Load fraction (0..1) of each class in each hour under the threshold rule, shape (H, K).

    Without on-site generation the result is 0 or 1 (run iff price < break-even price). With
    it, generation goes to the classes in merit order at the price it would fetch exported.
    Pure numpy; 8,760 hours x 100 classes takes a few milliseconds.
    """
    price = np.asarray(price_usd_per_mwh, dtype=float)
    hp = np.broadcast_to(np.asarray(hashprice_usd_per_ph_day, dtype=float), price.shape)
    pue_a = np.broadcast_to(np.asarray(pue, dtype=float), price.shape)
    derate_a = np.broadcast_to(np.asarray(hashrate_derate, dtype=float), price.shape)
    eff = np.asarray(efficiency_j_per_th, dtype=float)
    # Breakeven price [USD/MWh of facility energy] per hour and class.
    scale = hp * derate_a * (1.0 - pool_fee) * (1000.0 / 24.0) / pue_a
    break_even = scale[:, None] / eff[None, :]
    on_grid = price[:, None] < break_even
    if onsite_kw is None:
        return np.asarray(on_grid, dtype=float)
    if power_w is None:
        raise EnergyError("power_w is needed to share on-site generation between classes")
    gen = np.asarray(onsite_kw, dtype=float)
    export = np.minimum(np.broadcast_to(np.asarray(export_usd_per_mwh, dtype=float), price.shape), price)
    order = np.argsort(eff, kind="stable")  # most efficient first = highest break-even price
    fac_kw = (np.asarray(power_w, dtype=float)[order] / 1000.0)[None, :] * pue_a[:, None]
    before = np.cumsum(fac_kw, axis=1) - fac_kw
    share = np.clip(gen[:, None] - before, 0.0, fac_kw) / fac_kw
    on_gen = export[:, None] < break_even[:, order]
    frac_sorted = np.where(on_grid[:, order], 1.0, np.where(on_gen, share, 0.0))
    frac = np.empty_like(frac_sorted)
    frac[:, order] = frac_sorted
    return frac


@dataclasses.dataclass(frozen=True, slots=True)
class DispatchSummary:
    """Totals of one schedule over its period [USD, MWh, hours]."""

    method: str
    hours: int
    capacity_kw: float
    uptime_fraction: float
    hours_running: int
    it_energy_mwh: float
    grid_energy_mwh: float
    mean_hashrate_ths: float
    revenue_usd: float
    energy_cost_usd: float
    demand_charge_usd: float
    four_cp_usd: float
    four_cp_kw: float
    fixed_usd: float
    dr_credit_usd: float
    dr_penalty_usd: float
    dr_violation_hours: int
    export_credit_usd: float
    restart_cost_usd: float
    total_cost_usd: float
    profit_usd: float
    always_on_profit_usd: float
    savings_vs_always_on_usd: float
    emissions_t: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class DispatchResult:
    """A schedule: hourly table, per-class load fractions (H, K) and its bill and totals."""

    summary: DispatchSummary
    schedule: pd.DataFrame
    load_fraction: np.ndarray
    bill: Bill
    always_on_bill: Bill

    def daily(self) -> pd.DataFrame:
        """Per UTC day: energy [MWh], uptime [-], revenue, energy cost and margin [USD].

        The daily margin is what the economics room's cash-flow tools (payback, NPV) take;
        monthly and yearly charges (demand, 4CP, fixed) are not in it, see ``summary``.
        """
        sched = self.schedule
        day = pd.DatetimeIndex(sched.index).tz_convert("UTC").normalize()
        capacity_kw = self.summary.capacity_kw
        grouped = sched.groupby(day)
        out = pd.DataFrame(
            {
                "it_energy_mwh": grouped["it_load_kw"].sum() / 1000.0,
                "uptime_fraction": grouped["it_load_kw"].mean() / capacity_kw,
                "revenue_usd": grouped["revenue_usd"].sum(),
                "energy_cost_usd": grouped["energy_cost_usd"].sum(),
                "margin_usd": grouped["profit_usd"].sum(),
            }
        )
        out.index.name = "date_utc"
        return out


def _starts(on: np.ndarray) -> np.ndarray:
    """Number of starts per class (off -> on transitions; the fleet runs before the first hour)."""
    prev = np.vstack([np.ones((1, on.shape[1]), dtype=bool), on[:-1]])
    return np.asarray(np.sum(on & ~prev, axis=0), dtype=float)


def account_schedule(
    method: str,
    index: pd.DatetimeIndex,
    market_usd_per_mwh: np.ndarray | None,
    hashprice: np.ndarray,
    machines: Sequence[MachineClass],
    load_fraction: np.ndarray,
    hashrate_fraction: np.ndarray,
    *,
    tariff: Tariff,
    conditions: Conditions,
    always_on: tuple[Bill, float] | None = None,
    starts: np.ndarray | None = None,
) -> DispatchResult:
    """Revenue, bill and profit of a schedule given per-class load and hashrate fractions (H, K).

    ``starts`` (per class) overrides the starts counted from the load (a MILP may keep a
    class committed at zero load to avoid a restart).
    """
    n = len(index)
    eff, power_w = machine_arrays(machines)
    pue, derate, onsite, export_price = conditions.arrays(n)
    it_kw = load_fraction @ (power_w / 1000.0)
    facility_kw = it_kw * pue
    grid_kw = np.maximum(facility_kw - onsite, 0.0)
    export_kw = np.maximum(onsite - facility_kw, 0.0)
    hashrate_ths = (hashrate_fraction @ (power_w / eff)) * derate
    revenue = hashrate_ths * hashprice / 24_000.0 * (1.0 - conditions.pool_fee)
    price = tariff.energy_price_usd_per_mwh(index, market_usd_per_mwh)
    bill = tariff.bill(
        index, grid_kw, market_usd_per_mwh, export_kw=export_kw, export_usd_per_mwh=export_price
    )
    restart = np.array([m.restart_cost_usd for m in machines])
    if starts is not None:
        restart_usd = float(np.dot(starts, restart))
    elif restart.any():
        restart_usd = float(np.dot(_starts(load_fraction > 1e-9), restart))
    else:
        restart_usd = 0.0
    profit = float(revenue.sum()) - bill.total_usd - restart_usd
    if always_on is None:
        ao = account_schedule(
            "always-on",
            index,
            market_usd_per_mwh,
            hashprice,
            machines,
            np.broadcast_to(1.0, load_fraction.shape),
            np.broadcast_to(_nominal_hashrate_fraction(machines), load_fraction.shape),
            tariff=tariff,
            conditions=conditions,
            always_on=(Bill(0.0), 0.0),
        )
        always_on = (ao.bill, ao.summary.profit_usd)
    ao_bill, ao_profit = always_on
    carbon = conditions.carbon_g_per_kwh
    emissions = None if carbon is None else float(np.dot(grid_kw, _as_hourly(carbon, n, "carbon")) / 1e6)
    hourly_cost = (grid_kw * price - export_kw * export_price) / 1000.0
    schedule = pd.DataFrame(
        {
            "price_usd_per_mwh": price,
            "hashprice_usd_per_ph_day": hashprice,
            "it_load_kw": it_kw,
            "grid_kw": grid_kw,
            "hashrate_ths": hashrate_ths,
            "revenue_usd": revenue,
            "energy_cost_usd": hourly_cost,
            "profit_usd": revenue - hourly_cost,
        },
        index=index,
    )
    capacity_kw = float(power_w.sum()) / 1000.0
    summary = DispatchSummary(
        method=method,
        hours=n,
        capacity_kw=capacity_kw,
        uptime_fraction=float(it_kw.sum() / (capacity_kw * n)) if n else 0.0,
        hours_running=int(np.count_nonzero(it_kw > 1e-9)),
        it_energy_mwh=float(it_kw.sum() / 1000.0),
        grid_energy_mwh=float(grid_kw.sum() / 1000.0),
        mean_hashrate_ths=float(hashrate_ths.mean()) if n else 0.0,
        revenue_usd=float(revenue.sum()),
        energy_cost_usd=bill.energy_usd,
        demand_charge_usd=bill.demand_usd,
        four_cp_usd=bill.four_cp_usd,
        four_cp_kw=bill.four_cp_kw,
        fixed_usd=bill.fixed_usd,
        dr_credit_usd=bill.dr_credit_usd,
        dr_penalty_usd=bill.dr_penalty_usd,
        dr_violation_hours=bill.dr_violation_hours,
        export_credit_usd=bill.export_credit_usd,
        restart_cost_usd=restart_usd,
        total_cost_usd=bill.total_usd + restart_usd,
        profit_usd=profit,
        always_on_profit_usd=ao_profit if method != "always-on" else profit,
        savings_vs_always_on_usd=(profit - ao_profit) if method != "always-on" else 0.0,
        emissions_t=emissions,
    )
    return DispatchResult(
        summary=summary,
        schedule=schedule,
        load_fraction=load_fraction,
        bill=bill,
        always_on_bill=ao_bill if method != "always-on" else bill,
    )


def _nominal_hashrate_fraction(machines: Sequence[MachineClass]) -> np.ndarray:
    return np.array([1.0 if m.curve is None else float(m.curve.hashrate_fraction(1.0)) for m in machines])


def _prepare(
    prices: pd.Series, hashprice_usd_per_ph_day: HashpriceInput
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    if not isinstance(prices.index, pd.DatetimeIndex) or prices.index.tz is None:
        raise EnergyError("prices must be a Series indexed by tz-aware (UTC) hour starts")
    index = pd.DatetimeIndex(prices.index.tz_convert("UTC"))
    market = prices.to_numpy(dtype=float)
    if np.any(~np.isfinite(market)):
        raise EnergyError("prices contain missing values; read them with a fill method")
    return index, market, hourly_hashprice(hashprice_usd_per_ph_day, index)


def dispatch_threshold(
    prices: pd.Series,
    machines: Sequence[MachineClass],
    hashprice_usd_per_ph_day: HashpriceInput,
    *,
    tariff: Tariff | None = None,
    conditions: Conditions | None = None,
) -> DispatchResult:
    """The threshold schedule: each class runs at nominal power in every hour it earns more than it pays.

    ``prices`` [USD/MWh] on UTC hour starts; the tariff turns them into the energy price
    (default: the market price as is). Demand charges and 4CP are billed but do not steer
    this rule. Machine curves are ignored (nominal power or off).
    """
    tariff = tariff or Tariff()
    conditions = conditions or Conditions()
    index, market, hp = _prepare(prices, hashprice_usd_per_ph_day)
    eff, power_w = machine_arrays(machines)
    pue, derate, onsite, export = conditions.arrays(len(index))
    price = tariff.energy_price_usd_per_mwh(index, market)
    frac = threshold_load_fraction(
        price,
        hp,
        eff,
        power_w=power_w,
        pue=pue,
        hashrate_derate=derate,
        pool_fee=conditions.pool_fee,
        onsite_kw=onsite if conditions.onsite_kw is not None else None,
        export_usd_per_mwh=export,
    )
    hfrac = frac * _nominal_hashrate_fraction(machines)[None, :]
    return account_schedule(
        "threshold", index, market, hp, machines, frac, hfrac, tariff=tariff, conditions=conditions
    )


def dispatch_always_on(
    prices: pd.Series,
    machines: Sequence[MachineClass],
    hashprice_usd_per_ph_day: HashpriceInput,
    *,
    tariff: Tariff | None = None,
    conditions: Conditions | None = None,
) -> DispatchResult:
    """Every class at nominal power every hour: the baseline the other schedules are measured against."""
    tariff = tariff or Tariff()
    conditions = conditions or Conditions()
    index, market, hp = _prepare(prices, hashprice_usd_per_ph_day)
    n = len(index)
    frac = np.broadcast_to(1.0, (n, len(machines)))
    hfrac = np.broadcast_to(_nominal_hashrate_fraction(machines), (n, len(machines)))
    return account_schedule(
        "always-on", index, market, hp, machines, frac, hfrac, tariff=tariff, conditions=conditions
    )
