"""``hashwatt network``: every command's JSON, tables, plots and one-line errors (exit code 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hashwatt.cli.main import main
from tests.network._rpcserver import block_server


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_security_json_matches_the_whitepaper(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "network", "security", "--attacker", "0.3", "--confirmations", "5", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert f"{data['success_probability']['nakamoto']:.7f}" == "0.1773523"
    assert data["confirmations_for_risk"]["nakamoto"] == 24
    assert data["success_probability"]["rosenfeld"] == pytest.approx(
        data["success_probability"]["grunspan_perez_marco"], rel=1e-9
    )
    code, out, _ = run_cli(capsys, "network", "security", "--attacker", "0.1", "--confirmations", "6")
    assert code == 0 and "0.0002428" in out


@pytest.mark.parametrize(
    "args",
    [
        ["network", "security", "--attacker", "1.5"],
        ["network", "security", "--attacker", "0.0"],
        ["network", "security", "--attacker", "0.2", "--confirmations", "-1"],
        ["network", "selfish", "--alpha", "0.7"],
        ["network", "pools", "--window", "fortnight"],
        ["network", "pools", "--since", "not-a-date"],
        ["network", "pools", "--since", "2030-01-01"],
        ["network", "energy", "--power-price", "0"],
        ["network", "attack", "--share", "1.0"],
        ["network", "attack", "--date", "nope"],
        ["network", "energy", "--date", "nope"],
        ["network", "energy", "--since", "nope"],
        ["network", "energy", "--date", "2010-01-01"],
        ["network", "blocks", "--since", "2030-01-01"],
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _out, err = run_cli(capsys, *args)
    assert code == 2
    assert "Traceback" not in err and err.strip().count("\n") == 0 and err.startswith("error:")


def test_selfish_json_with_simulation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys,
        "network",
        "selfish",
        "--alpha",
        "0.3",
        "--gamma",
        "0.5",
        "--simulate",
        "400000",
        "--seed",
        "3",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["threshold_alpha"] == pytest.approx(0.25)
    assert data["profitable"] is True
    sim = data["simulation"]
    assert abs(sim["relative_revenue"] - data["relative_revenue_formula"]) < 4 * sim["standard_error"]


def test_pools_json_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_png = tmp_path / "pools.png"
    code, out, _ = run_cli(
        capsys, "network", "pools", "--window", "month", "--since", "2024-01-01", "--until", "2024-12-31",
        "--plot", str(out_png), "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["latest_window_start"].startswith("2024-12-01")
    assert len(data["history"]) == 12
    latest = data["latest"]
    assert latest["shares"][0]["pool"] == "foundryusa"
    assert latest["unknown_as_entity"]["nakamoto_coefficient"] >= 2
    assert sum(s["blocks"] for s in latest["shares"]) == latest["blocks"]
    assert out_png.read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run_cli(capsys, "network", "pools", "--window", "year")
    assert code == 0 and "Nakamoto" in out and "unknown" in out


def test_energy_attack_and_blocks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "network", "energy", "--date", "2024-01-01", "--json")
    assert code == 0
    data = json.loads(out)
    est = data["estimate"]
    assert (
        est["energy_lower_twh_per_year"]
        <= est["energy_best_twh_per_year"]
        <= est["energy_upper_twh_per_year"]
    )
    assert data["assumptions"]["power_price_usd_per_kwh"] == 0.05
    code, out, _ = run_cli(
        capsys, "network", "energy", "--date", "2024-07-01", "--no-assumed-dates", "--json"
    )
    dated = json.loads(out)
    assert code == 0 and dated["assumptions"]["use_assumed_release_dates"] is False
    assert dated["estimate"]["models_profitable_assumed_date"] == 0
    plot = tmp_path / "energy.png"
    code, out, _ = run_cli(
        capsys,
        "network",
        "energy",
        "--history",
        "--since",
        "2024-01-01",
        "--plot",
        str(plot),
        "--power-price",
        "0.07",
    )
    assert code == 0 and "TWh/yr" in out and plot.exists()
    code, out, _ = run_cli(capsys, "network", "attack", "--date", "2024-04-20", "--json")
    assert code == 0
    attack = json.loads(out)
    assert [r["duration_h"] for r in attack["rows"]] == [1.0, 24.0]
    assert attack["attacker_hashrate_ehs"] == pytest.approx(attack["network_hashrate_ehs"])
    code, out, _ = run_cli(capsys, "network", "blocks", "--window", "week", "--since", "2026-03-01", "--json")
    assert code == 0
    blocks = json.loads(out)
    assert blocks["hashrate"] and all(
        r["hashrate_lower_ehs"] < r["hashrate_ehs"] < r["hashrate_upper_ehs"] for r in blocks["hashrate"]
    )
    assert blocks["orphan_rate_at_delay"] == pytest.approx(1 - 2.718281828459045 ** (-2 / 600))


CHAIN_DATA = Path(__file__).resolve().parent.parent / "data" / "chain"


def test_attribute_from_block_files_and_from_a_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "network", "attribute", "--block-file", str(CHAIN_DATA / "block_413567.hex"), "--json"
    )
    assert code == 0
    (result,) = json.loads(out)
    assert result["pool"] == "F2Pool" and result["height"] == 413_567 and result["matched_by"] == "address"
    raw = (CHAIN_DATA / "block_413567.hex").read_text().strip()
    with block_server({413_567: (result["block_hash"], raw)}) as url:
        code, out, _ = run_cli(capsys, "network", "attribute", "--node", url, "--height", "413567")
    assert code == 0 and "F2Pool" in out
    code, _out, err = run_cli(capsys, "network", "attribute")
    assert code == 2 and "--block-file" in err
    code, _out, err = run_cli(capsys, "network", "attribute", "--node", "http://127.0.0.1:1", "--height", "1")
    assert code == 2 and "cannot reach" in err


def test_pool_blocks_lists_the_hand_counted_blocks(capsys: pytest.CaptureFixture[str]) -> None:
    # Counted by hand in the shipped CSV (zcat | grep ",2024-04-20T"): the halving day has 130
    # blocks; Braiins Pool found 840,001 and 840,019, SBI Crypto 839,999 (the last 6.25 BTC
    # block) and 840,010.
    day = ["--since", "2024-04-20", "--until", "2024-04-20", "--json"]
    code, out, _ = run_cli(capsys, "network", "pool-blocks", "Braiins Pool", *day)
    assert code == 0
    data = json.loads(out)
    assert (data["pool"], data["slug"], data["window_blocks"], data["partial"]) == (
        "Braiins Pool",
        "braiinspool",
        130,
        False,
    )
    assert [b["height"] for b in data["blocks"]] == [840_001, 840_019]
    assert data["blocks_found"] == 2 and data["share"] == pytest.approx(2 / 130)
    code, out, _ = run_cli(capsys, "network", "pool-blocks", "sbicrypto", *day)
    blocks = json.loads(out)["blocks"]
    assert [(b["height"], b["subsidy_btc"]) for b in blocks] == [(839_999, 6.25), (840_010, 3.125)]
    assert blocks[0]["time_utc"] == "2024-04-20T00:05:33+00:00"
    # The last 24 h before the newest block (946,236 at 2026-04-22 21:50:03): 138 blocks, Poolin 3.
    code, out, _ = run_cli(capsys, "network", "pool-blocks", "poolin", "--window", "24h", "--json")
    data = json.loads(out)
    assert data["window_blocks"] == 138
    assert [b["height"] for b in data["blocks"]] == [946_109, 946_157, 946_236]
    # The table lists the newest first and says when --limit hides some.
    code, out, _ = run_cli(capsys, "network", "pool-blocks", "poolin", "--window", "24h", "--limit", "2")
    assert code == 0 and "Poolin: 3 blocks" in out and "newest 2 of 3" in out
    assert out.index("946,236") < out.index("946,157") and "946,109" not in out
    # A window that runs past the newest block is flagged partial.
    code, out, _ = run_cli(
        capsys, "network", "pool-blocks", "poolin", "--since", "2026-04-22", "--until", "2026-04-23"
    )
    assert code == 0 and "partial window" in out


@pytest.mark.parametrize(
    ("pool", "needle"),
    [("braiins", "Braiins Pool, Braiins Solo"), ("fondry", "did you mean: Foundry USA"), ("  ", "empty")],
)
def test_pool_blocks_refuses_unknown_or_ambiguous_pools(
    capsys: pytest.CaptureFixture[str], pool: str, needle: str
) -> None:
    code, out, err = run_cli(capsys, "network", "pool-blocks", pool)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]


CBECI_FILE = Path(__file__).resolve().parents[1] / "data" / "network" / "cbeci_daily_2019_2024.csv"


def test_energy_compares_with_a_cbeci_file_and_overlays_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run_cli(capsys, "network", "energy", "--cbeci", str(CBECI_FILE), "--json")
    assert code == 0
    rows = json.loads(out)["cbeci_by_year"]
    assert [r["year"] for r in rows] == list(range(2019, 2025))  # whole years only
    assert all(r["best_within_cbeci_bounds"] for r in rows)
    assert rows[3]["cbeci_best_twh"] == pytest.approx(95.53, abs=0.01)  # 2022, CCAF published 95.5
    # CCAF's own export headers read as well; the plot carries the overlay and the inputs.
    raw = tmp_path / "ccaf.csv"
    lines = CBECI_FILE.read_text().splitlines()
    raw.write_text("\n".join(["Date,power MIN GW,power GUESS GW,power MAX GW", *lines[1:]]) + "\n")
    png = tmp_path / "e.png"
    code, out, _ = run_cli(capsys, "network", "energy", "--cbeci", str(raw), "--plot", str(png))
    assert code == 0 and png.stat().st_size > 0
    assert "hashwatt vs CBECI" in out and "2024" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("day,x\n2024-01-01,1\n")
    code, out, err = run_cli(capsys, "network", "energy", "--cbeci", str(bad))
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1


def test_network_pools_cli_shows_trailing_windows_partial_flags_and_the_adjustment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["network", "pools", "--window", "week", "--since", "2026-04-19", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # four days of a week: the latest calendar window says it is partial
    assert data["latest_window_partial"] is True
    names = {w["window"]: w for w in data["trailing"]}
    assert set(names) == {"24h", "7d", "30d", "1y"}
    assert not names["24h"]["partial"] and names["30d"]["partial"] and names["1y"]["partial"]
    # display names, not slugs
    assert any(p["pool"] == "Foundry USA" for p in names["24h"]["pools"])
    adj = data["next_adjustment"]
    assert adj["retarget_height"] == 947_520 and adj["blocks_mined"] + adj["blocks_remaining"] == 2016
    assert main(["network", "pools", "--window", "year", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "+nan" not in out and "n/a (one window)" in " ".join(out.split())
