"""Fleet files: sites, their costs and the machines at each, as TOML.

::

    [[site]]
    name = "West Texas"
    market = "ERCOT:2023"        # or power_price_usd_per_kwh = 0.045, or all_in_usd_per_kwh
    hosting_usd_per_kw_month = 0
    pue = 1.05
    uptime = 0.97
    pool_fee = "2%"
    pool_scheme = "fpps"
    maintenance_usd_per_month = 5     # per machine
    staff_usd_per_month = 4000        # per site

    [[site.miner]]
    model = "s21 xp"                  # fuzzy catalog name, or hashrate_ths + power_w
    count = 200

Unknown keys are refused (a misspelt ``pue`` must not silently become 1.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from hashwatt._toml import read_toml
from hashwatt.data import MinerModel, find_miner, hardware_catalog
from hashwatt.data.prices import market_prices
from hashwatt.economics._costs import CostModel, FlatPrice, HourlyPrice, PowerPrice
from hashwatt.economics._fleet import FleetEntry
from hashwatt.economics._pools import PoolScheme, parse_pool_fee
from hashwatt.economics.errors import EconomicsInputError

__all__ = ["load_fleet", "market_power_price", "parse_fleet"]

_SITE_KEYS = {
    "name",
    "power_price_usd_per_kwh",
    "market",
    "all_in_usd_per_kwh",
    "hosting_usd_per_kw_month",
    "pue",
    "uptime",
    "pool_fee",
    "pool_scheme",
    "maintenance_usd_per_month",
    "staff_usd_per_month",
    "miner",
}
_MINER_KEYS = {"model", "count", "hashrate_ths", "power_w"}


def market_power_price(spec: str) -> HourlyPrice:
    """Hourly prices of a shipped market, ``"ERCOT"`` (2020-2024) or ``"ERCOT:2023"`` [USD/kWh]."""
    name, _, year_text = spec.partition(":")
    try:
        years = [int(year_text)] if year_text else list(range(2020, 2025))
    except ValueError as exc:
        raise EconomicsInputError(
            f"a market is MARKET or MARKET:YEAR, got {spec!r}", field="market", value=spec
        ) from exc
    series = pd.concat([market_prices(name, y, fill="interpolate").price_usd_per_mwh for y in years])
    return HourlyPrice.from_usd_per_mwh(series)


def _number(table: Mapping[str, object], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EconomicsInputError(f"{where}: {key} must be a number, got {value!r}", field=key, value=value)
    return float(value)


def _site_costs(site: Mapping[str, object], where: str) -> CostModel:
    priced = [k for k in ("power_price_usd_per_kwh", "market", "all_in_usd_per_kwh") if k in site]
    if len(priced) != 1:
        raise EconomicsInputError(
            f"{where}: give exactly one of power_price_usd_per_kwh, market, all_in_usd_per_kwh"
            + (f" (got {', '.join(priced)})" if priced else "")
        )
    electricity: PowerPrice = FlatPrice(0.0)
    all_in = None
    if "market" in site:
        electricity = market_power_price(str(site["market"]))
    elif "all_in_usd_per_kwh" in site:
        all_in = _number(site, "all_in_usd_per_kwh", 0.0, where)
    else:
        electricity = FlatPrice(_number(site, "power_price_usd_per_kwh", 0.0, where))
    fee = site.get("pool_fee", 0.0)
    if isinstance(fee, bool) or not isinstance(fee, str | int | float):
        raise EconomicsInputError(
            f'{where}: pool_fee must be like "2%" or 0.02, got {fee!r}', field="pool_fee", value=fee
        )
    scheme = str(site.get("pool_scheme", "fpps")).strip().lower()
    try:
        pool_scheme = PoolScheme(scheme)
    except ValueError as exc:
        choices = ", ".join(s.value for s in PoolScheme)
        raise EconomicsInputError(
            f"{where}: unknown pool_scheme {scheme!r}; choose one of {choices}",
            field="pool_scheme",
            value=scheme,
        ) from exc
    try:
        return CostModel(
            electricity=electricity,
            hosting_usd_per_kw_month=_number(site, "hosting_usd_per_kw_month", 0.0, where),
            all_in_usd_per_kwh=all_in,
            pue=_number(site, "pue", 1.0, where),
            uptime=_number(site, "uptime", 1.0, where),
            maintenance_usd_per_month=_number(site, "maintenance_usd_per_month", 0.0, where),
            staff_usd_per_month=_number(site, "staff_usd_per_month", 0.0, where),
            pool_fee=parse_pool_fee(fee),
            pool_scheme=pool_scheme,
        )
    except EconomicsInputError as exc:
        raise EconomicsInputError(f"{where}: {exc}", field=exc.field, value=exc.value) from exc


def _miner(entry: Mapping[str, object], catalog: pd.DataFrame, where: str) -> MinerModel:
    model = entry.get("model")
    if not isinstance(model, str) or not model.strip():
        raise EconomicsInputError(
            f"{where}: each [[site.miner]] needs a model name", field="model", value=None
        )
    if "hashrate_ths" in entry or "power_w" in entry:
        if "hashrate_ths" not in entry or "power_w" not in entry:
            raise EconomicsInputError(
                f"{where}: a custom machine needs both hashrate_ths and power_w",
                field="hashrate_ths,power_w",
                value=(entry.get("hashrate_ths"), entry.get("power_w")),
            )
        return MinerModel.from_specs(
            model,
            hashrate_ths=_number(entry, "hashrate_ths", 0.0, where),
            power_w=_number(entry, "power_w", 0.0, where),
            source="fleet file",
        )
    return find_miner(model, catalog=catalog)


def parse_fleet(doc: Mapping[str, object], *, catalog: pd.DataFrame | None = None) -> tuple[FleetEntry, ...]:
    """Fleet entries from a parsed fleet document (the TOML layout in the module notes)."""
    cat = hardware_catalog() if catalog is None else catalog
    sites = doc.get("site")
    if not isinstance(sites, list) or not sites:
        raise EconomicsInputError("a fleet file needs one or more [[site]] tables")
    entries: list[FleetEntry] = []
    names: set[str] = set()
    for i, site in enumerate(sites, start=1):
        if not isinstance(site, dict):
            raise EconomicsInputError(f"site {i}: expected a [[site]] table", field=f"site.{i}", value=site)
        name = str(site.get("name") or f"site {i}")
        where = f"site {name!r}"
        if name in names:
            raise EconomicsInputError(
                f"{where} appears twice; give each site a distinct name", field="name", value=name
            )
        names.add(name)
        unknown = sorted(set(site) - _SITE_KEYS)
        if unknown:
            raise EconomicsInputError(
                f"{where}: unknown keys {unknown}; allowed: {sorted(_SITE_KEYS)}",
                field=",".join(unknown),
                value=unknown,
            )
        costs = _site_costs(site, where)
        miners = site.get("miner")
        if not isinstance(miners, list) or not miners:
            raise EconomicsInputError(
                f"{where}: needs one or more [[site.miner]] tables", field="miner", value=miners
            )
        for entry in miners:
            if not isinstance(entry, dict):
                raise EconomicsInputError(
                    f"{where}: expected [[site.miner]] tables", field="miner", value=entry
                )
            bad = sorted(set(entry) - _MINER_KEYS)
            if bad:
                raise EconomicsInputError(
                    f"{where}: unknown miner keys {bad}; allowed: {sorted(_MINER_KEYS)}",
                    field=",".join(bad),
                    value=bad,
                )
            count = entry.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise EconomicsInputError(
                    f"{where}: count must be a whole number >= 1, got {count!r}", field="count", value=count
                )
            entries.append(FleetEntry(name, _miner(entry, cat, where), count, costs))
    return tuple(entries)


def load_fleet(path: str | Path, *, catalog: pd.DataFrame | None = None) -> tuple[FleetEntry, ...]:
    """Fleet entries from a TOML fleet file (see the module notes for the layout)."""
    doc = read_toml(path, what="fleet file", error=EconomicsInputError)
    return parse_fleet(doc, catalog=catalog)
