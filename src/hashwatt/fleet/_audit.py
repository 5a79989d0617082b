"""The audit log: who did what to which devices, when, and how it ended.

Control actions (the device layer's) and queued commands (the agents') both land here through
:meth:`AuditLog.write`, the sink the control layer is handed. Parameters are stored with any
secret-looking value masked (a pool password travels in a pool switch).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import Engine

from hashwatt.fleet._control import AuditRecord
from hashwatt.fleet._models import audit_log
from hashwatt.fleet._store import from_ms, to_ms

__all__ = ["AuditEntry", "AuditLog", "mask_secrets"]

_SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "credential")


def mask_secrets(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every value under a secret-looking key replaced by ``"***"`` (recursively)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if any(w in str(k).lower() for w in _SECRET_WORDS):
            out[str(k)] = "***"
        elif isinstance(v, Mapping):
            out[str(k)] = mask_secrets(v)
        elif isinstance(v, list | tuple):
            out[str(k)] = [mask_secrets(x) if isinstance(x, Mapping) else x for x in v]
        else:
            out[str(k)] = v
    return out


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One action on one or more devices."""

    actor: str  # a user name, or "agent:SITE/NAME" for what an agent did on its own
    action: str  # reboot, sleep, wake, power, pool, fault_light, curtail, ...
    devices: tuple[str, ...]  # host:port addresses
    outcome: str  # ok, failed, partial, refused
    time_utc: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    site: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    detail: Mapping[str, Any] | None = None  # per-device outcomes, read-back values, errors
    command_id: int | None = None


class AuditLog:
    """Append-only audit rows in the fleet database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, entry: AuditEntry) -> int:
        """Persist ``entry`` (the control layer's sink); returns its id."""
        with self.engine.begin() as c:
            return write_audit(c, entry)

    def record_sink(self, record: AuditRecord) -> None:
        """The control layer's :data:`~hashwatt.fleet.AuditSink`: one row per audit record."""
        ok = sum(o.ok for o in record.outcomes)
        outcome = "ok" if ok == len(record.outcomes) else ("partial" if ok else "failed")
        self.write(
            AuditEntry(
                actor=record.actor,
                action=record.action.value,
                devices=record.addresses,
                outcome=outcome,
                time_utc=record.time_utc,
                params={"request": record.params, "reason": record.reason},
                detail={
                    o.address: f"{o.status.value}: {o.detail}" if o.detail else o.status.value
                    for o in record.outcomes
                },
            )
        )

    def entries(
        self, *, device: str | None = None, site: str | None = None, limit: int = 200
    ) -> list[AuditEntry]:
        """Newest first; ``device`` filters on an address among the entry's devices."""
        stmt = select(audit_log).order_by(audit_log.c.id.desc())
        if site is not None:
            stmt = stmt.where(audit_log.c.site == site)
        out: list[AuditEntry] = []
        with self.engine.connect() as c:
            # JSON containment differs per dialect; the device filter runs here, bounded by limit
            for r in c.execute(stmt.limit(limit * 20 if device else limit)):
                if device is not None and device not in r.devices:
                    continue
                out.append(
                    AuditEntry(
                        actor=r.actor,
                        action=r.action,
                        devices=tuple(r.devices),
                        outcome=r.outcome,
                        time_utc=from_ms(r.time_ms),
                        site=r.site,
                        params=r.params,
                        detail=r.detail,
                        command_id=r.command_id,
                    )
                )
                if len(out) >= limit:
                    break
        return out


def write_audit(c: Connection, entry: AuditEntry) -> int:
    """Insert ``entry`` inside the caller's transaction (so a command and its audit commit together)."""
    row_id = c.execute(
        insert(audit_log)
        .values(
            time_ms=to_ms(entry.time_utc),
            actor=entry.actor[:128],
            action=entry.action[:32],
            site=entry.site,
            devices=list(entry.devices),
            params=mask_secrets(entry.params),
            outcome=entry.outcome[:16],
            detail=mask_secrets(entry.detail) if entry.detail is not None else None,
            command_id=entry.command_id,
        )
        .returning(audit_log.c.id)
    ).scalar_one()
    return int(row_id)
