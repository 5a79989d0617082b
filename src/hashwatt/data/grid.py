"""Grid and climate data for energy studies: carbon intensity, industrial prices, temperature.

Shipped compact subsets (see ``files/SOURCES.md``):

- ``grid_carbon_intensity_yearly.csv``: gCO2/kWh and renewable share by country and grid
  zone, 2021-2025 (Ember and Electricity Maps, via co2.js);
- ``electricity_industrial_prices.csv``: EIA industrial price by US state (2018, 2019,
  2023) and a few countries [USD/kWh];
- ``ercot_carbon_intensity_hourly_2021_2024.csv.gz``: ERCOT hourly lifecycle intensity;
- ``dallas_tx_temperature_hourly_2020_2024.csv.gz``: hourly 2 m air temperature (ERA5).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from hashwatt.data._embedded import embedded_path
from hashwatt.errors import DataError, DataInputError

__all__ = [
    "carbon_intensity_yearly",
    "dallas_temperature_hourly",
    "ercot_carbon_hourly",
    "industrial_price_usd_per_kwh",
]


@lru_cache(maxsize=4)
def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(embedded_path(name))


@lru_cache(maxsize=2)
def _hourly(name: str) -> pd.DataFrame:
    frame = pd.read_csv(embedded_path(name))
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp_utc"), utc=True), name="timestamp_utc")
    return frame


def _pick_year(frame: pd.DataFrame, region: str, year: int, what: str) -> pd.Series:
    rows = frame[frame["region"].str.lower() == region.strip().lower()]
    if rows.empty:
        known = ", ".join(sorted(frame["region"].unique().tolist())[:40])
        raise DataInputError(
            f"no {what} for region {region!r}; known regions include: {known}", field="region", value=region
        )
    # The requested year, else the nearest earlier one, else the nearest later one.
    years = rows["year"].astype(int)
    earlier = rows[years <= year]
    chosen = (
        earlier[earlier["year"] == earlier["year"].max()] if not earlier.empty else rows[years == years.min()]
    )
    return chosen.iloc[-1]


def carbon_intensity_yearly(
    region: str, year: int, *, source: str | None = None
) -> tuple[float, float | None, int]:
    """(gCO2/kWh, renewable share or None, year used) for a country or grid zone.

    ``source`` "ember" or "electricity_maps" picks one provider where both exist (default:
    Electricity Maps, which also gives the renewable share).
    """
    frame = _csv("grid_carbon_intensity_yearly.csv")
    if source is not None:
        key = {"ember": "Ember", "electricity_maps": "Electricity Maps"}.get(source)
        if key is None:
            raise DataInputError("carbon source must be 'ember' or 'electricity_maps'")
        frame = frame[frame["source"].str.startswith(key)]
    else:
        em = frame[frame["source"].str.startswith("Electricity Maps")]
        if (em["region"].str.lower() == region.strip().lower()).any():
            frame = em
    row = _pick_year(frame, region, year, "carbon intensity")
    share = row["renewable_share"]
    return float(row["gco2_per_kwh"]), (None if pd.isna(share) else float(share)), int(row["year"])


def industrial_price_usd_per_kwh(region: str, year: int) -> tuple[float, int]:
    """(EIA industrial average price [USD/kWh], year used) for a US state, "United States" or Ethiopia."""
    row = _pick_year(_csv("electricity_industrial_prices.csv"), region, year, "industrial price")
    return float(row["price_usd_per_kwh"]), int(row["year"])


def _year_slice(frame: pd.DataFrame, year: int, timezone: str, what: str) -> pd.DataFrame:
    start = pd.Timestamp(f"{year}-01-01", tz=timezone).tz_convert("UTC")
    end = pd.Timestamp(f"{year + 1}-01-01", tz=timezone).tz_convert("UTC")
    out = frame[(frame.index >= start) & (frame.index < end)]
    expected = int((end - start) / pd.Timedelta(hours=1))
    if len(out) != expected:
        raise DataError(f"{what} covers {len(out)} of the {expected} hours of {year}")
    return out


def ercot_carbon_hourly(year: int, *, timezone: str = "America/Chicago") -> pd.Series:
    """ERCOT hourly lifecycle carbon intensity [gCO2/kWh] for a local year 2021-2024."""
    if not 2021 <= year <= 2024:
        raise DataInputError(
            f"ERCOT hourly carbon intensity covers 2021-2024, not {year}", field="year", value=year
        )
    frame = _hourly("ercot_carbon_intensity_hourly_2021_2024.csv.gz")
    if year == 2024 or timezone == "UTC":
        # The file ends 2024-12-31T23:00Z: a local Chicago year 2024 lacks its last 6 hours.
        timezone = "UTC"
    return _year_slice(frame, year, timezone, "ERCOT carbon")["gco2_per_kwh_lca"].rename("carbon_g_per_kwh")


def dallas_temperature_hourly(year: int, *, timezone: str = "America/Chicago") -> pd.Series:
    """Dallas hourly 2 m air temperature [degC] for a local year 2020-2024 (ERA5 via Open-Meteo)."""
    if not 2020 <= year <= 2024:
        raise DataInputError(f"Dallas temperature covers 2020-2024, not {year}", field="year", value=year)
    frame = _hourly("dallas_tx_temperature_hourly_2020_2024.csv.gz")
    return _year_slice(frame, year, timezone, "Dallas temperature")["temp_air_c"]
