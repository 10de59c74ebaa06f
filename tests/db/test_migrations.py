"""The schema exists only through the Alembic migrations; they go up and down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from gis_service.db import migrate
from gis_service.db.models import Base

EXPECTED_TABLES = {
    "district", "town", "zone", "zone_town", "park", "park_boundary", "sizhi", "indicator",
    "target", "land_parcel", "land_import", "road", "api_key", "audit_log", "data_change",
    "building", "building_import", "idle_land_review",
}


def _tables(url: str) -> set[str]:
    eng = create_engine(url)
    try:
        return set(inspect(eng).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        eng.dispose()


def test_upgrade_to_head_then_downgrade_to_base_on_empty_database(db_url: str) -> None:
    migrate.downgrade(db_url, "base")
    assert _tables(db_url) == set()
    assert migrate.current_revision(db_url) is None
    migrate.upgrade(db_url, "head")
    assert _tables(db_url) == EXPECTED_TABLES
    assert migrate.current_revision(db_url) == migrate.head_revision()
    # and down again: no table, no enum type left behind
    migrate.downgrade(db_url, "base")
    eng = create_engine(db_url)
    with eng.connect() as conn:
        enums = conn.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'")).scalars().all()
    eng.dispose()
    assert enums == []
    assert _tables(db_url) == set()


def test_models_and_migrations_agree(db_url: str) -> None:
    eng = create_engine(db_url)
    with eng.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": lambda o, n, t, r, c: not (t == "table" and r and c is None)}
        )
        diff = compare_metadata(ctx, Base.metadata)
    eng.dispose()
    assert diff == []


def test_gist_indexes_on_every_queried_geometry(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ILIKE '%USING gist%(geom%'")
        ).all()
    indexed = {table for table, _ in rows}
    assert {"district", "town", "zone", "park_boundary", "land_parcel", "road", "building"} <= indexed


def test_every_write_statement_bumps_the_table_counter_and_rollbacks_do_not(engine) -> None:  # type: ignore[no-untyped-def]
    from gis_service.store.versions import data_version

    def version(table: str) -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version FROM data_change WHERE table_name = :t"), {"t": table}).scalar_one()

    before, token = version("park"), data_version(engine)
    with engine.begin() as conn:  # one statement, three rows: one bump
        conn.execute(text("INSERT INTO park (code, name, kind) VALUES ('a','甲','block'), ('b','乙','block'), ('c','丙','block')"))
    assert version("park") == before + 1
    assert data_version(engine) != token
    token = data_version(engine)
    with engine.connect() as conn:
        trans = conn.begin()
        conn.execute(text("DELETE FROM park"))
        trans.rollback()
    assert data_version(engine) == token, "a rolled-back write changes nothing"
    with engine.begin() as conn:
        conn.execute(text("UPDATE park SET note = 'x' WHERE code = 'a'"))
    assert version("park") == before + 2
