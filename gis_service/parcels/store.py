"""Bulk write of parcels into ``land_parcel`` (COPY, one transaction, all or nothing)."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from gis_service.coords.crs import STORED_CRS, STORED_SRID
from gis_service.errors import InputError
from gis_service.ingest.land.codes import LAND_USE_CLASSES

COLUMNS = [
    "external_id",
    "geom",
    "land_use_code",
    "land_use_class",
    "is_supplied",
    "supply_year",
    "is_built",
    "is_synthetic",
    "source_document",
]

_COPY_SQL = f"COPY land_parcel ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
_CHUNK = 100_000


def write_parcels(engine: Engine, parcels: gpd.GeoDataFrame, *, replace_synthetic: bool = False) -> int:
    """Validate and write ``parcels`` (EPSG:4326 or any declared CRS) in one transaction.

    Polygons are stored as MultiPolygons.  Raises :class:`InputError` naming the first bad
    feature (by ``external_id`` or position) and the reason: missing CRS, non-polygonal or
    invalid geometry, unknown land-use class, missing supply status or source.
    ``replace_synthetic`` first deletes the synthetic parcels already stored (same transaction).

    Returns the number of rows written.
    """
    frame = validate_parcels(parcels)
    with engine.begin() as conn:
        dbapi = conn.connection.driver_connection
        with dbapi.cursor() as cur:
            if replace_synthetic:
                cur.execute("DELETE FROM land_parcel WHERE is_synthetic")
            with cur.copy(_COPY_SQL) as copy:
                for start in range(0, len(frame), _CHUNK):
                    buf = io.StringIO()
                    frame.iloc[start : start + _CHUNK].to_csv(buf, header=False, index=False)
                    copy.write(buf.getvalue())
    return len(frame)


def validate_parcels(parcels: gpd.GeoDataFrame) -> pd.DataFrame:
    """Check every feature and return the rows ready for COPY (geometry as EWKB hex)."""
    if parcels.crs is None:
        raise InputError("parcels have no CRS; declare it (EPSG:4326, EPSG:4490, EPSG:4549...)")
    for col in ("land_use_class", "is_supplied", "source_document"):
        if col not in parcels.columns:
            raise InputError(f"parcels lack column {col!r}")
    gdf = parcels.to_crs(STORED_CRS) if parcels.crs.to_epsg() != STORED_SRID else parcels
    geoms = np.asarray(gdf.geometry.array)
    ids = gdf["external_id"].astype(str).to_numpy() if "external_id" in gdf else np.arange(len(gdf)).astype(str)
    kind = shapely.get_type_id(geoms)
    _fail_first(~np.isin(kind, [3, 6]), ids, lambda i: f"geometry is a {geoms[i].geom_type}, not a polygon")
    valid = shapely.is_valid(geoms)
    _fail_first(~valid, ids, lambda i: f"invalid geometry: {shapely.is_valid_reason(geoms[i])}")
    _fail_first(shapely.is_empty(geoms), ids, lambda i: "empty geometry")
    classes = gdf["land_use_class"].to_numpy()
    _fail_first(~np.isin(classes, LAND_USE_CLASSES), ids, lambda i: f"unknown land-use class {classes[i]!r}")
    supplied = gdf["is_supplied"]
    _fail_first(supplied.isna().to_numpy(), ids, lambda i: "supply status (is_supplied) missing")
    multi = geoms.copy()
    single = kind == 3
    if single.any():
        multi[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
    multi = shapely.set_srid(multi.astype(object), STORED_SRID)
    out = pd.DataFrame(
        {
            "external_id": gdf["external_id"].to_numpy() if "external_id" in gdf else None,
            "geom": shapely.to_wkb(multi, hex=True, include_srid=True),
            "land_use_code": gdf["land_use_code"].to_numpy() if "land_use_code" in gdf else None,
            "land_use_class": classes,
            "is_supplied": supplied.astype(bool).to_numpy(),
            "supply_year": gdf["supply_year"].astype("Int64").array if "supply_year" in gdf else pd.NA,
            "is_built": gdf["is_built"].astype("boolean").array if "is_built" in gdf else pd.NA,
            "is_synthetic": gdf["is_synthetic"].fillna(False).astype(bool).to_numpy() if "is_synthetic" in gdf else False,
            "source_document": gdf["source_document"].astype(str).to_numpy(),
        }
    )
    return out[COLUMNS]


def _fail_first(bad: np.ndarray, ids: np.ndarray, reason: object) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"parcel {ids[i]} (feature {i}): {reason(i)}")  # type: ignore[operator]
