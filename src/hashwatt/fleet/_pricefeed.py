"""A live price feed for the agent: hourly USD/MWh prices fetched over HTTP as CSV or JSON.

The feed is whatever the operator's market data service publishes (a utility, an ISO
settlement-point export, an aggregator): ``GET URL`` answering either

* CSV: rows ``UTC hour start, USD/MWh``, as the ``--curtail-prices`` file; or
* JSON: a list (or ``{"prices": [...]}``) of objects with a time (``time``, ``utc_hour`` or
  ``hour_start``) and a price (``usd_per_mwh``, ``price_usd_per_mwh`` or ``price``).

The body is bounded, the request has a deadline, and a feed that fails keeps the last good
prices (one warning per failure); the policy then acts on what it knew, and with no price for
the hour it does nothing. The URL is shown redacted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd

from hashwatt._redact import redact_url
from hashwatt.fleet._curtail import hourly_series, parse_hourly_csv
from hashwatt.fleet.errors import PriceFeedError

__all__ = ["PriceFeed", "parse_price_json"]

log = logging.getLogger("hashwatt.fleet.pricefeed")

_TIME_KEYS = ("time", "utc_hour", "hour_start")
_PRICE_KEYS = ("usd_per_mwh", "price_usd_per_mwh", "price")


def _pick(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in row:
            return row[k]
    return None


def parse_price_json(body: Any, *, source: str) -> pd.Series:
    """Hourly prices from a decoded JSON feed (see the module docstring for the shapes)."""
    rows = body.get("prices") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise PriceFeedError(
            f"{source}: expected a list of prices or {{'prices': [...]}}",
            field="prices",
            value=type(rows).__name__,
            path=source,
        )
    times: list[pd.Timestamp] = []
    values: list[float] = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PriceFeedError(
                f"{source}: entry {n} is not an object", field=f"prices.{n}", value=row, path=source
            )
        when, price = _pick(row, _TIME_KEYS), _pick(row, _PRICE_KEYS)
        try:
            stamp = pd.Timestamp(when)
            value = float(price)
        except (TypeError, ValueError):
            raise PriceFeedError(
                f"{source}: entry {n} has no time ({'/'.join(_TIME_KEYS)}) and price",
                field=f"prices.{n}",
                value=row,
                path=source,
            ) from None
        if pd.isna(stamp) or not np.isfinite(value):
            raise PriceFeedError(
                f"{source}: entry {n}: the time and price must be finite",
                field=f"prices.{n}",
                value=row,
                path=source,
            )
        times.append(stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))
        values.append(value)
    return hourly_series(times, values, source=source, error=PriceFeedError)


@dataclass
class PriceFeed:
    """Hourly prices from ``url``, refetched at most every ``refresh_s`` seconds.

    timeout_s: [s] per request; max_bytes: [B] the largest body accepted.
    """

    url: str
    refresh_s: float = 300.0
    timeout_s: float = 10.0
    max_bytes: int = 1 << 20
    _series: pd.Series | None = field(default=None, repr=False)
    _fetched_at: float | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise PriceFeedError(
                f"a price feed URL starts with http:// or https://: {redact_url(self.url)}",
                field="url",
                value=redact_url(self.url),
            )
        if not (self.refresh_s > 0 and self.timeout_s > 0 and self.max_bytes > 0):
            raise PriceFeedError("refresh_s, timeout_s and max_bytes must be positive")

    @property
    def shown(self) -> str:
        return redact_url(self.url)

    async def fetch(self) -> pd.Series:
        """One request: the feed's prices, or a :class:`PriceFeedError` (URL redacted)."""
        try:
            headers = {"Accept": "text/csv, application/json"}
            async with (
                httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as client,
                client.stream("GET", self.url, headers=headers) as resp,
            ):
                if resp.status_code != 200:
                    raise PriceFeedError(
                        f"{self.shown}: HTTP {resp.status_code}", field="url", value=self.shown
                    )
                body = b""
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise PriceFeedError(
                            f"{self.shown}: more than {self.max_bytes} bytes", field="url", value=self.shown
                        )
                kind = resp.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            raise PriceFeedError(
                f"{self.shown}: {type(exc).__name__}", field="url", value=self.shown
            ) from None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PriceFeedError(
                f"{self.shown}: the body is not UTF-8", field="url", value=self.shown
            ) from None
        if "json" in kind or text.lstrip().startswith(("[", "{")):
            try:
                decoded = json.loads(text)
            except ValueError:
                raise PriceFeedError(f"{self.shown}: not valid JSON", field="url", value=self.shown) from None
            return parse_price_json(decoded, source=self.shown)
        return parse_hourly_csv(text, source=self.shown, error=PriceFeedError)

    async def prices(self) -> pd.Series | None:
        """The latest good prices, refetched when ``refresh_s`` has passed; a failed fetch keeps
        the last good series (None until one succeeds) and logs one warning."""
        now = time.monotonic()
        if self._fetched_at is not None and now - self._fetched_at < self.refresh_s:
            return self._series
        self._fetched_at = now
        try:
            self._series = await self.fetch()
        except PriceFeedError as exc:
            log.warning("price feed: %s (keeping the last good prices)", exc)
        return self._series
