"""Issue 15 points 1, 2 and 4 at the edge: as-of on every report, overrides, payback lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run

STALE = "warning: shipped network data older than 30 days"


@pytest.mark.parametrize(
    "args",
    [
        ("profit", "s21 xp"),
        ("rank", "--top", "3"),
        ("hashprice",),
        ("best", "--budget", "20000", "--price", "s21 xp=5200"),
    ],
)
def test_every_report_prints_the_as_of_and_warns_when_stale(cli: Run, args: tuple[str, ...]) -> None:
    table = cli(*args)
    assert table.code == 0, table.err
    text = " ".join(table.out.split())  # table cells wrap at 80 columns
    assert "as of 2025-12-29" in text and "fees 2025-12-29" in text
    # one warning line on stderr naming the stale inputs
    warnings = [line for line in table.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and STALE in warnings[0] and "fees 2025-12-29" in warnings[0]
    js = cli(*args, "--json")
    assert js.code == 0
    as_of = json.loads(js.out)["as_of"]
    assert as_of["date"] == "2025-12-29" and as_of["age_days"] > 30
    assert as_of["inputs"]["difficulty"]["source"].startswith("retarget 953,568")


def test_overrides_replace_the_network_and_silence_the_warning(cli: Run, tmp_path: Path) -> None:
    r = cli(
        "profit",
        "s21 xp",
        "--difficulty",
        "150T",
        "--btc-price",
        "90000",
        "--fees-btc-per-block",
        "0.03",
        "--json",
    )
    assert r.code == 0 and "warning:" not in r.err
    data = json.loads(r.out)
    assert data["difficulty"] == pytest.approx(150e12) and data["price_usd"] == 90_000
    assert data["fees_btc_per_block"] == 0.03
    assert {v["source"] for v in data["as_of"]["inputs"].values()} == {"override"}
    # hashrate, fee share, hashprice and a network file
    r = cli("hashprice", "--hashrate-ehs", "1000", "--fee-share", "2%", "--btc-price", "100000", "--json")
    hp = json.loads(r.out)
    assert hp["difficulty"] * 2**32 / 600 == pytest.approx(1000e18)
    assert hp["fees_btc_per_block"] / (
        hp["fees_btc_per_block"] + hp["subsidy_btc_per_block"]
    ) == pytest.approx(0.02)
    r = cli("hashprice", "--hashprice", "45", "--json")
    assert json.loads(r.out)["hashprice_usd_per_ph_day"] == pytest.approx(45)
    net = tmp_path / "net.toml"
    net.write_text('difficulty = "140T"\nbtc_price_usd = 95000\nfees_btc_per_block = 0.02\n')
    r = cli("profit", "s21 xp", "--network", str(net), "--btc-price", "80000", "--json")
    data = json.loads(r.out)
    assert data["difficulty"] == pytest.approx(140e12) and data["price_usd"] == 80_000  # the flag wins
    assert "warning:" not in r.err


@pytest.mark.parametrize(
    "args",
    [
        ("--difficulty", "abc"),
        ("--difficulty", "1T", "--hashrate-ehs", "5"),
        ("--btc-price", "inf"),
        ("--fee-share", "1.5"),
        ("--date", "2026-03-01"),
    ],
)
def test_bad_network_inputs_exit_2_with_one_line(cli: Run, args: tuple[str, ...]) -> None:
    r = cli("profit", "s21 xp", *args)
    assert r.code == 2
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in r.err


def test_date_beyond_the_data_names_the_last_day(cli: Run) -> None:
    r = cli("hashprice", "--date", "2026-03-01")
    assert r.code == 2 and "the last shipped day is 2025-12-29" in r.err


def test_forecast_payback_lines(cli: Run) -> None:
    base = ("forecast", "s21 xp", "--years", "1", "--paths", "200", "--difficulty-growth", "20%")
    r = cli(*base, "--machine-price", "5200", "--json")
    data = json.loads(r.out)
    assert {"payback_days_median", "payback_days_median_if_paid", "probability_payback"} <= set(data)
    assert "payback_days_p50" not in data
    if data["probability_payback"] < 0.5:
        assert data["payback_days_median"] is None
    r = cli(*base)
    text = " ".join(r.out.split())
    assert r.code == 0 and "not applicable" in text and "100.0%" not in text
    assert json.loads(cli(*base, "--json").out)["probability_payback"] is None
    r = cli(*base, "--price-model", "bootstrap")
    text = " ".join(r.out.split())
    assert "bootstrap of daily log-returns" in text and "log drift" not in text
