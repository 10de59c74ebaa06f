"""Data change counters pushed: the trigger also NOTIFYs ``gis_data_change`` with ``<table> <version>``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The tile route keeps an in-process copy of the counters (:mod:`gis_service.store.version_watch`)
instead of querying ``data_change`` on every request.  NOTIFY is transactional: a listener
hears of a write when it commits, never of a rolled-back one.  The payload carries the new
counter so that a listener needs no query to apply it (several statements of one transaction
give several notifications; the listener keeps the highest counter per table).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "gis_data_change"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION bump_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            new_version bigint;
        BEGIN
            INSERT INTO data_change (table_name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
            ON CONFLICT (table_name)
            DO UPDATE SET version = data_change.version + 1, changed_at = now()
            RETURNING version INTO new_version;
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME || ' ' || new_version);
            RETURN NULL;
        END $$
        """
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION bump_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO data_change (table_name, version, changed_at) VALUES (TG_TABLE_NAME, 1, now())
            ON CONFLICT (table_name)
            DO UPDATE SET version = data_change.version + 1, changed_at = now();
            RETURN NULL;
        END $$
        """
    )
