"""Fixtures of the fleet tests: ``store_url`` runs a test once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet._storedb import KINDS, db_url_of


@pytest.fixture(params=KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_of(request.param, tmp_path) as url:
        yield url
