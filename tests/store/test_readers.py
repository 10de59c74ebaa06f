"""The shared loaders return frames with CRS, provenance and boundary versions by year."""

from __future__ import annotations

import datetime as dt

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.orm import Session

from gis_service.db.models import GeometryQuality, Indicator, Park, ParkBoundary, ParkKind
from gis_service.store import read_indicators, read_parks


def _square(x0: float) -> MultiPolygon:
    return MultiPolygon([Polygon([(x0, 31.0), (x0 + 0.01, 31.0), (x0 + 0.01, 31.01), (x0, 31.01)])])


def test_read_parks_picks_the_version_valid_in_the_year(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        park = Park(code="a", name="甲园", kind=ParkKind.block)
        other = Park(code="b", name="乙园", kind=ParkKind.block)
        s.add_all([park, other])
        s.flush()
        for x0, start, end in ((121.20, dt.date(2015, 1, 1), dt.date(2021, 1, 1)), (121.30, dt.date(2021, 1, 1), None)):
            s.add(ParkBoundary(park_id=park.id, geom=from_shape(_square(x0), 4326), valid_from=start,
                               valid_to=end, geometry_quality=GeometryQuality.approximate,
                               source_document="test.geojson", source_section="v"))
        s.commit()
    old = read_parks(engine, year=2020)
    new = read_parks(engine, year=2022)
    assert old.crs.to_epsg() == 4326
    row_old = old.set_index("code").loc["a"]
    row_new = new.set_index("code").loc["a"]
    assert row_old.geometry.bounds[0] == 121.20 and row_new.geometry.bounds[0] == 121.30
    assert row_old.geometry_quality == "approximate" and row_old.source_document == "test.geojson"
    # a park with no boundary stays in the frame, with no geometry
    assert old.set_index("code").loc["b"].geometry is None


def test_read_indicators_names_scope_and_source(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        park = Park(code="a", name="甲园", kind=ParkKind.block)
        s.add(park)
        s.flush()
        s.add(Indicator(park_id=park.id, year=2020, metric_code="output", value=165, unit="亿元",
                        source_document="004_a9d02975ccfca6ed.txt", source_section="附件"))
        s.commit()
    frame = read_indicators(engine, year=2020, metric_codes=["output"])
    assert list(frame[["scope_kind", "scope_name", "value", "unit"]].iloc[0]) == ["park", "甲园", 165.0, "亿元"]
    assert frame.iloc[0].source_section == "附件"
    assert read_indicators(engine, year=2019).empty


def test_database_errors_reach_callers_as_sqlalchemy_errors(engine) -> None:  # type: ignore[no-untyped-def]
    """pandas wraps query failures in its own DatabaseError; the loaders hand on the driver's
    error type, so the API can tell an outage (503) from a bug."""
    import pytest
    from sqlalchemy.exc import ProgrammingError

    from gis_service.store.readers import read_frame

    with pytest.raises(ProgrammingError, match="no_such_table"):
        read_frame(engine, "SELECT * FROM no_such_table")
