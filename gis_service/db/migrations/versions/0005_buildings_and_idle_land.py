"""Buildings (建筑物) for the land-intensity evaluation, and idle land (闲置土地) on supply records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``building_import`` holds one row per import of a buildings file (year, source, file);
importing a year again replaces that year's buildings (one import per year).  ``building``
holds footprints (EPSG:4326) with their floor area: 建筑面积 as delivered, else footprint ×
层数 flagged ``floor_area_estimated``.  ``footprint_m2`` is computed by PostgreSQL in
EPSG:4549, like ``land_parcel.area_m2``.

``land_parcel.idle_status`` marks a supply record found idle (闲置土地认定): ``idle`` (认定,
not yet disposed of) or ``disposed`` (认定 and 处置完毕); ``idle_year`` is the year of the
finding.  NULL: not found idle.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "building_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("estimated_count", sa.Integer(), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("year", name="ux_building_import_year"),
    )
    op.create_table(
        "building",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("building_import.id", ondelete="CASCADE"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.Column("floor_area_m2", sa.Float(precision=53), nullable=False),
        sa.Column("floors", sa.Float(precision=53), nullable=True),
        sa.Column("floor_area_estimated", sa.Boolean(), nullable=False),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("footprint_m2", sa.Float(precision=53), sa.Computed("ST_Area(ST_Transform(geom, 4549))", persisted=True)),
        sa.CheckConstraint("floor_area_m2 >= 0", name="building_floor_area_nonnegative"),
        sa.CheckConstraint("floors IS NULL OR floors > 0", name="building_floors_positive"),
    )
    op.create_index("idx_building_geom", "building", ["geom"], postgresql_using="gist")
    op.create_index("ix_building_year", "building", ["year"])
    op.create_index("ix_building_import_id", "building", ["import_id"])
    op.add_column("land_parcel", sa.Column("idle_status", sa.String(length=16), nullable=True))
    op.add_column("land_parcel", sa.Column("idle_year", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "land_parcel_idle", "land_parcel",
        "(idle_status IS NULL AND idle_year IS NULL) OR (idle_status IN ('idle', 'disposed') AND layer = 'supply' AND idle_year IS NOT NULL)",
    )
    for table in ("building_import", "building"):
        op.execute(f"INSERT INTO data_change (table_name, version) VALUES ('{table}', 0)")
        op.execute(
            f"CREATE TRIGGER {table}_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_change()"
        )


def downgrade() -> None:
    for table in ("building", "building_import"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_change ON {table}")
        op.execute(f"DELETE FROM data_change WHERE table_name = '{table}'")
    op.drop_constraint("land_parcel_idle", "land_parcel")
    op.drop_column("land_parcel", "idle_year")
    op.drop_column("land_parcel", "idle_status")
    op.drop_table("building")
    op.drop_table("building_import")
