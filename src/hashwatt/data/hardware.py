"""The ASIC hardware catalog: real published specs, one source per row, fuzzy lookup.

The shipped catalog (``files/asic_miners_catalog.csv``) merges F2Pool's 2020 device list,
the asics-tools wattage table (2022) and newer models with a cited web page per row; see
``files/SOURCES.md``. Users extend it with their own CSV or TOML file (same columns).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hashwatt._toml import read_toml
from hashwatt.data._embedded import embedded_path
from hashwatt.errors import DataError, DataInputError

__all__ = [
    "CATALOG_COLUMNS",
    "MAX_EFFICIENCY_J_PER_TH",
    "MIN_EFFICIENCY_J_PER_TH",
    "AmbiguousMinerError",
    "MinerLookup",
    "MinerModel",
    "UnknownMinerError",
    "find_miner",
    "hardware_catalog",
    "load_catalog_file",
    "lookup_miner",
]

_CATALOG_FILE = "asic_miners_catalog.csv"

#: Physical plausibility bounds for SHA-256 ASIC efficiency [J/TH]. The best shipping
#: machines are above 10 J/TH (2025); anything below 1 J/TH is a units mistake. The upper
#: bound admits the first ASICs (Avalon batch 1, 2013: roughly 10 kJ/TH) and hobby boards.
MIN_EFFICIENCY_J_PER_TH = 1.0
MAX_EFFICIENCY_J_PER_TH = 20_000.0

CATALOG_COLUMNS = (
    "model",
    "maker",
    "algorithm",
    "hashrate_ths",
    "power_w",
    "efficiency_j_per_th",
    "release_date",
    "price_usd",
    "source",
)


class UnknownMinerError(DataInputError):
    """No catalog model matches the query; ``suggestions`` holds the closest names."""

    def __init__(self, query: str, suggestions: tuple[str, ...]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown miner model {query!r}{hint} (see `hashwatt rank` for the catalog)",
            field="model",
            value=query,
        )


class AmbiguousMinerError(DataInputError):
    """The query matches several different models (not just bins of one); ``models`` lists them."""

    def __init__(self, query: str, models: tuple[str, ...]) -> None:
        self.query = query
        self.models = models
        super().__init__(
            f"{query!r} matches several models: {', '.join(models)}; name one of them",
            field="model",
            value=query,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class MinerLookup:
    """What a name resolved to: the model, and the other bins when a default bin was chosen."""

    miner: MinerModel
    other_bins: tuple[str, ...] = ()

    @property
    def note(self) -> str | None:
        """One line saying which bin was picked and which others exist, or None."""
        if not self.other_bins:
            return None
        return (
            f"{self.miner.model} picked, the highest hashrate bin (the default); "
            f"other bins: {', '.join(self.other_bins)} (name one to choose it)"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class MinerModel:
    """One machine's nameplate specs, as published by the cited source."""

    model: str
    maker: str
    algorithm: str
    hashrate_ths: float
    power_w: float
    efficiency_j_per_th: float
    release_date: dt.date | None
    price_usd: float | None
    source: str

    def __post_init__(self) -> None:
        validate_specs(self.hashrate_ths, self.power_w, where=self.model)
        if self.price_usd is not None and not self.price_usd >= 0:
            raise DataInputError(
                f"{self.model}: price must be >= 0 USD, got {self.price_usd}",
                field="price_usd",
                value=self.price_usd,
            )

    @classmethod
    def from_specs(
        cls,
        model: str,
        *,
        hashrate_ths: float,
        power_w: float,
        maker: str = "custom",
        algorithm: str = "SHA-256",
        release_date: dt.date | None = None,
        price_usd: float | None = None,
        source: str = "user input",
    ) -> MinerModel:
        """A model from hashrate [TH/s] and power [W]; efficiency is derived [J/TH]."""
        validate_specs(hashrate_ths, power_w, where=model)
        return cls(
            model=model,
            maker=maker,
            algorithm=algorithm,
            hashrate_ths=float(hashrate_ths),
            power_w=float(power_w),
            efficiency_j_per_th=float(power_w) / float(hashrate_ths),
            release_date=release_date,
            price_usd=price_usd,
            source=source,
        )


def validate_specs(hashrate_ths: float, power_w: float, *, where: str = "miner") -> None:
    """Reject non-physical specs with a :class:`DataInputError` that says which and why."""
    if not (isinstance(hashrate_ths, int | float) and math.isfinite(hashrate_ths) and hashrate_ths > 0):
        raise DataInputError(
            f"{where}: hashrate must be a positive number of TH/s, got {hashrate_ths}",
            field="hashrate_ths",
            value=hashrate_ths,
        )
    if not (isinstance(power_w, int | float) and math.isfinite(power_w)):
        raise DataInputError(
            f"{where}: power must be a number of W, got {power_w}", field="power_w", value=power_w
        )
    if power_w < 0:
        raise DataInputError(
            f"{where}: power cannot be negative, got {power_w} W", field="power_w", value=power_w
        )
    if power_w == 0:
        raise DataInputError(f"{where}: power must be > 0 W", field="power_w", value=power_w)
    eff = power_w / hashrate_ths
    if not MIN_EFFICIENCY_J_PER_TH <= eff <= MAX_EFFICIENCY_J_PER_TH:
        raise DataInputError(
            f"{where}: efficiency {eff:.3g} J/TH is outside the physical range "
            f"[{MIN_EFFICIENCY_J_PER_TH:g}, {MAX_EFFICIENCY_J_PER_TH:g}] J/TH "
            "(check the units: hashrate in TH/s, power in W)",
            field="hashrate_ths,power_w",
            value=(hashrate_ths, power_w),
        )


def _to_date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise DataError(f"release_date {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _frame_from_records(records: list[dict[str, object]], origin: str) -> pd.DataFrame:
    rows = []
    for i, rec in enumerate(records):
        try:
            name = str(rec["model"]).strip()
            hashrate = float(str(rec["hashrate_ths"]))
            power = float(str(rec["power_w"]))
        except (KeyError, ValueError) as exc:
            raise DataError(f"{origin}: row {i + 1} needs model, hashrate_ths and power_w ({exc})") from exc
        price = rec.get("price_usd")
        price_f = None if price is None or str(price) in ("", "nan") else float(str(price))
        miner = MinerModel.from_specs(
            name,
            hashrate_ths=hashrate,
            power_w=power,
            maker=str(rec.get("maker") or "custom"),
            algorithm=str(rec.get("algorithm") or "SHA-256"),
            release_date=_to_date(rec.get("release_date")),
            price_usd=price_f,
            source=str(rec.get("source") or origin),
        )
        rows.append(dataclasses.asdict(miner))
    return pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))


def load_catalog_file(path: str | Path) -> pd.DataFrame:
    """A user catalog: CSV with the catalog columns, or TOML with ``[[miner]]`` tables.

    Required per row: ``model``, ``hashrate_ths`` [TH/s], ``power_w`` [W]; optional:
    ``maker``, ``algorithm``, ``release_date`` (ISO), ``price_usd``, ``source``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataInputError(f"catalog file not found: {path}", field="path", value=str(path), path=str(path))
    if path.suffix.lower() == ".toml":
        doc = read_toml(path, what="catalog file", error=DataError)
        miners = doc.get("miner", [])
        if not isinstance(miners, list) or not miners:
            raise DataError(f"{path}: expected one or more [[miner]] tables")
        return _frame_from_records([dict(m) for m in miners], str(path))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    records = [{str(k): v for k, v in rec.items()} for rec in raw.to_dict(orient="records")]
    return _frame_from_records(records, str(path))


@lru_cache(maxsize=1)
def _shipped() -> pd.DataFrame:
    frame = pd.read_csv(embedded_path(_CATALOG_FILE))
    frame["release_date"] = [_to_date(v) for v in frame["release_date"].tolist()]
    frame["price_usd"] = [None if pd.isna(v) else float(v) for v in frame["price_usd"].tolist()]
    return frame[list(CATALOG_COLUMNS)]


def hardware_catalog(extra: Iterable[str | Path] = ()) -> pd.DataFrame:
    """The catalog, one row per model (a hashrate bin is its own row, e.g. "S19j Pro (104T)").

    Columns: model, maker, algorithm, hashrate_ths [TH/s], power_w [W],
    efficiency_j_per_th [J/TH], release_date (date or None), price_usd (None when no
    launch price was published), source (URL or repository citation). Rows of ``extra``
    files replace shipped rows with the same model name.
    """
    frame = _shipped().copy()
    for path in extra:
        user = load_catalog_file(path)
        frame = pd.concat([frame[~frame["model"].isin(user["model"])], user], ignore_index=True)
    return frame.reset_index(drop=True)


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_.,/]+", "", text.lower())


_BIN_RE = re.compile(r"\s*\((\d+(?:\.\d+)?)T\)\s*$")
_BRANDS = ("antminer", "whatsminer", "avalonminer", "avalon", "innosilicon", "ebit", "hummer miner")


def _keys(model: str) -> tuple[set[str], set[str]]:
    """(exact keys, base keys without the hashrate bin) for a catalog name."""
    base = _BIN_RE.sub("", model)
    exact = {_norm(model)}
    bases = {_norm(base)}
    low = model.lower()
    for brand in _BRANDS:
        if low.startswith(brand + " "):
            exact.add(_norm(model[len(brand) :]))
            bases.add(_norm(base[len(brand) :]))
    return exact, bases


def _row_to_model(row: dict[str, object]) -> MinerModel:
    price = row["price_usd"]
    return MinerModel(
        model=str(row["model"]),
        maker=str(row["maker"]),
        algorithm=str(row["algorithm"]),
        hashrate_ths=float(str(row["hashrate_ths"])),
        power_w=float(str(row["power_w"])),
        efficiency_j_per_th=float(str(row["efficiency_j_per_th"])),
        release_date=_to_date(row["release_date"]),
        price_usd=None if price is None or str(price) == "nan" else float(str(price)),
        source=str(row["source"]),
    )


def find_miner(query: str, *, catalog: pd.DataFrame | None = None) -> MinerModel:
    """Look a model up by a forgiving name: "s21 pro" finds "Antminer S21 Pro".

    Case, spaces, dashes and the brand word are ignored. A name without a hashrate bin
    ("s19j pro") picks the model's highest bin (the documented default; :func:`lookup_miner`
    also returns the other bins). A name that matches different models raises
    :class:`AmbiguousMinerError`; unknown names raise :class:`UnknownMinerError` with the
    closest catalog names as suggestions.
    """
    return lookup_miner(query, catalog=catalog).miner


def lookup_miner(query: str, *, catalog: pd.DataFrame | None = None) -> MinerLookup:
    """:func:`find_miner` with the bins it did not pick (see :class:`MinerLookup`)."""
    if not query or not query.strip():
        raise DataInputError("miner model name is empty")
    frame = hardware_catalog() if catalog is None else catalog
    records = [{str(k): v for k, v in rec.items()} for rec in frame.to_dict(orient="records")]
    q = _norm(query)
    q_bin = _BIN_RE.search(query)
    exact_hits: list[dict[str, object]] = []
    base_hits: list[dict[str, object]] = []
    for rec in records:
        exact, bases = _keys(str(rec["model"]))
        if q in exact:
            exact_hits.append(rec)
        elif q in bases and q_bin is None:
            base_hits.append(rec)
    hits = exact_hits or base_hits
    if hits:
        models = sorted({_BIN_RE.sub("", str(r["model"])).strip() for r in hits})
        if len(models) > 1:
            raise AmbiguousMinerError(query, tuple(models))
        best = max(hits, key=lambda r: float(str(r["hashrate_ths"])))
        others = tuple(
            str(r["model"])
            for r in sorted(hits, key=lambda r: float(str(r["hashrate_ths"])))
            if r is not best
        )
        return MinerLookup(_row_to_model(best), others)
    names = [str(r["model"]) for r in records]
    by_norm: dict[str, str] = {}
    for name in names:
        for key in _keys(name)[0]:
            by_norm.setdefault(key, name)
    close = difflib.get_close_matches(q, list(by_norm), n=8, cutoff=0.5)
    suggestions: list[str] = []
    for key in close:
        if by_norm[key] not in suggestions:
            suggestions.append(by_norm[key])
    # Also suggest names that contain the query as a substring ("s21" -> every S21).
    for key, name in by_norm.items():
        if len(q) >= 2 and q in key and name not in suggestions:
            suggestions.append(name)
    raise UnknownMinerError(query, tuple(suggestions[:5]))
