"""``hashwatt dispatch`` and ``hashwatt sites compare`` end to end (real CLI, shipped data)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from hashwatt.cli.main import main
from hashwatt.data.prices import market_prices
from hashwatt.energy import MachineClass, dispatch_threshold

EXAMPLES = Path(str(resources.files("hashwatt.energy").joinpath("examples")))


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:  # type: ignore[type-arg]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_dispatch_market_json_matches_library(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys,
        [
            "dispatch",
            "--market",
            "ERCOT",
            "--year",
            "2021",
            "--efficiency-j-per-th",
            "17.5",
            "--power-mw",
            "1",
            "--hashprice",
            "60",
            "--json",
        ],
    )
    lib = dispatch_threshold(
        market_prices("ERCOT", 2021).price_usd_per_mwh, [MachineClass.from_efficiency(17.5, 1.0)], 60.0
    )
    s = out["summary"]
    for key in (
        "uptime_fraction",
        "it_energy_mwh",
        "revenue_usd",
        "energy_cost_usd",
        "profit_usd",
        "savings_vs_always_on_usd",
    ):
        assert s[key] == pytest.approx(getattr(lib.summary, key))
    assert s["method"] == "threshold"


def test_dispatch_model_with_history_and_tariff_uses_lp(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    plot = tmp_path / "s.png"
    out = _json(
        capsys,
        [
            "dispatch",
            "--market",
            "ERCOT",
            "--year",
            "2023",
            "--model",
            "S21",
            "--count",
            "100",
            "--hashprice-history",
            "--tariff",
            str(EXAMPLES / "ercot_4cp_tariff.toml"),
            "--plot",
            str(plot),
            "--json",
        ],
    )
    assert out["summary"]["method"] == "lp"
    assert out["machines"][0]["count"] == 100
    assert out["summary"]["four_cp_usd"] == 0.0  # the LP avoids the proxy 4CP hours
    assert out["summary"]["demand_charge_usd"] > 0
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_dispatch_refuses_pjm_gap_unless_fill(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "dispatch",
        "--market",
        "PJM",
        "--year",
        "2022",
        "--efficiency-j-per-th",
        "20",
        "--power-mw",
        "2",
        "--hashprice",
        "50",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "gap" in err and "line" in err and "--fill" in err
    out = _json(capsys, [*argv, "--fill", "ffill", "--json"])
    assert out["filled_intervals"] == 24 and out["summary"]["hours"] == 8760


def test_dispatch_price_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "timestamp,price\n" + "".join(f"2024-03-0{1 + h // 24}T{h % 24:02d}:00,{10 + h}\n" for h in range(48))
    )
    out = _json(
        capsys,
        [
            "dispatch",
            "--prices",
            str(path),
            "--tz",
            "America/Chicago",
            "--efficiency-j-per-th",
            "20",
            "--power-mw",
            "1",
            "--hashprice",
            "50",
            "--json",
        ],
    )
    # Breakeven 50 x 1000 / 24 / 20 = 104.2 USD/MWh: hours priced 10..57 all run.
    assert out["summary"]["hours"] == 48 and out["summary"]["hours_running"] == 48


def test_dispatch_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dispatch", "--market", "ERCOT", "--year", "2021", "--hashprice", "50"]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["dispatch", "--efficiency-j-per-th", "20", "--power-mw", "1", "--hashprice", "50"]) == 2
    assert main(["dispatch", "--market", "ERCOT", "--year", "2021", "--model", "S21", "--count", "2"]) == 2
    assert "hashprice" in capsys.readouterr().err
    assert (
        main(
            ["dispatch", "--market", "ERCOT", "--year", "2021", "--model", "NoSuchMiner", "--hashprice", "5"]
        )
        == 2
    )


def test_sites_compare_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["sites", "compare", str(EXAMPLES / "sites.toml"), "--json"])
    ranks = [s["rank"] for s in out["sites"]]
    assert ranks == sorted(ranks) and len(ranks) >= 8
    assert main(["sites", "compare", str(EXAMPLES / "sites.toml")]) == 0
    table = capsys.readouterr().out
    assert "Sites ranked by profit" in table
    first_cells = [line.split("│")[1].strip() for line in table.splitlines() if line.count("│") > 2]
    assert {str(i) for i in range(1, len(ranks) + 1)} <= set(first_cells)
