"""``hashwatt fleet agent`` with a live price feed and down-power curtailment, end to end:
twins on loopback, the feed replayed by a loopback HTTP server, the report read back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests._support.cli import Run
from tests.fleet._feed import feed_server
from tests.fleet._twins import twin_site_in_thread


def _one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--curtail-prices", "p.csv", "--price-feed", "http://127.0.0.1:9/p"], "not both"),
        (["--load-cap-kw", "100"], "price signal"),
        (["--price-feed", "ftp://prices.example/p"], "http"),
        (["--price-feed", "http://127.0.0.1:9/p", "--load-caps", "missing.csv"], "missing.csv"),
        (["--price-feed", "http://127.0.0.1:9/p", "--curtail-mode", "hibernate"], "--curtail-mode"),
        (["--price-feed", "http://127.0.0.1:9/p", "--curtail-mode", "profile"], "--curtail-profile"),
        (["--price-feed", "http://127.0.0.1:9/p", "--curtail-profile", "low"], "--curtail-profile"),
    ],
)
def test_bad_curtailment_options_are_one_line(
    cli: Run, tmp_path: Path, args: list[str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.csv").write_text("2026-03-02T00:00Z,20\n")
    result = cli("fleet", "agent", "--site", "north", "--once", *args, "--db", str(tmp_path / "f.db"))
    assert result.code == 2 and _one_error_line(result.err) and needle in result.err, result


def test_agent_down_powers_from_a_live_feed_and_the_report_shows_it(cli: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    rows = [{"time": (hour + dt.timedelta(hours=h)).isoformat(), "usd_per_mwh": 5000} for h in (-1, 0, 1)]
    with (
        twin_site_in_thread((("Whatsminer M60S", "whatsminer-v3"),), count=2) as (site, _loop),
        feed_server() as (feed, url),
    ):
        feed.kind, feed.body = "application/json", json.dumps(rows).encode()
        hosts = ",".join(t.host for t in site.twins)
        ports = ["--api-port", str(site.ports.rpc), "--v3-port", str(site.ports.v3)]
        assert cli("fleet", "scan", hosts, "--site", "north", *ports, "--db", db).code == 0
        limits = {t.host: t.power_limit_w for t in site.twins}
        result = cli(
            "fleet", "agent", "--site", "north", "--once", "--db", db, "--json",
            "--price-feed", url, "--curtail-mode", "power", "--power-fraction", "0.6",
        )  # fmt: skip
        assert result.code == 0, result
        cycle = json.loads(result.out.splitlines()[-1])
        assert cycle["curtail_started"] == 1
        for t in site.twins:  # each twin read back at 60 % of the power it drew
            assert t.power_limit_w < 0.7 * limits[t.host]
    since = (hour - dt.timedelta(hours=1)).isoformat()
    report = cli("fleet", "curtail", "report", "--since", since, "--db", db, "--json")
    assert report.code == 0, report
    (event,) = json.loads(report.out)["events"]
    assert event["open"] and event["mode"] == "power_target" and len(event["devices"]) == 2
    assert event["price_usd_per_mwh"] == 5000
