"""Curtailment events: machines shed, and their energy saved, cost saved and revenue forgone.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "curtail_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("machines", sa.JSON(), nullable=False),
        sa.Column("disobeyed", sa.JSON(), nullable=False),
        sa.Column("shed_kw", sa.Float(), nullable=False),
        sa.Column("hashrate_ths", sa.Float(), nullable=False),
        sa.Column("price_usd_per_mwh", sa.Float(), nullable=False),
        sa.Column("hashprice_usd_per_ph_day", sa.Float(), nullable=False),
        sa.Column("energy_saved_kwh", sa.Float(), nullable=True),
        sa.Column("cost_saved_usd", sa.Float(), nullable=True),
        sa.Column("revenue_forgone_usd", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_curtail_events_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curtail_events")),
    )
    op.create_index(
        op.f("ix_curtail_events_site_id_start_ms"), "curtail_events", ["site_id", "start_ms"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_curtail_events_site_id_start_ms"), table_name="curtail_events")
    op.drop_table("curtail_events")
