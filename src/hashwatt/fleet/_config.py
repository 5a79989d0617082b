"""Where the fleet database lives and how its URL is shown: one definition of each."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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


def redact_url(url: str) -> str:
    """The URL for display, password masked; anything unparseable is not echoed at all."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
