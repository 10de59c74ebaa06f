"""Data change counters: one row per table, bumped by a statement trigger on every write.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Caches of rendered maps and computed figures compare these counters instead of scanning
the tables (a count over a million parcels on every request would cost more than the
answer).  Statement-level triggers fire once per INSERT/UPDATE/DELETE/TRUNCATE statement,
whatever the number of rows, inside the writing transaction: a rolled-back write bumps
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRACKED = ("district", "town", "zone", "zone_town", "park", "park_boundary", "sizhi", "indicator", "target",
           "road", "land_parcel")


def upgrade() -> None:
    op.create_table(
        "data_change",
        sa.Column("table_name", sa.String(length=64), primary_key=True),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute(
        """
        CREATE FUNCTION bump_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_change (table_name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
            ON CONFLICT (table_name)
            DO UPDATE SET version = data_change.version + 1, changed_at = now();
            RETURN NULL;
        END $$
        """
    )
    for table in TRACKED:
        op.execute(f"INSERT INTO data_change (table_name, version) VALUES ('{table}', 0)")
        op.execute(
            f"CREATE TRIGGER {table}_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_change()"
        )


def downgrade() -> None:
    for table in TRACKED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_change ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_data_change()")
    op.drop_table("data_change")
