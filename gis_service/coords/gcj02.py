"""WGS84 <-> GCJ-02 conversion, vectorized with numpy.

GCJ-02 ("火星坐标", Mars coordinates) is the obfuscated datum that Chinese web maps
(Amap/高德, Tencent) use by law.  It is WGS84 plus a smooth, position-dependent
shift of a few hundred metres (about 500 m near Songjiang).  It is not in the EPSG
registry, so pyproj cannot do it; every GCJ-02 coordinate entering the platform goes
through this module.

The forward transform (WGS84 -> GCJ-02) is the published closed-form algorithm.
The inverse has no closed form: :func:`gcj02_to_wgs84_arrays` solves it by fixed-point
iteration (subtract the shift evaluated at the current estimate), which converges
to well under a millimetre in a few steps because the shift varies slowly.

Points outside mainland China's rough bounding box are left unchanged, as the
Chinese map providers do (their GCJ-02 equals WGS84 there).

All coordinates are (longitude, latitude) in degrees.
"""

from __future__ import annotations

from typing import TypeVar, overload

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gis_service.errors import InputError

# Krasovsky 1940 ellipsoid, which the GCJ-02 algorithm uses.
_SEMI_MAJOR_M = 6378245.0
_ECC_SQ = 0.00669342162296594323

# Rough bounding box of China in which the shift is applied (lon 72.004-137.8347,
# lat 0.8293-55.8271), as in the published algorithm.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_INVERSE_MAX_ITER = 30
_INVERSE_TOL_DEG = 1e-10  # about 0.01 mm

G = TypeVar("G", bound=shapely.Geometry)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether each point lies in the box where GCJ-02 differs from WGS84.

    Parameters
    ----------
    lon, lat : array-like
        Longitude and latitude in degrees.
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon_a >= _LON_MIN) & (lon_a <= _LON_MAX) & (lat_a >= _LAT_MIN) & (lat_a <= _LAT_MAX)


def _shift(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 points (lon, lat)."""
    x, y = lon - 105.0, lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    # Scale metres-like offsets to degrees on the Krasovsky ellipsoid.
    rad_lat = np.radians(lat)
    magic = 1.0 - _ECC_SQ * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_SEMI_MAJOR_M * (1.0 - _ECC_SQ)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_SEMI_MAJOR_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 longitude/latitude arrays (degrees) to GCJ-02 (degrees).

    Points outside China (see :func:`in_china`) are returned unchanged.
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _shift(lon_a, lat_a)
    inside = in_china(lon_a, lat_a)
    return np.where(inside, lon_a + dlon, lon_a), np.where(inside, lat_a + dlat, lat_a)


def gcj02_to_wgs84_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude arrays (degrees) to WGS84 (degrees).

    Solved by fixed-point iteration ``w <- g - shift(w)``, starting from ``w = g``;
    stops when every point moves less than about 0.01 mm.  Points outside China are
    returned unchanged.
    """
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _shift(w_lon, w_lat)
        new_lon, new_lat = g_lon - dlon, g_lat - dlat
        step = np.maximum(np.abs(new_lon - w_lon), np.abs(new_lat - w_lat))
        w_lon, w_lat = new_lon, new_lat
        if step.size == 0 or float(np.nanmax(step)) < _INVERSE_TOL_DEG:
            break
    inside = in_china(g_lon, g_lat)
    return np.where(inside, w_lon, g_lon), np.where(inside, w_lat, g_lat)


def _transform_coords(coords: NDArray[np.float64], *, to_gcj: bool) -> NDArray[np.float64]:
    func = wgs84_to_gcj02_arrays if to_gcj else gcj02_to_wgs84_arrays
    lon, lat = func(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


@overload
def wgs84_to_gcj02(data: gpd.GeoDataFrame) -> gpd.GeoDataFrame: ...
@overload
def wgs84_to_gcj02(data: gpd.GeoSeries) -> gpd.GeoSeries: ...
@overload
def wgs84_to_gcj02(data: G) -> G: ...


def wgs84_to_gcj02(data):  # type: ignore[no-untyped-def]
    """Convert a shapely geometry, GeoSeries or GeoDataFrame from WGS84 to GCJ-02.

    A GeoSeries/GeoDataFrame must be in EPSG:4326 (or have no CRS).  GCJ-02 has no
    EPSG code, so the result keeps EPSG:4326 as a label: the caller is responsible for
    not mixing it with real WGS84 data (the result is meant for Amap tiles).
    """
    return _convert(data, to_gcj=True)


@overload
def gcj02_to_wgs84(data: gpd.GeoDataFrame) -> gpd.GeoDataFrame: ...
@overload
def gcj02_to_wgs84(data: gpd.GeoSeries) -> gpd.GeoSeries: ...
@overload
def gcj02_to_wgs84(data: G) -> G: ...


def gcj02_to_wgs84(data):  # type: ignore[no-untyped-def]
    """Convert a shapely geometry, GeoSeries or GeoDataFrame from GCJ-02 to WGS84.

    The result of a GeoSeries/GeoDataFrame is labelled EPSG:4326.
    """
    return _convert(data, to_gcj=False)


def _convert(data, *, to_gcj: bool):  # type: ignore[no-untyped-def]
    def func(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return _transform_coords(coords, to_gcj=to_gcj)

    if isinstance(data, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if data.crs is not None and data.crs.to_epsg() != 4326:
            raise InputError(
                f"GCJ-02 conversion needs longitude/latitude data (EPSG:4326), got {data.crs.to_string()}"
            )
        out = data.copy()
        geoms = shapely.transform(np.asarray(data.geometry.values, dtype=object), func)
        if isinstance(out, gpd.GeoDataFrame):
            out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=4326)
            return out.set_crs(4326, allow_override=True)
        return gpd.GeoSeries(geoms, index=out.index, crs=4326, name=out.name)
    if isinstance(data, shapely.Geometry):
        return shapely.transform(data, func)
    raise TypeError(f"expected a shapely geometry, GeoSeries or GeoDataFrame, got {type(data).__name__}")
