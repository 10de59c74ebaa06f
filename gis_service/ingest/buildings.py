"""Buildings in: ``gis-service import buildings FILE --year YEAR --source TEXT`` (and ``POST /land/buildings``).

A buildings file (Shapefile, zip, GeoPackage, GeoJSON, File Geodatabase…) is opened by the
land reader (:func:`gis_service.ingest.land.files.open_land_file`: GDAL safety, encodings,
CRS, extent, chunks).  Each footprint needs 建筑面积 (floor area, m²) or 层数 (floors),
recognised by the names in :data:`FLOOR_AREA_FIELDS` / :data:`FLOORS_FIELDS` (Chinese,
pinyin initials and English).  Floor area = 建筑面积, else footprint (EPSG:4549) × 层数,
flagged ``floor_area_estimated``.  A feature with neither, or a value that is not a
non-negative number, is refused naming the file, the feature and the field.

One write path, one transaction: the year's previous buildings are replaced, the rows are
copied, the import is audited.  The database stores with each footprint its anchor
(``building.anchor`` = ST_PointOnSurface, a generated column, migration 0007): the point
that decides whether the building stands on industrial land, computed once at import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from gis_service import audit
from gis_service.coords.crs import projected_areas_m2
from gis_service.errors import InputError
from gis_service.ingest.land.files import LandFileOptions, open_land_file, read_chunks
from gis_service.ingest.land.write import ewkb_hex

#: field names holding 建筑面积 (m²), first present wins (case-insensitive)
FLOOR_AREA_FIELDS: tuple[str, ...] = ("建筑面积", "总建筑面积", "JZMJ", "ZJZMJ", "floor_area", "floor_area_m2",
                                      "gross_floor_area", "gfa", "building_area")
#: field names holding 层数
FLOORS_FIELDS: tuple[str, ...] = ("层数", "建筑层数", "地上层数", "CS", "JZCS", "floors", "levels", "building_levels",
                                  "building:levels", "storeys", "stories")


@dataclass(frozen=True)
class BuildingImportResult:
    """What an import of buildings did: the import id, counts, the fields read, how many it replaced."""

    import_id: int
    year: int
    file: str
    feature_count: int
    estimated_count: int
    floor_area_field: str | None
    floors_field: str | None
    replaced: int


def find_field(fields: tuple[str, ...], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` present in ``fields`` (case-insensitive), as spelt in the file."""
    lower = {f.lower(): f for f in fields}
    return next((lower[n.lower()] for n in names if n.lower() in lower), None)


def _numbers(values: pd.Series, label: str, field: str, start: int, ids: pd.Series | None) -> np.ndarray:
    """The field as floats (blank → NaN); a non-number or a negative value is refused by name."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{label}: feature {_name(start + i, ids, i)}: field {field!r}: {v!r} is not a number") from None
        if out[i] < 0 or not math.isfinite(out[i]):
            raise InputError(f"{label}: feature {_name(start + i, ids, i)}: field {field!r}: {v!r} must be a non-negative number")
    return out


def _name(index: int, ids: pd.Series | None, i: int) -> str:
    return f"#{index + 1}" + (f" ({ids.iloc[i]})" if ids is not None else "")


def read_buildings(path: Path, options: LandFileOptions | None = None) -> tuple[pd.DataFrame, str, str | None, str | None]:
    """The checked rows of a buildings file: ``geom_ewkb, floor_area_m2, floors, floor_area_estimated, external_id``."""
    frames = []
    with open_land_file(path, options) as land:
        area_field, floors_field = find_field(land.fields, FLOOR_AREA_FIELDS), find_field(land.fields, FLOORS_FIELDS)
        if area_field is None and floors_field is None:
            raise InputError(
                f"{land.label}: no 建筑面积 or 层数 field; expected one of {', '.join(FLOOR_AREA_FIELDS + FLOORS_FIELDS)}; "
                f"fields: {', '.join(land.fields)}"
            )
        for chunk in read_chunks(land, options):
            frame = chunk.frame
            ids = frame[land.id_field].astype(str) if land.id_field and land.id_field in frame else None
            geoms = np.asarray(frame.geometry.array)
            footprint = projected_areas_m2(geoms, "EPSG:4326")
            area = _numbers(frame[area_field], land.label, area_field, chunk.start, ids) if area_field else np.full(len(frame), np.nan)
            floors = _numbers(frame[floors_field], land.label, floors_field, chunk.start, ids) if floors_field else np.full(len(frame), np.nan)
            bad = np.isnan(area) & ~(floors > 0)
            if bad.any():
                i = int(np.argmax(bad))
                fields = " / ".join(f for f in (area_field, floors_field) if f)
                raise InputError(f"{land.label}: feature {_name(chunk.start + i, ids, i)}: field {fields}: "
                                 "neither 建筑面积 nor a positive 层数 is given")
            estimated = np.isnan(area)
            frames.append(pd.DataFrame({
                "geom_ewkb": ewkb_hex(geoms),
                "floor_area_m2": np.where(estimated, footprint * np.nan_to_num(floors), area),
                "floors": np.where(floors > 0, floors, np.nan),
                "floor_area_estimated": estimated,
                "external_id": ids.to_numpy() if ids is not None else None,
            }))
        label = land.label
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        raise InputError(f"{label}: no building features")
    return rows, label, area_field, floors_field


_COPY_SQL = ("COPY building (import_id, year, external_id, geom, floor_area_m2, floors, floor_area_estimated,"
             " source_document, is_synthetic) FROM STDIN")


def import_buildings(
    engine: Engine, path: str | Path, *, year: int, source: str, actor: str,
    options: LandFileOptions | None = None, is_synthetic: bool = False, file_name: str | None = None,
) -> BuildingImportResult:
    """Read, check and store a buildings file for ``year`` (replacing that year's buildings)."""
    if not source or not source.strip():
        raise InputError("source: the source document of the buildings is required")
    if not 1900 <= int(year) <= 2100:
        raise InputError(f"year: {year} is not a plausible data year")
    rows, label, area_field, floors_field = read_buildings(Path(path), options)
    estimated = int(rows["floor_area_estimated"].sum())
    with engine.begin() as conn:
        replaced = conn.execute(text("SELECT feature_count FROM building_import WHERE year = :y"), {"y": year}).scalar() or 0
        conn.execute(text("DELETE FROM building_import WHERE year = :y"), {"y": year})
        import_id = conn.execute(
            text("INSERT INTO building_import (year, source_document, file_name, feature_count, estimated_count,"
                 " is_synthetic, imported_by) VALUES (:y, :s, :f, :n, :e, :syn, :a) RETURNING id"),
            {"y": year, "s": source, "f": file_name or Path(path).name, "n": len(rows), "e": estimated,
             "syn": is_synthetic, "a": actor},
        ).scalar_one()
        dbapi = conn.connection.driver_connection
        with dbapi.cursor() as cur, cur.copy(_COPY_SQL) as copy:
            for r in rows.itertuples(index=False):
                copy.write_row((import_id, year, r.external_id, r.geom_ewkb, float(r.floor_area_m2),
                                None if math.isnan(r.floors) else float(r.floors), bool(r.floor_area_estimated),
                                source, is_synthetic))
        after: dict[str, Any] = {"year": year, "file": label, "features": len(rows), "estimated": estimated,
                                 "source_document": source, "replaced": int(replaced)}
        audit.record(conn, actor=actor, action="import_buildings", table_name="building", row_id=import_id,
                     before=None, after=after)
    return BuildingImportResult(int(import_id), year, label, len(rows), estimated, area_field, floors_field, int(replaced))


IDLE_STATUSES: tuple[str, ...] = ("idle", "disposed", "none")


def set_idle_status(engine: Engine, supervision_no: str, *, status: str, year: int | None, actor: str) -> dict[str, Any]:
    """Flag the supply record ``supervision_no`` (电子监管号) as found idle (``idle``), idle and
    disposed of (``disposed``, 处置完毕) or not idle (``none``), with the year of the finding."""
    if status not in IDLE_STATUSES:
        raise InputError(f"status: {status!r} is not one of {', '.join(IDLE_STATUSES)}")
    if status != "none" and year is None:
        raise InputError("year: the year of the 闲置土地认定 is required")
    stored_status, stored_year = (None, None) if status == "none" else (status, year)
    with engine.begin() as conn:
        before = conn.execute(
            text("SELECT id, idle_status, idle_year FROM land_parcel WHERE layer = 'supply' AND supervision_no = :no"),
            {"no": supervision_no},
        ).mappings().first()
        if before is None:
            from gis_service.errors import NotFoundError

            raise NotFoundError(f"supervision_no: no supply record with 电子监管号 {supervision_no!r}")
        conn.execute(text("UPDATE land_parcel SET idle_status = :s, idle_year = :y WHERE id = :id"),
                     {"s": stored_status, "y": stored_year, "id": before["id"]})
        after = {"supervision_no": supervision_no, "idle_status": stored_status, "idle_year": stored_year}
        audit.record(conn, actor=actor, action="set_idle_status", table_name="land_parcel", row_id=before["id"],
                     before={"idle_status": before["idle_status"], "idle_year": before["idle_year"]}, after=after)
    return after
