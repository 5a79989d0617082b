"""Shared fixtures: paths to the real-data fixtures in tests/data, the live-adapter replay, and
``store_url`` (a fleet store on SQLite and on PostgreSQL) for tests/fleet and tests/cli."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._support.replay import replay  # noqa: F401  (the live adapter tests' fixture, shared by tests/economics and tests/cli)
from tests.fleet._storedb import KINDS, db_url_of

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh fleet database URL, once per kind (SQLite; PostgreSQL where configured)."""
    with db_url_of(request.param, tmp_path) as url:
        yield url
