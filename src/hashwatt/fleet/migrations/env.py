"""Alembic environment: the caller hands in an open connection (no alembic.ini, no URL here)."""

from __future__ import annotations

from alembic import context

from hashwatt.fleet._models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
