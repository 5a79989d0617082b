"""Operating costs: electricity (flat, time-of-use, hourly series), hosting, PUE, uptime, staff.

Notes
-----
Energy drawn per machine-day [kWh] = power_w / 1000 x 24 h x uptime x PUE. With an all-in
hosting rate [USD/kWh] the rate replaces electricity and PUE (it already includes cooling):
kWh = power_w / 1000 x 24 x uptime. Hosting [USD/kW/month] is charged on the miner's
nameplate kW whether it runs or not; a month is 365.25 / 12 days. Maintenance is per machine
per month, staff per site per month.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from hashwatt.economics._finance import DAYS_PER_YEAR
from hashwatt.economics._pools import PoolScheme, fee_factor
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["DAYS_PER_MONTH", "CostModel", "FlatPrice", "HourlyPrice", "PowerPrice", "TimeOfUse"]

DAYS_PER_MONTH = DAYS_PER_YEAR / 12


#: Above this a price is a typo, not a tariff (ERCOT's offer cap is 5 USD/kWh) [USD/kWh].
MAX_POWER_PRICE_USD_PER_KWH = 100.0


def _check_price(value: float, what: str, *, field: str, upper: float = 1e9) -> None:
    """``what`` is how the message names the price, ``field`` the parameter it came in."""
    if not math.isfinite(value):
        raise EconomicsInputError(f"{what} must be a finite number", field=field, value=value)
    if value < 0:
        raise EconomicsInputError(f"{what} cannot be negative, got {value}", field=field, value=value)
    if value > upper:
        raise EconomicsInputError(
            f"{what} of {value:g} is beyond any real value (at most {upper:g})", field=field, value=value
        )


@dataclasses.dataclass(frozen=True, slots=True)
class FlatPrice:
    """One electricity price all day [USD/kWh]."""

    usd_per_kwh: float

    def __post_init__(self) -> None:
        _check_price(
            self.usd_per_kwh, "power price [USD/kWh]", field="usd_per_kwh", upper=MAX_POWER_PRICE_USD_PER_KWH
        )

    def mean_usd_per_kwh(self) -> float:
        return self.usd_per_kwh

    def daily_usd_per_kwh(self, days: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
        return np.full(len(days), self.usd_per_kwh)


@dataclasses.dataclass(frozen=True, slots=True)
class TimeOfUse:
    """A 24-hour tariff: price for each local hour 0..23 [USD/kWh]; the machine runs all day."""

    hourly_usd_per_kwh: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.hourly_usd_per_kwh) != 24:
            raise EconomicsInputError(
                f"a time-of-use tariff needs 24 hourly prices, got {len(self.hourly_usd_per_kwh)}",
                field="hourly_usd_per_kwh",
                value=len(self.hourly_usd_per_kwh),
            )
        for p in self.hourly_usd_per_kwh:
            _check_price(p, "tariff price", field="hourly_usd_per_kwh")

    @classmethod
    def from_periods(cls, periods: Sequence[tuple[int, int, float]], base_usd_per_kwh: float) -> TimeOfUse:
        """From ``(start_hour, end_hour, price)`` periods (end exclusive) over a base price."""
        prices = [base_usd_per_kwh] * 24
        for start, end, price in periods:
            if not (0 <= start < 24 and 0 < end <= 24 and start < end):
                raise EconomicsInputError(
                    f"bad tariff period {start}-{end}", field="periods", value=(start, end)
                )
            for h in range(start, end):
                prices[h] = price
        return cls(tuple(prices))

    def mean_usd_per_kwh(self) -> float:
        return float(np.mean(self.hourly_usd_per_kwh))

    def daily_usd_per_kwh(self, days: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
        return np.full(len(days), self.mean_usd_per_kwh())


@dataclasses.dataclass(frozen=True, slots=True)
class HourlyPrice:
    """An hourly price series [USD/kWh] on a tz-aware or naive UTC DatetimeIndex.

    Days the series does not cover reuse the same day of year from the series (a typical
    year), so a one-year market file prices a multi-year forecast.
    """

    usd_per_kwh: pd.Series = dataclasses.field(compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.usd_per_kwh.index, pd.DatetimeIndex) or self.usd_per_kwh.empty:
            raise EconomicsInputError("hourly prices need a non-empty DatetimeIndex")
        if self.usd_per_kwh.isna().any():
            raise EconomicsInputError("hourly prices contain gaps (NaN); fill them first")

    @classmethod
    def from_usd_per_mwh(cls, series: pd.Series) -> HourlyPrice:
        return cls(series / 1000.0)

    def mean_usd_per_kwh(self) -> float:
        return float(self.usd_per_kwh.mean())

    def _daily(self) -> pd.Series:
        idx = pd.DatetimeIndex(self.usd_per_kwh.index)
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        s = pd.Series(self.usd_per_kwh.to_numpy(), index=idx.normalize())
        return s.groupby(level=0).mean()

    def daily_usd_per_kwh(self, days: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
        daily = self._daily()
        direct = daily.reindex(days).to_numpy(dtype=float)
        by_doy = daily.groupby(pd.DatetimeIndex(daily.index).day_of_year).mean()
        fallback = by_doy.reindex(days.day_of_year).to_numpy(dtype=float)
        out = np.where(np.isnan(direct), fallback, direct)
        return np.where(np.isnan(out), self.mean_usd_per_kwh(), out)


PowerPrice = FlatPrice | TimeOfUse | HourlyPrice


@dataclasses.dataclass(frozen=True, slots=True)
class CostModel:
    """Everything that costs money per day, plus the pool's cut.

    electricity: [USD/kWh] pricing; hosting_usd_per_kw_month: [USD/kW/month] on nameplate kW;
    all_in_usd_per_kwh: [USD/kWh] all-in hosting rate replacing electricity and PUE;
    pue: [-] >= 1, facility energy / IT energy; uptime: [-] in (0, 1];
    maintenance_usd_per_month: [USD/machine/month]; staff_usd_per_month: [USD/site/month];
    pool_fee: [-] fraction of revenue; pool_scheme: what the pool pays for.
    """

    electricity: PowerPrice = FlatPrice(0.05)
    hosting_usd_per_kw_month: float = 0.0
    all_in_usd_per_kwh: float | None = None
    pue: float = 1.0
    uptime: float = 1.0
    maintenance_usd_per_month: float = 0.0
    staff_usd_per_month: float = 0.0
    pool_fee: float = 0.0
    pool_scheme: PoolScheme = PoolScheme.FPPS

    def __post_init__(self) -> None:
        _check_price(self.hosting_usd_per_kw_month, "hosting fee", field="hosting_usd_per_kw_month")
        _check_price(self.maintenance_usd_per_month, "maintenance", field="maintenance_usd_per_month")
        _check_price(self.staff_usd_per_month, "staff cost", field="staff_usd_per_month")
        if self.all_in_usd_per_kwh is not None:
            _check_price(self.all_in_usd_per_kwh, "all-in rate", field="all_in_usd_per_kwh")
        if not (math.isfinite(self.pue) and 1.0 <= self.pue <= 3.0):
            raise EconomicsInputError(f"PUE must be in [1, 3], got {self.pue}", field="pue", value=self.pue)
        if not 0.0 < self.uptime <= 1.0:
            raise EconomicsInputError(
                f"uptime must be in (0, 1], got {self.uptime}", field="uptime", value=self.uptime
            )
        if not 0.0 <= self.pool_fee < 1.0:
            raise EconomicsInputError(
                f"pool fee must be in [0, 1), got {self.pool_fee}", field="pool_fee", value=self.pool_fee
            )

    @property
    def effective_pool_fee(self) -> float:
        """The pool fee actually deducted [-]: none when mining solo (no pool takes a cut)."""
        return 0.0 if self.pool_scheme is PoolScheme.SOLO else self.pool_fee

    @property
    def kept_fraction(self) -> float:
        """Share of the expected block reward the miner keeps: uptime x (1 - deducted pool fee)."""
        return self.uptime * (1.0 - self.effective_pool_fee)

    @property
    def fee_share(self) -> float:
        """Share of transaction fees the scheme passes on (PPS: 0)."""
        return fee_factor(self.pool_scheme)

    def with_power_price(self, usd_per_kwh: float) -> CostModel:
        """The same model at a flat electricity price [USD/kWh] (all-in rate cleared)."""
        return dataclasses.replace(self, electricity=FlatPrice(usd_per_kwh), all_in_usd_per_kwh=None)

    def energy_kwh_per_day(self, power_w: float) -> float:
        """Energy billed per machine-day [kWh]."""
        pue = 1.0 if self.all_in_usd_per_kwh is not None else self.pue
        return power_w / 1000.0 * 24.0 * self.uptime * pue

    def mean_energy_price_usd_per_kwh(self) -> float:
        if self.all_in_usd_per_kwh is not None:
            return self.all_in_usd_per_kwh
        return self.electricity.mean_usd_per_kwh()

    def energy_cost_usd_per_day(self, power_w: float) -> float:
        """Average energy cost per machine-day [USD/day]."""
        return self.energy_kwh_per_day(power_w) * self.mean_energy_price_usd_per_kwh()

    def daily_energy_cost_usd_per_day(
        self, power_w: float, days: pd.DatetimeIndex
    ) -> npt.NDArray[np.float64]:
        """Energy cost per machine for each day in ``days`` [USD/day]."""
        if self.all_in_usd_per_kwh is not None:
            return np.full(len(days), self.energy_kwh_per_day(power_w) * self.all_in_usd_per_kwh)
        return self.energy_kwh_per_day(power_w) * self.electricity.daily_usd_per_kwh(days)

    def fixed_cost_usd_per_day(self, power_w: float, count: int = 1) -> float:
        """Hosting, maintenance and staff per day for ``count`` machines [USD/day]."""
        hosting = self.hosting_usd_per_kw_month * power_w / 1000.0 * count
        maint = self.maintenance_usd_per_month * count
        return (hosting + maint + self.staff_usd_per_month) / DAYS_PER_MONTH
