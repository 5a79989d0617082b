"""One "as of" for the whole package: the newest network state the shipped data support.

Each input carries its own date because the sources end on different days: difficulty from
the newest shipped retarget (Electrum's checkpoints), the BTC price from the newest shipped
daily close, fees from the newest shipped day with a fee figure. A report prints every input's
date and age so that nobody mistakes a shipped snapshot for today; past
:data:`STALE_AFTER_DAYS` it warns, and the user's overrides (or a live source) replace the
stale inputs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

__all__ = ["STALE_AFTER_DAYS", "AsOf", "DatedInput", "utc_today"]

#: Older inputs than this make every report warn.
STALE_AFTER_DAYS = 30


def utc_today() -> dt.date:
    """Today's UTC date (the reference for the data's age)."""
    return dt.datetime.now(dt.UTC).date()


@dataclasses.dataclass(frozen=True, slots=True)
class DatedInput:
    """One network input's date and origin (``source`` = "override" when the user gave it)."""

    name: str
    date: dt.date
    source: str
    date_estimated: bool = False

    def age_days(self, today: dt.date) -> int:
        return (today - self.date).days


@dataclasses.dataclass(frozen=True, slots=True)
class AsOf:
    """The dates of a calculation's network inputs (difficulty, price, fees)."""

    inputs: tuple[DatedInput, ...]

    @property
    def date(self) -> dt.date:
        """The oldest input's date: the calculation is no fresher than its stalest input."""
        return min(i.date for i in self.inputs)

    def get(self, name: str) -> DatedInput | None:
        return next((i for i in self.inputs if i.name == name), None)

    def with_override(self, name: str, today: dt.date) -> AsOf:
        """This as-of with ``name`` given by the user today (added when not yet listed)."""
        new = DatedInput(name=name, date=today, source="override")
        rest = tuple(i for i in self.inputs if i.name != name)
        kept = [i for i in self.inputs if i.name == name]
        return AsOf((*rest, new) if not kept else tuple(new if i.name == name else i for i in self.inputs))

    def stale(self, today: dt.date, limit_days: int = STALE_AFTER_DAYS) -> tuple[DatedInput, ...]:
        return tuple(i for i in self.inputs if i.age_days(today) > limit_days)

    def warning(self, today: dt.date, limit_days: int = STALE_AFTER_DAYS) -> str | None:
        """One line naming every input older than ``limit_days``, or None."""
        old = self.stale(today, limit_days)
        if not old:
            return None
        parts = ", ".join(
            f"{i.name} {'~' if i.date_estimated else ''}{i.date.isoformat()} ({i.age_days(today)} days old)"
            for i in old
        )
        return (
            f"shipped network data older than {limit_days} days: {parts}; "
            "give --difficulty/--btc-price/--fees-btc-per-block, --network FILE or --live-url for today's"
        )

    def to_json(self, today: dt.date) -> dict[str, object]:
        """The JSON ``as_of`` object: the oldest date, its age, and each input's date and source."""
        return {
            "date": self.date.isoformat(),
            "age_days": (today - self.date).days,
            "stale": bool(self.stale(today)),
            "inputs": {
                i.name: {
                    "date": i.date.isoformat(),
                    "age_days": i.age_days(today),
                    "source": i.source,
                    "date_estimated": i.date_estimated,
                }
                for i in self.inputs
            },
        }

    def summary(self, today: dt.date) -> str:
        """One human line: ``as of 2025-12-29 (336 days old): difficulty ~2026-06-14, ...``."""
        parts = ", ".join(
            f"{i.name} {'~' if i.date_estimated else ''}{i.date.isoformat()}"
            + (" (given)" if i.source == "override" else "")
            for i in self.inputs
        )
        return f"as of {self.date.isoformat()} ({(today - self.date).days} days old): {parts}"
