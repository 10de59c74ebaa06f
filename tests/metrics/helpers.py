"""Test helpers: geometry built in EPSG:4549 (so areas are hand-computable).

Database inserts (parks, zones, indicators) are public helpers: :mod:`gis_service.testing`.
"""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import box

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
