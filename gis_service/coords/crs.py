"""The project's coordinate reference systems, and projecting for areas and distances.

Two CRSs, one role each:

- :data:`STORED_CRS` (EPSG:4326, WGS84 longitude/latitude): every geometry is stored,
  read and returned in it (the ``geom`` columns are SRID :data:`STORED_SRID`).
- :data:`AREA_CRS` (EPSG:4549, CGCS2000 / 3-degree Gauss-Kruger CM 120E): a transverse
  Mercator in metres, x east, y north, whose zone covers Songjiang.  Every area (m², km²),
  length and distance, and every tolerance given in metres, is computed in it (or
  geodesically on the ellipsoid) — never in degrees.  PostGIS does the same with
  ``ST_Transform(geom, AREA_SRID)``.

GCJ-02 (the shifted datum of Amap/高德 and Tencent maps) is not an EPSG CRS and pyproj
cannot convert it: GCJ-02 coordinates go only through :mod:`gis_service.coords.gcj02`.

Building a PROJ transformer costs about 0.1 s, more than most area computations, so
:func:`transformer` caches them; all transformers take and return (x, y) = (lon, lat) /
(easting, northing) (``always_xy``).
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from gis_service.errors import InputError

#: CRS of the stored geometry: WGS84 longitude/latitude
STORED_CRS = "EPSG:4326"
STORED_SRID = 4326
#: CRS of areas, lengths and distances: CGCS2000 / 3-degree Gauss-Kruger CM 120E (metres)
AREA_CRS = "EPSG:4549"
AREA_SRID = 4549


class MissingCrsError(InputError):
    """Geometries whose CRS is neither declared nor given, so they cannot be projected."""


@lru_cache(maxsize=32)
def _cached_wkt(crs: object) -> str:
    return CRS.from_user_input(crs).to_wkt()


def _wkt(crs: object) -> str:
    try:
        return _cached_wkt(crs)
    except TypeError:  # unhashable input (a PROJ JSON dict...)
        return CRS.from_user_input(crs).to_wkt()


@lru_cache(maxsize=16)
def _transformer(source_wkt: str, target_wkt: str) -> Transformer | None:
    source, target = CRS.from_wkt(source_wkt), CRS.from_wkt(target_wkt)
    return None if source == target else Transformer.from_crs(source, target, always_xy=True)


def transformer(source: object = STORED_CRS, target: object = AREA_CRS) -> Transformer | None:
    """The cached ``always_xy`` transformer from ``source`` to ``target`` (any pyproj CRS
    input: ``"EPSG:4326"``, ``4549``, a :class:`pyproj.CRS`...); ``None`` when they are equal."""
    return _transformer(_wkt(source), _wkt(target))


def transform_geometries(geoms: object, source: object, target: object) -> object:
    """``geoms`` (a shapely geometry or an array of them) from ``source`` to ``target``, 2D,
    vectorized over the coordinates."""
    project = transformer(source, target)
    if project is None:
        return geoms

    def xy(coords: np.ndarray) -> np.ndarray:
        x, y = project.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, xy)


def _require(crs: object, what: str = "geometries") -> object:
    if crs is None:
        raise MissingCrsError(f"{what} have no CRS; set it ({STORED_CRS} for stored data)")
    return crs


def to_area_crs(geoms: object, crs: object = None) -> object:
    """``geoms`` projected to :data:`AREA_CRS`.

    A GeoSeries/GeoDataFrame is reprojected with its own CRS (``crs`` is taken for one
    that declares none) and returned as one; a shapely geometry or an array of them must
    be given its ``crs``.  Raises :class:`MissingCrsError` when no CRS is known.
    """
    if isinstance(geoms, (gpd.GeoSeries, gpd.GeoDataFrame)):
        if geoms.crs is None:
            geoms = geoms.set_crs(_require(crs))
        return geoms.to_crs(AREA_CRS)
    return transform_geometries(geoms, _require(crs), AREA_CRS)


def from_area_crs(geoms: object, crs: object = STORED_CRS) -> object:
    """A shapely geometry (or array) in :data:`AREA_CRS` back to ``crs`` (the stored CRS)."""
    return transform_geometries(geoms, AREA_CRS, crs)


def projected_areas_m2(geoms: gpd.GeoSeries | np.ndarray, crs: object = None) -> np.ndarray:
    """Areas in m² of ``geoms`` after projecting them to :data:`AREA_CRS`.

    ``geoms`` is a GeoSeries (its own CRS is used) or an array of shapely geometries in
    ``crs``.  Raises :class:`MissingCrsError` when the CRS is not known.
    """
    if isinstance(geoms, gpd.GeoSeries):
        crs = geoms.crs
        geoms = np.asarray(geoms.array)
    return shapely.area(transform_geometries(np.asarray(geoms), _require(crs), AREA_CRS))
