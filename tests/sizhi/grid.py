"""A synthetic road grid for the 四至 geometry tests (built in EPSG:4549, stored 4326).

Streets run every 1000 m: east-west roads 纬一路…纬五路 at y = Y0 + 0…4000 m and
north-south roads 经一路…经五路 at x = X0 + 0…4000 m; each extends 1000 m beyond the
outer ones.  X0, Y0 lie in Songjiang (about 121.2°E, 31.03°N).
"""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Polygon, box

from gis_service.sizhi.geometry import to_storage

X0, Y0 = 614_000.0, 3_433_000.0
SPACING = 1000.0
NUMERALS = "一二三四五"
EW = [f"纬{c}路" for c in NUMERALS]  # y = Y0 + i*1000
NS = [f"经{c}路" for c in NUMERALS]  # x = X0 + i*1000


def grid_roads(extra: list[tuple[str, str, LineString]] | None = None) -> gpd.GeoDataFrame:
    """The grid (EPSG:4326) plus ``extra`` (name, kind, EPSG:4549 line) rows."""
    rows = []
    for i, name in enumerate(EW):
        y = Y0 + i * SPACING
        rows.append((name, "road", LineString([(X0 - 1000, y), (X0 + 5000, y)])))
    for i, name in enumerate(NS):
        x = X0 + i * SPACING
        rows.append((name, "road", LineString([(x, Y0 - 1000), (x, Y0 + 5000)])))
    rows += extra or []
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "kind": [r[1] for r in rows]},
        geometry=[to_storage(r[2]) for r in rows],
        crs="EPSG:4326",
    )


def block(x1: float, y1: float, x2: float, y2: float) -> Polygon:
    """A rectangle in EPSG:4549 metres."""
    return box(x1, y1, x2, y2)
