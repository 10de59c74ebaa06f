"""Geometry goes in and out of the models with its SRID; the spatial index is used."""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gis_service.db.models import GeometryQuality, Park, ParkBoundary, ParkKind

SQUARE = MultiPolygon([Polygon([(121.20, 31.00), (121.21, 31.00), (121.21, 31.01), (121.20, 31.01)])])


def _park(session: Session) -> Park:
    park = Park(code="p1", name="测试园区", kind=ParkKind.block)
    session.add(park)
    session.flush()
    return park


def _boundary(park: Park, geom=SQUARE, start=dt.date(2020, 1, 1), end=None) -> ParkBoundary:  # type: ignore[no-untyped-def]
    return ParkBoundary(
        park_id=park.id, geom=from_shape(geom, srid=4326), valid_from=start, valid_to=end,
        geometry_quality=GeometryQuality.approximate, source_document="test", source_section=None,
    )


def test_round_trip_keeps_coordinates_and_srid(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        park = _park(session)
        session.add(_boundary(park))
        session.commit()
        stored = session.query(ParkBoundary).one()
        assert to_shape(stored.geom).equals_exact(SQUARE, 1e-12)
        srid, area_m2 = session.execute(
            text("SELECT ST_SRID(geom), ST_Area(ST_Transform(geom, 4549)) FROM park_boundary")
        ).one()
    assert srid == 4326
    # 0.01 deg x 0.01 deg at 31 N: about 1,112 m x 953 m
    assert area_m2 == pytest.approx(1_060_000, rel=0.01)


def test_wrong_srid_is_rejected(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        park = _park(session)
        b = _boundary(park)
        b.geom = from_shape(SQUARE, srid=4549)
        session.add(b)
        with pytest.raises(Exception, match="SRID"):
            session.commit()


def test_overlapping_boundary_versions_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        park = _park(session)
        session.add(_boundary(park, start=dt.date(2020, 1, 1), end=dt.date(2022, 1, 1)))
        session.add(_boundary(park, start=dt.date(2022, 1, 1)))
        session.commit()  # consecutive versions are fine
        session.add(_boundary(park, start=dt.date(2021, 6, 1), end=dt.date(2021, 7, 1)))
        with pytest.raises(IntegrityError, match="boundary_no_overlap"):
            session.commit()


def test_invalid_geometry_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    bowtie = MultiPolygon([Polygon([(121.20, 31.00), (121.21, 31.01), (121.21, 31.00), (121.20, 31.01)])])
    with Session(engine) as session:
        park = _park(session)
        session.add(_boundary(park, geom=bowtie))
        with pytest.raises(IntegrityError, match="boundary_geom_valid"):
            session.commit()


def test_bbox_query_uses_the_gist_index(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN SELECT id FROM park_boundary WHERE geom && ST_MakeEnvelope(121, 31, 122, 32, 4326)")
            ).scalars()
        )
    assert "idx_park_boundary_geom" in plan
