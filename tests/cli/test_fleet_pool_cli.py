"""``hashwatt fleet pool --group``: queued in the command table, executed by the site's agent
against a LuxOS twin on loopback, read back, with the other pools kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests._support.cli import Run
from tests.fleet._twins import twin_site_in_thread

NEW = "stratum+tcp://backup.example:3334"


def test_pool_group_change_queued_then_executed_by_the_agent(cli: Run, tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")
    with twin_site_in_thread((("Antminer S19j Pro", "luxos"),)) as (site, _loop):
        twin = site.twins[0]
        first = (twin.pools[0].url, twin.pools[0].user, twin.pools[0].password)
        ports = ["--api-port", str(site.ports.rpc), "--http-port", str(site.ports.web)]
        assert cli("fleet", "scan", twin.host, "--site", "north", *ports, "--db", db).code == 0
        address = f"{twin.host}:{site.ports.rpc}"
        bad = cli(
            "fleet", "pool", address, "--url", NEW, "--user", "ops.1", "--group", "no spaces!", "--db", db
        )
        assert bad.code == 2 and bad.err.startswith("error:") and len(bad.err.strip().splitlines()) == 1
        queued = cli(
            "fleet", "pool", address, "--url", NEW, "--user", "ops.1", "--group", "Backup", "--db", db
        )
        assert queued.code == 0, queued
        ran = cli("fleet", "agent", "--site", "north", "--once", "--db", db, "--json")
        assert ran.code == 0 and json.loads(ran.out.splitlines()[-1])["commands_done"] == 1, ran
        assert [n for n, _ in twin.lux_groups] == ["Default", "Backup"]
        assert [(p.url, p.user, p.group) for p in twin.pools if p.group == 1] == [(NEW, "ops.1", 1)]
        kept = next(p for p in twin.pools if p.group == 0)
        assert (kept.url, kept.user, kept.password) == first  # the default group untouched
    (command,) = json.loads(cli("fleet", "commands", "--db", db, "--json").out)
    assert command["state"] == "done" and command["params"]["group"] == "Backup"
