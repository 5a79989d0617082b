"""Shared fixtures: paths to the real-data fixtures in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support.replay import replay  # noqa: F401  (the live adapter tests' fixture, shared by tests/economics and tests/cli)

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR
