"""building anchor points and a partial index on industrial parcels (land-intensity speed)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02

- ``building.anchor``: a point on the building's surface (``ST_PointOnSurface(geom)``), the
  point that decides whether a building stands on industrial land.  A generated
  (``GENERATED ALWAYS ... STORED``) column, so every writer of ``building`` (the buildings
  importer, the benchmark's COPY) stores it and existing rows are backfilled by the
  ``ADD COLUMN``; PostGIS declares ``ST_PointOnSurface`` IMMUTABLE, which PostgreSQL requires.
  The intensity query no longer computes it per building per query.
  No index on it: the query reads the anchors of the buildings it already holds and tests
  them against the industrial parcels in memory (one STRtree), it never probes by anchor.
- ``ix_land_parcel_geom_industrial``: a GiST index on the geometries of 工矿仓储 parcels
  only.  The intensity filter (``metrics.intensity._IS_INDUSTRIAL_STORAGE``) is
  ``land_use_class IN (industrial, mining, logistics_warehouse)`` (static, the index predicate) plus the land layer and
  snapshot in force (parameters, checked on the rows the index returns).
- ``ix_land_parcel_idle_found``: the few supply records carrying a 闲置土地认定 finding.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ANCHOR_EXPRESSION = "ST_PointOnSurface(geom)"
#: 工矿仓储 (industrial, mining, logistics/warehouse): metrics.intensity.INDUSTRIAL_STORAGE_CLASSES
INDUSTRIAL = "land_use_class IN ('industrial', 'mining', 'logistics_warehouse')"


def upgrade() -> None:
    op.add_column(
        "building",
        sa.Column("anchor", Geometry("POINT", srid=4326, spatial_index=False),
                  sa.Computed(ANCHOR_EXPRESSION, persisted=True), nullable=True),
    )
    op.create_index("ix_land_parcel_geom_industrial", "land_parcel", ["geom"], unique=False,
                    postgresql_using="gist", postgresql_where=sa.text(INDUSTRIAL))


    # the idle-land indicators first ask whether any 闲置土地认定 finding is recorded at all: a
    # handful of flagged supply records among a million parcels
    op.create_index("ix_land_parcel_idle_found", "land_parcel", ["idle_year"], unique=False,
                    postgresql_where=sa.text("idle_status IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_land_parcel_idle_found", table_name="land_parcel")
    op.drop_index("ix_land_parcel_geom_industrial", table_name="land_parcel", postgresql_using="gist")
    op.drop_column("building", "anchor")
