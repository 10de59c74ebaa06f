"""A backup restores into a fresh database with identical contents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
from geoalchemy2.shape import from_shape
from psycopg import sql
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_service.db.backup import backup, restore
from gis_service.db.migrate import head_revision
from gis_service.db.models import GeometryQuality, Indicator, Park, ParkBoundary, ParkKind

SNAPSHOT = """
    SELECT p.code, p.name, ST_AsText(b.geom), b.valid_from, i.metric_code, i.value, i.source_section
    FROM park p JOIN park_boundary b ON b.park_id = p.id JOIN indicator i ON i.park_id = p.id
    ORDER BY p.code
"""


def test_backup_restores_into_fresh_database(engine, db_url, pg_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    square = MultiPolygon([Polygon([(121.2, 31.0), (121.21, 31.0), (121.21, 31.01), (121.2, 31.01)])])
    with Session(engine) as s:
        park = Park(code="a", name="甲园", kind=ParkKind.block)
        s.add(park)
        s.flush()
        s.add(ParkBoundary(park_id=park.id, geom=from_shape(square, 4326), valid_from=dt.date(2020, 1, 1),
                           geometry_quality=GeometryQuality.approximate, source_document="t"))
        s.add(Indicator(park_id=park.id, year=2020, metric_code="output", value=165, unit="亿元",
                        source_document="004", source_section="附件"))
        s.commit()
    with engine.connect() as conn:
        before = conn.execute(text(SNAPSHOT)).all()
    assert len(before) == 1

    dump = backup(db_url, tmp_path / "songjiang.dump")
    assert dump.stat().st_size > 1000

    # a brand-new, empty database (no schema, no extension)
    with psycopg.connect(pg_cluster._dsn("postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS restored")
        conn.execute(sql.SQL("CREATE DATABASE restored"))
    target = pg_cluster.url("restored")
    restore(target, dump)
    restored_engine = create_engine(target)
    with restored_engine.connect() as conn:
        after = conn.execute(text(SNAPSHOT)).all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    restored_engine.dispose()
    assert after == before
    assert version == head_revision()
