"""The boundary in force on a date: one rule, in Python and in SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.api.catalog import PARKS
from gis_service.db.models import GeometryQuality, Park, ParkBoundary, ParkKind
from gis_service.store import boundary_date, in_force_sql, read_parks


def test_boundary_date_is_the_last_day_of_the_year_or_today() -> None:
    assert boundary_date(2020) == dt.date(2020, 12, 31)
    assert boundary_date(None) == dt.date.today()


def test_in_force_sql_is_one_fixed_fragment() -> None:
    assert in_force_sql("pb") == "pb.valid_from <= :on AND (pb.valid_to IS NULL OR pb.valid_to > :on)"
    assert in_force_sql("b", on="CURRENT_DATE").endswith("b.valid_to > CURRENT_DATE)")
    for alias, on in (("b; DROP TABLE park", ":on"), ("b", "now()"), ("b", "'2020-01-01'")):
        with pytest.raises(ValueError):
            in_force_sql(alias, on)


def test_current_means_in_force_today_not_open_ended(engine) -> None:  # type: ignore[no-untyped-def]
    """A version starting next year is open-ended (valid_to NULL) but not current yet."""
    today = dt.date.today()
    next_year = today.replace(year=today.year + 1, day=1)
    with Session(engine) as s:
        park = Park(code="a", name="甲园", kind=ParkKind.block)
        s.add(park)
        s.flush()
        for x0, start, end in ((121.20, dt.date(2015, 1, 1), next_year), (121.30, next_year, None)):
            s.add(ParkBoundary(park_id=park.id, geom=from_shape(MultiPolygon([box(x0, 31.0, x0 + 0.01, 31.01)]), 4326),
                               valid_from=start, valid_to=end, geometry_quality=GeometryQuality.approximate,
                               source_document="t", source_section="v"))
        s.commit()
    assert read_parks(engine).geometry.iloc[0].bounds[0] == 121.20
    with engine.connect() as conn:
        shown = conn.execute(text(f"SELECT ST_XMin(geom) FROM ({PARKS.source}) s")).scalar_one()
    assert shown == 121.20
