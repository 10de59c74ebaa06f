"""Reading and validating the layer files (GeoJSON, CSV) into plain records.

Nothing here touches the database.  Every problem raises
:class:`~gis_service.errors.InputError` naming the file, the feature (or CSV row) and
the reason, e.g. ``roads.geojson: feature 3 (文汇路): geometry is not valid (Self-
intersection[...])``.

Geometries are returned in EPSG:4326.  A file may declare another CRS: projected
CRSs are transformed with pyproj; GCJ-02 (Amap) data has no EPSG code, so the caller
says so with ``source_crs="gcj02"`` and the project's converter is applied.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import MultiLineString, MultiPolygon
from shapely.geometry.base import BaseGeometry

from gis_service.coords.gcj02 import gcj02_to_wgs84
from gis_service.errors import InputError

GEOMETRY_QUALITIES = ("surveyed", "approximate", "synthetic")
ROAD_KINDS = (
    "road",
    "expressway",
    "river",
    "railway",
    "planned_road",
    "development_boundary",
    "admin_boundary",
    "other",
)
TOWN_KINDS = ("镇", "街道")
ZONE_KINDS = ("corridor", "corridor_area", "pian")
PARK_KINDS = ("park", "block")
SCOPE_TYPES = ("district", "town", "zone", "park")
TARGET_NATURES = ("预期性", "约束性")


@dataclass(frozen=True)
class Feature:
    """One validated feature: its properties and its geometry in EPSG:4326."""

    index: int
    properties: dict[str, Any]
    geometry: BaseGeometry


@dataclass(frozen=True)
class Row:
    """One validated CSV row (``line`` is the 1-based line number in the file)."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)


def _label(path: Path, index: int, props: dict[str, Any]) -> str:
    name = props.get("name") or props.get("code")
    return f"{path.name}: feature {index}" + (f" ({name})" if name else "")


def read_features(
    path: Path,
    *,
    geometry_types: tuple[str, ...],
    required: Iterable[str],
    source_crs: str | None = None,
) -> list[Feature]:
    """Read a vector file and validate every feature.

    Parameters
    ----------
    path
        GeoJSON (or any format pyogrio reads).
    geometry_types
        Accepted types, e.g. ``("Polygon", "MultiPolygon")``; results are promoted to
        the Multi type.
    required
        Property names that must be present and non-empty.
    source_crs
        ``"gcj02"`` for Amap/GCJ-02 data (converted with :mod:`gis_service.coords`);
        otherwise the file's declared CRS is used (EPSG:4326 assumed when absent).

    Raises
    ------
    InputError
        The file is unreadable, or a feature lacks a property, has no geometry, the
        wrong geometry type, an invalid geometry, or coordinates outside lon/lat range.
    """
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"{path.name}: cannot be read as a vector file ({exc.__class__.__name__}: {exc})") from exc
    frame = _to_wgs84(frame, path, source_crs)
    required = tuple(required)
    features: list[Feature] = []
    for index, (_, row) in enumerate(frame.iterrows()):
        props = {k: _clean(v) for k, v in row.items() if k != frame.geometry.name}
        label = _label(path, index, props)
        for key in required:
            if props.get(key) in (None, ""):
                raise InputError(f"{label}: property '{key}' is missing or empty")
        geom = row[frame.geometry.name]
        features.append(Feature(index, props, _check_geometry(geom, geometry_types, label)))
    return features


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path, source_crs: str | None) -> gpd.GeoDataFrame:
    if source_crs is not None and source_crs.lower().replace("-", "") == "gcj02":
        return gcj02_to_wgs84(frame.set_crs(4326, allow_override=True))
    if frame.crs is None:
        return frame.set_crs(4326)
    if frame.crs.to_epsg() in (4326, 4490):
        # CGCS2000 differs from WGS84 by centimetres: treated as equal at planning scale.
        return frame.set_crs(4326, allow_override=True)
    try:
        return frame.to_crs(4326)
    except Exception as exc:
        raise InputError(f"{path.name}: cannot transform from {frame.crs} to EPSG:4326 ({exc})") from exc


def _check_geometry(geom: Any, types: tuple[str, ...], label: str) -> BaseGeometry:
    if geom is None or (isinstance(geom, BaseGeometry) and geom.is_empty):
        raise InputError(f"{label}: geometry is missing or empty")
    if geom.geom_type not in types:
        raise InputError(f"{label}: geometry type {geom.geom_type}, expected one of {', '.join(types)}")
    coords = shapely.get_coordinates(geom)
    if not (
        (coords[:, 0] >= -180).all() and (coords[:, 0] <= 180).all()
        and (coords[:, 1] >= -90).all() and (coords[:, 1] <= 90).all()
    ):
        raise InputError(f"{label}: coordinates outside longitude/latitude range (is the CRS declared?)")
    if not geom.is_valid:
        raise InputError(f"{label}: geometry is not valid ({shapely.is_valid_reason(geom)})")
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "LineString":
        return MultiLineString([geom])
    return geom


def _clean(value: Any) -> Any:
    """NaN/None -> None; numpy scalars -> Python values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
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
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows: list[Row] = []
        for record in reader:
            line = reader.line_num
            values = {k: (v.strip() if isinstance(v, str) and v.strip() != "" else None) for k, v in record.items()}
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
        raise InputError(f"{where}: column '{column}' is not a number: {value!r}") from exc
    if not math.isfinite(number):
        raise InputError(f"{where}: column '{column}' is not a finite number: {value!r}")
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


def iter_labelled(rows: list[Row], path: Path) -> Iterator[tuple[str, Row]]:
    for row in rows:
        yield f"{path.name}: line {row.line}", row
