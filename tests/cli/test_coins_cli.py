"""Issue 17 at the edge: ``profit MODEL --coin ltc+doge`` and ``profit MODEL --rank``.

Hand values from the shipped rows of 2020-07-27 (see tests/economics/test_coins.py for the rows):
one Antminer L9 (15 GH/s, 3,360 W) earns $21.770 on LTC and $2.4002 on DOGE a day; at 5 c/kWh its
power costs 3.36 x 24 x 0.05 = $4.032 a day.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hashwatt.cli._output import console
from tests._support.replay import Replay
from tests.cli.conftest import Run

LTC_USD = 86_400 * 15e9 / (9306159.704097454 * 2**32) * (12.5 + 14.58307759 / 597) * 53.6072351240462
DOGE_USD = (
    86_400 * 15e9 / (4000910.311924725 * 2**32) * (10_000 + 79150.18681285 / 1370) * 0.00316414996655188
)
ENERGY_USD = 3.36 * 24 * 0.05


def _one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err


def test_profit_l9_on_ltc_plus_doge(cli: Run) -> None:
    js = cli("profit", "l9", "--coin", "ltc+doge", "--machine-price", "4000", "--json")
    assert js.code == 0, js.err
    doc = json.loads(js.out)
    assert doc["coins"] == ["LTC", "DOGE"] and doc["merged_mining"] is True
    revenue = {r["ticker"]: r["revenue_usd_per_day"] for r in doc["revenues"]}
    assert revenue["LTC"] == pytest.approx(LTC_USD, rel=1e-9)
    assert revenue["DOGE"] == pytest.approx(DOGE_USD, rel=1e-9)
    assert doc["profit_usd_per_day"] == pytest.approx(LTC_USD + DOGE_USD - ENERGY_USD, rel=1e-9)
    assert doc["simple_payback_days"] == pytest.approx(4000 / (LTC_USD + DOGE_USD - ENERGY_USD), rel=1e-9)
    assert doc["as_of"]["ltc"]["date"] == "2020-07-27" and doc["as_of"]["ltc"]["stale"] is True
    table = cli("profit", "l9", "--coin", "ltc+doge")
    assert table.code == 0, table.err
    text = " ".join(table.out.split())
    assert "$24.17/day" in text and "$20.14/day" in text and "29.97 c/kWh" in text
    assert "LTC + DOGE merged" in text and "224 J/GH" in text
    warnings = [line for line in table.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "LTC 2020-07-27" in warnings[0] and "--coin-data" in warnings[0]


def test_todays_values_from_flags_and_a_file(cli: Run, tmp_path: Path) -> None:
    """LTC at difficulty 30 M, $80, 6.25 LTC subsidy, no fees: 86,400 x 15e9 / (30e6 x 2**32) = 0.010058
    blocks x 6.25 x $80 = $5.029; DOGE at 20 M, $0.15, 10,000: 0.015087 x 10,000 x $0.15 = $22.63."""
    data = tmp_path / "coins.toml"
    data.write_text(
        '[ltc]\ndifficulty = "30M"\nprice_usd_per_coin = 70\nsubsidy_coin_per_block = 6.25\n'
        "fees_coin_per_block = 0\n"
        "[doge]\ndifficulty = 20e6\nprice_usd_per_coin = 0.15\nfees_coin_per_block = 0\n"
    )
    r = cli(
        "profit", "l9", "--coin", "ltc+doge", "--coin-data", str(data), "--coin-price", "ltc=80", "--json"
    )
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    ltc = 86_400 * 15e9 / (30e6 * 2**32) * 6.25 * 80  # the flag wins over the file's $70
    doge = 86_400 * 15e9 / (20e6 * 2**32) * 10_000 * 0.15
    assert doc["revenue_usd_per_day"] == pytest.approx(ltc + doge, rel=1e-9)
    assert doc["as_of"]["ltc"]["stale"] is False and "warning" not in r.err


def test_rank_json_and_table(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    js = cli("profit", "l9", "--rank", "--json")
    assert js.code == 0, js.err
    options = json.loads(js.out)["options"]
    assert [o["option"] for o in options] == ["LTC+DOGE", "LTC", "DOGE"]
    assert options[0]["profit_usd_per_day"] == pytest.approx(LTC_USD + DOGE_USD - ENERGY_USD, rel=1e-9)
    monkeypatch.setattr(console, "width", 80)
    table = cli("profit", "rtx 3080", "--rank")
    assert table.code == 0, table.err
    assert "\u2026" not in table.out and all(len(line) <= 80 for line in table.out.splitlines())
    assert "ETC" in table.out and "ETH" not in table.out.replace("ETHASH", "")
    assert "RVN: no shipped network data" in " ".join(table.out.split())


def test_custom_ratings_rank_a_card_the_catalog_does_not_have(cli: Run) -> None:
    """A [bold]-named card with a KawPoW and an Etchash rating: RVN needs given values, ETC is shipped.
    ETC: 86,400 x 60e6 / 68578242796429.06 x (21645.4 + 8.1891) / 6753 x $7.1461 = $1.7322."""
    r = cli(
        "profit",
        "[bold]card[/bold]",
        "--rank",
        "--hashrate",
        "etchash=60MH/s@150",
        "--hashrate",
        "kawpow=30M@200W",
        "--coin-difficulty",
        "rvn=100k",
        "--coin-price",
        "rvn=0.02",
        "--coin-reward",
        "rvn=2500",
        "--json",
    )
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["model"] == "[bold]card[/bold]"
    by = {o["option"]: o for o in doc["options"]}
    etc = 86_400 * 60e6 / 68578242796429.06 * (21645.4 + 8.189098585139388) / 6753 * 7.14612596125355
    assert by["ETC"]["revenue_usd_per_day"] == pytest.approx(etc, rel=1e-9)
    rvn = 86_400 * 30e6 / (100e3 * 2**32) * 2500 * 0.02
    assert by["RVN"]["revenue_usd_per_day"] == pytest.approx(rvn, rel=1e-9)
    assert by["RVN"]["power_w"] == 200
    table = cli("profit", "[bold]card[/bold]", "--rank", "--hashrate", "etchash=60MH/s@150")
    assert table.code == 0 and "[bold]card[/bold]" in table.out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--coin", "ltc+bch"], "mixes algorithms"),
        (["--coin", "xyz"], "unknown coin"),
        (["--coin", "ltc", "--difficulty", "5T"], "Bitcoin-only"),
        (["--rank", "--btc-price", "1"], "--btc-price"),
        (["--coin", "ltc", "--rank"], "not both"),
        (["--coin", "ltc", "--coin-difficulty", "ltc"], "COIN=VALUE"),
        (["--coin", "ltc", "--coin-price", "ltc=-3"], "price_usd_per_coin"),
        (["--coin", "ltc", "--coin-price", "ltc=cheap"], "not a number"),
        (["--coin", "ltc", "--coin-difficulty", "ltc=1e30"], "difficulty"),
        (["--coin", "rvn"], "no shipped network data for RVN"),
        (["--coin", "eth", "--date", "2030-01-01"], "2022-09-14"),
        (["--coin", "ltc", "--date", "July"], "YYYY-MM-DD"),
        (["--rank", "--hashrate", "kawpow=fast"], "hashrate"),
        (["--rank", "--hashrate", "quantum=5G"], "unknown algorithm"),
        (["--coin", "etc"], "no etchash rating"),
        (["--coin", "ltc", "--count", "10000000"], "whole LTC network"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli: Run, args: list[str], needle: str) -> None:
    r = cli("profit", "l9", *args)
    assert r.code == 2, r
    assert _one_error_line(r.err), r.err
    assert needle in r.err


def test_coin_btc_stays_bitcoins_report(cli: Run) -> None:
    plain = cli("profit", "s21 xp", "--json")
    btc = cli("profit", "s21 xp", "--coin", "btc", "--json")
    assert btc.code == 0 and json.loads(btc.out) == json.loads(plain.out)


def test_coin_live_reads_a_mempool_style_api_on_loopback(cli: Run, replay: Replay, tmp_path: Path) -> None:
    """``--coin-live ltc=URL`` through the Bitcoin adapter's transport and cache. litecoinspace.org's
    answers could not be recorded here (no network), so the loopback server replays values chosen
    for this test in the shapes of the recorded mempool.space bodies.

    Height 2,900,000: the subsidy of block 2,900,001 is 50 >> (2,900,001 // 840,000 = 3) = 6.25 LTC; fees (2,000,000 + 4,000,000) / 2 litoshis = 0.03 LTC a block; the price $90 is of
    1764547200 = 2025-12-01. One L9: 86,400 x 15e9 / (40e6 x 2**32) x (6.25 + 0.03) x $90.
    """
    replay.bodies = {
        "/api/blocks/tip/height": b"2900000",
        "/api/v1/mining/hashrate/3d": b'{"hashrates": [], "currentHashrate": 1.1e15, "currentDifficulty": 4e7}',
        "/api/v1/mining/blocks/fees/24h": b'[{"avgHeight": 2899800, "timestamp": 1764460800, "avgFees": 2000000},'
        b' {"avgHeight": 2899900, "timestamp": 1764547200, "avgFees": 4000000}]',
        "/api/v1/prices": b'{"time": 1764547200, "USD": 90.0}',
    }
    args = ["profit", "l9", "--coin", "ltc", "--coin-live", f"ltc={replay.url}", "--cache-dir", str(tmp_path)]
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    ltc = 86_400 * 15e9 / (40e6 * 2**32) * (6.25 + 0.03) * 90.0
    assert doc["revenue_usd_per_day"] == pytest.approx(ltc, rel=1e-12)
    assert doc["heights"]["ltc"] == 2_900_000
    assert doc["as_of"]["ltc"]["date"] == "2025-12-01"
    assert doc["as_of"]["ltc"]["inputs"]["difficulty"]["source"] == "live"
    assert replay.hits["/api/v1/prices"] == 1
    # the user's value wins over the live one; the cache answers the second run
    given = cli(*args, "--coin-price", "ltc=45", "--json")
    assert json.loads(given.out)["revenue_usd_per_day"] == pytest.approx(ltc / 2, rel=1e-12)
    assert replay.hits["/api/v1/prices"] == 1
    ranked = cli(
        "profit", "l9", "--rank", "--coin-live", f"ltc={replay.url}", "--cache-dir", str(tmp_path), "--json"
    )
    by = {o["option"]: o for o in json.loads(ranked.out)["options"]}
    assert by["LTC"]["revenue_usd_per_day"] == pytest.approx(ltc, rel=1e-12)
    assert by["LTC"]["data_date"] == "2025-12-01" and by["DOGE"]["data_date"] == "2020-07-27"
    for bad, needle in (
        (["--coin", "xmr", "--coin-live", f"xmr={replay.url}"], "subsidy schedule"),
        (["--coin", "ltc", "--coin-live", f"ltc={replay.url}", "--date", "2020-01-01"], "exclude"),
        (["--coin", "ltc", "--coin-live", "ltc=ftp://x"], "http"),
    ):
        out = cli("profit", "l9", *bad, "--cache-dir", str(tmp_path))
        assert out.code == 2 and _one_error_line(out.err) and needle in out.err, out


def test_a_scrypt_machine_without_coin_says_how_to_price_it(cli: Run) -> None:
    for command in (["profit", "l9"], ["forecast", "l9", "--paths", "10"]):
        r = cli(*command)
        assert r.code == 2 and _one_error_line(r.err), r
        assert 'hashwatt profit "l9" --coin ltc+doge' in r.err
    unknown = cli("profit", "no such rig")
    assert unknown.code == 2 and "unknown miner model" in unknown.err


def test_a_live_url_password_never_shows(cli: Run, tmp_path: Path) -> None:
    for url in ("http://user:hunter2@127.0.0.1:9", "ftp://user:hunter2@x"):
        r = cli("profit", "l9", "--coin", "ltc", "--coin-live", f"ltc={url}", "--cache-dir", str(tmp_path))
        assert r.code == 2 and _one_error_line(r.err), r
        assert "hunter2" not in r.err and "user:***@" in r.err
