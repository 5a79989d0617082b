"""Compare candidate sites: one fleet, several places, one year of hours each.

Each site gets a price (a shipped ISO market-year, an EIA industrial average by region, or a
flat contract rate), an optional tariff file, a climate (hourly Dallas temperature, a TMY3
weather year, or a constant PUE), a carbon intensity (ERCOT hourly, or a yearly country /
grid-zone figure) and optional on-site solar or wind. The fleet is dispatched there (threshold
rule or LP) and the sites are ranked by annual profit, with payback and emissions per PH-day
and per BTC. Example: ``energy/examples/sites.toml``.

Notes: emissions count grid energy only (on-site generation is counted as zero-carbon);
BTC mined = PH-days x hashprice [BTC/PH/day] (the USD hashprice / BTC price, or the
shipped daily history when ``hashprice_usd_per_ph_day = "history"``); payback = capex / annual
profit (None when the site loses money).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from hashwatt._toml import read_toml
from hashwatt.data._embedded import embedded_path
from hashwatt.data.grid import (
    carbon_intensity_yearly,
    dallas_temperature_hourly,
    ercot_carbon_hourly,
    industrial_price_usd_per_kwh,
)
from hashwatt.data.prices import FillMethod, market_prices
from hashwatt.economics import parse_pool_fee
from hashwatt.energy._climate import ClimateModel
from hashwatt.energy._dispatch import Conditions, DispatchResult, dispatch_threshold, hourly_hashprice
from hashwatt.energy._lp import dispatch_lp
from hashwatt.energy._machines import MachineClass
from hashwatt.energy._onsite import solar_kw_from_ghi, tmy_to_index, wind_kw_from_speed
from hashwatt.energy._tariff import FlatEnergy, MarketEnergy, Tariff, load_tariff
from hashwatt.energy.errors import SiteConfigError
from hashwatt.errors import HashwattError

__all__ = [
    "FleetConfig",
    "SiteConfig",
    "SiteResult",
    "SitesFile",
    "compare_sites",
    "evaluate_site",
    "load_sites",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_TMY_FILE = "tmy3_greensboro_nc_sandpoint_ak.csv.gz"


class FleetConfig(BaseModel):
    """The fleet every site is evaluated with."""

    model_config = _FROZEN
    efficiency_j_per_th: float = Field(gt=0)
    power_mw: float = Field(gt=0)
    hashprice_usd_per_ph_day: float | Literal["history"] = Field(union_mode="left_to_right")
    btc_price_usd: float | None = Field(default=None, gt=0)
    year: int = 2023
    miner_capex_usd: float = Field(default=0.0, ge=0)
    #: Fraction of revenue the pool keeps [-]: ``"2%"`` or ``0.02``, read by the CLI's one parser
    #: (``pool_fee_fraction``, the old key, still reads).
    pool_fee: Annotated[float, BeforeValidator(parse_pool_fee)] = Field(
        default=0.0, ge=0, lt=1, validation_alias=AliasChoices("pool_fee", "pool_fee_fraction")
    )
    method: Literal["threshold", "lp"] = "threshold"

    @model_validator(mode="after")
    def _btc_price(self) -> FleetConfig:
        if isinstance(self.hashprice_usd_per_ph_day, float) and self.hashprice_usd_per_ph_day < 0:
            raise ValueError("hashprice_usd_per_ph_day must be >= 0")
        if self.hashprice_usd_per_ph_day != "history" and self.btc_price_usd is None:
            raise ValueError("a constant hashprice needs btc_price_usd (for emissions per BTC)")
        return self


class SiteConfig(BaseModel):
    """One candidate site; exactly one price source, at most one climate source."""

    model_config = _FROZEN
    name: str
    timezone: str = "UTC"
    market: str | None = None
    fill: Literal["ffill", "interpolate", "drop"] | None = None
    flat_price_usd_per_kwh: float | None = Field(default=None, ge=0)
    price_region: str | None = None
    price_adder_usd_per_mwh: float = 0.0
    tariff: str | None = None
    carbon: Literal["ercot_hourly"] | None = None
    carbon_region: str | None = None
    carbon_source: Literal["ember", "electricity_maps"] | None = None
    #: Constant grid carbon intensity [gCO2/kWh] (``carbon_gco2_per_kwh``, the old key, still reads).
    carbon_g_per_kwh: float | None = Field(
        default=None, ge=0, validation_alias=AliasChoices("carbon_g_per_kwh", "carbon_gco2_per_kwh")
    )
    climate: Literal["dallas"] | None = None
    tmy3_site: str | None = None
    temperature_c: float | None = None
    pue: float | None = Field(default=None, ge=1)
    solar_mw: float = Field(default=0.0, ge=0)
    wind_mw: float = Field(default=0.0, ge=0)
    export_usd_per_mwh: float = 0.0
    capex_usd_per_mw: float = Field(default=0.0, ge=0)
    opex_usd_per_mw_month: float = Field(default=0.0, ge=0)
    method: Literal["threshold", "lp"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_price(self) -> SiteConfig:
        given = [x is not None for x in (self.market, self.flat_price_usd_per_kwh, self.price_region)]
        if sum(given) != 1:
            raise ValueError("give exactly one of market, flat_price_usd_per_kwh, price_region")
        carbon = [x is not None for x in (self.carbon, self.carbon_region, self.carbon_g_per_kwh)]
        if sum(carbon) > 1:
            raise ValueError("give at most one of carbon, carbon_region, carbon_g_per_kwh")
        climate = [x is not None for x in (self.climate, self.tmy3_site, self.temperature_c)]
        if sum(climate) > 1:
            raise ValueError("give at most one of climate, tmy3_site, temperature_c")
        if (self.solar_mw or self.wind_mw) and self.tmy3_site is None:
            raise ValueError("solar_mw / wind_mw need a weather year: set tmy3_site")
        return self


class SitesFile(BaseModel):
    """A sites file: one fleet, optional climate overrides, several sites."""

    model_config = _FROZEN
    fleet: FleetConfig
    #: Overrides of the assumed climate curves; pydantic validates the dataclass itself (its
    #: fields and defaults are defined once, in :class:`ClimateModel`; unknown keys are refused).
    climate: ClimateModel = Field(default_factory=ClimateModel)
    site: tuple[SiteConfig, ...] = Field(min_length=1)
    base_dir: str = "."


@dataclasses.dataclass(frozen=True, slots=True)
class SiteResult:
    """One site's year, annualized [USD/yr, tCO2/yr], plus its rank by profit (1 = best)."""

    rank: int
    name: str
    hours: int
    price_source: str
    mean_price_usd_per_mwh: float
    method: str
    uptime_fraction: float
    mean_pue: float
    mean_hashrate_ths: float
    revenue_usd_per_year: float
    electricity_cost_usd_per_year: float
    opex_usd_per_year: float
    profit_usd_per_year: float
    savings_vs_always_on_usd_per_year: float
    capex_usd: float
    payback_years: float | None
    btc_per_year: float
    carbon_g_per_kwh_mean: float | None
    renewable_share: float | None
    emissions_t_per_year: float | None
    emissions_kg_per_ph_day: float | None
    emissions_t_per_btc: float | None
    onsite_mwh_per_year: float
    note: str


def load_sites(path: str | Path) -> SitesFile:
    """Read a sites TOML; paths inside it (tariff files) are relative to the file."""
    path = Path(path)
    data = read_toml(path, what="sites file", error=SiteConfigError)
    data["base_dir"] = str(path.parent)
    try:
        return SitesFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SiteConfigError(
            f"{path}: {where}: {first['msg']}", field=where, value=first.get("input"), path=str(path)
        ) from exc


@lru_cache(maxsize=1)
def _tmy() -> pd.DataFrame:
    return pd.read_csv(embedded_path(_TMY_FILE))


def _tmy_site(name: str) -> pd.DataFrame:
    frame = _tmy()
    rows = frame[frame["site_name"].str.contains(name, case=False, regex=False)]
    if rows.empty:
        raise SiteConfigError(
            f"no TMY3 site matching {name!r}; shipped: {', '.join(frame['site_name'].unique())}",
            field="tmy_site",
            value=name,
        )
    return rows.sort_values("hour_of_year")


def _year_index(year: int, timezone: str) -> pd.DatetimeIndex:
    start = pd.Timestamp(f"{year}-01-01", tz=timezone).tz_convert("UTC")
    end = pd.Timestamp(f"{year + 1}-01-01", tz=timezone).tz_convert("UTC")
    return pd.date_range(start, end, freq="1h", inclusive="left")


def _align(series: pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Hourly series onto ``index`` (nearest earlier value; the first value before its start)."""
    s = series.copy()
    s.index = pd.DatetimeIndex(s.index).as_unit("ns")
    target = index.as_unit("ns")
    out = s.reindex(s.index.union(target)).ffill().bfill().reindex(target)
    return out.to_numpy(dtype=float)


def evaluate_site(
    site: SiteConfig, fleet: FleetConfig, climate: ClimateModel, *, base_dir: Path
) -> tuple[DispatchResult, SiteResult]:
    """Dispatch the fleet at one site for ``fleet.year``; the rank is filled in by :func:`compare_sites`."""
    year = fleet.year
    tz = site.timezone
    if site.market is not None:
        fill: FillMethod | None = site.fill
        series = market_prices(site.market, year, fill=fill)
        prices = series.price_usd_per_mwh
        tz = series.timezone
        price_source = series.source
        energy: MarketEnergy | FlatEnergy = MarketEnergy(adder_usd_per_mwh=site.price_adder_usd_per_mwh)
    else:
        if site.flat_price_usd_per_kwh is not None:
            rate = site.flat_price_usd_per_kwh
            price_source = f"flat {rate * 100:.2f} US cents/kWh"
        else:
            assert site.price_region is not None
            rate, used = industrial_price_usd_per_kwh(site.price_region, year)
            price_source = f"EIA industrial average {site.price_region} {used}: {rate * 100:.2f} US cents/kWh"
        index = _year_index(year, tz)
        prices = pd.Series(np.full(len(index), rate * 1000.0), index=index)
        energy = FlatEnergy(rate_usd_per_kwh=rate + site.price_adder_usd_per_mwh / 1000.0)
    index = pd.DatetimeIndex(prices.index)
    n = len(index)
    if site.tariff is not None:
        tariff = load_tariff(base_dir / site.tariff)
    else:
        tariff = Tariff(name=f"{site.name} energy", timezone=tz, energy=energy)

    # Climate -> PUE and derating.
    temps: np.ndarray | None = None
    tmy: pd.DataFrame | None = None
    if site.climate == "dallas":
        temps = _align(dallas_temperature_hourly(year, timezone=tz), index)
    elif site.tmy3_site is not None:
        tmy = _tmy_site(site.tmy3_site)
        offset = float(tmy["utc_offset_h_lst"].iloc[0])
        temps = tmy_to_index(tmy["temp_air_c"].to_numpy(), offset, index)
    elif site.temperature_c is not None:
        temps = np.full(n, site.temperature_c)
    if site.pue is not None:
        pue: np.ndarray = np.full(n, site.pue)
    elif temps is not None:
        pue = climate.pue(temps)
    else:
        pue = np.full(n, climate.pue_base)
    derate = climate.hashrate_derate(temps) if temps is not None else np.ones(n)

    # On-site generation from the TMY year.
    onsite: np.ndarray | None = None
    if tmy is not None and (site.solar_mw or site.wind_mw):
        offset = float(tmy["utc_offset_h_lst"].iloc[0])
        onsite = np.zeros(n)
        if site.solar_mw:
            onsite += solar_kw_from_ghi(
                tmy_to_index(tmy["ghi_w_m2"].to_numpy(), offset, index), site.solar_mw * 1000
            )
        if site.wind_mw:
            speed = tmy_to_index(tmy["wind_speed_10m_m_s"].to_numpy(), offset, index)
            onsite += wind_kw_from_speed(speed, site.wind_mw * 1000)

    # Carbon intensity.
    carbon: np.ndarray | float | None = None
    renewable: float | None = None
    if site.carbon == "ercot_hourly":
        carbon = _align(ercot_carbon_hourly(year, timezone=tz), index)
    elif site.carbon_region is not None:
        carbon, renewable, _ = carbon_intensity_yearly(site.carbon_region, year, source=site.carbon_source)
    elif site.carbon_g_per_kwh is not None:
        carbon = site.carbon_g_per_kwh

    conditions = Conditions(
        pue=pue,
        hashrate_derate=derate,
        onsite_kw=onsite,
        export_usd_per_mwh=site.export_usd_per_mwh,
        pool_fee=fleet.pool_fee,
        carbon_g_per_kwh=carbon,
    )
    machines = [MachineClass.from_efficiency(fleet.efficiency_j_per_th, fleet.power_mw, name="fleet")]
    run = dispatch_lp if (site.method or fleet.method) == "lp" else dispatch_threshold
    hashprice: float | pd.Series
    if fleet.hashprice_usd_per_ph_day == "history":
        from hashwatt.economics import hashprice_history

        hist = hashprice_history()
        hashprice = hist["hashprice_usd_per_ph_day"].dropna()
        btc_per_ph_day = hourly_hashprice(hist["hashprice_btc_per_ph_day"].dropna(), index)
    else:
        hashprice = float(fleet.hashprice_usd_per_ph_day)
        assert fleet.btc_price_usd is not None
        btc_per_ph_day = np.full(n, hashprice / fleet.btc_price_usd)
    result = run(prices, machines, hashprice, tariff=tariff, conditions=conditions)
    s = result.summary
    per_year = 8760.0 / n
    opex = site.opex_usd_per_mw_month * fleet.power_mw * 12.0
    profit = s.profit_usd * per_year - opex
    capex = site.capex_usd_per_mw * fleet.power_mw + fleet.miner_capex_usd
    ph_days = float(result.schedule["hashrate_ths"].sum()) / 1000.0 / 24.0 * per_year
    ph = result.schedule["hashrate_ths"].to_numpy() / 1000.0
    btc = float(np.sum(ph * btc_per_ph_day) / 24.0) * (1 - fleet.pool_fee) * per_year
    emissions = None if s.emissions_t is None else s.emissions_t * per_year
    grid_mwh = s.grid_energy_mwh
    mean_carbon = None if s.emissions_t is None or grid_mwh <= 0 else s.emissions_t * 1e6 / (grid_mwh * 1000)
    if mean_carbon is None and carbon is not None:
        mean_carbon = float(np.mean(carbon))
    site_result = SiteResult(
        rank=0,
        name=site.name,
        hours=n,
        price_source=price_source,
        mean_price_usd_per_mwh=float(np.mean(result.schedule["price_usd_per_mwh"])),
        method=s.method,
        uptime_fraction=s.uptime_fraction,
        mean_pue=float(np.mean(pue)),
        mean_hashrate_ths=s.mean_hashrate_ths,
        revenue_usd_per_year=s.revenue_usd * per_year,
        electricity_cost_usd_per_year=s.total_cost_usd * per_year,
        opex_usd_per_year=opex,
        profit_usd_per_year=profit,
        savings_vs_always_on_usd_per_year=s.savings_vs_always_on_usd * per_year,
        capex_usd=capex,
        payback_years=(capex / profit) if profit > 0 else None,
        btc_per_year=btc,
        carbon_g_per_kwh_mean=mean_carbon,
        renewable_share=renewable,
        emissions_t_per_year=emissions,
        emissions_kg_per_ph_day=None if emissions is None or ph_days <= 0 else emissions * 1000 / ph_days,
        emissions_t_per_btc=None if emissions is None or btc <= 0 else emissions / btc,
        onsite_mwh_per_year=0.0 if onsite is None else float(onsite.sum()) / 1000.0 * per_year,
        note=site.note,
    )
    return result, site_result


def compare_sites(config: SitesFile) -> list[SiteResult]:
    """Evaluate every site and rank them by annual profit (best first)."""
    climate = config.climate
    results = []
    for site in config.site:
        try:
            _, res = evaluate_site(site, config.fleet, climate, base_dir=Path(config.base_dir))
        except SiteConfigError:
            raise
        except HashwattError as exc:
            raise SiteConfigError(f"site {site.name!r}: {exc}", field="site", value=site.name) from exc
        results.append(res)
    ordered = sorted(results, key=lambda r: r.profit_usd_per_year, reverse=True)
    return [dataclasses.replace(r, rank=i + 1) for i, r in enumerate(ordered)]
