"""Issue 15 point 8: bins and ambiguous names, and no model copying another's figures."""

from __future__ import annotations

import pandas as pd
import pytest

from hashwatt.data import AmbiguousMinerError, find_miner, hardware_catalog, lookup_miner

# Different models whose published figures coincide for a real reason (checked by hand).
COINCIDENT = {
    frozenset({"Avalon 1246 (90T)", "Whatsminer M30S (90T)"}): "both makers quote 38 J/TH at 90 TH/s",
    frozenset({"Antminer S19 (90T)", "Antminer S19j"}): (
        "two sources (asics-tools, Mining Store) rate Bitmain's 90 TH/s S19 bin and the S19j alike, 3,250 W"
    ),
}


def test_no_two_models_share_identical_figures_under_different_names() -> None:
    cat = hardware_catalog()
    base = cat["model"].str.replace(r"\s*\(\d+(\.\d+)?T\)$", "", regex=True)
    frame = cat.assign(base=base)
    twins = []
    for (_h, _p), group in frame.groupby(["hashrate_ths", "power_w"]):
        if group["base"].nunique() > 1:
            names = frozenset(group["model"])
            if names not in COINCIDENT:
                twins.append(sorted(names))
    assert twins == []


def test_s19j_is_the_cited_non_pro_machine_not_a_copy_of_the_pro() -> None:
    cat = hardware_catalog()
    s19j = cat[cat["model"].str.match(r"Antminer S19j( \(|$)")]
    # One cited row (Mining Store's S19-series guide), none of asics-tools' copied Pro bins.
    assert s19j["model"].tolist() == ["Antminer S19j"]
    assert "miningstore.com" in str(s19j["source"].iloc[0])
    found = find_miner("s19j")
    assert (found.model, found.hashrate_ths, found.power_w) == ("Antminer S19j", 90.0, 3250.0)
    assert found.efficiency_j_per_th == pytest.approx(36.1, abs=0.1)
    pro = find_miner("s19j pro (90T)")
    assert pro.power_w == 2655.0 and found.power_w > pro.power_w


def test_a_bin_less_name_picks_the_default_bin_and_lists_the_others() -> None:
    found = lookup_miner("s19j pro")
    assert found.miner.model == "Antminer S19j Pro (104T)"
    assert set(found.other_bins) == {
        "Antminer S19j Pro (90T)",
        "Antminer S19j Pro (96T)",
        "Antminer S19j Pro (100T)",
    }
    assert found.note is not None and "default" in found.note and "(90T)" in found.note
    exact = lookup_miner("s19j pro (96T)")
    assert exact.miner.hashrate_ths == 96 and exact.note is None


def test_a_name_matching_different_models_is_refused_with_the_list() -> None:
    cat = pd.concat(
        [
            hardware_catalog(),
            pd.DataFrame(
                [
                    {
                        "model": "Whatsminer S21 Pro",
                        "maker": "Test",
                        "algorithm": "SHA-256",
                        "hashrate_ths": 1.0,
                        "power_w": 1.0,
                        "efficiency_j_per_th": 1.0,
                        "release_date": None,
                        "price_usd": None,
                        "source": "test",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    with pytest.raises(AmbiguousMinerError) as info:
        find_miner("s21 pro", catalog=cat)
    assert set(info.value.models) == {"Antminer S21 Pro", "Whatsminer S21 Pro"}


def test_cited_first_shipment_months_replace_assumed_ones() -> None:
    import datetime as dt

    from hashwatt.network import ASSUMED_RELEASE, hardware_availability

    hw = hardware_availability().set_index("model")
    for model, month in (("Antminer S21", dt.date(2024, 1, 1)), ("Antminer S19 XP", dt.date(2022, 7, 1))):
        assert find_miner(model).release_date == month
        assert hw.loc[model, "available_from_source"] == "catalog" and model not in ASSUMED_RELEASE
    row = hardware_catalog().set_index("model").loc["Antminer S21"]
    assert row["release_date"] == dt.date(2024, 1, 1)


# Current models added for issue 15 point 8: (query, catalog name, TH/s, W, where the source lives).
CURRENT_MODELS = [
    ("t21", "Antminer T21", 190.0, 3610.0, "github.com/Bautistagl/gridmine3/blob/2a17238"),
    ("s21 xp hydro", "Antminer S21 XP Hydro", 473.0, 5676.0, "github.com/hiwebhq/hi3-hashkit/blob/732fdfb"),
    ("S19k Pro", "Antminer S19k Pro", 120.0, 2760.0, "github.com/hiwebhq/hi3-hashkit/blob/732fdfb"),
]


@pytest.mark.parametrize(("query", "model", "hashrate_ths", "power_w", "source"), CURRENT_MODELS)
def test_current_models_resolve_by_name_and_carry_their_source(
    query: str, model: str, hashrate_ths: float, power_w: float, source: str
) -> None:
    from pathlib import Path

    found = find_miner(query)
    assert (found.model, found.hashrate_ths, found.power_w) == (model, hashrate_ths, power_w)
    assert found.efficiency_j_per_th == pytest.approx(found.power_w / found.hashrate_ths, abs=1e-3)
    assert source in found.source and found.source.startswith("https://")
    # Undated: no cited release month, so no invented one.
    assert found.release_date is None
    sources_md = Path(__file__).resolve().parents[2] / "src" / "hashwatt" / "data" / "files" / "SOURCES.md"
    assert model in sources_md.read_text(encoding="utf-8")


def test_s21_xp_still_names_the_air_cooled_machine() -> None:
    # The Hydro row must not make "s21 xp" ambiguous or pick the hydro machine.
    assert find_miner("s21 xp").model == "Antminer S21 XP"
    assert find_miner("s21 xp hydro").model == "Antminer S21 XP Hydro"
