"""``--credentials FILE`` on the fleet commands: configured devices are reached with their own
credentials, the others with the factory default and flagged; no secret in any output or in
the database; a bad file is one ``error:`` line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._support.cli import Run
from tests.fleet._twins import twin_site_in_thread

SECRET = "pw-5ite-c4ed-0042"


def _one_error_line(err: str) -> bool:
    lines = err.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in err


@pytest.mark.parametrize(
    "text",
    [
        f'[device."10.0.0.5"]\nuser = "root"\npassword = "{SECRET}\n',  # unterminated string
        f'[device."10.0.0.5"]\nuser = "root"\npassword = "{SECRET}"\npasswd = "{SECRET}"\n',
        '[site.north]\nuser = "root"\npassword_env = "HW_TEST_UNSET_CLI_PW"\n',
    ],
)
@pytest.mark.parametrize("command", [["scan", "127.0.0.1"], ["poll", "--once"], ["agent", "--site", "x"]])
def test_a_bad_credentials_file_is_one_line(cli: Run, tmp_path: Path, text: str, command: list[str]) -> None:
    path = tmp_path / "creds.toml"
    path.write_text(text, encoding="utf-8")
    result = cli("fleet", *command, "--credentials", str(path), "--db", str(tmp_path / "f.db"))
    assert result.code == 2, result
    assert _one_error_line(result.err), result.err
    assert SECRET not in result.err + result.out


def test_scan_uses_the_file_and_flags_factory_credentials(cli: Run, tmp_path: Path) -> None:
    groups = (("Antminer S19 Pro", "stock"), ("Whatsminer M60S", "whatsminer-v3"))
    with twin_site_in_thread(groups, count=2) as (site, _loop):
        stock = [t for t in site.twins if t.firmware.value == "stock"]
        changed = stock[0]
        changed.web_password = SECRET  # the operator changed one machine's password
        creds = tmp_path / "creds.toml"
        creds.write_text(
            f'[device."{changed.host}"]\nuser = "root"\npassword = "{SECRET}"\n', encoding="utf-8"
        )
        db = tmp_path / "fleet.db"
        hosts = ",".join(t.host for t in site.twins)
        ports = ["--api-port", str(site.ports.rpc), "--http-port", str(site.ports.web)]
        ports += ["--v3-port", str(site.ports.v3)]
        # without the file the changed machine refuses its factory password: not identified
        result = cli("fleet", "scan", hosts, "--site", "north", *ports, "--db", str(db), "--json")
        assert result.code == 0, result
        found = {r["address"].rsplit(":", 1)[0]: r for r in json.loads(result.out)["found"]}
        assert changed.host not in found and len(found) == 3
        assert all(r["factory_credentials"] for r in found.values())

        result = cli(
            "fleet", "scan", hosts, "--site", "north", *ports, "--db", str(db), "--json",
            "--credentials", str(creds),
        )  # fmt: skip
        assert result.code == 0, result
        found = {r["address"].rsplit(":", 1)[0]: r for r in json.loads(result.out)["found"]}
        assert len(found) == 4
        assert found[changed.host]["factory_credentials"] is False
        assert all(r["factory_credentials"] for h, r in found.items() if h != changed.host)
        assert SECRET not in result.out + result.err

        listed = cli("fleet", "list", "--db", str(db), "--json")
        flags = {r["address"].rsplit(":", 1)[0]: r["factory_credentials"] for r in json.loads(listed.out)}
        assert flags[changed.host] is False and sum(flags.values()) == 3

        polled = cli("fleet", "poll", "--once", "--site", "north", "--db", str(db), "--json",
                     "--credentials", str(creds))  # fmt: skip
        assert polled.code == 0, polled
        cycle = json.loads(polled.out.splitlines()[-1])
        assert (cycle["polled"], cycle["ok"]) == (4, 4)  # every machine read, the file loaded
        assert SECRET not in polled.out + polled.err
    for path in tmp_path.glob("fleet.db*"):
        assert SECRET.encode() not in path.read_bytes()
