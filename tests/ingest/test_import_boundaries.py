"""import_boundaries: every format, a new version per change, history kept, every refusal typed and named."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape
from sqlalchemy import Engine, text

from gis_service.coords.gcj02 import wgs84_to_gcj02
from gis_service.errors import InputError
from gis_service.ingest import import_boundaries, import_layer
from gis_service.ingest.errors import (
    BoundaryVersionConflictError,
    CrsError,
    DuplicateIdError,
    GeometryTypeError,
    InvalidGeometryError,
    OutsideExtentError,
    SwappedAxesError,
    UnknownReferenceError,
)
from gis_service.store import read_parks
from tests.ingest.helpers import box, feature, polygon, table_snapshot

NEW = box(121.20, 31.04, 121.23, 31.06)
V2022 = dt.date(2022, 1, 1)
SOURCE = "区规划资源局 2022 园区边界调整批复"


def _import(engine: Engine, path: Path, **kw):  # type: ignore[no-untyped-def]
    args = {"park_field": "code", "valid_from": V2022, "source_document": SOURCE, "actor": "tester"}
    return import_boundaries(engine, path, **{**args, **kw})


def _boundary(engine: Engine, code: str, year: int) -> shapely.Geometry:
    parks = read_parks(engine, year=year)
    return parks.loc[parks["code"] == code, "geometry"].iloc[0]


def _same(stored: shapely.Geometry, expected: shapely.Geometry) -> bool:
    """Equal up to 1e-7 degrees (1 cm) and ring orientation/start (Shapefiles reorient rings)."""
    expected = shapely.geometry.MultiPolygon([expected]) if expected.geom_type == "Polygon" else expected
    return bool(shapely.equals_exact(shapely.normalize(stored), shapely.normalize(expected), tolerance=1e-7))


def _geodesic_km2(geom: shapely.Geometry) -> float:
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6


def test_change_adds_a_version_and_keeps_history(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    old = _boundary(loaded, "sj_daxuecheng", 2021)
    path = write_geojson([feature(NEW, code="sj_daxuecheng")])
    result = _import(loaded, path, source_section="第二条", geometry_quality="surveyed")
    assert (result.inserted, result.closed, result.unchanged) == (1, 1, 0)
    # the old year still reads the old polygon, the new year the new one
    assert _boundary(loaded, "sj_daxuecheng", 2021).equals(old)
    assert _boundary(loaded, "sj_daxuecheng", 2022).equals(shape(NEW))
    with loaded.connect() as conn:
        rows = conn.execute(text("""
            SELECT b.valid_from, b.valid_to, b.geometry_quality::text, b.source_document, b.source_section
            FROM park_boundary b JOIN park p ON p.id = b.park_id WHERE p.code = 'sj_daxuecheng' ORDER BY valid_from
        """)).all()
        audit = conn.execute(text(
            "SELECT actor, action, row_id, before, after FROM audit_log WHERE table_name = 'park_boundary' ORDER BY id"
        )).all()
    assert [tuple(r) for r in rows] == [
        (dt.date(2020, 1, 1), V2022, "approximate", "004_a9d02975ccfca6ed.txt", "附件 环大学城科创园 四至边界"),
        (V2022, None, "surveyed", SOURCE, "第二条"),
    ]
    assert [(a.actor, a.action) for a in audit] == [("tester", "close"), ("tester", "insert"), ("tester", "import")]
    close, insert, summary = audit
    assert close.before["valid_to"] is None and close.after["valid_to"] == "2022-01-01"
    assert int(insert.row_id) == result.boundary_ids["sj_daxuecheng"]
    # area in EPSG:4549 agrees with the geodesic area of the same box (two independent methods)
    assert insert.after["area_km2_epsg4549"] == pytest.approx(_geodesic_km2(shape(NEW)), rel=2e-3)
    assert insert.after["bbox"] == [121.2, 31.04, 121.23, 31.06]
    assert summary.after["inserted"] == 1 and summary.after["closed"] == 1


def test_reimporting_the_same_geometry_changes_nothing(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    path = write_geojson([feature(NEW, code="sj_daxuecheng")])
    _import(loaded, path)
    before = table_snapshot(loaded)
    again = _import(loaded, path)
    assert (again.inserted, again.closed, again.unchanged) == (0, 0, 1)
    assert table_snapshot(loaded) == before
    # the sample boundary itself, imported at a later date, is no change either
    sample = read_parks(loaded, year=2020)
    west = sample.loc[sample["code"] == "sj_west", "geometry"].iloc[0]
    same = write_geojson([feature(shapely.geometry.mapping(west), code="sj_west")], name="west.geojson")
    assert _import(loaded, same, valid_from=dt.date(2023, 1, 1)).unchanged == 1
    assert table_snapshot(loaded) == before


def test_version_inserted_before_a_later_one_ends_where_it_starts(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    _import(loaded, write_geojson([feature(NEW, code="sj_north")]))  # 2022 version
    mid = box(121.25, 31.03, 121.27, 31.05)
    result = _import(loaded, write_geojson([feature(mid, code="sj_north")], name="mid.geojson"),
                     valid_from=dt.date(2021, 1, 1))
    assert (result.inserted, result.closed) == (1, 1)
    assert _boundary(loaded, "sj_north", 2021).equals(shape(mid))
    assert _boundary(loaded, "sj_north", 2022).equals(shape(NEW))
    with loaded.connect() as conn:
        spans = conn.execute(text("""
            SELECT valid_from, valid_to FROM park_boundary b JOIN park p ON p.id = b.park_id
            WHERE p.code = 'sj_north' ORDER BY valid_from
        """)).all()
    assert [tuple(s) for s in spans] == [(dt.date(2020, 1, 1), dt.date(2021, 1, 1)),
                                         (dt.date(2021, 1, 1), V2022), (V2022, None)]


def test_zipped_shapefile_in_cgcs2000_gauss_kruger(loaded: Engine, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": ["sj_west"]}, geometry=[shape(NEW)], crs=4326).to_crs(4549)
    assert 600_000 < frame.total_bounds[0] < 640_000  # metres east, CM 120E
    shp = tmp_path / "shp" / "blocks.shp"
    shp.parent.mkdir()
    frame.to_file(shp, driver="ESRI Shapefile")
    archive = tmp_path / "blocks.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, f"blocks/{part.name}")
    result = _import(loaded, archive)
    assert result.inserted == 1 and result.crs == "EPSG:4549"
    stored = _boundary(loaded, "sj_west", 2022)
    assert _same(stored, shape(NEW))


def test_shapefile_without_prj_needs_a_declared_crs(loaded: Engine, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": ["sj_west"]}, geometry=[shape(NEW)], crs=4326).to_crs(4549)
    shp = tmp_path / "shp" / "blocks.shp"
    shp.parent.mkdir()
    frame.to_file(shp, driver="ESRI Shapefile")
    (shp.parent / "blocks.prj").unlink()
    archive = tmp_path / "noprj.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    with pytest.raises(CrsError, match=r"noprj.zip!blocks.shp: the file declares no CRS"):
        _import(loaded, archive)
    assert _import(loaded, archive, source_crs="EPSG:4549").inserted == 1


def test_other_crs_is_refused_by_name(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "mercator.gpkg"
    gpd.GeoDataFrame({"code": ["sj_west"]}, geometry=[shape(NEW)], crs=4326).to_crs(3857).to_file(path, driver="GPKG")
    with pytest.raises(CrsError, match=r"mercator.gpkg: CRS EPSG:3857 \(WGS 84 / Pseudo-Mercator\) is not accepted"):
        _import(loaded, path)


def test_geopackage_by_park_name_in_cgcs2000(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "blocks.gpkg"
    gpd.GeoDataFrame({"园区": ["洞泾智能机器人产业基地"]}, geometry=[shape(NEW)], crs=4490).to_file(path, driver="GPKG")
    result = _import(loaded, path, park_field="园区")
    assert (result.inserted, result.crs, list(result.boundary_ids)) == (1, "EPSG:4490", ["sj_dongjing"])


def test_kml_with_names(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "blocks.kml"
    gpd.GeoDataFrame({"Name": ["sj_g60_dianzi"]}, geometry=[shape(NEW)], crs=4326).to_file(path, driver="KML")
    with loaded.connect() as conn:
        codes = set(conn.execute(text("SELECT code FROM park")).scalars())
    assert "sj_g60_dianzi" in codes
    result = _import(loaded, path, park_field="Name")
    assert result.inserted == 1
    assert _boundary(loaded, "sj_g60_dianzi", 2022).equals(shape(NEW))


def test_gcj02_flag_converts_amap_coordinates(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    amap = wgs84_to_gcj02(shape(NEW))
    shift = amap.bounds[0] - 121.20
    assert 0.003 < abs(shift) < 0.01  # about 500 m near Songjiang
    path = write_geojson([feature(shapely.geometry.mapping(amap), code="sj_west")])
    _import(loaded, path, gcj02=True)
    stored = _boundary(loaded, "sj_west", 2022)
    assert _same(stored, shape(NEW))


# ----------------------------------------------------------------------------- refusals
def test_outside_shanghai_names_feature_and_bbox(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    beijing = box(116.30, 39.90, 116.40, 39.95)
    path = write_geojson([feature(NEW, code="sj_west"), feature(beijing, code="sj_north")])
    with pytest.raises(OutsideExtentError, match=r"upload.geojson: feature 1 \(sj_north\): coordinates outside the "
                       r"Shanghai extent: bbox \(116.3, 39.9, 116.4, 39.95\) in EPSG:4326") as err:
        _import(loaded, path)
    assert not isinstance(err.value, SwappedAxesError)


def test_swapped_latitude_longitude_is_detected(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    swapped = box(31.04, 121.20, 31.06, 121.23)
    path = write_geojson([feature(swapped, code="sj_west")])
    with pytest.raises(SwappedAxesError, match=r"feature 0 \(sj_west\): latitude and longitude are swapped"):
        _import(loaded, path)


def test_projected_metres_without_crs_get_a_hint(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    metres = box(614_000, 3_435_000, 615_000, 3_436_000)
    with pytest.raises(OutsideExtentError, match=r"look like projected metres"):
        _import(loaded, write_geojson([feature(metres, code="sj_west")]))


def test_empty_geometry(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidGeometryError, match=r"feature 0 \(sj_west\): geometry is missing or empty"):
        _import(loaded, write_geojson([feature(None, code="sj_west")]))


def test_self_intersection_refused_with_location_or_repaired_on_request(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    bowtie = polygon((121.20, 31.04), (121.23, 31.06), (121.23, 31.04), (121.20, 31.06), (121.20, 31.04))
    path = write_geojson([feature(NEW, code="sj_north"), feature(bowtie, code="sj_west")])
    with pytest.raises(InvalidGeometryError, match=r"feature 1 \(sj_west\): geometry is not valid "
                       r"\(Self-intersection\[121.215 31.05\]\)"):
        _import(loaded, path)
    result = _import(loaded, path, repair=True)
    assert (result.inserted, result.repaired) == (2, 1)
    stored = _boundary(loaded, "sj_west", 2022)
    # make_valid splits the bow-tie into its two triangles: half the box each, 0.03 x 0.02 / 4 twice
    assert stored.is_valid and len(stored.geoms) == 2
    assert stored.area == pytest.approx(0.03 * 0.02 / 2, rel=1e-9)
    with loaded.connect() as conn:
        method = conn.execute(text(
            "SELECT method FROM park_boundary WHERE id = :i"), {"i": result.boundary_ids["sj_west"]}).scalar_one()
    assert "repaired with make_valid" in method


def test_wrong_geometry_type(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    line = {"type": "LineString", "coordinates": [[121.2, 31.0], [121.3, 31.1]]}
    with pytest.raises(GeometryTypeError, match=r"feature 0 \(sj_west\): geometry type LineString, expected one of "
                       r"Polygon, MultiPolygon"):
        _import(loaded, write_geojson([feature(line, code="sj_west")]))


def test_duplicate_park(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    twice = write_geojson([feature(NEW, code="sj_west"), feature(NEW, code="sj_west")])
    with pytest.raises(DuplicateIdError, match=r"feature 1 \(sj_west\): code 'sj_west' already given by feature 0"):
        _import(loaded, twice)
    code_and_name = write_geojson([feature(NEW, park="sj_west"), feature(NEW, park="松江工业区西区")], name="b.geojson")
    with pytest.raises(DuplicateIdError, match=r"feature 1 \(松江工业区西区\): park sj_west already given by feature 0"):
        _import(loaded, code_and_name, park_field="park")


def test_unknown_park(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    path = write_geojson([feature(NEW, code="sj_west"), feature(NEW, code="no_such_park")])
    with pytest.raises(UnknownReferenceError, match=r"upload.geojson: feature 1 \(no_such_park\): unknown park "
                       r"'no_such_park' in 'code'"):
        _import(loaded, path)


def test_failing_last_feature_leaves_database_exactly_as_it_was(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    """The last feature fails while writing (after two versions were written): all rolled back."""
    _import(loaded, write_geojson([feature(NEW, code="sj_g60_dianzi")], name="first.geojson"))
    before = table_snapshot(loaded)
    other = box(121.24, 31.00, 121.26, 31.02)
    path = write_geojson([feature(other, code="sj_west"), feature(other, code="sj_north"),
                          feature(other, code="sj_g60_dianzi")])  # sj_g60 already has another version from 2022-01-01
    with pytest.raises(BoundaryVersionConflictError, match=r"feature 2 \(sj_g60_dianzi\): a different boundary .* already "
                       r"starts on 2022-01-01"):
        _import(loaded, path)
    assert table_snapshot(loaded) == before
    # and a geometry error in the last feature: nothing either
    bad = write_geojson([feature(other, code="sj_west"), feature(polygon((121.2, 31.0), (121.3, 31.0)), code="sj_north")],
                        name="bad.geojson")
    with pytest.raises(InputError):
        _import(loaded, bad)
    assert table_snapshot(loaded) == before


# ----------------------------------------------------------------------------- reference layers
def test_import_layer_replaces_roads_from_zipped_shapefile(loaded: Engine, tmp_path: Path) -> None:
    roads = gpd.GeoDataFrame(
        {"name": ["人民北路", "测试新路"], "kind": ["road", "planned_road"], "geometry_quality": ["surveyed"] * 2,
         "source_document": ["区规划资源局 2024 测绘"] * 2},
        geometry=[shapely.LineString([(121.218, 31.00), (121.218, 31.08)]),
                  shapely.LineString([(121.20, 31.05), (121.25, 31.05)])], crs=4326,
    ).to_crs(4549)
    shp = tmp_path / "roads" / "roads.shp"
    shp.parent.mkdir()
    roads.to_file(shp, driver="ESRI Shapefile", encoding="utf-8")
    archive = tmp_path / "roads.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    with loaded.connect() as conn:
        n_before = conn.execute(text("SELECT count(*) FROM road")).scalar_one()
    result = import_layer(loaded, "roads", archive, actor="规划科", replace=True)
    assert (result.inserted, result.updated, result.deleted) == (1, 1, n_before - 1)
    with loaded.connect() as conn:
        names = conn.execute(text("SELECT name FROM road ORDER BY name")).scalars().all()
        summary = conn.execute(text("SELECT actor, action, table_name, after FROM audit_log WHERE action = 'import'")).one()
        rows = conn.execute(text("SELECT action, count(*) FROM audit_log WHERE action <> 'import' AND table_name = 'road' "
                                 "GROUP BY action")).all()
    assert names == sorted(["人民北路", "测试新路"])
    assert (summary.actor, summary.action, summary.table_name) == ("规划科", "import", "road")
    assert summary.after["deleted"] == n_before - 1
    assert dict(rows) == {"insert": 1, "update": 1, "delete": n_before - 1}  # every road changed has its audit row


def test_import_layer_error_in_last_feature_changes_nothing(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    before = table_snapshot(loaded)
    line = {"type": "LineString", "coordinates": [[121.20, 31.05], [121.25, 31.05]]}
    swapped = {"type": "LineString", "coordinates": [[31.05, 121.20], [31.05, 121.25]]}
    path = write_geojson([
        feature(line, name="甲路", kind="road", geometry_quality="surveyed", source_document="测绘"),
        feature(swapped, name="乙路", kind="road", geometry_quality="surveyed", source_document="测绘"),
    ])
    with pytest.raises(SwappedAxesError, match=r"feature 1 \(乙路\)"):
        import_layer(loaded, "roads", path, actor="t", replace=True)
    assert table_snapshot(loaded) == before


def test_import_layer_refuses_park_boundaries(loaded: Engine, write_geojson) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="versioned: import them with import_boundaries"):
        import_layer(loaded, "park_boundaries", write_geojson([]), actor="t")
