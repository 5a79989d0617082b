"""Price import: time zones, DST, 15-min aggregation, and refusal with line numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hashwatt.data.prices import (
    MARKETS,
    PriceDataError,
    market_prices,
    read_price_csv,
    shipped_market_frame,
)
from hashwatt.errors import DataError, InputError

EXCERPT = Path(__file__).parent.parent / "data" / "energy" / "iso_prices_excerpt.csv"


def _line_of(path: Path, needle: str) -> int:
    """1-based line number of the first line containing ``needle`` (independent of the importer)."""
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(needle)


def _ercot_rows(month: str) -> list[dict[str, str]]:
    """ERCOT rows of the excerpt for one window: local month "03" (spring) or "11" (fall)."""
    with EXCERPT.open() as fh:
        return [
            r for r in csv.DictReader(fh) if r["market"] == "ERCOT" and r["timestamp_local"][5:7] == month
        ]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_shipped_market_years_have_local_calendar_hours() -> None:
    for market in ("ERCOT", "CAISO", "NYISO"):
        for year in range(2020, 2025):
            s = market_prices(market, year).price_usd_per_mwh
            leap = year % 4 == 0
            assert len(s) == (8784 if leap else 8760)
            assert s.index.is_monotonic_increasing and s.index.is_unique
            local = s.index.tz_convert(MARKETS[market].timezone)
            assert local[0].year == year and local[0].hour == 0
            assert local[-1].year == year and local[-1].hour == 23


def test_uri_is_in_ercot_2021_and_annual_means_match_sources() -> None:
    s = market_prices("ERCOT", 2021).price_usd_per_mwh
    peak_time = s.idxmax().tz_convert("America/Chicago")
    assert s.max() == pytest.approx(8995.26)
    assert (peak_time.month, peak_time.day) == (2, 17)
    # Annual means listed in shared/data/SOURCES.md (ERCOT DAM 2021: 145.6 USD/MWh).
    assert round(float(s.mean()), 1) == 145.6


def test_pjm_real_dec31_gap_is_refused_with_line_numbers() -> None:
    frame = shipped_market_frame()
    with pytest.raises(PriceDataError) as info:
        market_prices("PJM", 2021)
    err = info.value
    gaps = [i for i in err.issues if i.kind == "gap"]
    assert len(gaps) == 1
    assert "24 missing" in gaps[0].detail
    # The last PJM row of 2021 (Dec 30 23:00 EST) is the line the gap follows.
    last_row = frame.index.get_loc(pd.Timestamp("2021-12-31T04:00Z")) + 2
    assert gaps[0].line == last_row
    assert f"line {last_row}" in str(err)
    assert "--fill" in str(err)


def test_pjm_gap_filled_only_when_asked() -> None:
    ffilled = market_prices("PJM", 2021, fill="ffill")
    dropped = market_prices("PJM", 2021, fill="drop")
    assert ffilled.hours == 8760 and dropped.hours == 8760 - 24
    assert ffilled.filled_intervals == 24
    last = ffilled.price_usd_per_mwh
    dec31 = last[last.index.tz_convert("America/New_York").day_of_year == 365]
    assert (dec31 == last.loc["2021-12-31T04:00Z"]).all()


def test_importer_reads_long_file_with_node_selection_and_reports_pjm_gap(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nodes"):
        read_price_csv(EXCERPT)
    with pytest.raises(PriceDataError) as info:
        read_price_csv(EXCERPT, node="DOM (zone)")
    gap = info.value.issues[0]
    assert gap.kind == "gap"
    assert gap.line == _line_of(EXCERPT, "2021-01-01T05:00:00Z")  # first row after the hole
    assert f"line {_line_of(EXCERPT, '2020-12-31T04:00:00Z')}" in gap.detail
    filled = read_price_csv(EXCERPT, node="DOM (zone)", fill="interpolate")
    assert filled.hours == 96 + 24
    hole = filled.price_usd_per_mwh.loc["2020-12-31T05:00Z":"2021-01-01T04:00Z"]
    lo, hi = sorted((18.100276, 27.030912))
    assert ((hole > lo) & (hole < hi)).all()
    assert hole.is_monotonic_increasing


def _naive(rows: list[dict[str, str]]) -> list[list[str]]:
    return [[r["timestamp_local"][:19], r["price_usd_per_mwh"]] for r in rows]


@pytest.mark.parametrize("month", ["03", "11"])
def test_naive_local_times_round_trip_across_dst(tmp_path: Path, month: str) -> None:
    rows = _ercot_rows(month)
    path = _write(tmp_path / "naive.csv", ["Interval Start Local", "LMP"], _naive(rows))
    with pytest.raises(InputError, match="tz="):
        read_price_csv(path)
    good = read_price_csv(path, tz="America/Chicago")
    expected = pd.DatetimeIndex(pd.to_datetime([r["timestamp_utc"] for r in rows], utc=True))
    assert good.issues == ()
    assert len(good.price_usd_per_mwh) == (71 if month == "03" else 73)
    assert list(good.price_usd_per_mwh.index) == list(expected)


def test_dst_fold_and_spring_gap_reported(tmp_path: Path) -> None:
    naive = _naive(_ercot_rows("11"))
    # Drop the second 01:00 of 2021-11-07: the fold can no longer be resolved.
    folds = [i for i, r in enumerate(naive) if r[0] == "2021-11-07T01:00:00"]
    assert len(folds) == 2
    broken = naive[: folds[1]] + naive[folds[1] + 1 :]
    path2 = _write(tmp_path / "fold.csv", ["Interval Start Local", "LMP"], broken)
    with pytest.raises(PriceDataError) as info:
        read_price_csv(path2, tz="America/Chicago")
    kinds = {i.kind: i for i in info.value.issues}
    assert kinds["dst_fold"].line == folds[0] + 2
    assert "gap" in kinds
    # A spring-forward wall time that cannot exist.
    march = _naive(_ercot_rows("03"))
    good = read_price_csv(
        _write(tmp_path / "m.csv", ["Interval Start Local", "LMP"], march), tz="America/Chicago"
    )
    spring = [*march]
    at = next(i for i, r in enumerate(march) if r[0] == "2021-03-14T03:00:00")
    spring.insert(at, ["2021-03-14T02:00:00", "10.0"])
    path3 = _write(tmp_path / "spring.csv", ["Interval Start Local", "LMP"], spring)
    with pytest.raises(PriceDataError) as info3:
        read_price_csv(path3, tz="America/Chicago")
    assert [(i.kind, i.line) for i in info3.value.issues] == [("nonexistent_local_time", at + 2)]
    repaired = read_price_csv(path3, tz="America/Chicago", fill="drop")
    assert repaired.hours == good.hours


def test_duplicates_reported_with_both_lines(tmp_path: Path) -> None:
    rows = [[r["timestamp_utc"], r["price_usd_per_mwh"]] for r in _ercot_rows("11")[:30]]
    rows.insert(10, rows[9])
    path = _write(tmp_path / "dup.csv", ["timestamp_utc", "price_usd_per_mwh"], rows)
    with pytest.raises(PriceDataError) as info:
        read_price_csv(path)
    (dup,) = info.value.issues
    assert (dup.kind, dup.line) == ("duplicate", 12)
    assert "line 11" in dup.detail
    assert read_price_csv(path, fill="ffill").hours == 30


def test_fifteen_minute_file_is_averaged_to_hours_and_gaps_found(tmp_path: Path) -> None:
    rows = _ercot_rows("03")[:48]
    quarter: list[list[str]] = []
    rng = np.random.default_rng(5)
    expected = []
    for r in rows:
        start = pd.Timestamp(r["timestamp_utc"])
        offsets = rng.normal(0, 3, 4)
        offsets -= offsets.mean()
        base = float(r["price_usd_per_mwh"])
        expected.append(base)
        for q in range(4):
            ts = start + pd.Timedelta(minutes=15 * q)
            quarter.append([ts.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{base + offsets[q]:.6f}"])
    path = _write(tmp_path / "q.csv", ["interval_start_utc", "price"], quarter)
    got = read_price_csv(path)
    assert got.resolution_minutes == 15
    assert got.hours == 48
    np.testing.assert_allclose(got.price_usd_per_mwh.to_numpy(), expected, atol=1e-5)
    del quarter[21]
    path2 = _write(tmp_path / "q2.csv", ["interval_start_utc", "price"], quarter)
    with pytest.raises(PriceDataError) as info:
        read_price_csv(path2)
    (gap,) = info.value.issues
    assert gap.kind == "gap" and gap.line == 23 and "1 missing 15-minute" in gap.detail


def test_ercot_style_hour_ending_with_repeated_hour_flag(tmp_path: Path) -> None:
    rows = _ercot_rows("11")
    out = []
    for r in rows:
        local = pd.Timestamp(r["timestamp_local"])
        ending = local.hour + 1
        repeated = (
            "Y"
            if r["timestamp_local"].startswith("2021-11-07T01")
            and local.utcoffset() == pd.Timedelta(hours=-6)
            else "N"
        )
        out.append(
            [local.strftime("%m/%d/%Y"), f"{ending:02d}:00", repeated, "HB_HUBAVG", r["price_usd_per_mwh"]]
        )
    path = _write(
        tmp_path / "ercot.csv",
        ["Delivery Date", "Hour Ending", "Repeated Hour Flag", "Settlement Point", "Settlement Point Price"],
        out,
    )
    got = read_price_csv(path, tz="America/Chicago")
    expected = pd.DatetimeIndex(pd.to_datetime([r["timestamp_utc"] for r in rows], utc=True))
    assert list(got.price_usd_per_mwh.index) == list(expected)
    np.testing.assert_allclose(
        got.price_usd_per_mwh.to_numpy(), [float(r["price_usd_per_mwh"]) for r in rows]
    )


def test_bad_inputs_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_price_csv(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="unknown market"):
        market_prices("MISO", 2021)
    with pytest.raises(InputError):
        market_prices("ERCOT", 2019)
    bad = _write(
        tmp_path / "bad.csv", ["timestamp_utc", "price"], [["2021-01-01T00:00Z", "1"], ["yesterday", "2"]]
    )
    with pytest.raises(DataError, match="line 3"):
        read_price_csv(bad)
    with pytest.raises(InputError, match="fill"):
        market_prices("PJM", 2021, fill="zero")  # type: ignore[arg-type]


def test_ercot_style_fifteen_minute_intervals_across_fall_back(tmp_path: Path) -> None:
    rows = _ercot_rows("11")
    out = []
    for r in rows:
        local = pd.Timestamp(r["timestamp_local"])
        repeated = (
            "Y" if local.hour == 1 and local.utcoffset() == pd.Timedelta(hours=-6) and local.day == 7 else "N"
        )
        for interval in range(1, 5):
            price = float(r["price_usd_per_mwh"]) + (interval - 2.5)  # quarter-hours average to the hour
            out.append(
                [
                    local.strftime("%m/%d/%Y"),
                    str(local.hour + 1),
                    str(interval),
                    repeated,
                    "HB_HUBAVG",
                    f"{price:.2f}",
                ]
            )
    header = [
        "DeliveryDate",
        "DeliveryHour",
        "DeliveryInterval",
        "DSTFlag",
        "SettlementPointName",
        "SettlementPointPrice",
    ]
    path = _write(tmp_path / "rt.csv", header, out)
    got = read_price_csv(path, tz="America/Chicago", price_column="SettlementPointPrice")
    assert got.resolution_minutes == 15
    expected = pd.DatetimeIndex(pd.to_datetime([r["timestamp_utc"] for r in rows], utc=True))
    assert list(got.price_usd_per_mwh.index) == list(expected)
    np.testing.assert_allclose(
        got.price_usd_per_mwh.to_numpy(), [float(r["price_usd_per_mwh"]) for r in rows], atol=1e-9
    )
