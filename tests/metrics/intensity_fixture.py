"""A hand-computed land-intensity fixture (EPSG:4549 rectangles, so every area is exact).

Park A = rect(0, 0, 1000, 1000): 100 ha.  Survey snapshot 2023:
  industrial built 50 ha (x 0–500), residential built 10 ha (x 500–600), commercial built
  10 ha (x 600–700), agricultural 30 ha (x 700–1000)  → built-up 70 ha, industrial 50 ha.
Supply records: 40 ha industrial (2020), 20 ha residential (2021), 5 ha idle (found 2022),
  5 ha idle and disposed (2021)  → supplied 70 ha, idle 5 ha, found idle 10 ha, disposed 5 ha.
Buildings 2023: B1 1 ha on industrial land, 建筑面积 30 000 m²; B2 200 × 50 m across the east
  boundary (a quarter inside), 层数 4 → 40 000 m² estimated, counts 10 000 m² and 2 500 m²
  of footprint; B3 5 000 m² on residential land, 建筑面积 15 000 m².
Figures 2023: 已达到供地条件 80 公顷, investment 500 000 万元, industrial tax 3 亿元, tax 2 亿元,
  population 7 000 人.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
from sqlalchemy import Engine, text

from gis_service.testing import insert_indicator, insert_park
from tests.metrics.helpers import rect, to_4326

YEAR = 2023

EXPECTED = {
    "land_development_rate_pct": 80.0,
    "land_supply_rate_pct": 87.5,
    "land_built_rate_pct": 100.0,
    "industrial_land_share_pct": 50 / 70 * 100,
    "floor_area_ratio": 55_000 / 700_000,
    "building_density_pct": 17_500 / 700_000 * 100,
    "industrial_floor_area_ratio": 30_000 / 500_000,
    "industrial_building_coverage_pct": 10_000 / 500_000 * 100,
    "investment_intensity_wan_per_ha": 10_000.0,
    "industrial_tax_per_ha_wan": 600.0,
    "tax_per_ha_wan": 20_000 / 70,
    "population_density_per_km2": 1.0,
    "idle_land_rate_pct": 5 / 70 * 100,
    "idle_land_disposal_rate_pct": 50.0,
}


def _wkt(geom) -> str:  # type: ignore[no-untyped-def]
    g = to_4326([geom])[0]
    return f"SRID=4326;MULTIPOLYGON((({', '.join(f'{x} {y}' for x, y in g.exterior.coords)})))"


def load_land(engine: Engine) -> int:
    park_id, _ = insert_park(engine, "A", "园区A", to_4326([rect(0, 0, 1000, 1000)])[0])
    with engine.begin() as conn:
        survey = conn.execute(text(
            "INSERT INTO land_import (kind, year, source_document, file_name, feature_count)"
            " VALUES ('survey', 2023, '2023年度国土变更调查', 'dltb.gpkg', 4) RETURNING id")).scalar_one()
        supply = conn.execute(text(
            "INSERT INTO land_import (kind, source_document, file_name, feature_count)"
            " VALUES ('supply', '供地结果公告', 'gd.xlsx', 4) RETURNING id")).scalar_one()
        for geom, cls, built in [(rect(0, 0, 500, 1000), "industrial", True), (rect(500, 0, 100, 1000), "residential", True),
                                 (rect(600, 0, 100, 1000), "commercial", True), (rect(700, 0, 300, 1000), "agricultural", False)]:
            conn.execute(text(
                "INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_built, source_document, layer, import_id)"
                " VALUES (ST_GeomFromEWKT(:g), :c, false, :b, '2023年度国土变更调查', 'survey', :i)"),
                {"g": _wkt(geom), "c": cls, "b": built, "i": survey})
        for n, (geom, cls, y, idle, idle_year) in enumerate([
            (rect(0, 0, 400, 1000), "industrial", 2020, None, None), (rect(500, 0, 200, 1000), "residential", 2021, None, None),
            (rect(800, 0, 100, 500), "industrial", 2019, "idle", 2022), (rect(900, 0, 100, 500), "industrial", 2019, "disposed", 2021),
        ]):
            conn.execute(text(
                "INSERT INTO land_parcel (geom, land_use_class, is_supplied, supply_year, contract_date, supervision_no,"
                " source_document, layer, import_id, idle_status, idle_year)"
                " VALUES (ST_GeomFromEWKT(:g), :c, true, :y, :d, :no, '供地结果公告', 'supply', :i, :idle, :iy)"),
                {"g": _wkt(geom), "c": cls, "y": y, "d": dt.date(y, 6, 1), "no": f"3101172{n:011d}", "i": supply,
                 "idle": idle, "iy": idle_year})
    return park_id


def load_figures(engine: Engine, park_id: int) -> None:
    insert_indicator(engine, park_id, YEAR, "land_ready_for_supply", 80, "公顷")
    insert_indicator(engine, park_id, YEAR, "industrial_fixed_assets_cumulative", 500_000, "万元")
    insert_indicator(engine, park_id, YEAR, "industrial_tax", 3, "亿元")
    insert_indicator(engine, park_id, YEAR, "tax", 2, "亿元")
    insert_indicator(engine, park_id, YEAR, "resident_population", 7000, "人")


def write_buildings(path: Path) -> Path:
    """The three buildings as a GeoJSON file with 建筑面积 / 层数 fields (as an office holds them)."""
    frame = gpd.GeoDataFrame(
        {"编号": ["B1", "B2", "B3"], "建筑面积": [30_000.0, None, 15_000.0], "层数": [None, 4, None]},
        geometry=to_4326([rect(100, 100, 100, 100), rect(950, 900, 200, 50), rect(550, 100, 50, 100)]), crs="EPSG:4326",
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def expected_json() -> str:
    return json.dumps(EXPECTED)


def load_fixture(engine: Engine, directory: Path) -> int:
    """The whole hand-computed fixture (land, figures, buildings of :data:`YEAR`); the park's id."""
    from gis_service.ingest.buildings import import_buildings

    park_id = load_land(engine)
    load_figures(engine, park_id)
    import_buildings(engine, write_buildings(directory / "buildings.geojson"), year=YEAR, source="建筑普查 2023", actor="test")
    return park_id


def industrial_patch_and_building(engine: Engine, directory: Path, patch, building, floor_area_m2: float) -> int:  # type: ignore[no-untyped-def]
    """The land of :func:`load_land`, one more industrial survey patch (``patch``, EPSG:4549)
    and one building (``building``) with ``floor_area_m2``; the park's id."""
    import geopandas as gpd

    from gis_service.ingest.buildings import import_buildings

    park_id = load_land(engine)
    with engine.begin() as conn:
        survey = conn.execute(text("SELECT id FROM land_import WHERE kind = 'survey'")).scalar_one()
        conn.execute(text(
            "INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_built, source_document, layer, import_id)"
            " VALUES (ST_GeomFromEWKT(:g), 'industrial', false, true, '2023年度国土变更调查', 'survey', :i)"),
            {"g": _wkt(patch), "i": survey})
    path = directory / "one_building.geojson"
    gpd.GeoDataFrame({"编号": ["E1"], "建筑面积": [floor_area_m2]}, geometry=to_4326([building]),
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    import_buildings(engine, path, year=YEAR, source="x", actor="test")
    return park_id

