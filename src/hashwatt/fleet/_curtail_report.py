"""The curtailment report: what curtailing did over a period, per event and per period.

Each event's account is the one stored when it ended (:func:`~hashwatt.fleet._curtail.account_event`:
energy saved from the measured load shed, cost saved at each hour's price, revenue forgone
at the economics room's hashprice with the measured hashrate shed). The report selects the
events that *started* in ``[since, until)`` and adds them up per UTC day, week or month; an
event still open has no account yet and is listed apart, never counted as zero.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hashwatt.fleet._curtail import CurtailAccount, StoredCurtailEvent, stored_curtail_events, summarize
from hashwatt.fleet._store import FleetStore
from hashwatt.fleet.errors import FleetInputError

__all__ = [
    "CurtailPeriodRow",
    "CurtailReport",
    "CurtailReportEvent",
    "Period",
    "curtail_report",
    "period_start",
]


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, from Monday 00:00 UTC
    MONTH = "month"


def period_start(when: datetime, per: Period) -> datetime:
    """The UTC start of the day, ISO week or month that contains ``when``."""
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if per is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if per is Period.MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True, slots=True)
class CurtailReportEvent:
    """One event of the report with its account (``account`` is None while it is open)."""

    event: StoredCurtailEvent
    account: CurtailAccount | None

    @property
    def hours(self) -> float | None:
        return None if self.account is None else self.account.hours


@dataclass(frozen=True, slots=True)
class CurtailPeriodRow:
    """The totals of the closed events that started in one period."""

    start_utc: datetime
    events: int
    account: CurtailAccount


@dataclass(frozen=True, slots=True)
class CurtailReport:
    since_utc: datetime
    until_utc: datetime
    site: str | None
    per: Period
    events: tuple[CurtailReportEvent, ...]  # oldest first
    periods: tuple[CurtailPeriodRow, ...]
    total: CurtailAccount  # the closed events only

    @property
    def open_events(self) -> tuple[CurtailReportEvent, ...]:
        return tuple(e for e in self.events if e.account is None)


def _account(e: StoredCurtailEvent) -> CurtailAccount | None:
    if e.end_utc is None or e.energy_saved_kwh is None:
        return None
    return CurtailAccount(
        hours=(e.end_utc - e.start_utc).total_seconds() / 3600.0,
        energy_saved_kwh=e.energy_saved_kwh,
        cost_saved_usd=e.cost_saved_usd or 0.0,
        revenue_forgone_usd=e.revenue_forgone_usd or 0.0,
    )


def build_report(
    events: Sequence[StoredCurtailEvent],
    *,
    since: datetime,
    until: datetime,
    site: str | None = None,
    per: Period = Period.DAY,
) -> CurtailReport:
    """The report of ``events`` (those that started in ``[since, until)`` are kept)."""
    if until <= since:
        raise FleetInputError("the report period must end after it starts (--until after --since)")
    kept = sorted((e for e in events if since <= e.start_utc < until), key=lambda e: (e.start_utc, e.id))
    rows = tuple(CurtailReportEvent(e, _account(e)) for e in kept)
    by_period: dict[datetime, list[CurtailAccount]] = {}
    for r in rows:
        if r.account is not None:
            by_period.setdefault(period_start(r.event.start_utc, per), []).append(r.account)
    periods = tuple(
        CurtailPeriodRow(start, len(accounts), summarize(accounts))
        for start, accounts in sorted(by_period.items())
    )
    total = summarize(r.account for r in rows if r.account is not None)
    return CurtailReport(since, until, site, per, rows, periods, total)


def curtail_report(
    store: FleetStore,
    *,
    since: datetime,
    until: datetime,
    site: str | None = None,
    per: Period = Period.DAY,
) -> CurtailReport:
    """The stored events that started in ``[since, until)`` (of ``site``, or every site)."""
    events = stored_curtail_events(store, site, limit=None, since=since, until=until)
    return build_report(events, since=since, until=until, site=site, per=per)
