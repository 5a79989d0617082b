"""Databases for the store tests: a fresh SQLite file, or a fresh schema on the PostgreSQL at
HASHWATT_TEST_POSTGRES_URL (one schema per test, so parallel runs never collide).

Without the URL the PostgreSQL half is skipped; with a URL whose server does not answer it
fails (never a silent skip), under CI=true or not.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "HASHWATT_TEST_POSTGRES_URL"
KINDS = ("sqlite", "postgresql")


def pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:  # .ci/run unsets it only when no server could be started there
        pytest.skip(f"{PG_ENV} not set")
    return url


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A URL whose search_path is a brand-new schema; the schema is dropped afterwards."""
    base = pg_base_url()
    assert base is not None
    schema = f"hwfs_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - only when the server is down
        admin.dispose()
        pytest.fail(f"PostgreSQL at {make_url(base).render_as_string(hide_password=True)} unreachable: {exc}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def db_url_of(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'fleet-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with pg_schema_url() as url:
            yield url
