"""Opening vector uploads and checking their CRS and geometries (no database here).

Formats: GeoJSON, GeoPackage, KML and zipped Shapefile (read with pyogrio; a zip is
inspected and extracted safely first, see :mod:`gis_service.ingest.archive`).  Each file
is opened by the one GDAL driver its type implies, with GDAL's network access off and
GeoJSON ``crs`` links refused (:mod:`gis_service.ingest.gdal_safety`).

The CRS contract of an upload:

- declared EPSG:4326 (WGS84) or EPSG:4490 (CGCS2000, centimetres from WGS84, treated as
  equal at planning scale) are taken as lon/lat; EPSG:4549 (CGCS2000 / 3-degree
  Gauss-Kruger CM 120E, metres) is transformed with pyproj;
- GCJ-02 (火星坐标, Amap/Tencent) has no EPSG code: the caller says so explicitly and the
  project's converter (:mod:`gis_service.coords.gcj02`) is applied;
- a file that declares no CRS is refused unless the caller declares one of the above;
  any other CRS is refused, naming it.

Every geometry is then checked in EPSG:4326, in this order: present and not empty, the
expected type, every coordinate a finite number (NaN is named as such), inside the Shanghai extent (a feature that lands in Shanghai once its
axes are swapped is reported as swapped lat/lon), valid (a self-intersection is
reported with its location; :func:`shapely.make_valid` repairs only when asked).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis_service.coords.crs import STORED_CRS, transform_geometries
from gis_service.coords.gcj02 import gcj02_to_wgs84
from gis_service.errors import PayloadTooLargeError
from gis_service.ingest.archive import check_upload_size, extract_zip
from gis_service.ingest.gdal_safety import gdal_source
from gis_service.ingest.errors import (
    CrsError,
    GeometryTypeError,
    InvalidGeometryError,
    OutsideExtentError,
    SwappedAxesError,
    UnreadableFileError,
)
from gis_service.ingest.limits import ImportLimits

#: EPSG codes an upload may declare, with the name used in messages.
ACCEPTED_EPSG: dict[int, str] = {
    4326: "WGS 84",
    4490: "CGCS2000",
    4549: "CGCS2000 / 3-degree Gauss-Kruger CM 120E",
}
_LONLAT_EPSG = frozenset({4326, 4490})
GCJ02 = "gcj02"
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".kml", ".shp", ".zip")
_INNER_SUFFIXES = (".shp", ".geojson", ".json", ".gpkg", ".kml")


@dataclass(frozen=True)
class ReadOptions:
    """How to read one vector upload.

    Parameters
    ----------
    source_crs
        CRS to assume when the file declares none (``"EPSG:4549"``...), or ``"gcj02"``.
    gcj02
        The coordinates are GCJ-02 lon/lat (Amap): convert them to WGS84.
    repair
        Repair invalid geometries with :func:`shapely.make_valid` instead of refusing them.
    id_field
        Property that identifies a feature; duplicates are refused.
    layer
        Layer of a multi-layer file (GeoPackage, KML).
    limits
        Size, count and extent limits.
    """

    source_crs: str | None = None
    gcj02: bool = False
    repair: bool = False
    id_field: str | None = None
    layer: str | None = None
    limits: ImportLimits = field(default_factory=ImportLimits)

    @property
    def is_gcj02(self) -> bool:
        return self.gcj02 or (self.source_crs is not None and self.source_crs.lower().replace("-", "") == GCJ02)


@dataclass(frozen=True)
class VectorFile:
    """A read vector file: its features (raw coordinates), its name for messages and its CRS."""

    label: str
    frame: gpd.GeoDataFrame
    crs: str  # "EPSG:4326", "EPSG:4549", "GCJ-02"...


# ----------------------------------------------------------------------------- opening
def open_vector(path: Path, options: ReadOptions) -> VectorFile:
    """Read a vector upload (size, archive and feature-count limits first).

    Raises
    ------
    PayloadTooLargeError, UnsafeArchiveError, UnreadableFileError, CrsError
    """
    path = Path(path)
    check_upload_size(path, options.limits)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise UnreadableFileError(
            f"{path.name}: unsupported file type {suffix or '(none)'}; expected GeoJSON, GeoPackage, KML or a zipped Shapefile"
        )
    if suffix != ".zip":
        return _read(path, path.name, options)
    with tempfile.TemporaryDirectory(prefix="gis-import-") as tmp:
        files = extract_zip(path, Path(tmp), options.limits)
        candidates = sorted(f for f in files if f.suffix.lower() in _INNER_SUFFIXES and not f.name.startswith("._"))
        shapefiles = [f for f in candidates if f.suffix.lower() == ".shp"]
        chosen = shapefiles or candidates
        if len(chosen) != 1:
            names = ", ".join(str(f.relative_to(Path(tmp).resolve())) for f in chosen) or "none"
            raise UnreadableFileError(f"{path.name}: expected exactly one Shapefile in the archive, found {names}")
        inner = chosen[0]
        return _read(inner, f"{path.name}!{inner.relative_to(Path(tmp).resolve())}", options)


def _read(path: Path, label: str, options: ReadOptions) -> VectorFile:
    source = gdal_source(path, label).text  # the one driver of the type, links refused
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
        layer = options.layer
        if layer is None and len(layers) > 1:
            raise UnreadableFileError(f"{label}: {len(layers)} layers ({', '.join(layers)}); say which one to import")
        if layer is not None and layer not in layers:
            raise UnreadableFileError(f"{label}: no layer {layer!r}; layers are {', '.join(layers)}")
        count = int(pyogrio.read_info(source, layer=layer)["features"])
        if count > options.limits.max_features:
            raise PayloadTooLargeError(f"{label}: {count:,} features, the limit is {options.limits.max_features:,}")
        frame = gpd.read_file(source, engine="pyogrio", layer=layer)
    except (UnreadableFileError, PayloadTooLargeError):
        raise
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        raise UnreadableFileError(f"{label}: cannot be read as a vector file ({exc.__class__.__name__}: {exc})") from exc
    if len(frame) > options.limits.max_features:  # drivers without a fast count report -1 above
        raise PayloadTooLargeError(f"{label}: {len(frame):,} features, the limit is {options.limits.max_features:,}")
    declared = _declared_epsg(frame.crs, label)
    epsg = _effective_epsg(declared, label, options)
    return VectorFile(label, frame, "GCJ-02" if epsg is None else f"EPSG:{epsg}")


# ----------------------------------------------------------------------------- CRS
def _declared_epsg(crs: CRS | None, label: str) -> int | None:
    """The accepted EPSG code a file declares, ``None`` when it declares none."""
    if crs is None:
        return None
    if crs.equals(CRS("OGC:CRS84")):  # GeoJSON's lon/lat WGS84
        return 4326
    epsg = crs.to_epsg(min_confidence=70)
    if epsg not in ACCEPTED_EPSG:
        name = crs.to_string() if epsg is None else f"EPSG:{epsg}"
        raise CrsError(
            f"{label}: CRS {name} ({crs.name}) is not accepted; expected EPSG:4326, EPSG:4490 or EPSG:4549, "
            "or GCJ-02 declared explicitly"
        )
    return epsg


def _effective_epsg(declared: int | None, label: str, options: ReadOptions) -> int | None:
    """EPSG code of the coordinates, or ``None`` for GCJ-02."""
    if options.is_gcj02:
        if declared is not None and declared not in _LONLAT_EPSG:
            raise CrsError(f"{label}: GCJ-02 data must be longitude/latitude, but the file declares EPSG:{declared}")
        return None
    given = _parse_crs(options.source_crs, label) if options.source_crs else None
    if declared is None and given is None:
        raise CrsError(
            f"{label}: the file declares no CRS; declare EPSG:4326, EPSG:4490 or EPSG:4549 (or GCJ-02 explicitly)"
        )
    if declared is not None and given is not None and declared != given:
        raise CrsError(f"{label}: the file declares EPSG:{declared} but EPSG:{given} was given")
    return declared if declared is not None else given


def _parse_crs(value: str, label: str) -> int:
    try:
        crs = CRS.from_user_input(value)
    except CRSError as exc:
        raise CrsError(f"{label}: unknown CRS {value!r}") from exc
    epsg = _declared_epsg(crs, label)
    assert epsg is not None
    return epsg


def to_wgs84_function(epsg: int | None) -> Callable[[BaseGeometry], BaseGeometry]:
    """A function taking a geometry in ``epsg`` (``None``: GCJ-02 lon/lat) to EPSG:4326."""
    if epsg is None:
        return gcj02_to_wgs84
    if epsg in _LONLAT_EPSG:
        return lambda geom: geom

    def project(geom: BaseGeometry) -> BaseGeometry:
        return transform_geometries(geom, epsg, STORED_CRS)

    return project


def epsg_of(crs_label: str) -> int | None:
    """Inverse of :attr:`VectorFile.crs`: the EPSG code, ``None`` for GCJ-02."""
    return None if crs_label == "GCJ-02" else int(crs_label.split(":")[1])


# ----------------------------------------------------------------------------- geometry
def check_geometry(
    raw: object,
    *,
    types: tuple[str, ...],
    label: str,
    to_wgs84: Callable[[BaseGeometry], BaseGeometry],
    crs_label: str,
    extent: tuple[float, float, float, float],
    repair: bool,
) -> tuple[BaseGeometry, bool]:
    """Validate one feature's geometry and return it in EPSG:4326 (Multi type) and whether it was repaired.

    Raises
    ------
    InvalidGeometryError, GeometryTypeError, OutsideExtentError, SwappedAxesError
    """
    if raw is None or not isinstance(raw, BaseGeometry) or raw.is_empty:
        raise InvalidGeometryError(f"{label}: geometry is missing or empty")
    raw = shapely.force_2d(raw)
    if raw.geom_type not in types:
        raise GeometryTypeError(f"{label}: geometry type {raw.geom_type}, expected one of {', '.join(types)}")
    if (reason := not_a_number(raw)) is not None:  # before the extent: NaN is outside nothing
        raise InvalidGeometryError(f"{label}: {reason}")
    geom = _transform(raw, to_wgs84)
    if not _inside(geom, extent):
        swapped = _transform(shapely.transform(raw, lambda xy: xy[:, ::-1]), to_wgs84)
        bbox = _bbox_text(raw)
        if _inside(swapped, extent):
            raise SwappedAxesError(
                f"{label}: latitude and longitude are swapped (bbox {bbox} in {crs_label}; "
                "x must be the longitude/easting, y the latitude/northing)"
            )
        hint = ""
        if crs_label in ("EPSG:4326", "EPSG:4490") and np.nanmax(np.abs(shapely.get_coordinates(raw)), initial=0) > 180:
            hint = "; the values look like projected metres: declare the CRS (e.g. EPSG:4549)"
        raise OutsideExtentError(
            f"{label}: coordinates outside the Shanghai extent: bbox {bbox} in {crs_label}, "
            f"expected within lon/lat {extent}{hint}"
        )
    repaired = False
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if not repair:
            raise InvalidGeometryError(f"{label}: geometry is not valid ({reason}); fix it or import with repair")
        geom = _repair(geom, types, label, reason)
        repaired = True
    return _to_multi(geom), repaired


def not_a_number(geom: BaseGeometry) -> str | None:
    """Why ``geom`` has a coordinate that is not a finite number (naming the first vertex), or ``None``."""
    coords = shapely.get_coordinates(geom)
    bad = ~np.isfinite(coords).all(axis=1)
    if not bad.any():
        return None
    vertex = int(np.argmax(bad))
    x, y = coords[vertex]
    return f"coordinate of vertex {vertex} ({x}, {y}) is not a number (NaN or infinite); every coordinate must be a finite number"


def _transform(geom: BaseGeometry, to_wgs84: Callable[[BaseGeometry], BaseGeometry]) -> BaseGeometry:
    with np.errstate(all="ignore"):
        return to_wgs84(geom)


def _inside(geom: BaseGeometry, extent: tuple[float, float, float, float]) -> bool:
    coords = shapely.get_coordinates(geom)
    if coords.size == 0 or not np.isfinite(coords).all():
        return False
    lon_min, lat_min, lon_max, lat_max = extent
    return bool(
        (coords[:, 0] >= lon_min).all() and (coords[:, 0] <= lon_max).all()
        and (coords[:, 1] >= lat_min).all() and (coords[:, 1] <= lat_max).all()
    )


def _bbox_text(geom: BaseGeometry) -> str:
    return "(" + ", ".join(f"{v:.6g}" if math.isfinite(v) else str(v) for v in geom.bounds) + ")"


def _repair(geom: BaseGeometry, types: tuple[str, ...], label: str, reason: str) -> BaseGeometry:
    fixed = shapely.make_valid(geom)
    wanted = Polygon if "Polygon" in types else LineString
    parts = [g for g in shapely.get_parts(_explode(fixed)) if isinstance(g, wanted) and not g.is_empty]
    if not parts:
        raise InvalidGeometryError(f"{label}: geometry is not valid ({reason}) and cannot be repaired into a {wanted.__name__}")
    merged = MultiPolygon(parts) if wanted is Polygon else MultiLineString(parts)
    if not merged.is_valid:  # touching parts of a repaired polygon: dissolve them
        merged = shapely.make_valid(shapely.union_all(parts))
        merged = MultiPolygon([g for g in shapely.get_parts(_explode(merged)) if isinstance(g, Polygon)])
    if not merged.is_valid or merged.is_empty:
        raise InvalidGeometryError(f"{label}: geometry is not valid ({reason}) and the repair failed")
    return merged


def _explode(geom: BaseGeometry) -> np.ndarray:
    """All simple parts of a geometry, descending into collections."""
    parts = shapely.get_parts(geom)
    out: list[BaseGeometry] = []
    for part in parts:
        if part.geom_type in ("GeometryCollection", "MultiPolygon", "MultiLineString", "MultiPoint"):
            out.extend(_explode(part))
        else:
            out.append(part)
    return np.asarray(out, dtype=object)


def _to_multi(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "LineString":
        return MultiLineString([geom])
    return geom
