"""Alembic migrations of the fleet database, run programmatically by :func:`hashwatt.fleet.open_store`."""
