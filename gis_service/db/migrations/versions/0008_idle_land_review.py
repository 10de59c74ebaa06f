"""Idle-land identifications (闲置土地调查认定) carried out, whatever they found.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A 闲置土地调查认定 is the yearly check, by the land office, of which supplied land lies idle
(闲置土地: land not started, or stopped, past the date of the supply contract).  Its findings are
flags on supply records (``land_parcel.idle_status``, migration 0005); a check that found no idle
land leaves no flag, so it is recorded here: one row per (year, scope), the scope a park (its
blocks included) or, with ``park_id`` NULL, the whole district (全区), with its source.  The
land-intensity answer computes 土地闲置率 and 闲置土地处置率 for a unit only when such a check covers
it (:func:`gis_service.store.idle_coverage.idle_coverage`).

``ux_idle_land_review_scope`` is UNIQUE NULLS NOT DISTINCT (PostgreSQL 15): one district-wide
review per year as well as one per park and year; recording again replaces the source (upsert).
The table is registered with the ``data_change`` trigger (migrations 0003/0006) so that the
answers memoised on those counters see a new review.

``ix_land_parcel_idle_found`` (migration 0007) is dropped: it served the question "is any finding
recorded at all?", which the per-unit coverage by reviews and findings replaced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "idle_land_review"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("park.id", ondelete="CASCADE"), nullable=True),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("source_section", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.CheckConstraint("year BETWEEN 1990 AND 2100", name="idle_land_review_year"),
        sa.CheckConstraint("btrim(source_document) <> '' AND length(source_document) <= 500",
                           name="idle_land_review_source"),
        sa.CheckConstraint("source_section IS NULL OR length(source_section) <= 500", name="idle_land_review_section"),
    )
    op.create_index("ux_idle_land_review_scope", TABLE, ["year", "park_id"], unique=True,
                    postgresql_nulls_not_distinct=True)
    op.execute("INSERT INTO data_change (table_name, version) VALUES ('idle_land_review', 0)")
    op.execute("CREATE TRIGGER idle_land_review_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
               " ON idle_land_review FOR EACH STATEMENT EXECUTE FUNCTION bump_data_change()")
    op.drop_index("ix_land_parcel_idle_found", table_name="land_parcel")


def downgrade() -> None:
    op.create_index("ix_land_parcel_idle_found", "land_parcel", ["idle_year"], unique=False,
                    postgresql_where=sa.text("idle_status IS NOT NULL"))
    op.execute("DROP TRIGGER IF EXISTS idle_land_review_data_change ON idle_land_review")
    op.execute("DELETE FROM data_change WHERE table_name = 'idle_land_review'")
    op.drop_index("ux_idle_land_review_scope", table_name=TABLE)
    op.drop_table(TABLE)
