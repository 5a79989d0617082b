"""``hashwatt fleet curtail report``: the hand-computed accounts of tests/fleet/test_curtail_report.py
through the real entry point, as JSON and as tables; bad periods are one ``error:`` line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._support.cli import Run
from tests.fleet._curtail_seed import EVENT_1, EVENT_2, seed


def _one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err


def test_report_json_per_event_per_period_and_total(cli: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")
    seed(f"sqlite:///{db}")
    period = ["--since", "2026-03-02", "--until", "2026-03-04T00:00Z"]
    result = cli("fleet", "curtail", "report", *period, "--site", "north", "--db", db, "--json")
    assert result.code == 0, result
    report = json.loads(result.out)
    closed = [e for e in report["events"] if not e["open"]]
    assert [e["open"] for e in report["events"]] == [False, False, True] and report["open_events"] == 1
    for row, want in zip(closed, (EVENT_1, EVENT_2), strict=True):
        assert row["energy_saved_kwh"] == pytest.approx(want["kwh"])
        assert row["cost_saved_usd"] == pytest.approx(want["cost"])
        assert row["revenue_forgone_usd"] == pytest.approx(want["revenue"])
        assert row["net_usd"] == pytest.approx(want["cost"] - want["revenue"])
    assert report["events"][0]["devices"] == ["10.9.0.1:4028", "10.9.0.2:4028"]
    assert report["events"][0]["machines"] == [
        {"address": "10.9.0.1:4028", "power_w": 3250.0, "hashrate_ths": 110.0},
        {"address": "10.9.0.2:4028", "power_w": 3500.0, "hashrate_ths": 100.0},
    ]  # each machine's measured load and hashrate, from which the event's figures come
    (day,) = report["periods"]
    assert day["start_utc"] == "2026-03-02T00:00:00+00:00" and day["events"] == 2
    assert report["total"]["energy_saved_kwh"] == pytest.approx(19.875)
    assert report["total"]["net_usd"] == pytest.approx(3.075 - 1.09375 - 5 / 12)

    text = cli("fleet", "curtail", "report", *period, "--site", "north", "--db", db)
    assert text.code == 0 and "16.9" in text.out and "open" in text.out
    assert "total: 19.9 kWh, saved $3.08" in text.out and "1 open, not yet accounted" in text.out
    weekly = cli("fleet", "curtail", "report", "--since", "2026-03-01", "--until", "2026-04-01",
                 "--per", "WEEK", "--db", db, "--json")  # fmt: skip
    starts = [p["start_utc"][:10] for p in json.loads(weekly.out)["periods"]]
    assert weekly.code == 0 and starts == ["2026-03-02"]  # a Monday; every event is in that week


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--since", "2026-13-01"], "--since"),
        (["--since", "2026-03-04", "--until", "2026-03-02"], "--until"),
        (["--since", "2026-03-01", "--per", "year"], "--per"),
        ([], "--since"),
    ],
)
def test_bad_periods_are_one_line(cli: Run, tmp_path: Path, args: list[str], needle: str) -> None:
    result = cli("fleet", "curtail", "report", *args, "--db", str(tmp_path / "f.db"))
    assert result.code == 2 and _one_error_line(result.err) and needle in result.err, result


def test_the_cli_period_choices_are_the_library_periods() -> None:
    from hashwatt.cli.fleet import ReportPer
    from hashwatt.fleet._curtail_report import Period

    assert {p.value for p in ReportPer} == {p.value for p in Period}
