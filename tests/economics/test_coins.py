"""Every PoW coin: shipped history, the difficulty conventions, merged mining and the ranking.

Expected values are computed here by hand from the rows of the shipped CSVs, quoted in the
comments (``src/hashwatt/data/files/*_daily_coinmetrics_*.csv.gz``, identical to
``shared/data/multicoin``), never from the code under test. Rows used (2020-07-27):

    ltc:  block_count 597,  difficulty_mean 9306159.704097454,  issuance 7462.5,
          fees 14.58307759,  price_usd 53.6072351240462
    doge: block_count 1370, difficulty_mean 4000910.311924725,  issuance 13700000.0,
          fees 79150.18681285, price_usd 0.00316414996655188
    etc:  block_count 6753, difficulty_mean 68578242796429.06,  issuance 21645.4,
          fees 8.189098585139388165, price_usd 7.14612596125355
    xmr:  block_count 692,  difficulty_mean 177954754757.8526,  issuance 1057.714328579205,
          fees 3.665902535,  price_usd 78.7560340245978
    zec:  block_count 1150, difficulty_mean 53273742.96248008,  issuance 7187.5
    dash: block_count 551,  issuance 1589.483475

Hardware rows (``files/alt_algo_hardware.csv``): Antminer L9 15 GH/s at 3150-3360 W (the upper end
is used); GeForce RTX 3080 Etchash 97.878 MH/s at 224 W, RandomX 1539.5 H/s at 234 W.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import statistics
from pathlib import Path

import pytest

from hashwatt.chain import HASHES_PER_DIFFICULTY, BlockHeader, bits_to_target, difficulty_from_bits
from hashwatt.data import embedded_path
from hashwatt.data.coins import (
    COIN_HISTORY_FILES,
    ETH_LAST_POW_BLOCK,
    AlgoRate,
    MiningAlgorithm,
    coin_daily_history,
    lookup_algo_machine,
    parse_hashrate_hs,
)
from hashwatt.economics import Capex, CostModel, FlatPrice, dash_masternode_share
from hashwatt.economics._coins import (
    CoinOverrides,
    coin_profit,
    coin_spec,
    coin_state,
    load_coin_data,
    parse_coin_set,
    rank_coins,
)
from hashwatt.economics.errors import EconomicsInputError
from hashwatt.errors import DataInputError
from tests.chain._fixtures import csv_rows

DAY_S = 86_400
L9_HS = 15e9
L9_W = 3360.0
#: LTC revenue of one L9 on 2020-07-27 [USD/day]: blocks/day x (subsidy + fees/block) x price
#: = 86,400 x 15e9 / (9306159.70 x 2**32) = 0.032425 blocks x 12.524427 LTC x $53.6072 = $21.770
LTC_USD = DAY_S * L9_HS / (9306159.704097454 * 2**32) * (12.5 + 14.58307759 / 597) * 53.6072351240462
#: DOGE: 86,400 x 15e9 / (4000910.31 x 2**32) = 0.075420 blocks x 10,057.77 DOGE x $0.0031641 = $2.4002
DOGE_USD = (
    DAY_S * L9_HS / (4000910.311924725 * 2**32) * (10_000 + 79150.18681285 / 1370) * 0.00316414996655188
)
#: 3.36 kW x 24 h x $0.05/kWh
L9_ENERGY_USD = 3.36 * 24 * 0.05


def test_hand_values_are_what_the_comments_say() -> None:
    ltc, doge, energy = LTC_USD, DOGE_USD, L9_ENERGY_USD
    assert ltc == pytest.approx(21.770, abs=5e-3)
    assert doge == pytest.approx(2.4002, abs=5e-4)
    assert energy == pytest.approx(4.032)


# -- data ---------------------------------------------------------------------------------------


def test_shipped_history_ends_in_2020_07_and_eth_at_the_merge() -> None:
    for ticker in ("ltc", "doge", "bch", "etc", "xmr", "zec", "dash"):
        assert coin_daily_history(ticker).index[-1] == dt.datetime(2020, 7, 27)
    eth = coin_daily_history("eth")
    # the 2022-09-15 row mixes PoW and PoS blocks: PoW history ends the day before
    assert eth.index[-1] == dt.datetime(2022, 9, 14)
    assert ETH_LAST_POW_BLOCK == 15_537_393
    with pytest.raises(DataInputError, match="rvn"):
        coin_daily_history("rvn")


def test_ltc_height_from_cumulative_block_counts_meets_the_halvings() -> None:
    """LTC halved at 840,000 (2015-08-25) and 1,680,000 (2019-08-05): those days' cumulative counts
    straddle them, and the schedule in ChainParams gives the days' subsidies."""
    hist = coin_daily_history("ltc")
    assert hist.loc["2015-08-24", "height"] < 840_000 <= hist.loc["2015-08-25", "height"]
    assert hist.loc["2019-08-04", "height"] < 1_680_000 <= hist.loc["2019-08-05", "height"]
    assert coin_state("ltc", day=dt.date(2019, 8, 4)).subsidy_coin_per_block == 25.0
    assert coin_state("ltc", day=dt.date(2019, 8, 6)).subsidy_coin_per_block == 12.5


def test_bch_heights_put_every_shipped_header_on_its_own_day() -> None:
    """BCH's file counts blocks from the fork day: with the blocks before it added, each of the
    78 real headers (height, timestamp) falls inside its UTC day's heights, and the 630,000
    halving (2020-04-08) changes the schedule's subsidy between the right days."""
    height = coin_daily_history("bch")["height"]
    rows = csv_rows("bch_headers_every2016.csv")
    assert len(rows) == 78
    for row in rows:
        header = BlockHeader.from_bytes(bytes.fromhex(row["header_hex"]))
        day = dt.datetime.fromtimestamp(header.time, dt.UTC).date()
        last_of_day = int(height.loc[str(day)])
        last_of_previous_day = int(height.loc[str(day - dt.timedelta(days=1))])
        assert last_of_previous_day < int(row["height"]) <= last_of_day, row["height"]
    assert int(height.loc["2020-04-07"]) < 630_000 <= int(height.loc["2020-04-08"])
    assert coin_state("bch", day=dt.date(2020, 4, 7)).subsidy_coin_per_block == 12.5
    assert coin_state("bch", day=dt.date(2020, 4, 9)).subsidy_coin_per_block == 6.25
    # Today's difficulty and price given: the subsidy follows the schedule past BCH's 2024 halving
    # (840,000), at the height projected from 2020-07-27 (645,806) at 144 blocks a day.
    today = coin_state(
        "bch", overrides=CoinOverrides(difficulty=5e11, price_usd_per_coin=400.0), today=dt.date(2026, 11, 30)
    )
    assert today.height == 645_806 + (dt.date(2026, 11, 30) - dt.date(2020, 7, 27)).days * 144
    assert today.subsidy_coin_per_block == 3.125


def test_scrypt_network_difficulty_is_bitcoins_convention_2_32_hashes_each() -> None:
    """The LTC genesis bits 0x1e0ffff0 are difficulty 65535 / (0x0ffff0 x 256) = 0.000244 (no 65,536
    factor), every shipped LTC header needs 2**256 / target = D x 2**32 hashes (to 2**16/0xffff - 1
    = 1.5e-5, the same rounding as Bitcoin's), and Coin Metrics' daily mean difficulty is on that
    scale (the header difficulty on a header's day over the day's mean is about 1, not 65,536)."""
    assert difficulty_from_bits(0x1E0FFFF0) == pytest.approx(65535 / (0x0FFFF0 * 256), rel=1e-12)
    daily = coin_daily_history("ltc")["difficulty"]
    by_day = {ts.date(): d for ts, d in daily.items() if d > 0}
    ratios = []
    for row in csv_rows("ltc_headers_retarget_pairs.csv"):
        header = BlockHeader.from_bytes(bytes.fromhex(row["header_hex"]))
        hashes = 2**256 / (bits_to_target(header.bits) + 1)
        assert hashes / (difficulty_from_bits(header.bits) * HASHES_PER_DIFFICULTY) == pytest.approx(
            1, abs=2e-5
        )
        day = dt.datetime.fromtimestamp(header.time, dt.UTC).date()
        if day in by_day:
            ratios.append(difficulty_from_bits(header.bits) / by_day[day])
    assert len(ratios) > 500
    assert statistics.median(ratios) == pytest.approx(1.0, abs=0.02)
    assert coin_spec("ltc").hashes_per_difficulty == coin_spec("doge").hashes_per_difficulty == 2**32


def test_states_from_the_csv_rows() -> None:
    ltc = coin_state("ltc")
    assert ltc.date == dt.date(2020, 7, 27)
    assert ltc.subsidy_coin_per_block == 7462.5 / 597 == 12.5  # the schedule agrees with the issuance
    assert ltc.fees_coin_per_block == pytest.approx(14.58307759 / 597)
    assert coin_state("doge").subsidy_coin_per_block == 13_700_000 / 1370 == 10_000
    # ZEC: miners get 80 % of 7187.5 / 1150 = 6.25 ZEC per block
    assert coin_state("zec").subsidy_coin_per_block == pytest.approx(0.8 * 7187.5 / 1150)
    # DASH: half of 1589.483475 / 551 and of the fees 1.16985451 / 551 (masternodes take 50 % of
    # the block value from height 313,521 until the reallocation; the day's height is 1,311,510)
    dash = coin_state("dash")
    assert dash.height is not None and 313_521 <= dash.height < 1_379_128
    assert dash.subsidy_coin_per_block == pytest.approx(0.5 * 1589.483475 / 551)
    assert dash.fees_coin_per_block == pytest.approx(0.5 * 1.16985451 / 551)


def test_dash_masternode_share_follows_dash_cores_schedule() -> None:
    # Heights and shares from Dash Core's GetMasternodePayment (its comments give the mainnet
    # heights): 20 %, then +5 % past 158,000, 175,280 and 192,560, +2.5 % past 209,840, 227,120,
    # 244,400, 261,680, 278,960 and 313,520 (none at 296,240); reallocation from the superblock
    # cycle after BRRHeight 1,374,912: 16,616 * 83 = 1,379,128, then 51.3 %, 52.6 %, ... each
    # 3 * 16,616 = 49,848 blocks; V20 (1,987,776): 75 % of the block value.
    share = dash_masternode_share
    expected = {
        1: 0.20,
        158_000: 0.20,
        158_001: 0.25,
        175_281: 0.30,
        192_561: 0.35,
        209_841: 0.375,
        278_961: 0.475,
        296_241: 0.475,
        313_520: 0.475,
        313_521: 0.50,
        1_379_127: 0.50,
        1_379_128: 0.513,
        1_379_128 + 49_848: 0.526,
        1_379_128 + 12 * 49_848: 0.585,
        1_987_775: 0.585,
        1_987_776: 0.75,
        3_000_000: 0.75,
    }
    for height, mn in expected.items():
        assert share(height) == pytest.approx(mn), height


def test_dash_miners_kept_more_before_the_masternode_increases() -> None:
    # 2014-06-01: block_count 551, issuance 2773.0, fees 2.82557983; height 78,552 < 158,000, so
    # masternodes took 20 % and the miner 80 %.
    early = coin_state("dash", day=dt.date(2014, 6, 1))
    assert early.height is not None and early.height <= 158_000
    assert early.subsidy_coin_per_block == pytest.approx(0.8 * 2773.0 / 551)
    assert early.fees_coin_per_block == pytest.approx(0.8 * 2.82557983 / 551)
    # 2015-01-01: block_count 548, issuance 2962.0; height past 192,560 and before 209,841: 35 %.
    later = coin_state("dash", day=dt.date(2015, 1, 1))
    assert later.height is not None and 192_561 <= later.height < 209_841
    assert later.subsidy_coin_per_block == pytest.approx(0.65 * 2962.0 / 548)


def test_hashrate_units() -> None:
    assert parse_hashrate_hs("15GH/s") == 15e9
    assert parse_hashrate_hs("24.5 MH/s") == 24.5e6
    assert parse_hashrate_hs("300 kSol/s") == 300e3
    assert parse_hashrate_hs("1539.5") == 1539.5
    for bad in ("fast", "-3G", "0", "15 GW"):
        with pytest.raises(DataInputError):
            parse_hashrate_hs(bad)


def test_machines_from_the_rows_and_the_sha256_catalog() -> None:
    l9 = lookup_algo_machine("l9")
    rate = l9.rate(MiningAlgorithm.SCRYPT)
    assert rate is not None and rate.hashrate_hs == L9_HS and rate.power_w == L9_W
    assert "astera.ru" in rate.source
    rtx = lookup_algo_machine("rtx 3080")
    assert {r.algorithm for r in rtx.rates} == {"etchash", "kawpow", "autolykos2", "randomx"}
    s21 = lookup_algo_machine("s21 xp")
    assert [r.algorithm for r in s21.rates] == [MiningAlgorithm.SHA256D]
    with pytest.raises(DataInputError, match="several"):
        lookup_algo_machine("radeon vii")
    with pytest.raises(DataInputError, match="unknown"):
        lookup_algo_machine("antminer l99")


# -- merged mining ------------------------------------------------------------------------------


def test_l9_on_ltc_plus_doge_matches_the_hand_values() -> None:
    r = coin_profit(lookup_algo_machine("l9"), "ltc+doge", costs=CostModel(electricity=FlatPrice(0.05)))
    assert r.coins == ("LTC", "DOGE")
    by = {x.ticker: x for x in r.revenues}
    assert by["LTC"].revenue_usd_per_day == pytest.approx(LTC_USD, rel=1e-12)
    assert by["DOGE"].revenue_usd_per_day == pytest.approx(DOGE_USD, rel=1e-12)
    # merged: the same hashes earn both coins in full
    assert r.revenue_usd_per_day == pytest.approx(LTC_USD + DOGE_USD, rel=1e-12)
    assert r.energy_cost_usd_per_day == pytest.approx(L9_ENERGY_USD)
    assert r.profit_usd_per_day == pytest.approx(LTC_USD + DOGE_USD - L9_ENERGY_USD, rel=1e-12)  # ~ $20.14
    # break-even power price: revenue / (3.36 kW x 24 h) = $24.17 / 80.64 kWh ~ 29.97 c/kWh
    assert r.break_even_power_price_usd_per_kwh == pytest.approx((LTC_USD + DOGE_USD) / 80.64, rel=1e-12)
    assert r.break_even_price_fraction == pytest.approx(L9_ENERGY_USD / (LTC_USD + DOGE_USD), rel=1e-12)


def test_payback_pool_fee_and_count() -> None:
    costs = CostModel(electricity=FlatPrice(0.05), pool_fee=0.02)
    r = coin_profit(
        lookup_algo_machine("l9"), "ltc+doge", count=3, costs=costs, capex=Capex(machine_usd=4000)
    )
    revenue = 3 * 0.98 * (LTC_USD + DOGE_USD)  # FPPS passes the fees on: only the 2 % fee is taken
    assert r.revenue_usd_per_day == pytest.approx(revenue, rel=1e-12)
    assert r.simple_payback_days == pytest.approx(
        12_000 / (revenue - 3 * L9_ENERGY_USD), rel=1e-12
    )  # ~ 206 d
    never = coin_profit(lookup_algo_machine("l9"), "doge", costs=costs, capex=Capex(machine_usd=4000))
    assert never.profit_usd_per_day < 0 and never.simple_payback_days is None


def test_coin_sets_that_cannot_be_merge_mined() -> None:
    assert [s.ticker for s in parse_coin_set("LTC+doge")] == ["LTC", "DOGE"]
    for bad, match in (
        ("ltc+bch", "mixes algorithms"),
        ("ltc+ltc", "twice"),
        ("btc+bch", "cannot be merge-mined"),
        ("ltc+nope", "unknown coin"),
        ("+", "needs a coin"),
    ):
        with pytest.raises(EconomicsInputError, match=match):
            parse_coin_set(bad)
    with pytest.raises(EconomicsInputError, match="no scrypt rating"):
        coin_profit(lookup_algo_machine("rtx 3080"), "ltc")
    cpu = lookup_algo_machine("ryzen 7 1700")
    with pytest.raises(EconomicsInputError, match="no power"):
        coin_profit(cpu, "xmr")


# -- today's values -----------------------------------------------------------------------------


def test_overrides_date_the_state_today_and_follow_the_ltc_halving() -> None:
    """Given values replace the shipped ones; the LTC subsidy follows the schedule at the height
    projected at 150 s blocks: 1,884,584 + 1,000 days x 576 = 2,460,584 < 2,520,000 (12.5 LTC),
    + 2,000 days x 576 = 3,036,584 (6.25 LTC after the 2023 halving)."""
    ov = CoinOverrides(difficulty="30M", price_usd_per_coin=80)
    soon = coin_state("ltc", overrides=ov, today=dt.date(2020, 7, 27) + dt.timedelta(days=1000))
    later = coin_state("ltc", overrides=ov, today=dt.date(2020, 7, 27) + dt.timedelta(days=2000))
    assert soon.height == 1_884_584 + 1000 * 576 and soon.subsidy_coin_per_block == 12.5
    assert later.height == 1_884_584 + 2000 * 576 and later.subsidy_coin_per_block == 6.25
    assert later.difficulty == 30e6 and later.price_usd_per_coin == 80
    assert later.as_of is not None
    assert later.as_of.get("difficulty").source == "override"  # type: ignore[union-attr]
    assert later.as_of.get("fees").date == dt.date(2020, 7, 27)  # type: ignore[union-attr]
    given = coin_state("ltc", overrides=CoinOverrides(subsidy_coin_per_block=6.0), today=dt.date(2026, 1, 1))
    assert given.subsidy_coin_per_block == 6.0


def test_coins_without_data_need_all_three_values() -> None:
    with pytest.raises(EconomicsInputError, match="no shipped network data for RVN"):
        coin_state("rvn")
    with pytest.raises(EconomicsInputError, match="price_usd_per_coin, subsidy_coin_per_block"):
        coin_state("rvn", overrides=CoinOverrides(difficulty=100_000))
    rvn = coin_state(
        "rvn",
        overrides=CoinOverrides(difficulty=100_000, price_usd_per_coin=0.02, subsidy_coin_per_block=2500),
    )
    assert rvn.fees_coin_per_block == 0.0 and rvn.height is None


def test_coin_data_file(tmp_path: Path) -> None:
    path = tmp_path / "coins.toml"
    path.write_text(
        '[ltc]\ndifficulty = "30M"\nprice_usd_per_coin = 80\n[Dogecoin]\nprice_usd_per_coin = 0.15\n'
    )
    data = load_coin_data(path)
    assert data["ltc"].difficulty == 30e6 and data["doge"].price_usd_per_coin == 0.15
    path.write_text("[ltc]\nprice_usd_per_coin = -1\n")
    with pytest.raises(EconomicsInputError, match=r"\[ltc\]: price_usd_per_coin"):
        load_coin_data(path)
    path.write_text("[ltc]\ncolour = 1\n")
    with pytest.raises(EconomicsInputError, match="colour"):
        load_coin_data(path)


# -- ranking ------------------------------------------------------------------------------------


def test_l9_ranking_puts_merged_mining_first() -> None:
    ranked = rank_coins(lookup_algo_machine("l9"), costs=CostModel(electricity=FlatPrice(0.05)))
    assert list(ranked["option"]) == ["LTC+DOGE", "LTC", "DOGE"]
    profit = dict(zip(ranked["option"], ranked["profit_usd_per_day"], strict=True))
    assert profit["LTC+DOGE"] == pytest.approx(LTC_USD + DOGE_USD - L9_ENERGY_USD, rel=1e-12)
    assert profit["LTC"] == pytest.approx(LTC_USD - L9_ENERGY_USD, rel=1e-12)
    assert profit["DOGE"] == pytest.approx(DOGE_USD - L9_ENERGY_USD, rel=1e-12)  # ~ -$1.63: a loss alone


def test_gpu_ranking_across_algorithms_never_offers_eth() -> None:
    """RTX 3080 at 10 c/kWh on 2020-07-27:
    ETC: 86,400 x 97.878e6 / 68578242796429.06 = 0.123314 blocks x (21645.4 + 8.1891) / 6753 ETC
         = 0.395414 ETC x $7.146126 = $2.8256; power 0.224 kW x 24 x 0.10 = $0.5376
    XMR: 86,400 x 1539.5 / 177954754757.8526 = 7.4745e-4 blocks x (1057.7143 + 3.6659) / 692 XMR
         = 1.14643e-3 XMR x $78.756 = $0.090289; power 0.234 x 24 x 0.10 = $0.5616 (a loss)
    """
    etc = DAY_S * 97.878e6 / 68578242796429.06 * (21645.4 + 8.189098585139388) / 6753 * 7.14612596125355
    xmr = DAY_S * 1539.5 / 177954754757.8526 * (1057.714328579205 + 3.665902535) / 692 * 78.7560340245978
    assert etc == pytest.approx(2.8256, abs=1e-3) and xmr == pytest.approx(0.090289, abs=1e-5)
    ranked = rank_coins(lookup_algo_machine("rtx 3080"), costs=CostModel(electricity=FlatPrice(0.10)))
    assert "ETH" not in set(ranked["option"])
    assert list(ranked["option"][:2]) == ["ETC", "XMR"]
    assert ranked.loc[0, "profit_usd_per_day"] == pytest.approx(etc - 0.224 * 24 * 0.10, rel=1e-12)
    assert ranked.loc[1, "profit_usd_per_day"] == pytest.approx(xmr - 0.234 * 24 * 0.10, rel=1e-12)
    # no shipped data for KawPoW/Autolykos2 coins: listed last, with the reason
    tail = ranked[ranked["option"].isin(["RVN", "ERG"])]
    assert len(tail) == 2 and tail["profit_usd_per_day"].isna().all()
    assert tail["note"].str.contains("no shipped network data").all()
    # given values bring RVN in: 86,400 x 46.448e6 / (100,000 x 2**32) x 2,500 RVN x $0.02
    rvn = DAY_S * 46.448e6 / (100_000 * 2**32) * 2500 * 0.02
    given = rank_coins(
        lookup_algo_machine("rtx 3080"),
        costs=CostModel(electricity=FlatPrice(0.10)),
        overrides={
            "rvn": CoinOverrides(difficulty=100_000, price_usd_per_coin=0.02, subsidy_coin_per_block=2500)
        },
    )
    row = given[given["option"] == "RVN"].iloc[0]
    assert row["revenue_usd_per_day"] == pytest.approx(rvn, rel=1e-12)


def test_ranking_without_power_is_revenue_only_and_eth_is_a_backtest() -> None:
    cpu = lookup_algo_machine("ryzen 7 1700")
    ranked = rank_coins(cpu)
    assert list(ranked["option"]) == ["XMR"] and math.isnan(ranked.loc[0, "profit_usd_per_day"])
    assert "revenue only" in ranked.loc[0, "note"]
    # 4100 H/s: 86,400 x 4100 / 177954754757.8526 x (1057.7143 + 3.6659) / 692 x $78.756
    xmr = DAY_S * 4100 / 177954754757.8526 * (1057.714328579205 + 3.665902535) / 692 * 78.7560340245978
    assert ranked.loc[0, "revenue_usd_per_day"] == pytest.approx(xmr, rel=1e-12)
    # ETH stays for backtests: an Ethash card on 2019-01-01
    card = lookup_algo_machine("rtx 3080").with_rate(
        AlgoRate(MiningAlgorithm.ETHASH, 97.878e6, 224.0, "test")
    )
    r = coin_profit(card, "eth", states={"eth": coin_state("eth", day=dt.date(2019, 1, 1))})
    assert r.revenue_usd_per_day > 0
    assert "ETH" not in set(rank_coins(card)["option"])


def test_shipped_copies_are_the_shared_files_unchanged() -> None:
    """The package ships the multicoin files verbatim (gzip for the daily ones), attribution intact."""
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "multicoin"
    for name in COIN_HISTORY_FILES.values():
        raw = (shared / name.removesuffix(".gz")).read_bytes()
        assert gzip.decompress(embedded_path(name).read_bytes()) == raw, name
    assert (
        embedded_path("alt_algo_hardware.csv").read_bytes()
        == (shared / "hardware_alt_algos.csv").read_bytes()
    )


def test_values_given_for_a_past_day_replace_that_days() -> None:
    """With --date, given values stay on that day: no projection of the height or the subsidy."""
    on = coin_state("ltc", day=dt.date(2019, 1, 1), overrides=CoinOverrides(price_usd_per_coin=80))
    shipped = coin_state("ltc", day=dt.date(2019, 1, 1))
    assert on.date == dt.date(2019, 1, 1) and on.height == shipped.height
    assert on.subsidy_coin_per_block == 25.0 and on.price_usd_per_coin == 80


def test_dogecoins_random_reward_era_takes_the_realised_mean() -> None:
    """Before block 145,000 a DOGE block paid a random 1..1,000,000 >> (h // 100,000): the schedule
    holds the maximum (1,000,000 at height ~82,597 on 2014-02-01), the data the realised mean:
    2014-02-01 row: 1440 blocks, issuance 711,840,888.0 DOGE -> 494,334 DOGE a block. On 2014-06-01
    (height ~244,565, past 145,000) the schedule's 500,000 >> 2 = 125,000 holds, as the row says:
    1277 blocks, issuance 159,625,000.0 = 1277 x 125,000."""
    early = coin_state("doge", day=dt.date(2014, 2, 1))
    assert early.subsidy_coin_per_block == pytest.approx(711_840_888.0 / 1440, rel=1e-12)
    assert coin_state("doge", day=dt.date(2014, 6, 1)).subsidy_coin_per_block == 125_000
