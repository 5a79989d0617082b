"""Issue 15 points 7 and 9: pool fee and scheme shown, solo luck, sanity refusals and warnings."""

from __future__ import annotations

import json
import math

import pytest

from hashwatt.data import find_miner
from hashwatt.economics import CostModel, NetworkState, PoolScheme, profit
from hashwatt.economics.errors import EconomicsInputError
from tests.cli.conftest import Run


def test_pool_fee_and_scheme_in_profit_json_and_table(cli: Run) -> None:
    r = cli("profit", "s21 xp", "--pool-fee", "2%", "--scheme", "pps", "--json")
    data = json.loads(r.out)
    assert data["pool_scheme"] == "pps" and data["pool_fee"] == pytest.approx(0.02)
    assert 0 < data["network_share"] < 1e-5
    table = " ".join(cli("profit", "s21 xp", "--pool-fee", "2%").out.split())
    assert "FPPS, fee 2.00 %" in table and "share of network hashrate" in table


def test_solo_deducts_no_pool_fee_and_shows_its_luck(cli: Run) -> None:
    pooled = json.loads(cli("profit", "s21 xp", "--count", "10", "--scheme", "fpps", "--json").out)
    r = cli("profit", "s21 xp", "--count", "10", "--scheme", "solo", "--pool-fee", "2%", "--json")
    solo = json.loads(r.out)
    assert "--pool-fee 2.00% ignored" in r.err
    # same expected BTC as a fee-free FPPS pool: no pool fee deducted
    assert solo["revenue_btc_per_day"] == pytest.approx(pooled["revenue_btc_per_day"])
    assert solo["pool_fee"] == 0
    lam_day = 1 / solo["expected_days_per_block"]
    luck = {int(x["horizon_days"]): x for x in solo["luck"]}
    for days in (30, 365):
        assert luck[days]["probability_no_block"] == pytest.approx(math.exp(-lam_day * days))
        assert luck[days]["expected_btc"] == pytest.approx(solo["revenue_btc_per_day"] * days)
        assert luck[days]["p5_btc"] <= luck[days]["expected_btc"] <= luck[days]["p95_btc"] or (
            luck[days]["p95_btc"] == 0
        )
    # a smooth scheme has no luck section; a small PPLNS pool does
    assert pooled["luck"] is None
    small = json.loads(
        cli("profit", "s21 xp", "--scheme", "pplns", "--pool-hashrate-ehs", "0.5", "--json").out
    )["luck"]
    assert small[0]["expected_days_per_block"] == pytest.approx(
        solo["expected_days_per_block"] * 10 * 270 / 0.5e6, rel=1e-9
    )


def test_fleet_larger_than_the_network_is_refused_and_half_of_it_warned() -> None:
    net = NetworkState.latest()
    miner = find_miner("s21 xp")
    network_ths = net.difficulty * 2**32 / 600 / 1e12
    too_many = math.ceil(network_ths / miner.hashrate_ths * 1.01)
    with pytest.raises(EconomicsInputError, match="more than the whole network"):
        profit(miner, count=too_many, network=net)
    r = profit(miner, count=too_many // 2 + 10, network=net, costs=CostModel(pool_scheme=PoolScheme.FPPS))
    assert 0.5 < r.network_share < 0.52


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--count", "5000000"), "more than the whole network"),
        (("--count", "1e20"), "count"),
        (("--power-price", "1e308"), "beyond any real value"),
        (("--power-price", "inf"), "finite"),
        (("--scheme", "fpps", "--pool-hashrate-ehs", "1"), "pplns"),
    ],
)
def test_absurd_inputs_exit_2(cli: Run, args: tuple[str, ...], needle: str) -> None:
    r = cli("profit", "s21 xp", *args)
    assert r.code == 2 and needle in r.err and "Traceback" not in r.err


def test_half_the_network_warns(cli: Run) -> None:
    r = cli("profit", "s21 xp", "--count", "2500000", "--json")
    assert r.code == 0
    warnings = [line for line in r.err.splitlines() if "of the network's hashrate" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning:")


def test_a_machine_before_its_release_warns_in_a_backtest(cli: Run) -> None:
    r = cli("backtest", "whatsminer m3", "--bought", "2013-01-01", "--json")
    assert r.code == 0
    warnings = [line for line in r.err.splitlines() if line.startswith("warning:") and "released" in line]
    assert len(warnings) == 1 and "released 2018-05-01" in warnings[0]
    # 12 TH/s in January 2013 is also 54 % of that network: said too.
    assert any("of the network hashrate" in line for line in r.err.splitlines())
    later = cli("backtest", "whatsminer m3", "--bought", "2019-01-01", "--json")
    assert later.code == 0 and "released" not in later.err


def test_a_backtest_fleet_above_the_network_is_refused_and_half_of_it_warned(cli: Run) -> None:
    # An S21 (200 TH/s) in January 2012, when the whole network ran at about 8-10 TH/s.
    r = cli("backtest", "s21", "--bought", "2012-01-01")
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("error:") and "times the whole network on 2012-" in r.err
    # 600,000 S19 Pro = 66 EH/s: above half the network after the mid-2021 China ban (about 98 EH/s).
    big = cli("backtest", "s19 pro", "--bought", "2021-06-01", "--count", "600000", "--json")
    assert big.code == 0, big.err
    assert 0.5 < json.loads(big.out)["network_share_max"] < 1.0
    assert any(line.startswith("warning: the fleet reaches") for line in big.err.splitlines())


def test_an_undated_machine_warns_with_its_assumed_launch_month(cli: Run) -> None:
    # The S21 Pro's catalog row has no release date; the energy model's assumed month (2024-07)
    # is used and said to be an assumption. The S21's first shipments (2024-01) are cited.
    r = cli("backtest", "s21 pro", "--bought", "2024-01-01", "--json")
    assert r.code == 0
    warnings = [line for line in r.err.splitlines() if line.startswith("warning:") and "released" in line]
    assert len(warnings) == 1 and "2024-07-01" in warnings[0] and "assumed launch month" in warnings[0]
    cited = cli("backtest", "s21", "--bought", "2023-06-01", "--json")
    warnings = [line for line in cited.err.splitlines() if line.startswith("warning:") and "released" in line]
    assert len(warnings) == 1 and "2024-01-01" in warnings[0] and "assumed" not in warnings[0]
