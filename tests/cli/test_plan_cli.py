"""``hashwatt plan`` (the fleet planner) and ``hashwatt best`` through the CLI entry point, checked against the API."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from hashwatt.cli.main import main
from hashwatt.data import find_miner
from hashwatt.data._embedded import embedded_path
from hashwatt.data.prices import market_prices
from hashwatt.economics import (
    DAYS_PER_MONTH,
    CostModel,
    FlatPrice,
    NetworkState,
    best_for_budget,
    fleet_profit,
    fleet_sites,
    load_fleet,
    parse_fleet,
    profit,
)
from hashwatt.economics.errors import EconomicsInputError

TWO_SITES = """
[[site]]
name = "A"
power_price_usd_per_kwh = 0.05
pue = 1.1
uptime = 0.95
pool_fee = "2%"
staff_usd_per_month = 3000
maintenance_usd_per_month = 4

[[site.miner]]
model = "s21 xp"
count = 10

[[site.miner]]
model = "s19 xp"
count = 20

[[site]]
name = "B"
all_in_usd_per_kwh = 0.07
hosting_usd_per_kw_month = 5

[[site.miner]]
model = "MyRig"
hashrate_ths = 100
power_w = 2000
count = 3
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(TWO_SITES, encoding="utf-8")
    return path


def test_fleet_json_matches_per_machine_profit(capsys: pytest.CaptureFixture[str], fleet_file: Path) -> None:
    code, out, _ = run(capsys, "plan", str(fleet_file), "--json")
    assert code == 0
    data = json.loads(out)
    net = NetworkState.latest()
    assert net.date is not None and data["snapshot_date"] == net.date.isoformat()
    a_costs = CostModel(
        electricity=FlatPrice(0.05), pue=1.1, uptime=0.95, pool_fee=0.02, maintenance_usd_per_month=4
    )
    s21 = profit(find_miner("s21 xp"), count=10, costs=a_costs, network=net)
    s19 = profit(find_miner("s19 xp"), count=20, costs=a_costs, network=net)
    machines = {(m["site"], m["model"]): m for m in data["machines"]}
    for key, ref in ((("A", "Antminer S21 XP"), s21), (("A", "Antminer S19 XP"), s19)):
        row = machines[key]
        assert row["revenue_usd_per_day"] == pytest.approx(ref.revenue_usd_per_day)
        assert row["energy_cost_usd_per_day"] == pytest.approx(ref.energy_cost_usd_per_day)
        assert row["hashrate_ths"] == pytest.approx(ref.hashrate_ths)
    sites = {s["site"]: s for s in data["sites"]}
    # staff is charged once for site A, not once per model
    staff = 3000 / DAYS_PER_MONTH
    a = sites["A"]
    assert a["fixed_cost_usd_per_day"] == pytest.approx(
        s21.fixed_cost_usd_per_day + s19.fixed_cost_usd_per_day + staff
    )
    assert a["count"] == 30 and a["models"] == 2
    # custom machine at B: all-in 0.07 USD/kWh, no PUE; hosting 5 USD/kW/month on 6 kW
    b = sites["B"]
    assert b["energy_cost_usd_per_day"] == pytest.approx(6.0 * 24 * 0.07)
    assert b["fixed_cost_usd_per_day"] == pytest.approx(5 * 6.0 / DAYS_PER_MONTH)
    total = sites["TOTAL"]
    assert total["count"] == 33
    for key in ("hashrate_ths", "power_kw", "revenue_usd_per_day", "total_cost_usd_per_day"):
        assert total[key] == pytest.approx(a[key] + b[key])
    assert total["profit_usd_per_day"] == pytest.approx(
        total["revenue_usd_per_day"] - total["total_cost_usd_per_day"]
    )
    # cost per BTC is the BTC price at which the site breaks even
    assert a["cost_per_btc_usd"] * a["revenue_btc_per_day"] == pytest.approx(a["total_cost_usd_per_day"])
    code, out, _ = run(capsys, "plan", str(fleet_file))
    assert code == 0 and "TOTAL" in out and "S21 XP" in out and "2026-06-14" in out


def test_site_break_even_power_price_zeroes_profit(fleet_file: Path) -> None:
    entries = load_fleet(fleet_file)
    net = NetworkState.latest()
    site_a = fleet_sites(entries, network=net).set_index("site").loc["A"]
    be = float(site_a["break_even_power_price_usd_per_kwh"])
    at_be = [e for e in entries if e.site == "A"]
    repriced = [type(e)(e.site, e.miner, e.count, e.costs.with_power_price(be)) for e in at_be]
    assert float(fleet_profit(repriced, network=net).iloc[-1]["profit_usd_per_day"]) == pytest.approx(
        0.0, abs=1e-6
    )
    # break-even hashprice: scaling the network's reward to it zeroes profit too
    hp = float(site_a["break_even_hashprice_usd_per_ph_day"])
    scaled = net.replace(price_usd=net.price_usd * hp / net.hashprice_usd_per_ph_day)
    assert float(fleet_profit(at_be, network=scaled).iloc[-1]["profit_usd_per_day"]) == pytest.approx(
        0.0, abs=1e-6
    )


def test_fleet_example_ships_and_uses_the_ercot_market(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(capsys, "plan", "--example")
    assert code == 0
    doc = tomllib.loads(text)
    entries = parse_fleet(doc)
    assert len({e.site for e in entries}) >= 2 and len(entries) >= 3
    texas = next(s for s in doc["site"] if s.get("market") == "ERCOT:2023")
    entry = next(e for e in entries if e.site == texas["name"])
    ercot_mean_usd_per_kwh = (
        float(market_prices("ERCOT", 2023, fill="interpolate").price_usd_per_mwh.mean()) / 1000
    )
    r = profit(entry.miner, count=entry.count, costs=entry.costs)
    kwh = entry.miner.power_w / 1000 * 24 * texas["uptime"] * texas["pue"] * entry.count
    assert r.energy_cost_usd_per_day == pytest.approx(kwh * ercot_mean_usd_per_kwh)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (("pue = 1.1", "peu = 1.1"), "unknown keys"),
        (("all_in_usd_per_kwh = 0.07", 'market = "ERCOT:2023"\nall_in_usd_per_kwh = 0.07'), "exactly one"),
        (("count = 3", "count = 0"), "count"),
        (('model = "s19 xp"', 'model = "s99 ultra"'), "unknown miner model"),
        (("uptime = 0.95", "uptime = 1.5"), "uptime"),
        (('name = "B"', 'name = "A"'), "twice"),
        (("power_w = 2000", "power_w = -2000"), "negative"),
        (("[[site]]", "[[site"), "not valid TOML"),
    ],
)
def test_fleet_bad_files_give_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, edit: tuple[str, str], needle: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TWO_SITES.replace(*edit, 1), encoding="utf-8")
    code, _, err = run(capsys, "plan", str(path))
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_fleet_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "plan", str(tmp_path / "nope.toml"))
    assert code == 2 and "not found" in err
    code, _, err = run(capsys, "plan")
    assert code == 2 and "--example" in err


def test_best_ranks_priced_models(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["best", "--budget", "100000", "--power-price", "0.06", "--pool-fee", "1%"]
    prices = tmp_path / "prices.csv"
    prices.write_text("model,price_usd\ns19 xp,1800\n", encoding="utf-8")
    code, out, _ = run(capsys, *args, "--price", "s21 xp=5200", "--prices", str(prices), "--json")
    assert code == 0
    data = json.loads(out)
    options = {o["model"]: o for o in data["options"]}
    assert set(options) == {"Antminer S21 XP", "Antminer S19 XP"}
    costs = CostModel(electricity=FlatPrice(0.06), pool_fee=0.01)
    net = NetworkState.latest()
    for name, price in (("s21 xp", 5200.0), ("s19 xp", 1800.0)):
        miner = find_miner(name)
        units = math.floor(100000 / price)
        row = options[miner.model]
        assert row["units"] == units and row["spent_usd"] == pytest.approx(units * price)
        ref = profit(miner, count=units, costs=costs, network=net)
        assert row["profit_usd_per_day"] == pytest.approx(ref.profit_usd_per_day)
        assert row["payback_days"] == pytest.approx(units * price / ref.profit_usd_per_day)
    # ranked by NPV over the horizon (issue 15), the day-one order kept beside it
    assert data["ranked_by"] == "npv_usd" and data["horizon_days"] == round(4 * 365.25)
    assert data["best"]["model"] == max(options.values(), key=lambda o: o["npv_usd"])["model"]
    day_one = sorted(options.values(), key=lambda o: -o["profit_usd_per_day"])
    assert [o["rank_day_one"] for o in day_one] == [1, 2]
    code, out, _ = run(capsys, *args, "--price", "s21 xp=5200")
    assert code == 0 and "S21 XP" in out and "Best for $100,000.00 at 6.00 c/kWh" in out


def test_best_power_cap(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "best", "--budget", "1000000", "--price", "s21 xp=5200", "--max-power-kw", "100", "--json"
    )
    assert code == 0
    row = json.loads(out)["options"][0]
    miner = find_miner("s21 xp")
    assert row["units"] == math.floor(100_000 / miner.power_w) and row["limited_by"] == "power"
    assert row["power_kw"] <= 100
    api = best_for_budget(1_000_000, {"s21 xp": 5200.0}, max_power_kw=100)
    assert int(api.iloc[0]["units"]) == row["units"]


def test_best_refuses_without_prices(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "best", "--help")
    assert code == 0 and "--price" in out and "market prices" in out
    bad_csv = tmp_path / "p.csv"
    bad_csv.write_text("name,cost\nx,1\n", encoding="utf-8")
    for args, needle in [
        (("best", "--budget", "50000"), "no machine prices known"),
        (("best", "--budget", "50000", "--price", "s21 xp"), "MODEL=USD"),
        (("best", "--budget", "50000", "--price", "s21 xp=abc"), "number of USD"),
        (("best", "--budget", "50000", "--price", "s21 xp=-5"), "positive"),
        (("best", "--budget", "-1", "--price", "s21 xp=5000"), "budget"),
        (("best", "--budget", "1000", "--price", "s21 xp=5000"), "buys none"),
        (("best", "--budget", "50000", "--prices", str(bad_csv)), "model and price_usd"),
        (("best", "--budget", "50000", "--price", "s99 ultra=5000"), "unknown miner model"),
    ]:
        code, _, err = run(capsys, *args)
        assert code == 2, args
        assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(EconomicsInputError, match="no machine prices"):
        best_for_budget(10_000, {})


def test_catalog_additions_and_launch_price() -> None:
    m60s = find_miner("m60s")
    assert (m60s.model, m60s.hashrate_ths, m60s.power_w) == ("Whatsminer M60S", 186.0, 3441.0)
    assert m60s.efficiency_j_per_th == pytest.approx(18.5)
    assert m60s.source.startswith("https://") and m60s.price_usd is None
    s21 = find_miner("s21")
    assert s21.model == "Antminer S21" and s21.price_usd == pytest.approx(14 * 200)
    # every priced row cites its spec source; the price's own dated source is in the build note
    shipped = pd.read_csv(embedded_path("asic_miners_catalog.csv")).set_index("model")
    priced = shipped[shipped["price_usd"].notna()]
    assert "Antminer S21" in priced.index
    for note in priced["note"].tolist():
        assert re.search(r"launch price [\d.]+ USD as of \d{4}-\d{2}-\d{2}: https://", str(note))


def test_best_with_launch_prices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "best", "--budget", "50000", "--launch-prices", "--price", "s21 xp=5200", "--json"
    )
    assert code == 0
    options = {o["model"]: o for o in json.loads(out)["options"]}
    assert options["Antminer S21"]["unit_price_usd"] == pytest.approx(2800)
    assert options["Antminer S21"]["units"] == 50000 // 2800
    # your price beats the catalog's launch price for the same model
    code, out, _ = run(
        capsys, "best", "--budget", "50000", "--launch-prices", "--price", "s21=3000", "--json"
    )
    assert code == 0
    assert json.loads(out)["options"][0]["unit_price_usd"] == pytest.approx(3000)
