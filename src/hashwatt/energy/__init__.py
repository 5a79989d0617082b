"""Energy and sites: flexible-load dispatch against hourly prices, tariffs and site comparison.

Pure cores (threshold rule, LP/MILP on HiGHS, tariff bills) take prices, hashprice and
machine classes as explicit inputs; files are read at the edges (``load_tariff``,
``hashwatt.data.prices``).
"""

from hashwatt.energy._climate import ClimateModel
from hashwatt.energy._dispatch import (
    Conditions,
    DispatchResult,
    DispatchSummary,
    account_schedule,
    dispatch_always_on,
    dispatch_threshold,
    hourly_hashprice,
    threshold_load_fraction,
)
from hashwatt.energy._lp import LpOptions, dispatch_lp
from hashwatt.energy._machines import MachineClass, MinerSpec, PowerCurve, assumed_power_curve
from hashwatt.energy._onsite import read_tmy3_csv, solar_kw_from_ghi, tmy_to_index, wind_kw_from_speed
from hashwatt.energy._sites import (
    FleetConfig,
    SiteConfig,
    SiteResult,
    SitesFile,
    compare_sites,
    evaluate_site,
    load_sites,
)
from hashwatt.energy._tariff import (
    Bill,
    DemandCharge,
    DemandResponseEvent,
    FixedFee,
    FlatEnergy,
    FourCP,
    MarketEnergy,
    Tariff,
    TieredBlock,
    TieredEnergy,
    TouEnergy,
    TouPeriod,
    load_tariff,
    parse_tariff,
)
from hashwatt.energy.errors import EnergyError, SiteConfigError, SolverError, TariffError
from hashwatt.energy.plot import plot_schedule

__all__ = [
    "Bill",
    "ClimateModel",
    "Conditions",
    "DemandCharge",
    "DemandResponseEvent",
    "DispatchResult",
    "DispatchSummary",
    "EnergyError",
    "FixedFee",
    "FlatEnergy",
    "FleetConfig",
    "FourCP",
    "LpOptions",
    "MachineClass",
    "MarketEnergy",
    "MinerSpec",
    "PowerCurve",
    "SiteConfig",
    "SiteConfigError",
    "SiteResult",
    "SitesFile",
    "SolverError",
    "Tariff",
    "TariffError",
    "TieredBlock",
    "TieredEnergy",
    "TouEnergy",
    "TouPeriod",
    "account_schedule",
    "assumed_power_curve",
    "compare_sites",
    "dispatch_always_on",
    "dispatch_lp",
    "dispatch_threshold",
    "evaluate_site",
    "hourly_hashprice",
    "load_sites",
    "load_tariff",
    "parse_tariff",
    "plot_schedule",
    "read_tmy3_csv",
    "solar_kw_from_ghi",
    "threshold_load_fraction",
    "tmy_to_index",
    "wind_kw_from_speed",
]
