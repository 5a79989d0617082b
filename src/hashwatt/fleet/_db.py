"""Opening the fleet database: engine settings per dialect and the Alembic upgrade.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the agent and the CLI can
share one file; PostgreSQL is reached by URL. Connection failures become one-line
:class:`StoreError`s with the password masked.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from hashwatt.fleet._config import redact_url
from hashwatt.fleet.errors import StoreError

__all__ = ["connect", "current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def _json_dumps(value: Any) -> str:
    """JSON columns are written by orjson: a cycle of 10,000 samples has 40,000 JSON values."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_loads(text: str | bytes) -> Any:
    """orjson reads; rows an older release wrote with ``NaN`` (not JSON) fall back to :mod:`json`."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def connect(url: str) -> Engine:
    """An engine for ``url`` that has answered one query; errors name the URL without secrets."""
    shown = redact_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"not a database URL: {shown}") from exc
    kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            parent = Path(database).expanduser().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the database directory {parent}: {exc.strerror}") from exc
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError, ArgumentError) as exc:
        raise StoreError(f"unsupported database URL {shown}: {type(exc).__name__}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the database {shown}: {_reason(exc)}") from exc
    return engine


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's first line, which names the cause (refused, authentication failed, ...)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line[:200]


#: Alembic's ``context`` is module-global: one migration at a time per process.
_MIGRATION_LOCK = threading.Lock()
#: Key of the PostgreSQL advisory lock that serialises agents migrating one shared database.
_PG_LOCK_KEY = 0x68617368  # "hash"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest shipped migration).

    Safe when several agents start at once: on PostgreSQL they queue on an advisory lock and
    the later ones find the schema already at head.
    """
    config = _alembic_config()
    try:
        with _MIGRATION_LOCK, engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"migrating the database failed: {_reason(exc)}") from exc


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
