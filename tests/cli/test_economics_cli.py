"""The economics commands: JSON output, files written, one-line typed errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hashwatt.cli.main import main
from hashwatt.economics import hashprice_history


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_profit_json_names_snapshot_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "profit", "s21 pro", "--count", "10", "--power-price", "0.05", "--pool-fee", "2%", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "Antminer S21 Pro" and data["count"] == 10
    # the package's one as-of: difficulty from the newest shipped retarget (953,568)
    assert data["snapshot_date"] == "2026-06-14"
    assert data["as_of"]["inputs"]["price"]["date"] == "2026-08-21"
    assert data["as_of"]["inputs"]["fees"]["date"] == "2025-12-29"
    assert data["hashrate_ths"] == pytest.approx(2340)
    assert data["profit_usd_per_day"] == pytest.approx(
        data["revenue_usd_per_day"] - data["total_cost_usd_per_day"]
    )
    # pool fee applied: revenue = hashprice x PH x 0.98
    assert data["revenue_usd_per_day"] == pytest.approx(data["hashprice_usd_per_ph_day"] * 2.34 * 0.98)
    code, out, _ = run(capsys, "profit", "s21 pro", "--count", "10")
    assert code == 0 and "2026-06-14" in out and "break-even" in out


def test_profit_custom_machine_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profit", "MyRig", "--hashrate-ths", "100", "--power-w", "2000", "--json")
    assert code == 0 and json.loads(out)["efficiency_j_per_th"] == pytest.approx(20)
    for args, needle in [
        (("profit", "s22 pro"), "did you mean"),
        (("profit", "s21", "--power-price", "-0.01"), "negative"),
        (("profit", "MyRig", "--hashrate-ths", "100", "--power-w", "-5"), "negative"),
        (("profit", "MyRig", "--hashrate-ths", "100", "--power-w", "5"), "physical range"),
        (("profit", "s21", "--uptime", "1.5"), "uptime"),
        (("profit", "s21", "--scheme", "ppx"), "--scheme"),
        (("profit", "s21", "--date", "2031-01-01"), "outside"),
        (("backtest", "s9", "--bought", "2005-01-01"), "outside"),
        (("backtest", "s9", "--bought", "yesterday"), "ISO date"),
    ]:
        code, out, err = run(capsys, *args)
        assert code == 2, args
        assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_rank_json_and_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = tmp_path / "rank.csv"
    code, out, _ = run(capsys, "rank", "--power-price", "0.06", "--json", "--csv", str(csv))
    assert code == 0
    models = json.loads(out)["models"]
    profits = [m["profit_usd_per_day"] for m in models]
    assert profits == sorted(profits, reverse=True)
    assert len(pd.read_csv(csv)) == len(models)


def test_forecast_small_run_with_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png, csv = tmp_path / "f.png", tmp_path / "f.csv"
    code, out, _ = run(
        capsys,
        "forecast",
        "s21 xp",
        "--years",
        "1",
        "--paths",
        "300",
        "--machine-price",
        "4000",
        "--difficulty-growth",
        "30%",
        "--plot",
        str(png),
        "--csv",
        str(csv),
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["paths"] == 300 and data["days"] == 365
    assert data["difficulty_growth_per_year"] == pytest.approx(0.3)
    lo, mid, hi = data["npv_usd"]
    assert lo <= mid <= hi
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bands = pd.read_csv(csv)
    assert len(bands) == 365 and "cumulative_profit_usd_p95" in bands.columns


def test_backtest_and_hashprice(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "b.png"
    code, out, _ = run(
        capsys,
        "backtest",
        "s19 pro",
        "--bought",
        "2021-01-01",
        "--machine-price",
        "10000",
        "--plot",
        str(png),
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["bought"] == "2021-01-01" and data["end"] == "2025-12-29"
    assert data["actual_payback_date"] is not None
    assert png.stat().st_size > 10_000
    code, out, _ = run(capsys, "hashprice", "--json")
    snap = json.loads(out)
    assert snap["date"] == "2026-06-14"
    code, out, _ = run(capsys, "hashprice", "--date", "2025-12-29", "--json")
    snap = json.loads(out)
    assert snap["date"] == "2025-12-29"
    assert snap["hashprice_usd_per_ph_day"] == pytest.approx(
        float(hashprice_history().iloc[-1]["hashprice_usd_per_ph_day"]), rel=1e-3
    )
    hcsv, hpng = tmp_path / "h.csv", tmp_path / "h.png"
    code, out, _ = run(capsys, "hashprice", "--history", "--csv", str(hcsv), "--plot", str(hpng))
    assert code == 0 and "2012" in out
    exported = pd.read_csv(hcsv, index_col=0, parse_dates=True)
    assert exported.index[0] <= pd.Timestamp("2012-01-01") and len(exported) == len(hashprice_history())
    assert hpng.stat().st_size > 10_000


def test_tariff_options_heatmap_and_tornado(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "profit", "s21 xp", "--tou", "14-20:0.20", "--power-price", "0.04", "--json")
    assert code == 0
    tou = json.loads(out)
    # 18 h at 4 c + 6 h at 20 c, 3.645 kW
    assert tou["energy_cost_usd_per_day"] == pytest.approx(3.645 * (18 * 0.04 + 6 * 0.20))
    code, out, _ = run(capsys, "profit", "s21 xp", "--market", "ERCOT:2023", "--json")
    assert code == 0
    from hashwatt.data.prices import market_prices

    mean_kwh = float(market_prices("ERCOT", 2023, fill="interpolate").price_usd_per_mwh.mean()) / 1000
    assert json.loads(out)["energy_cost_usd_per_day"] == pytest.approx(3.645 * 24 * mean_kwh)
    png = tmp_path / "hm.png"
    code, _, _ = run(capsys, "profit", "s21 xp", "--heatmap", str(png))
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(
        capsys,
        "forecast",
        "s21 xp",
        "--years",
        "1",
        "--paths",
        "200",
        "--tornado",
        "--machine-price",
        "4000",
        "--json",
    )
    assert code == 0
    params = [row["parameter"] for row in json.loads(out)["tornado"]]
    assert set(params) == {"power_price_usd_per_kwh", "btc_price_usd", "difficulty_growth_per_year", "uptime"}
    for bad in (("--tou", "25-30:0.1"), ("--tou", "abc"), ("--market", "MARS"), ("--market", "ERCOT:1999")):
        code, _, err = run(capsys, "profit", "s21 xp", *bad)
        assert code == 2 and "Traceback" not in err


def test_profit_finds_a_current_model_with_its_cited_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profit", "t21", "--count", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "Antminer T21"
    assert "github.com/Bautistagl/gridmine3" in data["source"]
    assert data["hashrate_ths"] == pytest.approx(2 * 190)
    assert data["efficiency_j_per_th"] == pytest.approx(3610 / 190, abs=1e-3)
