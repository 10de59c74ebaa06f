"""Import of real-looking parcel files into the land_parcel table (real PostGIS)."""

import geopandas as gpd
import pytest
from sqlalchemy import text

from gis_service.errors import InputError
from gis_service.parcels.importer import import_parcels
from tests.metrics.helpers import rect, to_4326


def _file(tmp_path, codes, supply, *, name="parcels.gpkg", crs=4326, driver=None):
    geoms = [rect(100 * i, 0, 80, 80) for i in range(len(codes))]
    frame = gpd.GeoDataFrame({"DKBH": [f"D{i}" for i in range(len(codes))], "YDDM": codes, "GYZT": supply,
                              "JSZT": ["建成"] * len(codes), "GYNF": [2010] * len(codes)},
                             geometry=to_4326(geoms), crs=4326)
    if crs != 4326:
        frame = frame.to_crs(crs)
    path = tmp_path / name
    frame.to_file(path, driver=driver) if driver else frame.to_file(path)
    return path


def _count(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT land_use_class, is_supplied, count(*) FROM land_parcel GROUP BY 1, 2 ORDER BY 1, 2")).all()


def test_import_geopackage_maps_codes(engine, tmp_path):
    path = _file(tmp_path, ["M1", "100102", "R2", "1002"], ["已供应", "未供应", "已供应", "是"])
    report = import_parcels(engine, path, code_field="YDDM", supply_field="GYZT", id_field="DKBH", built_field="JSZT",
                            supply_year_field="GYNF", source_document="测试地块 2024")
    assert report.rows == 4 and report.by_class == {"industrial": 2, "residential": 1, "mining": 1}
    assert _count(engine) == [("industrial", False, 1), ("industrial", True, 1), ("mining", True, 1), ("residential", True, 1)]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT external_id, land_use_code, supply_year, is_built, is_synthetic, ST_GeometryType(geom), "
                                "ST_Area(ST_Transform(geom, 4549)) FROM land_parcel WHERE external_id = 'D0'")).one()
    assert row[:6] == ("D0", "M1", 2010, True, False, "ST_MultiPolygon")
    assert row[6] == pytest.approx(6400.0, rel=1e-6)


def test_import_geojson_in_other_crs(engine, tmp_path):
    path = _file(tmp_path, ["M2"], ["yes"], name="p.geojson", crs=4549, driver="GeoJSON")
    import_parcels(engine, path, code_field="YDDM", supply_field="GYZT", source_document="t")
    with engine.connect() as conn:
        area = conn.execute(text("SELECT ST_Area(ST_Transform(geom, 4549)) FROM land_parcel")).scalar_one()
    assert area == pytest.approx(6400.0, rel=1e-6)


def test_bad_feature_is_named_and_nothing_is_written(engine, tmp_path):
    path = _file(tmp_path, ["M1", "Q7", "R2"], ["已供应", "已供应", "已供应"])
    with pytest.raises(InputError, match=r"unknown land-use code 'Q7' \(parcels.gpkg feature 1 \(id D1\)\)"):
        import_parcels(engine, path, code_field="YDDM", supply_field="GYZT", id_field="DKBH", source_document="t")
    path2 = _file(tmp_path, ["M1", "M2"], ["已供应", "也许"], name="p2.gpkg")
    with pytest.raises(InputError, match=r"feature 1 .*supply status '也许'"):
        import_parcels(engine, path2, code_field="YDDM", supply_field="GYZT", source_document="t")
    with pytest.raises(InputError, match="no field 'LANDUSE'"):
        import_parcels(engine, path2, code_field="LANDUSE", supply_field="GYZT", source_document="t")
    assert _count(engine) == []


def test_invalid_geometry_rolls_back_whole_file(engine, tmp_path):
    from shapely.geometry import Polygon

    from gis_service.parcels import write_parcels

    bowtie = Polygon([(121.2, 31.0), (121.21, 31.01), (121.21, 31.0), (121.2, 31.01)])
    good = to_4326([rect(0, 0, 50, 50)])[0]
    frame = gpd.GeoDataFrame({"external_id": ["ok", "bow"], "land_use_class": ["industrial"] * 2, "is_supplied": [True] * 2,
                              "source_document": "t"}, geometry=[good, bowtie], crs=4326)
    with pytest.raises(InputError, match=r"parcel bow \(feature 1\): invalid geometry: Self-intersection"):
        write_parcels(engine, frame)
    assert _count(engine) == []
