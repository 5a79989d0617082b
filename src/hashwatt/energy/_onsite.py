"""On-site generation profiles: solar from irradiance, wind from a power curve, TMY mapping.

- Solar: ``kw = capacity_kw x GHI / 1000 W/m2 x performance_ratio`` (a plane-of-array
  model is beyond this sketch; GHI on a flat array with a 0.8 performance ratio is the
  usual first estimate).
- Wind: the generic turbine curve (cut-in 3 m/s, cubic to rated at 12 m/s, cut-out
  25 m/s) on the wind speed scaled from 10 m to hub height with the 1/7 power law.
- Capacity-factor model: a flat profile ``capacity_kw x capacity_factor`` when no weather
  file is at hand.

TMY files are a "typical year" of 8,760 hours in local standard time; :func:`tmy_to_index`
lays them onto a real year's UTC hours by (month, day, hour) in standard time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hashwatt.energy.errors import EnergyError

__all__ = ["read_tmy3_csv", "solar_kw_from_ghi", "tmy_to_index", "wind_kw_from_speed"]


def solar_kw_from_ghi(
    ghi_w_m2: np.ndarray, capacity_kw: float, *, performance_ratio: float = 0.8
) -> np.ndarray:
    """PV output [kW] from global horizontal irradiance [W/m2]; clipped to [0, capacity]."""
    ghi = np.asarray(ghi_w_m2, dtype=float)
    return np.asarray(np.clip(capacity_kw * ghi / 1000.0 * performance_ratio, 0.0, capacity_kw), dtype=float)


def wind_kw_from_speed(
    speed_10m_m_s: np.ndarray,
    capacity_kw: float,
    *,
    hub_height_m: float = 80.0,
    cut_in_m_s: float = 3.0,
    rated_m_s: float = 12.0,
    cut_out_m_s: float = 25.0,
) -> np.ndarray:
    """Wind output [kW] from 10 m wind speed [m/s] with a generic cubic power curve."""
    v = np.asarray(speed_10m_m_s, dtype=float) * (hub_height_m / 10.0) ** (1.0 / 7.0)
    frac = np.clip((v**3 - cut_in_m_s**3) / (rated_m_s**3 - cut_in_m_s**3), 0.0, 1.0)
    frac = np.where((v < cut_in_m_s) | (v >= cut_out_m_s), 0.0, frac)
    return np.asarray(capacity_kw * frac, dtype=float)


def read_tmy3_csv(path: str | Path, *, site: str | None = None) -> pd.DataFrame:
    """Read a TMY3-style hourly CSV (columns as in the shared ``tmy3_hourly_*.csv``).

    Needs ``hour_of_year`` (1..8760), ``utc_offset_h_lst`` and ``ghi_w_m2`` and/or
    ``wind_speed_10m_m_s``; ``site`` selects rows by ``site_name`` when there are several.
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise EnergyError(f"cannot read weather file {path}: {exc}") from exc
    if "site_name" in frame.columns:
        names = frame["site_name"].unique().tolist()
        if site is None and len(names) > 1:
            raise EnergyError(f"{path} holds {len(names)} sites ({', '.join(map(str, names))}); choose one")
        if site is not None:
            frame = frame[frame["site_name"].str.contains(site, case=False, regex=False)]
            if frame.empty:
                raise EnergyError(f"{path}: no site matching {site!r}")
    for col in ("hour_of_year", "utc_offset_h_lst"):
        if col not in frame.columns:
            raise EnergyError(f"{path}: missing column {col!r}")
    frame = frame.sort_values("hour_of_year").reset_index(drop=True)
    if len(frame) != 8760 or frame["hour_of_year"].tolist() != list(range(1, 8761)):
        raise EnergyError(f"{path}: a TMY year needs hour_of_year 1..8760 exactly once")
    return frame


def tmy_to_index(values: np.ndarray, utc_offset_h: float, index: pd.DatetimeIndex) -> np.ndarray:
    """Lay a 8,760-hour typical year (local standard time) onto the UTC hours of ``index``.

    Feb 29 takes Feb 28's hours; the mapping is by (month, day, hour) in standard time.
    """
    vals = np.asarray(values, dtype=float)
    if vals.shape != (8760,):
        raise EnergyError("a TMY profile has 8,760 values")
    lst = index + pd.Timedelta(hours=utc_offset_h)
    ref = pd.DatetimeIndex(lst.tz_localize(None) if lst.tz is not None else lst)
    month = np.asarray(ref.month)
    day = np.asarray(ref.day)
    day = np.where((month == 2) & (day == 29), 28, day)
    first_of_month = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334])
    pos = (first_of_month[month - 1] + day - 1) * 24 + np.asarray(ref.hour)
    return np.asarray(vals[pos], dtype=float)
