"""Capital costs and investment metrics over daily cash flows.

Notes
-----
* capex = count x (machine + shipping) x (1 + duties) + infrastructure [USD/MW] x fleet MW
* NPV = -capex + sum_t cf_t / (1 + r)^(t / 365.25) + salvage / (1 + r)^(T / 365.25),
  t = 1..T days, r the annual discount rate.
* IRR: the annual r with NPV = 0 (Brent's method on [-99 %, 10,000 %]); None without a root.
* payback: first day the cumulative cash flow reaches capex (salvage not counted).
* ROI = (sum cf + salvage - capex) / capex over the horizon.
* straight-line depreciation: (capex - salvage) / life, per day.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "Capex",
    "InvestmentMetrics",
    "investment_metrics",
    "irr_annual",
    "npv_usd",
    "payback_day",
]

DAYS_PER_YEAR = 365.25


@dataclasses.dataclass(frozen=True, slots=True)
class Capex:
    """Up-front costs. machine_usd, shipping_usd: per machine [USD]; duties: [-] fraction on
    machine + shipping; infrastructure_usd_per_mw: [USD/MW] of fleet power; salvage: [-]
    resale fraction of machine price at the end of the horizon; depreciation_years: [years]."""

    machine_usd: float = 0.0
    shipping_usd: float = 0.0
    duties: float = 0.0
    infrastructure_usd_per_mw: float = 0.0
    salvage: float = 0.0
    depreciation_years: float = 3.0

    def __post_init__(self) -> None:
        for name in ("machine_usd", "shipping_usd", "duties", "infrastructure_usd_per_mw"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise EconomicsInputError(f"{name} must be >= 0, got {value}", field=name, value=value)
        if not 0 <= self.salvage <= 1:
            raise EconomicsInputError(
                f"salvage must be a fraction in [0, 1], got {self.salvage}",
                field="salvage",
                value=self.salvage,
            )
        if not self.depreciation_years > 0:
            raise EconomicsInputError(
                "depreciation period must be positive",
                field="depreciation_years",
                value=self.depreciation_years,
            )

    def total_usd(self, *, count: int, power_w: float) -> float:
        """Total capex for ``count`` machines of ``power_w`` [W] each [USD]."""
        per = (self.machine_usd + self.shipping_usd) * (1 + self.duties)
        return count * per + self.infrastructure_usd_per_mw * count * power_w / 1e6

    def salvage_usd(self, *, count: int) -> float:
        return count * self.machine_usd * self.salvage

    def depreciation_usd_per_day(self, *, count: int, power_w: float) -> float:
        base = self.total_usd(count=count, power_w=power_w) - self.salvage_usd(count=count)
        return base / (self.depreciation_years * DAYS_PER_YEAR)


def _discount(days: npt.NDArray[np.float64], rate: float) -> npt.NDArray[np.float64]:
    return np.power(1.0 + rate, -days / DAYS_PER_YEAR)


def npv_usd(
    cash_flows_usd: npt.ArrayLike, *, capex_usd: float, rate: float, salvage_usd: float = 0.0
) -> float:
    """Net present value of daily cash flows (day 1..T) at annual ``rate`` [USD]."""
    cf = np.asarray(cash_flows_usd, dtype=float)
    if rate <= -1:
        raise EconomicsInputError("discount rate must be > -100 %", field="rate", value=rate)
    days = np.arange(1, len(cf) + 1, dtype=float)
    disc = _discount(days, rate)
    end = float(disc[-1]) if len(cf) else 1.0
    return float(-capex_usd + np.dot(cf, disc) + salvage_usd * end)


def irr_annual(cash_flows_usd: npt.ArrayLike, *, capex_usd: float, salvage_usd: float = 0.0) -> float | None:
    """Annual internal rate of return of daily flows; None when NPV has no sign change."""
    cf = np.asarray(cash_flows_usd, dtype=float)
    if capex_usd <= 0 or len(cf) == 0:
        return None

    def f(r: float) -> float:
        return npv_usd(cf, capex_usd=capex_usd, rate=r, salvage_usd=salvage_usd)

    lo, hi = -0.99, 100.0
    flo, fhi = f(lo), f(hi)
    if not (math.isfinite(flo) and math.isfinite(fhi)) or flo * fhi > 0:
        return None
    return float(brentq(f, lo, hi, xtol=1e-10))


def payback_day(cash_flows_usd: npt.ArrayLike, *, capex_usd: float) -> int | None:
    """First day (1-based) on which cumulative cash flow >= capex; None if never."""
    cum = np.cumsum(np.asarray(cash_flows_usd, dtype=float))
    hit = np.flatnonzero(cum >= capex_usd)
    return int(hit[0]) + 1 if len(hit) else None


@dataclasses.dataclass(frozen=True, slots=True)
class InvestmentMetrics:
    """Payback [days], ROI [-], NPV [USD] at ``discount_rate``, IRR [-/year]."""

    capex_usd: float
    salvage_usd: float
    horizon_days: int
    total_cash_flow_usd: float
    payback_days: int | None
    roi: float
    discount_rate: float
    npv_usd: float
    irr: float | None


def investment_metrics(
    cash_flows_usd: npt.ArrayLike, *, capex_usd: float, salvage_usd: float = 0.0, discount_rate: float = 0.1
) -> InvestmentMetrics:
    """All the investment metrics of one daily cash-flow path."""
    cf = np.asarray(cash_flows_usd, dtype=float)
    total = float(cf.sum())
    roi = (total + salvage_usd - capex_usd) / capex_usd if capex_usd > 0 else float("inf")
    return InvestmentMetrics(
        capex_usd=capex_usd,
        salvage_usd=salvage_usd,
        horizon_days=len(cf),
        total_cash_flow_usd=total,
        payback_days=payback_day(cf, capex_usd=capex_usd) if capex_usd > 0 else 0,
        roi=roi,
        discount_rate=discount_rate,
        npv_usd=npv_usd(cf, capex_usd=capex_usd, rate=discount_rate, salvage_usd=salvage_usd),
        irr=irr_annual(cf, capex_usd=capex_usd, salvage_usd=salvage_usd),
    )
