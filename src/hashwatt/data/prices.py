"""Hourly electricity prices: the shipped ISO market-years and a validating CSV importer.

Time is UTC inside (each hour is labelled by its interval start). Local time appears only
where a file or a market needs it: naive local timestamps are placed on UTC with the file's
time zone, the repeated hour of a DST fall-back (the "fold") is resolved by order of
appearance or an explicit flag, and a wall time that does not exist (spring-forward) is
reported. Sub-hourly files (5, 15, 30 min) are validated at their own resolution and then
averaged to hours.

Nothing is filled silently: gaps, duplicates, unresolvable folds, non-existent local
times and missing values are collected as :class:`PriceIssue` values with the file's line
numbers (line 1 is the header) and raised together as :class:`PriceDataError`, unless
``fill=`` says how to repair them.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from hashwatt.data._embedded import embedded_path
from hashwatt.errors import DataError, DataInputError

__all__ = [
    "MARKETS",
    "FillMethod",
    "MarketInfo",
    "PriceDataError",
    "PriceIssue",
    "PriceSeries",
    "market_prices",
    "read_price_csv",
    "shipped_market_frame",
]

#: How to repair a price file: carry the last price forward, interpolate linearly in time,
#: or drop the affected intervals (the series then has holes).
FillMethod = Literal["ffill", "interpolate", "drop"]
FILL_METHODS: tuple[str, ...] = get_args(FillMethod)

IssueKind = Literal["gap", "duplicate", "dst_fold", "nonexistent_local_time", "missing_value", "off_grid"]

_SHIPPED_FILE = "us_iso_hourly_prices_2020_2024.csv.gz"
_LINE_OFFSET = 2  # data row 0 is on line 2 (line 1 is the header)
_ISSUES_IN_MESSAGE = 6


@dataclasses.dataclass(frozen=True, slots=True)
class MarketInfo:
    """One shipped market: node, market run and local time zone."""

    market: str
    node: str
    market_run: str
    timezone: str
    column: str


#: Markets in the shipped file (see ``data/files/SOURCES.md``).
MARKETS: dict[str, MarketInfo] = {
    "ERCOT": MarketInfo("ERCOT", "HB_HUBAVG", "DAM", "America/Chicago", "ercot_usd_per_mwh"),
    "CAISO": MarketInfo("CAISO", "TH_NP15_GEN-APND", "DAM", "America/Los_Angeles", "caiso_usd_per_mwh"),
    "PJM": MarketInfo("PJM", "DOM (zone)", "RT_HOURLY", "America/New_York", "pjm_usd_per_mwh"),
    "NYISO": MarketInfo("NYISO", "CAPITL (zone)", "DAM", "America/New_York", "nyiso_usd_per_mwh"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class PriceIssue:
    """One problem found in a price file, located by its line number(s) (1 = header)."""

    kind: IssueKind
    line: int
    timestamp: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line} ({self.timestamp}): {self.kind}: {self.detail}"


class PriceDataError(DataError):
    """A price file has gaps, duplicates, DST folds or missing values and no ``fill`` was given."""

    def __init__(self, source: str, issues: tuple[PriceIssue, ...]) -> None:
        self.source = source
        self.issues = issues
        shown = "; ".join(str(i) for i in issues[:_ISSUES_IN_MESSAGE])
        more = (
            f"; ... and {len(issues) - _ISSUES_IN_MESSAGE} more" if len(issues) > _ISSUES_IN_MESSAGE else ""
        )
        super().__init__(
            f"{source}: {len(issues)} problem(s): {shown}{more}. "
            f"Refusing to fill silently; choose fill= one of {', '.join(FILL_METHODS)} (CLI: --fill)"
        )


@dataclasses.dataclass(frozen=True, slots=True)
class PriceSeries:
    """An hourly price series on UTC interval starts, with what was found and repaired.

    ``price_usd_per_mwh`` is indexed by a tz-aware UTC ``DatetimeIndex`` of hour starts.
    ``issues`` lists what was repaired (empty when the file was clean); ``filled_intervals``
    counts the native-resolution intervals that were filled or dropped.
    """

    price_usd_per_mwh: pd.Series
    source: str
    timezone: str
    resolution_minutes: int
    issues: tuple[PriceIssue, ...] = ()
    fill: str | None = None
    filled_intervals: int = 0

    @property
    def hours(self) -> int:
        return len(self.price_usd_per_mwh)


# --------------------------------------------------------------------------- core validation


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%MZ")


def _localize(
    wall: pd.Series, lines: np.ndarray, tz: str, dst_flag: pd.Series | None
) -> tuple[pd.Series, list[PriceIssue], np.ndarray]:
    """Place naive local wall times on UTC; returns (utc, issues, rows_to_drop_if_filling)."""
    issues: list[PriceIssue] = []
    idx = pd.DatetimeIndex(wall)
    nonexist = np.asarray(
        idx.tz_localize(tz, ambiguous=np.ones(len(idx), dtype=bool), nonexistent="NaT").isna()
    )
    base = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    ambiguous = np.asarray(base.isna()) & ~nonexist
    is_dst = np.ones(len(idx), dtype=bool)
    bad = nonexist.copy()
    if ambiguous.any():
        amb_pos = np.flatnonzero(ambiguous)
        amb_wall = pd.Series(idx[amb_pos])
        if dst_flag is not None:
            # Flag = True marks the repeated (second, standard-time) hour, as ERCOT's
            # "Repeated Hour Flag" does.
            flags = dst_flag.to_numpy()[amb_pos].astype(bool)
            is_dst[amb_pos] = ~flags
        else:
            order = amb_wall.groupby(amb_wall).cumcount().to_numpy()
            count = amb_wall.groupby(amb_wall).transform("size").to_numpy()
            is_dst[amb_pos] = order == 0
            for k in np.flatnonzero(count != 2):
                pos = int(amb_pos[k])
                issues.append(
                    PriceIssue(
                        "dst_fold",
                        int(lines[pos]),
                        str(idx[pos]),
                        f"ambiguous local time appears {int(count[k])} time(s) in {tz} "
                        "(expected twice across the fall-back); cannot tell daylight from standard time",
                    )
                )
                bad[pos] = True
    for pos in np.flatnonzero(nonexist).tolist():
        issues.append(
            PriceIssue(
                "nonexistent_local_time",
                int(lines[pos]),
                str(idx[pos]),
                f"this wall time does not exist in {tz} (spring-forward hour)",
            )
        )
    utc = idx.tz_localize(tz, ambiguous=is_dst, nonexistent="NaT").tz_convert("UTC")
    return pd.Series(utc), issues, bad


def _validate_and_fill(
    ts_utc: pd.Series,
    price: np.ndarray,
    lines: np.ndarray,
    *,
    source: str,
    timezone: str,
    fill: FillMethod | None,
    pre_issues: list[PriceIssue],
    drop_rows: np.ndarray,
    expected_start: pd.Timestamp | None = None,
    expected_end: pd.Timestamp | None = None,
) -> PriceSeries:
    """Check one node's series on its native grid, repair it if asked, average to hours."""
    if fill is not None and fill not in FILL_METHODS:
        raise DataInputError(
            f"fill must be one of {', '.join(FILL_METHODS)}, got {fill!r}", field="fill", value=fill
        )
    issues = list(pre_issues)
    keep = ~drop_rows & ts_utc.notna().to_numpy()
    ts = pd.DatetimeIndex(ts_utc[keep]).as_unit("ns")
    values = price[keep]
    lns = lines[keep]
    order = np.argsort(ts.asi8, kind="stable")
    ts, values, lns = ts[order], values[order], lns[order]
    if len(ts) < 2 and expected_start is None:
        raise DataError(f"{source}: fewer than two usable rows")

    # Native resolution: the most common positive step; must divide an hour.
    steps = np.diff(ts.asi8) // 60_000_000_000 if len(ts) > 1 else np.array([60])
    positive = steps[steps > 0]
    step_min = int(pd.Series(positive).mode().iloc[0]) if len(positive) else 60
    if step_min not in (5, 10, 15, 20, 30, 60):
        raise DataError(f"{source}: interval of {step_min} min does not divide an hour")
    step = pd.Timedelta(minutes=step_min)

    off_grid = (ts.asi8 % step.value) != 0
    for pos in np.flatnonzero(off_grid).tolist():
        issues.append(
            PriceIssue("off_grid", int(lns[pos]), _fmt(ts[pos]), f"not on the {step_min}-minute grid")
        )
    dup = ts.duplicated(keep="first")
    if dup.any():
        first_line = pd.Series(lns, index=ts).groupby(level=0).first()
        for pos in np.flatnonzero(dup).tolist():
            issues.append(
                PriceIssue(
                    "duplicate",
                    int(lns[pos]),
                    _fmt(ts[pos]),
                    f"same interval as line {int(first_line[ts[pos]])}",
                )
            )
    for pos in np.flatnonzero(np.isnan(values)).tolist():
        issues.append(PriceIssue("missing_value", int(lns[pos]), _fmt(ts[pos]), "no price"))

    uniq = ~dup & ~off_grid
    ts_u, val_u, ln_u = ts[uniq], values[uniq], lns[uniq]
    start = expected_start if expected_start is not None else ts_u[0]
    end = expected_end if expected_end is not None else ts_u[-1] + step
    ts_u_inside = (ts_u >= start) & (ts_u < end)
    ts_u, val_u, ln_u = ts_u[ts_u_inside], val_u[ts_u_inside], ln_u[ts_u_inside]
    grid = pd.date_range(start, end, freq=step, inclusive="left").as_unit("ns")
    # Gaps: runs of grid points with no row, reported between the neighbouring lines.
    present = grid.isin(ts_u)
    if not present.all():
        missing = np.flatnonzero(~present)
        run_starts = missing[np.r_[True, np.diff(missing) > 1]]
        run_ends = missing[np.r_[np.diff(missing) > 1, True]]
        for a, b in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
            n = b - a + 1
            before = ts_u.searchsorted(grid[a]) - 1
            after = before + 1
            line_before = int(ln_u[before]) if before >= 0 else None
            line_after = int(ln_u[after]) if after < len(ln_u) else None
            where = (
                f"between line {line_before} and line {line_after}"
                if line_before is not None and line_after is not None
                else (f"after line {line_before}" if line_before is not None else f"before line {line_after}")
            )
            issues.append(
                PriceIssue(
                    "gap",
                    line_after if line_after is not None else (line_before or 0),
                    f"{_fmt(grid[a])}..{_fmt(grid[b])}",
                    f"{n} missing {step_min}-minute interval(s) {where}",
                )
            )
    issues.sort(key=lambda i: i.line)
    if issues and fill is None:
        raise PriceDataError(source, tuple(issues))

    series = pd.Series(val_u, index=ts_u, dtype=float).reindex(grid)
    n_missing = int(series.isna().sum())
    if fill == "ffill":
        series = series.ffill().bfill()
    elif fill == "interpolate":
        series = series.interpolate(method="time", limit_direction="both")
    elif fill == "drop":
        series = series.dropna()
    if series.isna().all() or series.empty:
        raise DataError(f"{source}: no usable prices")
    if step_min != 60:
        series = series.resample("1h").mean().dropna()
    series.index = pd.DatetimeIndex(series.index, name="timestamp_utc")
    series.name = "price_usd_per_mwh"
    return PriceSeries(
        price_usd_per_mwh=series,
        source=source,
        timezone=timezone,
        resolution_minutes=step_min,
        issues=tuple(issues),
        fill=fill,
        filled_intervals=n_missing,
    )


# --------------------------------------------------------------------------- CSV importer

_TIME_CANDIDATES = (
    "timestamp_utc",
    "interval_start_utc",
    "interval_start_gmt",
    "timestamp",
    "interval_start",
    "interval_start_local",
    "timestamp_local",
    "datetime",
    "time",
)
_PRICE_CANDIDATES = (
    "price_usd_per_mwh",
    "settlement_point_price",
    "lmp",
    "total_lmp",
    "lbmp",
    "price",
    "spp",
)
_NODE_CANDIDATES = ("node", "settlement_point", "settlement_point_name", "location", "zone", "pnode_name")
_DST_FLAG_CANDIDATES = ("repeated_hour_flag", "dstflag", "dst_flag")
_OFFSET_RE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def _norm(name: str) -> str:
    """``Delivery Date``, ``DeliveryDate`` and ``delivery_date`` all become ``delivery_date``."""
    split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", split.lower()).strip("_")


def _pick(columns: dict[str, str], wanted: str | None, candidates: tuple[str, ...], what: str) -> str | None:
    if wanted is not None:
        if wanted in columns.values():
            return wanted
        if _norm(wanted) in columns:
            return columns[_norm(wanted)]
        raise DataInputError(
            f"no {what} column {wanted!r}; columns are {', '.join(columns.values())}",
            field=f"{what}_column",
            value=wanted,
        )
    for cand in candidates:
        if cand in columns:
            return columns[cand]
    return None


def read_price_csv(
    path: str | Path,
    *,
    time_column: str | None = None,
    price_column: str | None = None,
    tz: str | None = None,
    node: str | None = None,
    node_column: str | None = None,
    fill: FillMethod | None = None,
) -> PriceSeries:
    """Read an ISO-style price CSV into an hourly UTC series, refusing bad rows unless ``fill``.

    Accepts timestamps with a UTC offset (``2021-02-15T06:00:00Z``, ``...-06:00``) or naive
    local wall times plus ``tz`` (``America/Chicago``), and ERCOT-style exports with
    ``Delivery Date`` + ``Hour Ending`` (``01:00`` .. ``24:00``, optional ``Delivery
    Interval`` 1-4 and ``Repeated Hour Flag``). Columns are found by name when not given;
    a long file with several nodes needs ``node``. Prices in [USD/MWh].
    """
    path = Path(path)
    source = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as exc:
        raise DataInputError(
            f"price file not found: {path}", field="path", value=str(path), path=str(path)
        ) from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{source}: not a readable CSV ({exc})") from exc
    if raw.empty:
        raise DataError(f"{source}: no data rows")
    columns = {_norm(c): c for c in raw.columns}
    lines = np.arange(len(raw)) + _LINE_OFFSET

    node_col = _pick(columns, node_column, _NODE_CANDIDATES, "node")
    if node_col is not None:
        nodes = raw[node_col].unique().tolist()
        if node is None and len(nodes) > 1:
            raise DataInputError(
                f"{source} holds {len(nodes)} nodes ({', '.join(map(str, nodes[:8]))}); pass node=",
                field="node",
                value=None,
                path=source,
            )
        if node is not None:
            mask = (raw[node_col] == node).to_numpy()
            if not mask.any():
                raise DataInputError(
                    f"{source}: node {node!r} not found; nodes: {', '.join(map(str, nodes[:8]))}",
                    field="node",
                    value=node,
                    path=source,
                )
            raw, lines = raw[mask].reset_index(drop=True), lines[mask]
    elif node is not None:
        raise DataInputError(
            f"{source}: no node column to select {node!r} from", field="node", value=node, path=source
        )

    price_col = _pick(columns, price_column, _PRICE_CANDIDATES, "price")
    if price_col is None:
        raise DataInputError(
            f"{source}: no price column found; pass price_column= (columns: {', '.join(raw.columns)})",
            field="price_column",
            value=price_column,
            path=source,
        )
    price = pd.to_numeric(raw[price_col].str.replace(",", "", regex=False), errors="coerce").to_numpy(
        dtype=float
    )

    flag_col = _pick(columns, None, _DST_FLAG_CANDIDATES, "DST flag")
    dst_flag = raw[flag_col].str.strip().str.upper().isin(["Y", "YES", "TRUE", "1"]) if flag_col else None

    pre: list[PriceIssue] = []
    drop_rows = np.zeros(len(raw), dtype=bool)
    if (
        time_column is None
        and "delivery_date" in columns
        and ("hour_ending" in columns or "delivery_hour" in columns)
    ):
        hour_col = columns.get("hour_ending") or columns["delivery_hour"]
        if tz is None:
            raise DataInputError(
                f"{source}: ERCOT-style Delivery Date/Hour Ending are local times; pass tz=",
                field="tz",
                value=tz,
                path=source,
            )
        hour = pd.to_numeric(raw[hour_col].str.split(":").str[0], errors="coerce")
        interval_col = columns.get("delivery_interval")
        minutes = (
            (pd.to_numeric(raw[interval_col], errors="coerce") - 1) * 15
            if interval_col
            else pd.Series(0, index=raw.index)
        )
        date = pd.to_datetime(raw[columns["delivery_date"]], errors="coerce")
        wall = pd.Series(date + pd.to_timedelta(hour - 1, unit="h") + pd.to_timedelta(minutes, unit="m"))
        ts_utc, pre, drop_rows = _localize(wall, lines, tz, dst_flag)
    else:
        time_col = _pick(columns, time_column, _TIME_CANDIDATES, "time")
        if time_col is None:
            raise DataInputError(
                f"{source}: no time column found; pass time_column= (columns: {', '.join(raw.columns)})",
                field="time_column",
                value=time_column,
                path=source,
            )
        text = raw[time_col].str.strip()
        first = text.iloc[0]
        if _OFFSET_RE.search(first):
            parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
            ts_utc = pd.Series(parsed)
        else:
            if tz is None:
                raise DataInputError(
                    f"{source}: column {time_col!r} has no UTC offset (e.g. {first!r}); pass tz= (e.g. America/Chicago)",
                    field="tz",
                    value=tz,
                    path=source,
                )
            wall = pd.Series(pd.to_datetime(text, format="ISO8601", errors="coerce"))
            ts_utc, pre, drop_rows = _localize(wall, lines, tz, dst_flag)
        bad_time = ts_utc.isna().to_numpy() & ~drop_rows
        for pos in np.flatnonzero(bad_time):
            raise DataError(f"{source}: line {int(lines[pos])}: unreadable timestamp {text.iloc[pos]!r}")
    return _validate_and_fill(
        ts_utc,
        price,
        lines,
        source=source,
        timezone=tz or "UTC",
        fill=fill,
        pre_issues=pre,
        drop_rows=drop_rows,
    )


# --------------------------------------------------------------------------- shipped markets


@lru_cache(maxsize=1)
def _shipped_cached() -> pd.DataFrame:
    frame = pd.read_csv(embedded_path(_SHIPPED_FILE))
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("timestamp_utc"), utc=True), name="timestamp_utc")
    return frame


def shipped_market_frame() -> pd.DataFrame:
    """All four shipped markets, one column per market [USD/MWh], UTC hour starts, NaN where absent."""
    return _shipped_cached().copy()


def market_prices(market: str, year: int, *, fill: FillMethod | None = None) -> PriceSeries:
    """The shipped hourly prices of ``market`` for local calendar ``year`` (2020-2024).

    The year is the market's local year (ERCOT: America/Chicago), so it has 8,760 or 8,784
    hours (one 23-h and one 25-h day). PJM lacks Dec 31 in 2020-2023: that gap is reported
    unless ``fill`` is given.
    """
    key = market.strip().upper()
    if key not in MARKETS:
        raise DataInputError(
            f"unknown market {market!r}; shipped: {', '.join(MARKETS)}", field="market", value=market
        )
    if not 2020 <= year <= 2024:
        raise DataInputError(f"shipped prices cover 2020-2024, not {year}", field="year", value=year)
    info = MARKETS[key]
    frame = _shipped_cached()
    start = pd.Timestamp(f"{year}-01-01", tz=info.timezone).tz_convert("UTC")
    end = pd.Timestamp(f"{year + 1}-01-01", tz=info.timezone).tz_convert("UTC")
    col = frame[info.column]
    lines = np.arange(len(frame)) + _LINE_OFFSET
    sel = ((frame.index >= start) & (frame.index < end)) & col.notna().to_numpy()
    return _validate_and_fill(
        pd.Series(frame.index[sel]),
        col.to_numpy()[sel],
        lines[sel],
        source=f"{info.market} {info.node} {info.market_run} {year} (shipped {_SHIPPED_FILE})",
        timezone=info.timezone,
        fill=fill,
        pre_issues=[],
        drop_rows=np.zeros(int(sel.sum()), dtype=bool),
        expected_start=start,
        expected_end=end,
    )
