"""Import real parcel files (GeoPackage, Shapefile, GeoJSON) into ``land_parcel``.

The file must carry a land-use code (GB 50137 "M1" or 国土空间 "1001"...) and a supply
status (已供应/未供应, yes/no, true/false, 1/0).  Everything is checked before anything is
written; the write is one transaction; errors name the feature and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.errors import InputError
from gis_service.parcels.landuse import land_use_class
from gis_service.parcels.store import write_parcels

_TRUE = {"1", "true", "t", "yes", "y", "是", "已供应", "已供", "supplied", "已建", "建成", "built"}
_FALSE = {"0", "false", "f", "no", "n", "否", "未供应", "未供", "unsupplied", "未建", "not built"}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows written and the count per land-use class."""

    path: str
    rows: int
    by_class: dict[str, int]
    crs_declared: str


def parse_flag(value: object, *, what: str, where: str) -> bool | None:
    """Parse a yes/no field (已供应/未供应, true/false, 1/0...); missing → None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{where}: cannot read {what} {value!r}; expected 已供应/未供应, yes/no, true/false or 1/0")


def read_parcel_file(
    path: str | Path,
    *,
    code_field: str,
    supply_field: str,
    source_document: str,
    layer: str | None = None,
    id_field: str | None = None,
    built_field: str | None = None,
    supply_year_field: str | None = None,
    declared_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and normalise a parcel file into the ``land_parcel`` columns (not written yet).

    ``declared_crs`` is required when the file declares none.  GCJ-02 data must be converted
    with the project's converter before import (a file cannot declare GCJ-02).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"parcel file {path} not found")
    raw = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    if raw.crs is None:
        if declared_crs is None:
            raise InputError(f"{path}: the file declares no CRS; pass declared_crs (e.g. EPSG:4490)")
        raw = raw.set_crs(declared_crs)
    for field in (code_field, supply_field, id_field, built_field, supply_year_field):
        if field is not None and field not in raw.columns:
            raise InputError(f"{path}: no field {field!r}; fields are {', '.join(map(str, raw.columns[:-1]))}")
    ids = raw[id_field].astype(str) if id_field else pd.Series([str(i) for i in range(len(raw))], index=raw.index)
    # per-feature attribute parsing: a loop over attribute values, not over geometries
    classes, supplied, built = [], [], []
    for pos, fid in enumerate(ids):
        where = f"{path.name} feature {pos} (id {fid})"
        classes.append(land_use_class(raw[code_field].iloc[pos], where=where))
        flag = parse_flag(raw[supply_field].iloc[pos], what="supply status", where=where)
        if flag is None:
            raise InputError(f"{where}: supply status missing in field {supply_field!r}")
        supplied.append(flag)
        built.append(parse_flag(raw[built_field].iloc[pos], what="built-up flag", where=where) if built_field else None)
    out = gpd.GeoDataFrame(
        {
            "external_id": ids.to_numpy(),
            "land_use_code": raw[code_field].astype(str).str.strip().to_numpy(),
            "land_use_class": classes,
            "is_supplied": supplied,
            "supply_year": pd.to_numeric(raw[supply_year_field], errors="coerce").astype("Int64").to_numpy()
            if supply_year_field
            else pd.array([pd.NA] * len(raw), dtype="Int64"),
            "is_built": pd.array(built, dtype="boolean"),
            "is_synthetic": False,
            "source_document": source_document,
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    return out


def import_parcels(engine: Engine, path: str | Path, *, code_field: str, supply_field: str, source_document: str, **options: str | None) -> ImportReport:
    """Read, check and write a parcel file in one transaction; see :func:`read_parcel_file`."""
    frame = read_parcel_file(path, code_field=code_field, supply_field=supply_field, source_document=source_document, **options)  # type: ignore[arg-type]
    declared = str(frame.crs.to_string())
    rows = write_parcels(engine, frame)
    return ImportReport(str(path), rows, frame["land_use_class"].value_counts().to_dict(), declared)
