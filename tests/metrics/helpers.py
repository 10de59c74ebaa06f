"""Test helpers: geometry built in EPSG:4549 (so areas are hand-computable) and DB inserts."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import shapely
from shapely.geometry import box
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gis_service.db.models import GeometryQuality, Indicator, Park, ParkBoundary, ParkKind, Zone, ZoneKind

# a point in Songjiang in EPSG:4549 (x east, y north, metres)
X0, Y0 = 615_000.0, 3_430_000.0


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A w × h m rectangle whose lower-left corner is (X0 + x, Y0 + y) in EPSG:4549."""
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def to_4326(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Project to EPSG:4326, densified every 5 m so that edges stay straight in EPSG:4549 too
    (a 1 km edge straight in lon/lat bows by centimetres in the projected plane)."""
    dense = shapely.segmentize(list(geoms), 5.0)
    return list(gpd.GeoSeries(dense, crs="EPSG:4549").to_crs(4326))


def insert_park(
    engine: Engine, code: str, name: str, geom_4326: shapely.Geometry, *, valid_from: dt.date = dt.date(2010, 1, 1),
    valid_to: dt.date | None = None, quality: GeometryQuality = GeometryQuality.synthetic,
) -> tuple[int, int]:
    """Insert a park and one boundary version; returns (park_id, boundary_id)."""
    with Session(engine) as s, s.begin():
        park = Park(code=code, name=name, kind=ParkKind.block)
        s.add(park)
        s.flush()
        multi = geom_4326 if geom_4326.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom_4326])
        b = ParkBoundary(park_id=park.id, geom=f"SRID=4326;{multi.wkt}", valid_from=valid_from, valid_to=valid_to,
                         geometry_quality=quality, source_document="test fixture", method="test")
        s.add(b)
        s.flush()
        return park.id, b.id


def insert_zone(engine: Engine, code: str, name: str, geom_4326: shapely.Geometry, kind: ZoneKind = ZoneKind.pian) -> int:
    with Session(engine) as s, s.begin():
        multi = geom_4326 if geom_4326.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom_4326])
        z = Zone(code=code, name=name, kind=kind, geom=f"SRID=4326;{multi.wkt}",
                 geometry_quality=GeometryQuality.synthetic, source_document="test fixture")
        s.add(z)
        s.flush()
        return z.id


def insert_indicator(engine: Engine, park_id: int, year: int, metric: str, value: float, unit: str, source: str = "test fixture") -> None:
    with Session(engine) as s, s.begin():
        s.add(Indicator(park_id=park_id, year=year, metric_code=metric, value=value, unit=unit,
                        source_document=source, source_section="test"))


def insert_target_from_sample(engine: Engine, code: str = "t001_09") -> None:
    """Store the sample data's target row ``code`` (data/layers/targets.csv), as load-sample does."""
    import csv
    from pathlib import Path

    from sqlalchemy import text

    path = Path(__file__).resolve().parents[2] / "data" / "layers" / "targets.csv"
    with path.open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["code"] == code)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO target (code, scope, category, name, metric_code, basis, year, value, unit, nature,"
                " source_document, source_section) VALUES (:code, :scope, :category, :name, :metric_code, :basis,"
                " :year, :value, :unit, CAST(:nature AS target_nature), :source_document, :source_section)"
            ),
            {k: row[k] for k in ("code", "scope", "category", "name", "metric_code", "basis", "unit", "nature",
                                 "source_document", "source_section")}
            | {"year": int(row["year"]), "value": float(row["value"])},
        )
