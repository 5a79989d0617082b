"""The command table: how a control request reaches the agent of a remote site.

A command is a row for one site (action, target addresses, parameters, who asked). The site's
agent claims pending rows atomically: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING`` on PostgreSQL, so several agents never take the same row and never wait
on each other; on SQLite the same statement is atomic because writers are serialised. A
claim is a lease: a row whose agent died is claimed again after ``lease_s``, up to
``max_attempts``. The agent acknowledges with the outcome, and the audit row is written in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from hashwatt.fleet._audit import AuditEntry, mask_secrets, write_audit
from hashwatt.fleet._models import commands, sites
from hashwatt.fleet._store import FleetStore, from_ms, to_ms
from hashwatt.fleet.errors import CommandError

__all__ = [
    "ACTIONS",
    "Command",
    "CommandState",
    "claim_commands",
    "finish_command",
    "list_commands",
    "submit_command",
]

#: The control actions a command may carry (the device layer implements them).
ACTIONS = frozenset({"reboot", "sleep", "wake", "power", "pool", "fault_light", "curtail"})
MAX_TARGETS = 10_000


class CommandState(enum.StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Command:
    id: int
    site: str
    action: str
    targets: tuple[str, ...]
    params: Mapping[str, Any]
    created_by: str
    created_utc: dt.datetime
    state: CommandState
    claimed_by: str | None
    attempts: int
    result: Mapping[str, Any] | None


def _command(r: Any, site: str) -> Command:
    return Command(
        id=r.id,
        site=site,
        action=r.action,
        targets=tuple(r.targets),
        params=r.params,
        created_by=r.created_by,
        created_utc=from_ms(r.created_ms),
        state=CommandState(r.state),
        claimed_by=r.claimed_by,
        attempts=r.attempts,
        result=r.result,
    )


def submit_command(
    store: FleetStore,
    site: str,
    action: str,
    targets: Sequence[str],
    *,
    params: Mapping[str, Any] | None = None,
    created_by: str,
    now: dt.datetime | None = None,
) -> Command:
    """Queue ``action`` on ``targets`` (host:port addresses) for ``site``'s agent."""
    if action not in ACTIONS:
        raise CommandError(
            f"unknown action {action!r}; one of: {', '.join(sorted(ACTIONS))}", field="action", value=action
        )
    if not targets or len(targets) > MAX_TARGETS:
        raise CommandError(
            f"a command needs 1 to {MAX_TARGETS} target devices, got {len(targets)}",
            field="targets",
            value=len(targets),
        )
    site_id = store.ensure_site(site)
    now_ms = to_ms(now or dt.datetime.now(dt.UTC))
    with store.engine.begin() as c:
        row = c.execute(
            insert(commands)
            .values(
                site_id=site_id,
                created_ms=now_ms,
                created_by=created_by[:128],
                action=action,
                targets=list(targets),
                params=dict(params or {}),
                state=CommandState.PENDING.value,
                attempts=0,
            )
            .returning(*commands.c)
        ).one()
    return _command(row, site)


def claim_commands(
    store: FleetStore,
    site: str,
    agent: str,
    *,
    limit: int = 10,
    lease_s: float = 300.0,
    max_attempts: int = 3,
    now: dt.datetime | None = None,
) -> list[Command]:
    """Atomically take up to ``limit`` runnable commands of ``site`` for ``agent``, oldest first."""
    site_id = store.ensure_site(site)
    now_ms = to_ms(now or dt.datetime.now(dt.UTC))
    runnable = and_(
        commands.c.site_id == site_id,
        commands.c.attempts < max_attempts,
        or_(
            commands.c.state == CommandState.PENDING.value,
            and_(
                commands.c.state == CommandState.CLAIMED.value,
                commands.c.claimed_ms < now_ms - int(lease_s * 1000),
            ),
        ),
    )
    chosen = (
        select(commands.c.id)
        .where(runnable)
        .order_by(commands.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with store.engine.begin() as c:
        rows = c.execute(
            update(commands)
            .where(commands.c.id.in_(chosen), runnable)
            .values(
                state=CommandState.CLAIMED.value,
                claimed_by=agent[:128],
                claimed_ms=now_ms,
                attempts=commands.c.attempts + 1,
            )
            .returning(*commands.c)
        ).all()
    return sorted((_command(r, site) for r in rows), key=lambda cmd: cmd.id)


def finish_command(
    store: FleetStore,
    command: Command,
    agent: str,
    *,
    ok: bool,
    result: Mapping[str, Any] | None = None,
    outcome: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Acknowledge a claimed command and write its audit row, atomically.

    False (and nothing written) when the claim was lost: the lease ran out and another agent
    took the command.
    """
    now_utc = now or dt.datetime.now(dt.UTC)
    state = CommandState.DONE if ok else CommandState.FAILED
    with store.engine.begin() as c:
        done = c.execute(
            update(commands)
            .where(
                commands.c.id == command.id,
                commands.c.state == CommandState.CLAIMED.value,
                commands.c.claimed_by == agent[:128],
            )
            .values(state=state.value, finished_ms=to_ms(now_utc), result=mask_secrets(result or {}))
        ).rowcount
        if not done:
            return False
        write_audit(
            c,
            AuditEntry(
                actor=command.created_by,
                action=command.action,
                devices=command.targets,
                outcome=outcome or ("ok" if ok else "failed"),
                time_utc=now_utc,
                site=command.site,
                params=command.params,
                detail={"agent": agent, **(result or {})},
                command_id=command.id,
            ),
        )
    return True


def list_commands(
    store: FleetStore,
    *,
    site: str | None = None,
    states: Sequence[CommandState] | None = None,
    limit: int = 200,
) -> list[Command]:
    stmt = select(commands, sites.c.name.label("site_name")).join(sites, sites.c.id == commands.c.site_id)
    if site is not None:
        stmt = stmt.where(sites.c.name == site)
    if states is not None:
        stmt = stmt.where(commands.c.state.in_([s.value for s in states]))
    with store.engine.connect() as c:
        return [_command(r, r.site_name) for r in c.execute(stmt.order_by(commands.c.id.desc()).limit(limit))]
