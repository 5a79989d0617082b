"""The shipped hardware catalog, fuzzy lookup and user extensions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hashwatt.data import MinerModel, UnknownMinerError, find_miner, hardware_catalog
from hashwatt.data.hardware import CATALOG_COLUMNS, validate_specs
from hashwatt.errors import InputError


def test_catalog_shape_and_consistency() -> None:
    cat = hardware_catalog()
    assert tuple(cat.columns) == CATALOG_COLUMNS
    assert len(cat) > 100
    assert cat["model"].is_unique
    # efficiency is power / hashrate, to the 3 decimals shipped
    eff = cat["power_w"] / cat["hashrate_ths"]
    assert ((eff - cat["efficiency_j_per_th"]).abs() < 1e-3).all()
    assert (cat["algorithm"] == "SHA-256").all()
    assert cat["source"].str.len().min() > 10


def test_newer_models_cite_a_web_page() -> None:
    cat = hardware_catalog().set_index("model")
    for name in ("Antminer S21", "Antminer S21 Pro", "Antminer S21 XP", "Avalon A16 XP", "Whatsminer M56S++"):
        assert str(cat.loc[name, "source"]).startswith("http"), name
    # figures as printed by the cited sources
    assert cat.loc["Antminer S21 XP", "hashrate_ths"] == 270
    assert cat.loc["Antminer S21 XP", "efficiency_j_per_th"] == pytest.approx(13.5)
    assert cat.loc["Antminer S21 Pro", "power_w"] == 3510
    assert cat.loc["Avalon A16", "release_date"] == dt.date(2025, 10, 1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("s21 pro", "Antminer S21 Pro"),
        ("S21PRO", "Antminer S21 Pro"),
        ("antminer s21", "Antminer S21"),
        ("m30s++", "Whatsminer M30S++"),
        ("m30s+", "Whatsminer M30S+ (102T)"),
        ("s19j pro", "Antminer S19j Pro (104T)"),
        ("Antminer S19j Pro (96T)", "Antminer S19j Pro (96T)"),
        ("avalon a16-xp", "Avalon A16 XP"),
    ],
)
def test_find_miner_fuzzy(query: str, expected: str) -> None:
    assert find_miner(query).model == expected


def test_unknown_miner_has_suggestions() -> None:
    with pytest.raises(UnknownMinerError) as info:
        find_miner("s21 pr0")
    assert isinstance(info.value, InputError)
    assert "Antminer S21 Pro" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(InputError):
        find_miner("   ")


def test_miner_value_is_frozen_and_validated() -> None:
    m = find_miner("s21 xp")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.power_w = 1.0  # type: ignore[misc]
    with pytest.raises(InputError, match="negative"):
        MinerModel.from_specs("x", hashrate_ths=100, power_w=-5)
    with pytest.raises(InputError, match="physical range"):
        MinerModel.from_specs("x", hashrate_ths=100, power_w=50)  # 0.5 J/TH
    with pytest.raises(InputError, match="physical range"):
        validate_specs(0.1, 3000)  # 30 kJ/TH: hashrate given in PH/s by mistake?
    with pytest.raises(InputError, match="positive"):
        validate_specs(0, 3000)


def test_user_catalog_csv_and_toml(tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text(
        "model,maker,hashrate_ths,power_w,price_usd,source\n"
        "Antminer S21,Bitmain,210,3400,4000,my invoice\n"
        "Garage Rig,me,1.0,20,,\n"
    )
    toml = tmp_path / "mine.toml"
    toml.write_text(
        '[[miner]]\nmodel = "Lab Board"\nhashrate_ths = 2.5\npower_w = 45\nrelease_date = "2025-01-15"\n'
    )
    cat = hardware_catalog([csv, toml])
    assert (cat["model"] == "Antminer S21").sum() == 1
    s21 = find_miner("s21", catalog=cat)
    assert s21.hashrate_ths == 210 and s21.price_usd == 4000 and s21.source == "my invoice"
    lab = find_miner("lab board", catalog=cat)
    assert lab.release_date == dt.date(2025, 1, 15)
    assert lab.efficiency_j_per_th == pytest.approx(18.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,hashrate_ths,power_w\nBroken,100,-1\n")
    with pytest.raises(InputError, match="negative"):
        hardware_catalog([bad])
    with pytest.raises(InputError, match="not found"):
        hardware_catalog([tmp_path / "missing.csv"])


def test_shipped_catalog_rebuilds_from_reference_files() -> None:
    import io

    import pandas as pd

    from hashwatt.data._build import build_catalog
    from hashwatt.data._embedded import embedded_path

    inputs = Path(__file__).resolve().parent.parent / "data" / "economics" / "catalog_inputs"
    rebuilt = build_catalog(inputs).reset_index(drop=True)
    shipped = pd.read_csv(embedded_path("asic_miners_catalog.csv"))
    rebuilt = pd.read_csv(io.StringIO(rebuilt.to_csv(index=False)))
    pd.testing.assert_frame_equal(rebuilt, shipped)
