"""``hashwatt fleet`` end to end through the real entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from hashwatt.cli.main import main
from hashwatt.fleet._store import FleetStore
from tests.fleet._readings import LIST_KEYS, T0, ep, failed, identity, ok

SECRET = "pw-s3cr3t-9931"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _seed(url: str) -> None:
    from dataclasses import replace

    with FleetStore.open(url) as store:
        store.add_device("north", ep(0), identity=identity("SN-0"), rack="R1", position="4")
        store.record(
            "north", [replace(ok(0, T0, power_w=None), identity=identity("SN-0")), ok(1, T0, estimated=True)]
        )
        store.record("north", [failed(1, T0 + dt.timedelta(minutes=1))])


def test_list_and_show_json_carry_the_promised_fields(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_url)
    code, out, _ = run(capsys, "fleet", "list", "--db", store_url, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["address"] for r in rows] == [ep(0).address, ep(1).address]
    for r in rows:
        assert set(r) >= LIST_KEYS
    assert rows[1]["state"] == "unreachable" and rows[1]["hashrate_ths"] == pytest.approx(110.0)
    assert rows[1]["power_estimated"] is True and rows[1]["last_seen_utc"] == T0.isoformat()
    assert rows[0]["power_w"] is None and rows[0]["serial"] == "SN-0"

    code, out, _ = run(capsys, "fleet", "show", ep(0).address, "--db", store_url, "--json")
    shown = json.loads(out)
    assert code == 0 and set(shown) >= LIST_KEYS and shown["rack"] == "R1"
    assert len(shown["boards"]) == 3 and shown["pools"][0]["status"] == "alive"

    code, out, _ = run(capsys, "fleet", "list", "--db", store_url)
    assert code == 0 and ep(1).address in out and "~3,250" in out  # estimated power marked


def test_queue_control_and_alert_ack(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(store_url)
    code, out, _ = run(
        capsys, "fleet", "sleep", ep(0).address, ep(1).address, "--by", "alice", "--db", store_url, "--json"
    )
    assert code == 0
    (cmd,) = json.loads(out)
    assert (
        cmd["action"] == "sleep"
        and cmd["targets"] == [ep(0).address, ep(1).address]
        and cmd["created_by"] == "alice"
    )
    code, out, _ = run(
        capsys, "fleet", "power", ep(0).address, "--watts", "2800", "--db", store_url, "--json"
    )
    assert code == 0 and json.loads(out)[0]["params"] == {"power_target_w": 2800.0}
    code, out, _ = run(capsys, "fleet", "commands", "--db", store_url, "--json")
    assert [c["state"] for c in json.loads(out)] == ["pending", "pending"]

    from hashwatt.fleet._alerts import evaluate_alerts

    with FleetStore.open(store_url) as store:
        store.record("north", [ok(0, T0 + dt.timedelta(minutes=2), chip_c=99.0)])
        evaluate_alerts(store, "north", now=T0 + dt.timedelta(minutes=2))
    code, out, _ = run(capsys, "fleet", "alerts", "--db", store_url, "--json")
    (alert,) = json.loads(out)
    assert alert["rule"] == "chip_temp" and alert["state"] == "open"
    code, out, _ = run(
        capsys, "fleet", "alerts", "--ack", str(alert["id"]), "--by", "bob", "--db", store_url, "--json"
    )
    assert json.loads(out)[0]["state"] == "acknowledged" and json.loads(out)[0]["acknowledged_by"] == "bob"


BAD_INPUTS = [
    ("fleet", "plan.toml"),
    ("fleet", "scan", "10.0.0.1-10.0.0.x"),
    ("fleet", "scan", "10.0.0.300/24"),
    ("fleet", "scan", "10.0.0.9-10.0.0.1"),
    ("fleet", "scan", "10.0.0.0/8"),
    ("fleet", "scan", "10.0.0.1,,10.0.0.2"),
    ("fleet", "show", "10.0.0.1:40x28"),
    ("fleet", "show", "10.9.9.9"),
    ("fleet", "reboot", "10.9.9.9:4028"),
    ("fleet", "power", "10.9.9.9"),
    ("fleet", "pool", "10.9.9.9", "--url", f"stratum+tcp://u:{SECRET}@pool:3333", "--user", "w"),
    ("fleet", "alerts", "--ack", "999"),
    ("fleet", "agent", "--site", "north", "--alerts", "BAD_TOML"),
    ("fleet", "agent", "--site", "north", "--alerts", "MISSING_TOML"),
    ("fleet", "agent", "--site", "north", "--curtail-prices", "BAD_TOML"),
    ("fleet", "agent", "--site", "north", "--curtail-prices", "MISSING_TOML"),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=lambda a: " ".join(a[1:3]))
def test_bad_input_is_one_error_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[defaults]\nchip_temp_max_c = "{SECRET}\n')
    argv = [
        a.replace("BAD_TOML", str(bad)).replace("MISSING_TOML", str(tmp_path / "nope.toml")) for a in args
    ]
    code, out, err = run(capsys, *argv, "--db", str(tmp_path / "f.db"))
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in out + err and SECRET not in out + err


def _pg_url_with(user: str, password: str) -> str | None:
    base = os.environ.get("HASHWATT_TEST_POSTGRES_URL")
    if not base:
        return None
    from sqlalchemy.engine import make_url

    return make_url(base).set(username=user, password=password).render_as_string(hide_password=False)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://admin:{SECRET}@127.0.0.1:1/fleet",
        f"postgresql+psycopg://admin:{SECRET}@no-such-host.invalid:5432/fleet",
        f"mysql://admin:{SECRET}@127.0.0.1/fleet",
        f"postgresql+psycopg://admin:{SECRET}@127.0.0.1:notaport/fleet",
        "WRONG_USER",
    ],
    ids=["refused", "unknown-host", "no-driver", "bad-port", "wrong-user-password"],
)
def test_unusable_database_urls_never_show_the_password(capsys: pytest.CaptureFixture[str], url: str) -> None:
    if url == "WRONG_USER":
        pg = _pg_url_with("hashwatt_no_such_role", SECRET)
        if pg is None:
            pytest.skip("HASHWATT_TEST_POSTGRES_URL not set")
        url = pg
    for args in (("fleet", "list"), ("fleet", "alerts"), ("fleet", "migrate", "--json")):
        code, out, err = run(capsys, *args, "--db", url)
        assert code == 2, (out, err)
        assert SECRET not in out + err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error:")


def test_agent_for_a_site_with_no_devices_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    _seed(url)
    code, _, err = run(capsys, "fleet", "agent", "--site", "nowhere", "--db", url, "--once")
    assert code == 0
    assert "warning: site 'nowhere' has no devices" in err and "--site nowhere" in err
