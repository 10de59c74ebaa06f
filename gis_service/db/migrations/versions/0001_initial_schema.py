"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Creates the PostGIS extensions and every table of gis_service.db.models, with GiST
indexes on the geometries and an exclusion constraint that forbids two boundary
versions of one park from being valid at the same time.
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


ENUMS = ("api_role", "geometry_quality", "park_kind", "target_nature", "zone_kind")


# Geometry columns are declared with spatial_index=False and their GiST indexes created
# explicitly below, so that every index is visible in this file.


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'park_manager', 'analyst', 'admin', name='api_role'), nullable=False),
    sa.Column('park_ids', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_id', sa.Text(), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('adcode', sa.String(length=6), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False), nullable=False),
    sa.Column('geometry_quality', sa.Enum('surveyed', 'approximate', 'synthetic', name='geometry_quality'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('adcode')
    )
    op.create_index('idx_district_geom', 'district', ['geom'], unique=False, postgresql_using='gist')
    op.create_table('land_parcel',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False), nullable=False),
    sa.Column('land_use_code', sa.String(length=16), nullable=True),
    sa.Column('land_use_class', sa.String(length=32), nullable=False),
    sa.Column('is_supplied', sa.Boolean(), nullable=False),
    sa.Column('supply_year', sa.Integer(), nullable=True),
    sa.Column('is_built', sa.Boolean(), nullable=True),
    sa.Column('is_synthetic', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('idx_land_parcel_geom', 'land_parcel', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_land_parcel_land_use_class'), 'land_parcel', ['land_use_class'], unique=False)
    op.create_table('park',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('park', 'block', name='park_kind'), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['park.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('name')
    )
    op.create_index(op.f('ix_park_parent_id'), 'park', ['parent_id'], unique=False)
    op.create_table('road',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTILINESTRING', srid=4326, spatial_index=False), nullable=False),
    sa.Column('geometry_quality', sa.Enum('surveyed', 'approximate', 'synthetic', name='geometry_quality'), nullable=False),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('idx_road_geom', 'road', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_road_name'), 'road', ['name'], unique=False)
    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('metric_code', sa.String(length=64), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=True),
    sa.Column('base_year', sa.Integer(), nullable=True),
    sa.Column('base_value', sa.Numeric(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(), nullable=True),
    sa.Column('value_text', sa.Text(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('nature', sa.Enum('预期性', '约束性', name='target_nature'), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('zone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('corridor', 'corridor_area', 'pian', name='zone_kind'), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False), nullable=True),
    sa.Column('centerline', geoalchemy2.types.Geometry(geometry_type='MULTILINESTRING', srid=4326, spatial_index=False), nullable=True),
    sa.Column('geometry_quality', sa.Enum('surveyed', 'approximate', 'synthetic', name='geometry_quality'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['zone.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('idx_zone_geom', 'zone', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_zone_kind'), 'zone', ['kind'], unique=False)
    op.create_table('park_boundary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('geometry_quality', sa.Enum('surveyed', 'approximate', 'synthetic', name='geometry_quality'), nullable=False),
    sa.Column('method', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.CheckConstraint('ST_IsValid(geom)', name='boundary_geom_valid'),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name='boundary_validity_order'),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('idx_park_boundary_geom', 'park_boundary', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_park_boundary_park_id'), 'park_boundary', ['park_id'], unique=False)
    op.create_table('sizhi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('raw_text', sa.Text(), nullable=False),
    sa.Column('parsed', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id')
    )
    op.create_table('town',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, spatial_index=False), nullable=False),
    sa.Column('geometry_quality', sa.Enum('surveyed', 'approximate', 'synthetic', name='geometry_quality'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('镇', '街道')", name='town_kind'),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_index('idx_town_geom', 'town', ['geom'], unique=False, postgresql_using='gist')
    op.create_table('indicator',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('metric_code', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Numeric(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('is_projection', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.CheckConstraint('num_nonnulls(district_id, town_id, zone_id, park_id) = 1', name='indicator_one_scope'),
    sa.CheckConstraint('year BETWEEN 1949 AND 2100', name='indicator_year_range'),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_id'], ['town.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_indicator_park_id'), 'indicator', ['park_id'], unique=False)
    op.create_index('uq_indicator_scope_year_metric', 'indicator', [sa.literal_column('coalesce(district_id, 0)'), sa.literal_column('coalesce(town_id, 0)'), sa.literal_column('coalesce(zone_id, 0)'), sa.literal_column('coalesce(park_id, 0)'), 'year', 'metric_code', 'is_projection'], unique=True)
    op.create_table('zone_town',
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('source_document', sa.Text(), nullable=False),
    sa.Column('source_section', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['town_id'], ['town.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('zone_id', 'town_id')
    )
    op.execute(
        "ALTER TABLE park_boundary ADD CONSTRAINT boundary_no_overlap EXCLUDE USING gist "
        "(park_id WITH =, daterange(valid_from, valid_to) WITH &&)"
    )


def downgrade() -> None:
    op.drop_table('zone_town')
    op.drop_index('uq_indicator_scope_year_metric', table_name='indicator')
    op.drop_index(op.f('ix_indicator_park_id'), table_name='indicator')
    op.drop_table('indicator')
    op.drop_index('idx_town_geom', table_name='town', postgresql_using='gist')
    op.drop_table('town')
    op.drop_table('sizhi')
    op.drop_index(op.f('ix_park_boundary_park_id'), table_name='park_boundary')
    op.drop_index('idx_park_boundary_geom', table_name='park_boundary', postgresql_using='gist')
    op.drop_table('park_boundary')
    op.drop_index(op.f('ix_zone_kind'), table_name='zone')
    op.drop_index('idx_zone_geom', table_name='zone', postgresql_using='gist')
    op.drop_table('zone')
    op.drop_table('target')
    op.drop_index(op.f('ix_road_name'), table_name='road')
    op.drop_index('idx_road_geom', table_name='road', postgresql_using='gist')
    op.drop_table('road')
    op.drop_index(op.f('ix_park_parent_id'), table_name='park')
    op.drop_table('park')
    op.drop_index(op.f('ix_land_parcel_land_use_class'), table_name='land_parcel')
    op.drop_index('idx_land_parcel_geom', table_name='land_parcel', postgresql_using='gist')
    op.drop_table('land_parcel')
    op.drop_index('idx_district_geom', table_name='district', postgresql_using='gist')
    op.drop_table('district')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('api_key')
    for name in ENUMS:
        op.execute(f"DROP TYPE IF EXISTS {name}")
