"""stored parcel area (EPSG:4549) and a partial index on supplied industrial parcels

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

- ``land_parcel.area_m2``: the parcel's area in m², measured in EPSG:4549 (CGCS2000 /
  3-degree Gauss-Kruger CM 120E), a generated (``GENERATED ALWAYS ... STORED``) column, so
  that a parcel lying wholly inside a boundary counts without being reprojected at query
  time.  PostGIS declares ``ST_Transform`` and ``ST_Area`` IMMUTABLE, which PostgreSQL
  requires of a generated column.
- ``ix_land_parcel_geom_supplied_industrial``: a GiST index on the geometries of supplied
  industrial parcels (已供应工业用地) only, the basis of 001 表1 #9, so the default density
  query probes a third of the rows it would probe through the full index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

AREA_EXPRESSION = "ST_Area(ST_Transform(geom, 4549))"
SUPPLIED_INDUSTRIAL = "land_use_class = 'industrial' AND is_supplied"


def upgrade() -> None:
    op.add_column(
        "land_parcel",
        sa.Column("area_m2", sa.Float(precision=53), sa.Computed(AREA_EXPRESSION, persisted=True), nullable=True),
    )
    op.create_index(
        "ix_land_parcel_geom_supplied_industrial",
        "land_parcel",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text(SUPPLIED_INDUSTRIAL),
    )


def downgrade() -> None:
    op.drop_index("ix_land_parcel_geom_supplied_industrial", table_name="land_parcel", postgresql_using="gist")
    op.drop_column("land_parcel", "area_m2")
