"""Electricity tariffs as typed objects (pydantic), loaded from TOML with :mod:`tomllib`.

A tariff has one energy component and optional charges:

- energy ``kind = "market"``: the hourly market price plus an adder [USD/MWh];
  ``"flat"``: one rate [USD/kWh]; ``"tou"``: time-of-use periods in the tariff's local time;
  ``"tiered"``: monthly kWh blocks [USD/kWh] (the block a kWh falls in sets its price);
- ``demand``: [USD/kW-month] on each calendar month's peak hourly grid demand;
- ``four_cp``: ERCOT-style transmission charge [USD/kW-year] on the average grid demand in
  the four coincident-peak hours (given as UTC hours, or the proxy ``top_price_hour_jun_sep``:
  the highest-price hour of June, July, August and September, since system load is not shipped);
- ``fixed``: [USD/month];
- ``demand_response``: contracted events that cap grid demand and pay a curtailment credit.

Example (``energy/examples/ercot_4cp_tariff.toml``)::

    name = "ERCOT hub + 4CP"
    timezone = "America/Chicago"
    [energy]
    kind = "market"
    adder_usd_per_mwh = 4.0
    [demand]
    usd_per_kw_month = 6.0
    [four_cp]
    usd_per_kw_year = 60.0
    proxy = "top_price_hour_jun_sep"
    [fixed]
    usd_per_month = 1000.0
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashwatt._toml import read_toml
from hashwatt.energy.errors import TariffError

__all__ = [
    "Bill",
    "DemandCharge",
    "DemandResponseEvent",
    "FixedFee",
    "FlatEnergy",
    "FourCP",
    "MarketEnergy",
    "Tariff",
    "TieredBlock",
    "TieredEnergy",
    "TouEnergy",
    "TouPeriod",
    "load_tariff",
    "parse_tariff",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class MarketEnergy(BaseModel):
    """Hourly market price plus an adder (delivery, retail margin) [USD/MWh]."""

    model_config = _FROZEN
    kind: Literal["market"] = "market"
    adder_usd_per_mwh: float = 0.0


class FlatEnergy(BaseModel):
    """One energy rate for every hour [USD/kWh]."""

    model_config = _FROZEN
    kind: Literal["flat"] = "flat"
    rate_usd_per_kwh: float = Field(ge=0)


class TouPeriod(BaseModel):
    """A time-of-use period: months (1-12), day type and local hour starts (0-23)."""

    model_config = _FROZEN
    rate_usd_per_kwh: float = Field(ge=0)
    months: tuple[int, ...] = tuple(range(1, 13))
    days: Literal["all", "weekdays", "weekends"] = "all"
    hours: tuple[int, ...] = tuple(range(24))

    @field_validator("months")
    @classmethod
    def _months(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not all(1 <= m <= 12 for m in v):
            raise ValueError("months must be 1..12")
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not all(0 <= h <= 23 for h in v):
            raise ValueError("hours must be 0..23 (local hour starts)")
        return v


class TouEnergy(BaseModel):
    """Time-of-use rates; the first matching period wins, else the default rate [USD/kWh]."""

    model_config = _FROZEN
    kind: Literal["tou"] = "tou"
    periods: tuple[TouPeriod, ...]
    default_rate_usd_per_kwh: float = Field(ge=0)


class TieredBlock(BaseModel):
    """A monthly block: kWh up to ``up_to_kwh`` (cumulative; None = the rest) at a rate."""

    model_config = _FROZEN
    up_to_kwh: float | None = None
    rate_usd_per_kwh: float = Field(ge=0)


class TieredEnergy(BaseModel):
    """Monthly block (tiered) rates; blocks in order of cumulative kWh."""

    model_config = _FROZEN
    kind: Literal["tiered"] = "tiered"
    blocks: tuple[TieredBlock, ...]

    @field_validator("blocks")
    @classmethod
    def _blocks(cls, v: tuple[TieredBlock, ...]) -> tuple[TieredBlock, ...]:
        if not v:
            raise ValueError("at least one block")
        if v[-1].up_to_kwh is not None:
            raise ValueError("the last block must have no up_to_kwh (it takes the rest)")
        limits = [b.up_to_kwh for b in v[:-1]]
        if any(lim is None for lim in limits):
            raise ValueError("only the last block may omit up_to_kwh")
        clean = [float(lim) for lim in limits if lim is not None]
        if any(b <= a for a, b in zip([0.0, *clean], clean, strict=False)):
            raise ValueError("up_to_kwh must increase and be > 0")
        return v

    @property
    def is_convex(self) -> bool:
        """Non-decreasing block rates: then the LP can price blocks without binaries."""
        rates = [b.rate_usd_per_kwh for b in self.blocks]
        return all(b >= a for a, b in itertools.pairwise(rates))


EnergyComponent = Annotated[MarketEnergy | FlatEnergy | TouEnergy | TieredEnergy, Field(discriminator="kind")]


class DemandCharge(BaseModel):
    """Charge on each calendar month's peak hourly grid demand [USD/kW-month]."""

    model_config = _FROZEN
    usd_per_kw_month: float = Field(ge=0)


class FourCP(BaseModel):
    """ERCOT-style transmission charge on the average demand in four coincident-peak hours."""

    model_config = _FROZEN
    usd_per_kw_year: float = Field(ge=0)
    hours_utc: tuple[str, ...] = ()
    proxy: Literal["top_price_hour_jun_sep"] | None = None


class FixedFee(BaseModel):
    """A fixed customer charge per billed month [USD/month]."""

    model_config = _FROZEN
    usd_per_month: float = Field(ge=0)


class DemandResponseEvent(BaseModel):
    """A contracted curtailment event: grid demand at most ``max_grid_kw`` for its hours.

    The credit [USD/MWh] is paid on the curtailed energy, ``baseline_kw`` minus the grid
    demand, in each event hour; ``penalty_usd_per_mwh`` (if set) is charged on energy above
    the cap instead of making the cap a hard constraint.
    """

    model_config = _FROZEN
    start_utc: str
    duration_h: int = Field(ge=1)
    max_grid_kw: float = Field(ge=0)
    baseline_kw: float = Field(ge=0)
    credit_usd_per_mwh: float = Field(default=0.0, ge=0)
    penalty_usd_per_mwh: float | None = Field(default=None, ge=0)


class Tariff(BaseModel):
    """A complete tariff: energy component plus optional charges, local time zone for TOU."""

    model_config = _FROZEN
    name: str = "market price"
    timezone: str = "UTC"
    energy: EnergyComponent = Field(default_factory=MarketEnergy)
    demand: DemandCharge | None = None
    four_cp: FourCP | None = None
    fixed: FixedFee | None = None
    demand_response: tuple[DemandResponseEvent, ...] = ()

    # ------------------------------------------------------------------ hourly views

    def local_index(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        try:
            return index.tz_convert(self.timezone)
        except Exception as exc:  # unknown zone names surface here
            raise TariffError(
                f"tariff {self.name!r}: unknown time zone {self.timezone!r}",
                field="timezone",
                value=self.timezone,
            ) from exc

    def energy_price_usd_per_mwh(
        self, index: pd.DatetimeIndex, market_usd_per_mwh: np.ndarray | None
    ) -> np.ndarray:
        """Per-hour energy price [USD/MWh]; tiered tariffs price the *first* block here.

        Tiered prices depend on the month's cumulative energy, so per-hour rules (the
        threshold dispatch) see the first block's rate; the bill and the LP apply the blocks.
        """
        e = self.energy
        n = len(index)
        if isinstance(e, MarketEnergy):
            if market_usd_per_mwh is None:
                raise TariffError(
                    f"tariff {self.name!r} is market-indexed and needs an hourly price series",
                    field="market_usd_per_mwh",
                    value=None,
                )
            return np.asarray(market_usd_per_mwh, dtype=float) + e.adder_usd_per_mwh
        if isinstance(e, FlatEnergy):
            return np.full(n, e.rate_usd_per_kwh * 1000.0)
        if isinstance(e, TieredEnergy):
            return np.full(n, e.blocks[0].rate_usd_per_kwh * 1000.0)
        local = self.local_index(index)
        month = np.asarray(local.month)
        hour = np.asarray(local.hour)
        weekend = np.asarray(local.day_of_week) >= 5
        rate = np.full(n, np.nan)
        for period in e.periods:
            day_ok = (
                np.ones(n, dtype=bool)
                if period.days == "all"
                else (weekend if period.days == "weekends" else ~weekend)
            )
            match = np.isin(month, period.months) & np.isin(hour, period.hours) & day_ok & np.isnan(rate)
            rate[match] = period.rate_usd_per_kwh * 1000.0
        rate[np.isnan(rate)] = e.default_rate_usd_per_kwh * 1000.0
        return rate

    def month_labels(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Billing month of each hour (local year*12 + month), for demand charges and tiers."""
        local = self.local_index(index)
        return np.asarray(np.asarray(local.year) * 12 + np.asarray(local.month) - 1, dtype=np.int64)

    def four_cp_mask(self, index: pd.DatetimeIndex, market_usd_per_mwh: np.ndarray | None) -> np.ndarray:
        """Boolean mask of the coincident-peak hours inside ``index``."""
        mask = np.zeros(len(index), dtype=bool)
        cp = self.four_cp
        if cp is None:
            return mask
        if cp.hours_utc:
            hours = pd.DatetimeIndex(pd.to_datetime(list(cp.hours_utc), utc=True)).as_unit("ns")
            mask |= np.asarray(index.as_unit("ns").isin(hours))
        if cp.proxy == "top_price_hour_jun_sep":
            if market_usd_per_mwh is None:
                raise TariffError("the 4CP proxy needs an hourly market price series")
            local = self.local_index(index)
            frame = pd.DataFrame(
                {"p": np.asarray(market_usd_per_mwh, dtype=float), "y": local.year, "m": local.month},
            )
            summer = frame[frame["m"].isin([6, 7, 8, 9])]
            if not summer.empty:
                top = summer.groupby(["y", "m"])["p"].idxmax().to_numpy()
                mask[top.astype(int)] = True
        return mask

    def dr_arrays(self, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(cap kW, baseline kW, credit USD/MWh, penalty USD/MWh) per hour; NaN cap = no event."""
        n = len(index)
        cap = np.full(n, np.nan)
        base = np.zeros(n)
        credit = np.zeros(n)
        penalty = np.full(n, np.nan)
        idx = index.as_unit("ns")
        for ev in self.demand_response:
            start = pd.Timestamp(ev.start_utc)
            start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
            hours = pd.date_range(start, periods=ev.duration_h, freq="1h").as_unit("ns")
            sel = np.asarray(idx.isin(hours))
            cap[sel] = np.fmin(cap[sel], ev.max_grid_kw)
            base[sel] = ev.baseline_kw
            credit[sel] = ev.credit_usd_per_mwh
            penalty[sel] = np.nan if ev.penalty_usd_per_mwh is None else ev.penalty_usd_per_mwh
        return cap, base, credit, penalty

    # ------------------------------------------------------------------ the bill

    def bill(
        self,
        index: pd.DatetimeIndex,
        grid_kw: np.ndarray,
        market_usd_per_mwh: np.ndarray | None = None,
        *,
        export_kw: np.ndarray | None = None,
        export_usd_per_mwh: np.ndarray | float = 0.0,
    ) -> Bill:
        """The bill for an hourly grid demand [kW] (hour averages, so kWh = kW x 1 h)."""
        grid = np.asarray(grid_kw, dtype=float)
        e = self.energy
        months = self.month_labels(index)
        if isinstance(e, TieredEnergy):
            energy_usd = 0.0
            for m in np.unique(months):
                energy_usd += _tiered_cost(e, float(grid[months == m].sum()))
        else:
            energy_usd = float(
                np.dot(grid, self.energy_price_usd_per_mwh(index, market_usd_per_mwh)) / 1000.0
            )
        export_credit = 0.0
        if export_kw is not None:
            export_credit = float(np.sum(np.asarray(export_kw) * np.asarray(export_usd_per_mwh)) / 1000.0)
        demand_usd = 0.0
        if self.demand is not None:
            peaks = pd.Series(grid).groupby(months).max().to_numpy()
            demand_usd = float(self.demand.usd_per_kw_month * peaks.sum())
        four_cp_usd = 0.0
        four_cp_kw = 0.0
        if self.four_cp is not None:
            mask = self.four_cp_mask(index, market_usd_per_mwh)
            if mask.any():
                four_cp_kw = float(grid[mask].mean())
                four_cp_usd = self.four_cp.usd_per_kw_year * four_cp_kw
        fixed_usd = float(self.fixed.usd_per_month * len(np.unique(months))) if self.fixed else 0.0
        dr_credit = 0.0
        dr_penalty = 0.0
        dr_violations = 0
        if self.demand_response:
            cap, base, credit, penalty = self.dr_arrays(index)
            ev = ~np.isnan(cap)
            dr_credit = float(np.sum(np.maximum(base[ev] - grid[ev], 0.0) * credit[ev]) / 1000.0)
            over = np.maximum(grid[ev] - cap[ev], 0.0)
            dr_violations = int(np.count_nonzero(over > 1e-6))
            pen = np.nan_to_num(penalty[ev], nan=0.0)
            dr_penalty = float(np.sum(over * pen) / 1000.0)
        return Bill(
            energy_usd=energy_usd,
            export_credit_usd=export_credit,
            demand_usd=demand_usd,
            four_cp_usd=four_cp_usd,
            four_cp_kw=four_cp_kw,
            fixed_usd=fixed_usd,
            dr_credit_usd=dr_credit,
            dr_penalty_usd=dr_penalty,
            dr_violation_hours=dr_violations,
        )


def _tiered_cost(tariff: TieredEnergy, kwh: float) -> float:
    cost = 0.0
    lower = 0.0
    for block in tariff.blocks:
        upper = np.inf if block.up_to_kwh is None else block.up_to_kwh
        take = max(0.0, min(kwh, upper) - lower)
        cost += take * block.rate_usd_per_kwh
        lower = upper
        if kwh <= upper:
            break
    return cost


@dataclasses.dataclass(frozen=True, slots=True)
class Bill:
    """An electricity bill split by component [USD]; credits are positive numbers."""

    energy_usd: float
    export_credit_usd: float = 0.0
    demand_usd: float = 0.0
    four_cp_usd: float = 0.0
    four_cp_kw: float = 0.0
    fixed_usd: float = 0.0
    dr_credit_usd: float = 0.0
    dr_penalty_usd: float = 0.0
    dr_violation_hours: int = 0

    @property
    def total_usd(self) -> float:
        return (
            self.energy_usd
            - self.export_credit_usd
            + self.demand_usd
            + self.four_cp_usd
            + self.fixed_usd
            - self.dr_credit_usd
            + self.dr_penalty_usd
        )


def parse_tariff(data: dict[str, object], *, source: str = "tariff") -> Tariff:
    """Build a :class:`Tariff` from a parsed TOML/JSON mapping; errors name the field."""
    try:
        return Tariff.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TariffError(
            f"{source}: {where}: {first['msg']} ({exc.error_count()} problem(s))",
            field=where,
            value=first.get("input"),
            path=str(source),
        ) from exc


def load_tariff(path: str | Path) -> Tariff:
    """Read a tariff TOML file (see the module docstring for the layout)."""
    path = Path(path)
    data = read_toml(path, what="tariff file", error=TariffError)
    if "tariff" in data and isinstance(data["tariff"], dict):
        data = data["tariff"]
    return parse_tariff(data, source=str(path))
