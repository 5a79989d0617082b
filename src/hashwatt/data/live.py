"""Live network data from a mempool.space-compatible API, behind one interface, with a disk cache.

The embedded snapshot (:func:`hashwatt.data.network_snapshot`) stays the default; this
module is used only when asked (``hashwatt profit --live-url ...``). Endpoints (mempool.space
REST API, also served by self-hosted mempool instances):

* ``GET /api/blocks/tip/height`` -> plain integer
* ``GET /api/v1/mining/hashrate/3d`` -> ``{"currentDifficulty": ..., "currentHashrate": ...}``
* ``GET /api/v1/mining/blocks/fees/24h`` -> ``[{"avgHeight", "timestamp", "avgFees"}]`` (sat/block)
* ``GET /api/v1/prices`` -> ``{"time": unix, "USD": ...}``

Every read is bounded (size, timeout); failures are typed (:class:`LiveDataError`), never a
silent default. Responses are cached on disk as JSON for ``ttl_s``; a stale copy is used
only with ``allow_stale=True`` when the server cannot be reached.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from hashwatt._redact import redact_url
from hashwatt.chain import COIN, block_subsidy_sat, hashrate_from_difficulty
from hashwatt.data.history import NetworkSnapshot
from hashwatt.errors import DataError, DataInputError

__all__ = ["LiveDataError", "LiveSource", "MempoolSpaceSource", "live_snapshot"]

_MAX_BYTES = 1 << 20


class LiveDataError(DataError):
    """A live endpoint failed, timed out, answered too much, or answered nonsense."""


class LiveSource(Protocol):
    """What a live adapter provides (any backend: mempool.space, a node, a vendor API)."""

    def tip_height(self) -> int: ...

    def difficulty(self) -> float: ...

    def fees_btc_per_block(self) -> float: ...

    def price_usd(self) -> tuple[float, dt.datetime]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class MempoolSpaceSource:
    """mempool.space-style REST API at ``base_url`` (e.g. ``https://mempool.space``).

    cache_dir: where responses are kept (None: no cache); ttl_s: [s] freshness of a cached
    response; timeout_s: [s] per request; max_bytes: [B] largest accepted body.
    """

    base_url: str
    cache_dir: Path | None = None
    ttl_s: float = 300.0
    timeout_s: float = 10.0
    max_bytes: int = _MAX_BYTES
    allow_stale: bool = False

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise DataInputError(
                f"live URL must start with http:// or https://, got {redact_url(self.base_url)!r}",
                field="base_url",
                value=redact_url(self.base_url),
            )
        if self.ttl_s < 0 or self.timeout_s <= 0 or self.max_bytes <= 0:
            raise DataInputError("ttl must be >= 0; timeout and max_bytes must be positive")

    # ----------------------------------------------------------------- transport + cache

    def _cache_file(self, path: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256((self.base_url.rstrip("/") + path).encode()).hexdigest()[:32]
        return Path(self.cache_dir) / f"{key}.json"

    def _fetch(self, path: str) -> bytes:
        url = self.base_url.rstrip("/") + path
        shown = redact_url(url)
        req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "hashwatt"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                body: bytes = resp.read(self.max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise LiveDataError(f"{shown}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = str(getattr(exc, "reason", exc)).replace(url, shown)
            raise LiveDataError(f"{shown}: unreachable ({reason})") from None
        if len(body) > self.max_bytes:
            raise LiveDataError(f"{shown}: response larger than {self.max_bytes} bytes")
        return body

    def get_text(self, path: str) -> str:
        """Body of ``path`` (from the cache when fresh), decoded as UTF-8."""
        cache = self._cache_file(path)
        now = time.time()
        cached: dict[str, Any] | None = None
        if cache is not None and cache.is_file():
            try:
                cached = json.loads(cache.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                cached = None  # a corrupt cache entry is refetched
            if cached is not None and now - float(cached["fetched_at"]) <= self.ttl_s:
                return str(cached["body"])
        try:
            body = self._fetch(path).decode("utf-8")
        except LiveDataError:
            if cached is not None and self.allow_stale:
                return str(cached["body"])
            raise
        except UnicodeDecodeError as exc:
            raise LiveDataError(f"{path}: response is not UTF-8") from exc
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps({"fetched_at": now, "path": path, "body": body}), encoding="utf-8")
            tmp.replace(cache)
        return body

    def get_json(self, path: str) -> Any:
        text = self.get_text(path)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise LiveDataError(f"{path}: not JSON ({text[:60]!r})") from exc

    # ----------------------------------------------------------------- values

    def tip_height(self) -> int:
        text = self.get_text("/api/blocks/tip/height").strip()
        if not text.isdigit():
            raise LiveDataError(f"tip height is not an integer: {text[:40]!r}")
        return int(text)

    def difficulty(self) -> float:
        doc = self.get_json("/api/v1/mining/hashrate/3d")
        value = doc.get("currentDifficulty") if isinstance(doc, dict) else None
        if not isinstance(value, int | float) or value <= 0:
            raise LiveDataError("hashrate endpoint has no positive currentDifficulty")
        return float(value)

    def fees_btc_per_block(self) -> float:
        """Mean fees per block over the last 24 h [BTC] (mean of the endpoint's ``avgFees`` [sat])."""
        doc = self.get_json("/api/v1/mining/blocks/fees/24h")
        if not isinstance(doc, list) or not doc:
            raise LiveDataError("block fees endpoint returned no rows")
        raw = [row.get("avgFees") for row in doc if isinstance(row, dict)]
        if not raw or not all(isinstance(f, int | float) and f >= 0 for f in raw):
            raise LiveDataError("block fees rows need a non-negative avgFees")
        fees = [float(f) for f in raw if isinstance(f, int | float)]
        return sum(fees) / len(fees) / COIN

    def price_usd(self) -> tuple[float, dt.datetime]:
        doc = self.get_json("/api/v1/prices")
        price = doc.get("USD") if isinstance(doc, dict) else None
        stamp = doc.get("time") if isinstance(doc, dict) else None
        if not isinstance(price, int | float) or price <= 0 or not isinstance(stamp, int):
            raise LiveDataError("prices endpoint needs a positive USD and an integer time")
        return float(price), dt.datetime.fromtimestamp(stamp, tz=dt.UTC)


def live_snapshot(source: LiveSource) -> NetworkSnapshot:
    """A :class:`NetworkSnapshot` from a live source (date = the price's UTC day)."""
    height = source.tip_height()
    difficulty = source.difficulty()
    fees = source.fees_btc_per_block()
    price, when = source.price_usd()
    return NetworkSnapshot(
        date=when.date(),
        height=height,
        difficulty=difficulty,
        price_usd=price,
        fees_btc_per_block=fees,
        subsidy_btc_per_block=block_subsidy_sat(height + 1) / COIN,
        hashrate_ehs=hashrate_from_difficulty(difficulty) / 1e18,
        price_source="live",
        fees_source="live",
        difficulty_source="live",
    )
