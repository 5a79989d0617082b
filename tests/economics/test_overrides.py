"""Issue 15 points 1-2: the package as-of, its age warning, and offline overrides of every input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hashwatt.chain import HASHES_PER_DIFFICULTY
from hashwatt.data import AsOf, DatedInput
from hashwatt.economics import NetworkOverrides, NetworkState, apply_overrides, parse_difficulty
from hashwatt.economics.errors import EconomicsInputError

TODAY = dt.date(2026, 11, 30)


def test_parse_difficulty_raw_and_suffixed() -> None:
    assert parse_difficulty("124932866000000") == 124_932_866_000_000
    assert parse_difficulty("124.932866T") == pytest.approx(124.932866e12)
    assert parse_difficulty("0.124932866p") == pytest.approx(124.932866e12)
    assert parse_difficulty("1.2493e14") == pytest.approx(1.2493e14)
    for bad in ("", "12X", "-5T", "nan", "inf", "1e30", "T"):
        with pytest.raises(EconomicsInputError):
            parse_difficulty(bad)


def test_as_of_warns_past_30_days_and_names_each_input() -> None:
    net = NetworkState.latest()
    assert net.as_of is not None
    warning = net.as_of.warning(TODAY)
    assert (
        warning is not None and "fees 2025-12-29 (336 days old)" in warning and "price 2026-08-21" in warning
    )
    fresh = AsOf((DatedInput("price", TODAY - dt.timedelta(days=30), "x"),))
    assert fresh.warning(TODAY) is None
    assert AsOf((DatedInput("price", TODAY - dt.timedelta(days=31), "x"),)).warning(TODAY) is not None
    doc = net.as_of.to_json(TODAY)
    assert doc["date"] == "2025-12-29" and doc["age_days"] == 336 and doc["stale"] is True


def test_overrides_replace_each_input_and_refresh_the_as_of() -> None:
    net = NetworkState.latest()
    given = NetworkOverrides(difficulty="150T", btc_price_usd=90_000, fees_btc_per_block=0.05)  # type: ignore[arg-type]
    out = apply_overrides(net, given, today=TODAY)
    assert (out.difficulty, out.price_usd, out.fees_btc_per_block) == (150e12, 90_000, 0.05)
    assert out.as_of is not None and out.as_of.warning(TODAY) is None
    assert {i.source for i in out.as_of.inputs} == {"override"}
    # hashrate -> difficulty at 600-s blocks
    h = apply_overrides(net, NetworkOverrides(hashrate_ehs=1000), today=TODAY)
    assert h.difficulty * HASHES_PER_DIFFICULTY / 600 == pytest.approx(1000e18)
    # only the difficulty is fresh: price and fees stay stale and the warning says so
    assert h.as_of is not None and "difficulty ~" not in (h.as_of.warning(TODAY) or "")
    assert "fees" in (h.as_of.warning(TODAY) or "")
    # fee share: fees / (subsidy + fees)
    f = apply_overrides(net, NetworkOverrides(fee_share=0.2), today=TODAY)
    assert f.fees_btc_per_block / (f.fees_btc_per_block + f.subsidy_btc_per_block) == pytest.approx(0.2)
    # hashprice alone solves the price; with the price it solves the difficulty
    hp = apply_overrides(net, NetworkOverrides(hashprice_usd_per_ph_day=40.0), today=TODAY)
    assert hp.hashprice_usd_per_ph_day == pytest.approx(40.0) and hp.difficulty == net.difficulty
    hp2 = apply_overrides(
        net, NetworkOverrides(hashprice_usd_per_ph_day=40.0, btc_price_usd=100_000), today=TODAY
    )
    assert hp2.hashprice_usd_per_ph_day == pytest.approx(40.0) and hp2.price_usd == 100_000


@pytest.mark.parametrize(
    "doc",
    [
        {"difficulty": "1T", "hashrate_ehs": 5},
        {"fees_btc_per_block": 0.1, "fee_share": 0.1},
        {"btc_price_usd": float("inf")},
        {"btc_price_usd": -1},
        {"hashrate_ehs": 1e300},
        {"fee_share": 1.0},
        {"hashprice_usd_per_ph_day": 40, "btc_price_usd": 1e5, "difficulty": "100T"},
        {"price": 5},
    ],
)
def test_overrides_refuse_contradictions_and_absurd_values(doc: dict[str, object]) -> None:
    with pytest.raises(EconomicsInputError):
        NetworkOverrides.model_validate_or_raise(doc, source="flags")


def test_network_file_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "net.toml"
    toml.write_text('[network]\ndifficulty = "140T"\nbtc_price_usd = 95000\nfee_share = 0.01\n')
    ov = NetworkOverrides.from_file(toml)
    assert ov.difficulty == pytest.approx(140e12) and ov.btc_price_usd == 95_000
    js = tmp_path / "net.json"
    js.write_text(json.dumps({"hashrate_ehs": 1100, "fees_btc_per_block": 0.02}))
    assert NetworkOverrides.from_file(js).hashrate_ehs == 1100
    # flags over the file: a flag's difficulty replaces the file's hashrate
    merged = NetworkOverrides.from_file(js).merged(NetworkOverrides(difficulty="150T"))  # type: ignore[arg-type]
    assert merged.difficulty == pytest.approx(150e12) and merged.hashrate_ehs is None
    bad = tmp_path / "bad.toml"
    bad.write_text("difficulty = [1, 2]\n")
    with pytest.raises(EconomicsInputError, match=r"bad\.toml"):
        NetworkOverrides.from_file(bad)
    with pytest.raises(EconomicsInputError, match="not found"):
        NetworkOverrides.from_file(tmp_path / "missing.toml")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(EconomicsInputError, match="JSON"):
        NetworkOverrides.from_file(tmp_path / "broken.json")
