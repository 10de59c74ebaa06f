"""Land data in: land-use survey snapshots, supply records and parcel registers in one table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``land_import`` holds one row per import (what file, which code system, CRS, encoding,
counts and area by class); ``land_parcel.layer`` says which kind of land record a row is:

- ``survey``: a patch (图斑) of a land-use survey snapshot (三调 / 年度变更调查 DLTB), one
  snapshot per year (``land_import.year``, unique among survey imports);
- ``supply``: a parcel of a land supply record (供地结果公告), keyed by its 电子监管号
  (``supervision_no``, unique among supply rows), with its contract and recovery dates;
- ``register``: a parcel of a register an office keeps itself (a code and a supply flag).

Deleting an import deletes its rows (cascade): re-importing a survey year replaces it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LAYERS = "('survey', 'supply', 'register')"


def upgrade() -> None:
    op.create_table(
        "land_import",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("source_document", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("layer_name", sa.Text(), nullable=True),
        sa.Column("driver", sa.Text(), nullable=True),
        sa.Column("code_system", sa.String(length=16), nullable=True),
        sa.Column("crs", sa.Text(), nullable=True),
        sa.Column("encoding", sa.Text(), nullable=True),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("area_by_class", postgresql.JSONB(), nullable=True),
        sa.Column("report", postgresql.JSONB(), nullable=True),
        sa.Column("is_synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(f"kind IN {LAYERS}", name="land_import_kind"),
        sa.CheckConstraint("(kind = 'survey') = (year IS NOT NULL)", name="land_import_survey_year"),
    )
    op.create_index(
        "ux_land_import_survey_year", "land_import", ["year"], unique=True, postgresql_where=sa.text("kind = 'survey'")
    )
    op.add_column("land_parcel", sa.Column("layer", sa.String(length=16), server_default="register", nullable=False))
    op.add_column(
        "land_parcel",
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("land_import.id", ondelete="CASCADE"), nullable=True),
    )
    op.add_column("land_parcel", sa.Column("code_system", sa.String(length=16), nullable=True))
    op.add_column("land_parcel", sa.Column("land_use_name", sa.Text(), nullable=True))
    op.add_column("land_parcel", sa.Column("supervision_no", sa.Text(), nullable=True))
    op.add_column("land_parcel", sa.Column("project_name", sa.Text(), nullable=True))
    op.add_column("land_parcel", sa.Column("supply_method", sa.Text(), nullable=True))
    op.add_column("land_parcel", sa.Column("contract_date", sa.Date(), nullable=True))
    op.add_column("land_parcel", sa.Column("recovery_date", sa.Date(), nullable=True))
    op.add_column("land_parcel", sa.Column("stated_area_ha", sa.Float(precision=53), nullable=True))
    op.alter_column("land_parcel", "land_use_code", type_=sa.String(length=32))
    op.create_check_constraint("land_parcel_layer", "land_parcel", f"layer IN {LAYERS}")
    op.create_check_constraint(
        "land_parcel_supply_dated", "land_parcel", "layer <> 'supply' OR (contract_date IS NOT NULL AND supervision_no IS NOT NULL)"
    )
    op.create_index("ix_land_parcel_import_id", "land_parcel", ["import_id"])
    op.create_index(
        "ux_land_parcel_supervision_no", "land_parcel", ["supervision_no"], unique=True,
        postgresql_where=sa.text("layer = 'supply'"),
    )
    op.execute("INSERT INTO data_change (table_name, version) VALUES ('land_import', 0)")
    op.execute(
        "CREATE TRIGGER land_import_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON land_import "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_data_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS land_import_data_change ON land_import")
    op.execute("DELETE FROM data_change WHERE table_name = 'land_import'")
    op.drop_index("ux_land_parcel_supervision_no", table_name="land_parcel")
    op.drop_index("ix_land_parcel_import_id", table_name="land_parcel")
    op.drop_constraint("land_parcel_supply_dated", "land_parcel")
    op.drop_constraint("land_parcel_layer", "land_parcel")
    op.execute("DELETE FROM land_parcel WHERE layer <> 'register'")
    op.alter_column("land_parcel", "land_use_code", type_=sa.String(length=16))
    for column in ("stated_area_ha", "recovery_date", "contract_date", "supply_method", "project_name",
                   "supervision_no", "land_use_name", "code_system", "import_id", "layer"):
        op.drop_column("land_parcel", column)
    op.drop_index("ux_land_import_survey_year", table_name="land_import")
    op.drop_table("land_import")
