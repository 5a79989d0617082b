"""The text forms people type for economic inputs, parsed once for every edge (CLI, web).

A time-of-use string (``"14-20:0.20,20-22:0.10"``), a fraction or percentage (``"30%"``),
a USD amount (``"$5,200"``) and a unit-price list (``MODEL=USD`` items or a CSV) become
typed values here, so that the CLI only parses flags and prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from hashwatt.economics._costs import CostModel, FlatPrice, PowerPrice, TimeOfUse
from hashwatt.economics._fleet_file import market_power_price
from hashwatt.economics._pools import PoolScheme, parse_pool_fee
from hashwatt.economics.errors import EconomicsInputError

__all__ = [
    "cost_model",
    "parse_fraction",
    "parse_tou_periods",
    "parse_usd",
    "power_price",
    "read_unit_prices",
]


def parse_fraction(text: str) -> float:
    """``"30%"`` -> 0.30, ``"0.3"`` -> 0.30: a rate given either way."""
    stripped = text.strip()
    try:
        return float(stripped[:-1]) / 100 if stripped.endswith("%") else float(stripped)
    except ValueError as exc:
        raise EconomicsInputError(
            f"expected a fraction or a percentage, got {text!r}", field="fraction", value=text
        ) from exc


def parse_tou_periods(text: str) -> list[tuple[int, int, float]]:
    """``"14-20:0.20,20-22:0.10"`` -> ``[(14, 20, 0.20), (20, 22, 0.10)]`` [h, h, USD/kWh]."""
    periods = []
    for part in text.split(","):
        try:
            hours, price = part.split(":")
            start, end = hours.split("-")
            periods.append((int(start), int(end), float(price)))
        except ValueError as exc:
            raise EconomicsInputError(
                f"--tou period must look like 14-20:0.20, got {part!r}", field="tou", value=part
            ) from exc
    return periods


def power_price(usd_per_kwh: float, *, market: str | None = None, tou: str | None = None) -> PowerPrice:
    """The electricity price model: a flat price, a shipped market's hours, or TOU periods over it."""
    if market is not None and tou is not None:
        raise EconomicsInputError("--market and --tou exclude each other")
    if market is not None:
        return market_power_price(market)
    if tou is not None:
        return TimeOfUse.from_periods(parse_tou_periods(tou), base_usd_per_kwh=usd_per_kwh)
    return FlatPrice(usd_per_kwh)


def cost_model(
    *,
    power_price_usd_per_kwh: float,
    hosting_usd_per_kw_month: float = 0.0,
    all_in_usd_per_kwh: float | None = None,
    pue: float = 1.0,
    uptime: float = 1.0,
    pool_fee: str = "0%",
    pool_scheme: PoolScheme = PoolScheme.FPPS,
    market: str | None = None,
    tou: str | None = None,
) -> CostModel:
    """A :class:`CostModel` from the options a user gives (pool fee as ``"2%"`` or ``"0.02"``)."""
    return CostModel(
        electricity=power_price(power_price_usd_per_kwh, market=market, tou=tou),
        hosting_usd_per_kw_month=hosting_usd_per_kw_month,
        all_in_usd_per_kwh=all_in_usd_per_kwh,
        pue=pue,
        uptime=uptime,
        pool_fee=parse_pool_fee(pool_fee),
        pool_scheme=pool_scheme,
    )


def parse_usd(text: str, where: str) -> float:
    """``"$5,200"`` -> 5200.0 [USD]; ``where`` names the value in the error."""
    try:
        return float(text.strip().lstrip("$").replace(",", ""))
    except ValueError as exc:
        raise EconomicsInputError(
            f"{where}: price must be a number of USD, got {text!r}", field="price", value=text
        ) from exc


def read_unit_prices(items: Iterable[str] = (), prices_file: Path | None = None) -> dict[str, float]:
    """Unit prices by (fuzzy) model name [USD] from a CSV (model,price_usd) and ``MODEL=USD`` items.

    Items win over the file: they are what the user typed last.
    """
    out: dict[str, float] = {}
    if prices_file is not None:
        if not prices_file.is_file():
            raise EconomicsInputError(
                f"prices file not found: {prices_file}",
                field="prices_file",
                value=str(prices_file),
                path=str(prices_file),
            )
        try:
            frame = pd.read_csv(prices_file, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise EconomicsInputError(
                f"{prices_file}: not a readable CSV ({exc})",
                field="prices_file",
                value=str(prices_file),
                path=str(prices_file),
            ) from exc
        cols = {str(c).strip().lower(): str(c) for c in frame.columns}
        price_col = cols.get("price_usd") or cols.get("price")
        if "model" not in cols or price_col is None:
            raise EconomicsInputError(
                f"{prices_file}: needs columns model and price_usd",
                field="model,price_usd",
                value=list(cols),
                path=str(prices_file),
            )
        for model, text in zip(frame[cols["model"]].tolist(), frame[price_col].tolist(), strict=True):
            out[str(model).strip()] = parse_usd(str(text), f"{prices_file}: {model}")
    for item in items:
        model, sep, text = item.rpartition("=")
        if not sep or not model.strip():
            raise EconomicsInputError(f"--price wants MODEL=USD, got {item!r}", field="price", value=item)
        out[model.strip()] = parse_usd(text, model.strip())
    return out
