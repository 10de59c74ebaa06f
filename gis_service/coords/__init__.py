"""Coordinate systems that are not in the EPSG registry (GCJ-02) and their conversions."""

from gis_service.coords.gcj02 import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_arrays,
    in_china,
    wgs84_to_gcj02,
    wgs84_to_gcj02_arrays,
)

__all__ = [
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_arrays",
    "in_china",
    "wgs84_to_gcj02",
    "wgs84_to_gcj02_arrays",
]
