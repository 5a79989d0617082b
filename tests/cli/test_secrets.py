"""No secrets in what the CLI prints: node and database passwords are masked."""

from __future__ import annotations

from hashwatt.cli.pool import _without_password
from hashwatt.node._rpc import redact_url


def test_database_url_password_masked() -> None:
    shown = _without_password("postgresql+psycopg://miner:hunter2@db.internal:5432/shares")
    assert "hunter2" not in shown
    assert shown.startswith("postgresql+psycopg://miner:") and shown.endswith("@db.internal:5432/shares")
    assert (
        _without_password("sqlite:////var/lib/hashwatt/shares.db") == "sqlite:////var/lib/hashwatt/shares.db"
    )
    assert "hunter2" not in _without_password("not a url hunter2")


def test_node_url_password_masked() -> None:
    assert "hunter2" not in redact_url("https://rpc:hunter2@node:8332/wallet/x")
