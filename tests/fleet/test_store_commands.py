"""The command table and audit log on SQLite and PostgreSQL, with several agents at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from hashwatt.fleet._audit import AuditEntry, AuditLog
from hashwatt.fleet._commands import (
    CommandState,
    claim_commands,
    finish_command,
    list_commands,
    submit_command,
)
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import CommandError
from tests.fleet._readings import T0


def test_command_lifecycle_writes_one_audit_row(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        cmd = submit_command(
            store,
            "north",
            "pool",
            ["10.0.0.5:4028"],
            params={"url": "stratum+tcp://p:3333", "user": "acct.w", "password": "hunter2"},
            created_by="alice",
            now=T0,
        )
        assert cmd.state is CommandState.PENDING
        (got,) = claim_commands(store, "north", "agent-a", now=T0)
        assert got.id == cmd.id and got.claimed_by == "agent-a" and got.attempts == 1
        assert claim_commands(store, "north", "agent-b", now=T0) == []  # claimed, lease not over
        assert finish_command(store, got, "agent-a", ok=True, result={"read_back": "ok"}, now=T0)
        assert not finish_command(store, got, "agent-a", ok=True, now=T0)  # only once
        (done,) = list_commands(store, site="north")
        assert done.state is CommandState.DONE
        (entry,) = AuditLog(store.engine).entries(device="10.0.0.5:4028")
        assert (entry.actor, entry.action, entry.outcome, entry.command_id) == ("alice", "pool", "ok", cmd.id)
        assert (
            entry.params["password"] == "***"
            and entry.detail is not None
            and entry.detail["agent"] == "agent-a"
        )


def test_lease_expiry_hands_the_command_to_another_agent(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        submit_command(store, "north", "reboot", ["10.0.0.5:4028"], created_by="bob", now=T0)
        (first,) = claim_commands(store, "north", "agent-a", lease_s=60, now=T0)
        later = T0 + dt.timedelta(seconds=61)
        (second,) = claim_commands(store, "north", "agent-b", lease_s=60, now=later)
        assert second.id == first.id and second.attempts == 2
        assert not finish_command(store, first, "agent-a", ok=True, now=later)  # its claim was lost
        assert finish_command(store, second, "agent-b", ok=False, result={"error": "timeout"}, now=later)
        assert list_commands(store)[0].state is CommandState.FAILED
        # after max_attempts a dead command is not claimed forever
        submit_command(store, "north", "wake", ["10.0.0.6:4028"], created_by="bob", now=T0)
        t = T0
        for _ in range(3):
            assert len(claim_commands(store, "north", "x", lease_s=1, max_attempts=3, now=t)) == 1
            t += dt.timedelta(seconds=2)
        assert claim_commands(store, "north", "x", lease_s=1, max_attempts=3, now=t) == []


def test_bad_commands_are_refused(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        with pytest.raises(CommandError, match="unknown action"):
            submit_command(store, "north", "format-disk", ["a:1"], created_by="x")
        with pytest.raises(CommandError, match="target"):
            submit_command(store, "north", "reboot", [], created_by="x")


def test_several_agents_execute_every_command_exactly_once(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        for i in range(60):
            submit_command(store, "north", "reboot", [f"10.0.1.{i}:4028"], created_by="ops", now=T0)
        submit_command(store, "south", "reboot", ["10.9.9.9:4028"], created_by="ops", now=T0)
    executed: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def agent(name: str) -> None:
        try:
            with FleetStore.open(store_url) as own:  # each agent its own engine and connections
                while batch := claim_commands(own, "north", name, limit=3):
                    for cmd in batch:
                        with lock:
                            executed.append((name, cmd.id))
                        assert finish_command(own, cmd, name, ok=True)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(f"agent-{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    counts = Counter(cid for _, cid in executed)
    assert len(counts) == 60 and set(counts.values()) == {1}
    with FleetStore.open(store_url) as store:
        assert {c.state for c in list_commands(store, site="north")} == {CommandState.DONE}
        assert [c.state for c in list_commands(store, site="south")] == [CommandState.PENDING]
        assert len(AuditLog(store.engine).entries(site="north", limit=1000)) == 60


def test_audit_sink_masks_secrets(store_url: str) -> None:
    with FleetStore.open(store_url) as store:
        log = AuditLog(store.engine)
        log.write(
            AuditEntry(
                actor="carol",
                action="pool",
                devices=("10.0.0.1:4028", "10.0.0.2:4028"),
                outcome="partial",
                site="north",
                params={"pools": [{"url": "stratum+tcp://p", "password": "pw1"}], "api_token": "t0k"},
                detail={"10.0.0.2:4028": "timeout"},
            )
        )
        (entry,) = log.entries(device="10.0.0.2:4028")
        assert entry.params == {"pools": [{"url": "stratum+tcp://p", "password": "***"}], "api_token": "***"}
        assert entry.outcome == "partial" and entry.devices == ("10.0.0.1:4028", "10.0.0.2:4028")
        assert log.entries(device="10.0.0.3:4028") == []
