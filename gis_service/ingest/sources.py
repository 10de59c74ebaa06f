"""Reading and validating the layer files (GeoJSON, GeoPackage, KML, zipped Shapefile, CSV) into plain records.

Nothing here touches the database.  Every problem raises
:class:`~gis_service.errors.InputError` naming the file, the feature (or CSV row) and
the reason, e.g. ``roads.geojson: feature 3 (文汇路): geometry is not valid (Self-
intersection[...])``.

Geometries are returned in EPSG:4326.  The CRS contract and the geometry checks are in
:mod:`gis_service.ingest.vector`: EPSG:4326/4490/4549 accepted, GCJ-02 (Amap) declared
by the caller with ``source_crs="gcj02"`` and converted with the project's converter.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from gis_service.db.models import GeometryQuality, ZoneKind
from gis_service.errors import InputError
from gis_service.ingest.errors import DuplicateIdError, NotANumberError
from gis_service.ingest.tables import csv_records
from gis_service.ingest.vector import ReadOptions, check_geometry, epsg_of, open_vector, to_wgs84_function
from gis_service.sizhi.model import FeatureKind

# The vocabularies are defined once, by the schema and the 四至 engine.
GEOMETRY_QUALITIES = tuple(q.value for q in GeometryQuality)
ROAD_KINDS = typing.get_args(FeatureKind)  # the kinds a 四至 can name
TOWN_KINDS = ("镇", "街道")
ZONE_KINDS = tuple(k.value for k in ZoneKind)
PARK_KINDS = ("park", "block")
SCOPE_TYPES = ("district", "town", "zone", "park")
TARGET_NATURES = ("预期性", "约束性")
POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")


@dataclass(frozen=True)
class Feature:
    """One validated feature: its properties and its geometry in EPSG:4326."""

    index: int
    properties: dict[str, Any]
    geometry: BaseGeometry
    repaired: bool = False  # made valid with shapely.make_valid on the caller's explicit request
    crs: str = "EPSG:4326"  # the CRS the file was in (recorded; the geometry is EPSG:4326)


@dataclass(frozen=True)
class Row:
    """One validated CSV row (``line`` is the 1-based line number in the file)."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)


def _label(file_label: str, index: int, props: dict[str, Any]) -> str:
    name = props.get("name") or props.get("code") or props.get("Name")
    return f"{file_label}: feature {index}" + (f" ({name})" if name else "")


def read_features(
    path: Path,
    *,
    geometry_types: tuple[str, ...],
    required: Iterable[str],
    source_crs: str | None = None,
    options: ReadOptions | None = None,
) -> list[Feature]:
    """Read a vector file and validate every feature.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, KML or zipped Shapefile.
    geometry_types
        Accepted types, e.g. ``("Polygon", "MultiPolygon")``; results are promoted to
        the Multi type.
    required
        Property names that must be present and non-empty.
    source_crs
        ``"gcj02"`` for Amap/GCJ-02 data (converted with :mod:`gis_service.coords`), or
        the CRS of a file that declares none (``"EPSG:4549"``).  A GeoJSON file without
        a ``crs`` member is WGS84 by RFC 7946.
    options
        Everything else (repair flag, id field, limits); ``source_crs`` overrides its own.

    Raises
    ------
    InputError
        The file is unreadable or too large, its CRS is missing or not accepted, or a
        feature lacks a property, has no geometry, the wrong geometry type, an invalid
        geometry, coordinates outside Shanghai or swapped lat/lon, or a duplicate id.
        The subclasses are in :mod:`gis_service.ingest.errors`.
    """
    options = options or ReadOptions()
    if source_crs is not None:
        options = replace(options, source_crs=source_crs)
    vector = open_vector(Path(path), options)
    required = tuple(required)
    frame = _untruncate(vector.frame, required)
    to_wgs84 = to_wgs84_function(epsg_of(vector.crs))
    features: list[Feature] = []
    seen: dict[Any, int] = {}
    for index, (_, row) in enumerate(frame.iterrows()):
        props = {k: _clean(v) for k, v in row.items() if k != frame.geometry.name}
        label = _label(vector.label, index, props)
        for key in required:
            if props.get(key) in (None, ""):
                raise InputError(f"{label}: property '{key}' is missing or empty")
        if options.id_field is not None:
            key_value = props.get(options.id_field)
            if key_value in (None, ""):
                raise InputError(f"{label}: property '{options.id_field}' is missing or empty")
            if not isinstance(key_value, (str, int, float)):
                raise InputError(f"{label}: property '{options.id_field}' must be text or a number, not {key_value!r}")
            if key_value in seen:
                raise DuplicateIdError(
                    f"{label}: {options.id_field} {key_value!r} already given by feature {seen[key_value]}"
                )
            seen[key_value] = index
        geom, repaired = check_geometry(
            row[frame.geometry.name], types=geometry_types, label=label, to_wgs84=to_wgs84,
            crs_label=vector.crs, extent=options.limits.extent, repair=options.repair,
        )
        features.append(Feature(index, props, geom, repaired=repaired, crs=vector.crs))
    return features


#: Optional properties of the layers whose names a Shapefile (DBF: 10 characters) truncates.
_LONG_PROPERTIES = ("geometry_quality", "source_document", "source_section", "district_adcode", "centerline_wkt")


def _untruncate(frame: Any, required: tuple[str, ...]) -> Any:
    """Restore property names a Shapefile cut to 10 characters (``source_doc`` -> ``source_document``)."""
    renames = {
        name[:10]: name for name in (*required, *_LONG_PROPERTIES)
        if len(name) > 10 and name not in frame.columns and name[:10] in frame.columns
    }
    return frame.rename(columns=renames) if renames else frame


def _clean(value: Any) -> Any:
    """NaN/None -> None; numpy scalars -> Python values; list properties (GDAL IntegerList...) -> lists."""
    if value is None:
        return None
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return value.tolist()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def read_rows(path: Path, *, required: Iterable[str]) -> list[Row]:
    """Read a UTF-8 CSV; empty cells become ``None``; required columns must be filled.

    Raises
    ------
    InputError
        Missing file or column, or a required cell empty (with its line number).
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    required = tuple(required)
    records = csv_records(path.name, path.read_text(encoding="utf-8-sig"))  # strict quoting, see tables
    header = next(records, (0, []))[1]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")
    rows: list[Row] = []
    for line, cells in records:
        if not cells:
            continue
        cells = cells + [""] * (len(header) - len(cells))
        values = {k: (v.strip() if v.strip() != "" else None) for k, v in zip(header, cells)}
        for key in required:
            if values.get(key) is None:
                raise InputError(f"{path.name}: line {line}: column '{key}' is empty")
        rows.append(Row(line, values))
    return rows


def parse_number(value: str | None, *, where: str, column: str) -> float | None:
    """A decimal number or ``None`` for an empty cell; never turns text into 0."""
    if value is None:
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError as exc:
        raise NotANumberError(f"{where}: column '{column}' is not a number: {value!r}") from exc
    if not math.isfinite(number):
        raise NotANumberError(f"{where}: column '{column}' is not a finite number: {value!r}")
    return number


def parse_int(value: str | None, *, where: str, column: str) -> int | None:
    number = parse_number(value, where=where, column=column)
    if number is None:
        return None
    if not float(number).is_integer():
        raise InputError(f"{where}: column '{column}' must be a whole number: {value!r}")
    return int(number)


def parse_bool(value: str | None, *, where: str, column: str) -> bool:
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("true", "1", "yes", "t"):
        return True
    if lowered in ("false", "0", "no", "f"):
        return False
    raise InputError(f"{where}: column '{column}' must be true/false: {value!r}")


def check_choice(value: Any, choices: tuple[str, ...], *, where: str, column: str) -> str:
    if value not in choices:
        raise InputError(f"{where}: {column} {value!r} is not one of {', '.join(choices)}")
    return str(value)


def parse_date(value: Any, *, where: str, column: str) -> dt.date | None:
    """A date (ISO ``YYYY-MM-DD``, a longer timestamp is cut to its date) or ``None`` for an empty cell."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise InputError(f"{where}: {column} {value!r} is not a date (YYYY-MM-DD)") from exc


def check_line_wkt(wkt: str, *, where: str, column: str = "centerline_wkt") -> None:
    """Refuse a WKT property that is not a (multi)line."""
    try:
        geom = shapely_wkt.loads(wkt)
    except ShapelyError as exc:
        raise InputError(f"{where}: {column} is not valid WKT ({exc})") from exc
    if geom.geom_type not in LINES:
        raise InputError(f"{where}: {column} is a {geom.geom_type}, expected a line")

