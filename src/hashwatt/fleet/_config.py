"""Where the fleet database lives, and how its URL is shown (the shared ``redact_url``)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from hashwatt.node._rpc import redact_url  # the one URL redaction: passwords become ***

__all__ = ["data_dir", "database_url", "default_database_url", "redact_url"]


def data_dir() -> Path:
    """The user's data directory for hashwatt (XDG on Linux: ``~/.local/share/hashwatt``)."""
    return Path(platformdirs.user_data_dir("hashwatt", appauthor=False))


def default_database_url() -> str:
    """The embedded default: an SQLite file in the user's data directory."""
    return f"sqlite:///{data_dir() / 'fleet.db'}"


def database_url(value: str | None) -> str:
    """A SQLAlchemy URL as given, a file path turned into an SQLite URL, or the default."""
    if not value:
        return default_database_url()
    return value if "://" in value else f"sqlite:///{Path(value).expanduser()}"
