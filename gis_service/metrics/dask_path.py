"""Parcel bases with dask-geopandas: parcel sets larger than memory or than one machine wants.

The parcels are a dask-geopandas frame split in partitions; the (few) unit boundaries are
sent to every partition, each partition computes its unit-parcel overlap areas with the same
vectorized function as the in-memory path (:func:`gis_service.metrics.parcel_land.overlap_pairs`),
and the partial sums are added up.  A parcel belongs to exactly one partition, so the sum is
exact: the numbers equal the GeoPandas and PostGIS paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_service.coords.crs import AREA_CRS
from gis_service.metrics.bases import (
    BASES_COLUMNS,
    BASIS_LABELS_ZH,
    PARCEL_BASES,
    SUPPLIED_INDUSTRIAL_LAND,
    require_columns,
)
from gis_service.metrics.errors import UnknownBasisError
from gis_service.metrics.land_layers import LAYER_LABELS_ZH, REGISTER, serving_layer
from gis_service.metrics.parcel_land import mark_uncovered, overlap_pairs, parcel_mask
from gis_service.metrics.units import M2_PER_KM2
from gis_service.store.land import LandInForce


def _partition_sums(
    part: gpd.GeoDataFrame, units: gpd.GeoDataFrame, bases: Sequence[str], year: int | None, layers: list[str]
) -> pd.DataFrame:
    """Sum of overlap areas (m²), parcel counts and synthetic flags per unit and basis in one partition."""
    n = len(units)
    rows = []
    if len(part):
        masks = {b: parcel_mask(part, b, year=year, layers_present=layers) for b in bases}
        pairs = overlap_pairs(units, part, candidates=np.logical_or.reduce(list(masks.values())))
        synthetic = part["is_synthetic"].fillna(False).astype(bool).to_numpy() if "is_synthetic" in part else np.zeros(len(part), bool)
    for b in bases:
        if len(part):
            sel = masks[b][pairs.parcel_index]
            ui = pairs.unit_index[sel]
            area = np.bincount(ui, weights=pairs.area_m2[sel], minlength=n)
            count = np.bincount(ui, minlength=n)
            synth = np.bincount(ui, weights=synthetic[pairs.parcel_index[sel]].astype(float), minlength=n)
        else:
            area, count, synth = np.zeros(n), np.zeros(n, dtype=int), np.zeros(n)
        rows.append(pd.DataFrame({"unit_pos": np.arange(n), "basis": b, "area_m2": area, "n_parcels": count, "n_synthetic": synth}))
    return pd.concat(rows, ignore_index=True)


def parcel_bases_dask(
    units: gpd.GeoDataFrame,
    parcels: dask_geopandas.GeoDataFrame | gpd.GeoDataFrame,
    *,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    year: int | None = None,
    npartitions: int = 4,
) -> pd.DataFrame:
    """Parcel bases per unit with dask-geopandas; same result as :func:`~.parcel_land.parcel_bases`.

    Parameters
    ----------
    units
        Unit boundaries with ``unit_id`` (in memory; they are few).
    parcels
        A dask-geopandas frame (e.g. ``dask_geopandas.read_parquet``) or an in-memory frame
        that is split into ``npartitions``.

    Notes
    -----
    Runs on the current dask scheduler (a ``distributed.Client`` if one is active).
    """
    require_columns(units, ["unit_id"], "units")
    for b in bases:
        if b not in PARCEL_BASES:
            raise UnknownBasisError(f"{b!r} is not a parcel basis; parcel bases: {', '.join(PARCEL_BASES)}")
    if isinstance(parcels, gpd.GeoDataFrame):
        parcels = dask_geopandas.from_geopandas(parcels, npartitions=npartitions)
    units = units.to_crs(parcels.crs) if units.crs != parcels.crs else units
    meta = pd.DataFrame(
        {"unit_pos": pd.Series(dtype=int), "basis": pd.Series(dtype=object), "area_m2": pd.Series(dtype=float),
         "n_parcels": pd.Series(dtype=int), "n_synthetic": pd.Series(dtype=float)}
    )
    # which land layers the whole frame holds decides which one makes each basis (land_layers.py)
    layers = sorted(parcels["layer"].unique().compute()) if "layer" in parcels.columns else [REGISTER]
    partial = parcels.map_partitions(_partition_sums, units, list(bases), year, layers, meta=meta).compute()
    total = partial.groupby(["basis", "unit_pos"], sort=False)[["area_m2", "n_parcels", "n_synthetic"]].sum()
    versions = units["boundary_version"].to_numpy() if "boundary_version" in units else np.full(len(units), None)
    quality = units["geometry_quality"].astype(str) if "geometry_quality" in units else pd.Series([""] * len(units))
    frames = []
    for b in bases:
        t = total.loc[b].reindex(np.arange(len(units)), fill_value=0)
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": units["unit_id"].to_numpy(),
                    "basis": b,
                    "area_km2": t["area_m2"].to_numpy() / M2_PER_KM2,
                    "year": pd.array([year] * len(units), dtype="Int64"),
                    "boundary_version": versions,
                    "basis_source": [f"{BASIS_LABELS_ZH[b]}: {LAYER_LABELS_ZH.get(serving_layer(b, layers) or '', '无土地数据')} ∩ boundary {v}, area in {AREA_CRS} (dask)" for v in versions],
                    "is_synthetic": t["n_synthetic"].to_numpy() > 0,
                    "is_approximate": quality.isin(["approximate", "synthetic"]).to_numpy(),
                    "n_parcels": t["n_parcels"].astype(int).to_numpy(),
                }
            )
        )
    def covered(unit_ids: list[object]) -> set[object]:
        chosen = units[units["unit_id"].isin(unit_ids)]
        hits = parcels.map_partitions(_partition_touched, chosen, meta=pd.Series(dtype=int)).compute()
        return set(chosen["unit_id"].to_numpy()[np.unique(hits.to_numpy().astype(int))])

    return mark_uncovered(pd.concat(frames, ignore_index=True)[BASES_COLUMNS], covered)


def _partition_touched(part: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """Positions (in ``units``) of the units that some parcel of this partition touches."""
    if not len(part):
        return pd.Series([], dtype=int)
    hit_units, _ = part.sindex.query(units.geometry.to_numpy(), predicate="intersects")
    return pd.Series(np.unique(hit_units), dtype=int)


# --------------------------------------------------------------------------- the density answer's parcel step
def park_pieces(parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Each park boundary cut into its parts inside each zone and the rest, as the PostGIS
    query cuts them (:mod:`gis_service.metrics.postgis`): every parcel is visited once per park.

    ``parks`` has ``park_id``, ``boundary_id``; ``zones`` has ``zone_id``, ``zone_name``.
    Returns ``boundary_id, park_id, zone_id (NaN: the rest), zone_name, geometry``.
    """
    rows: list[dict[str, object]] = []
    zone_geoms = np.asarray(zones.geometry.array) if zones is not None and len(zones) else np.array([])
    for park in parks.itertuples():
        geom = park.geometry
        hit = np.flatnonzero(shapely.intersects(zone_geoms, geom)) if len(zone_geoms) else []
        for i in hit:
            part = _polygons(shapely.intersection(geom, zone_geoms[i]))
            rows.append({"boundary_id": park.boundary_id, "park_id": park.park_id, "zone_id": zones["zone_id"].iloc[i],
                         "zone_name": zones["zone_name"].iloc[i], "geometry": part})
        rest = shapely.difference(geom, shapely.union_all(zone_geoms[hit])) if len(hit) else geom
        rows.append({"boundary_id": park.boundary_id, "park_id": park.park_id, "zone_id": np.nan, "zone_name": None, "geometry": rest})
    columns = ["boundary_id", "park_id", "zone_id", "zone_name", "geometry"]
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs=parks.crs)


def _polygons(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of ``geom`` (``ST_CollectionExtract(…, 3)``)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _piece_sums(part: gpd.GeoDataFrame, pieces: gpd.GeoDataFrame, bases: list[str], year: int,
                present: list[str], survey_import: int | None) -> pd.DataFrame:
    """Per piece (``key`` = piece position) and per park (``key`` = n pieces + park position):
    area (m²) and parcel count of each basis, parcels of any asked basis, synthetic ones, sources."""
    n, parks = len(pieces), pd.unique(pieces["boundary_id"])
    columns = ["key", *[f"{b}_{s}" for b in bases for s in ("m2", "n")], "n_any", "n_synthetic", "sources"]
    if not len(part):
        return pd.DataFrame(columns=columns).astype({c: float for c in columns if c not in ("key", "sources")})
    if "layer" in part and survey_import is not None:  # survey patches only of the snapshot in force
        part = part[(part["layer"].astype(str) != "survey") | (pd.to_numeric(part["import_id"]) == survey_import)]
    elif "layer" in part:
        part = part[part["layer"].astype(str) != "survey"]
    masks = {b: parcel_mask(part, b, year=year, layers_present=present) for b in bases}
    pairs = overlap_pairs(pieces, part, candidates=np.logical_or.reduce(list(masks.values())))
    park_pos = pd.Index(parks).get_indexer(pieces["boundary_id"].to_numpy())[pairs.unit_index]
    # a parcel cut by a zone edge is in two pieces of one park: the park counts it once
    first = ~pd.DataFrame({"park": park_pos, "parcel": pairs.parcel_index}).duplicated().to_numpy()
    keys = np.concatenate([pairs.unit_index, n + park_pos])
    twice = np.concatenate([np.ones(len(keys) // 2, bool), first])
    out = {"key": np.arange(n + len(parks))}
    for b in bases:
        sel = np.tile(masks[b][pairs.parcel_index], 2)
        out[f"{b}_m2"] = np.bincount(keys[sel], weights=np.tile(pairs.area_m2, 2)[sel], minlength=len(out["key"]))
        out[f"{b}_n"] = np.bincount(keys[sel & twice], minlength=len(out["key"])).astype(float)
    synthetic = _as_bool(part["is_synthetic"]) if "is_synthetic" in part else np.zeros(len(part), bool)
    out["n_any"] = np.bincount(keys, minlength=len(out["key"])).astype(float)
    out["n_synthetic"] = np.bincount(keys, weights=np.tile(synthetic[pairs.parcel_index], 2).astype(float), minlength=len(out["key"]))
    docs = part["source_document"].astype(str).to_numpy() if "source_document" in part else np.full(len(part), "")
    per_key = pd.DataFrame({"key": keys, "s": np.tile(docs[pairs.parcel_index], 2)}).drop_duplicates()
    joined = per_key.groupby("key")["s"].agg(lambda s: "\x1f".join(s))
    out["sources"] = pd.Series(out["key"]).map(joined).fillna("").to_numpy()
    return pd.DataFrame(out, columns=columns)


def _as_bool(values: pd.Series) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy()
    return values.astype(str).str.lower().isin(["true", "t", "1"]).to_numpy()


def piece_areas_on_frames(
    parcels: dask_geopandas.GeoDataFrame | gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None,
    *,
    year: int,
    bases: Sequence[str],
    land: LandInForce,
) -> tuple[pd.DataFrame, Callable[[list[object]], set[object]]]:
    """The rows of :func:`gis_service.metrics.postgis.parcel_piece_areas` (same columns and
    meaning) computed from parcel frames instead of the database, and the ``covered``
    callback of :func:`~gis_service.metrics.parcel_land.mark_uncovered` on the same parcels.

    A dask frame runs on the current scheduler (a ``distributed.Client`` if one is active),
    one task per partition; an in-memory frame runs here.  ``parks`` are the boundaries in
    force (``park_id``, ``boundary_id``, ``geometry_quality``), ``zones`` those of the level.
    """
    parks = parks[parks["boundary_id"].notna() & parks.geometry.notna() & ~parks.geometry.is_empty]
    parks = parks.assign(boundary_id=parks["boundary_id"].astype(int)).to_crs(parcels.crs)
    pieces = park_pieces(parks, zones.to_crs(parcels.crs) if zones is not None else None)
    args = (pieces, list(bases), year, sorted(land.present), land.survey_import_id)
    if isinstance(parcels, gpd.GeoDataFrame):
        partial = _piece_sums(parcels, *args)
    else:
        meta = _piece_sums(parcels._meta, *args)
        partial = parcels.map_partitions(_piece_sums, *args, meta=meta).compute()
    raw = _raw_rows(partial, pieces, parks, list(bases))
    cover_layers = sorted({layer for b in bases if (layer := land.layer_for(b))})

    def covered(park_ids: list[object]) -> set[object]:
        chosen = parks[parks["park_id"].isin(park_ids)]
        if isinstance(parcels, gpd.GeoDataFrame):
            hits = _touched(parcels, chosen, cover_layers, land.survey_import_id)
        else:
            hits = parcels.map_partitions(_touched, chosen, cover_layers, land.survey_import_id,
                                          meta=pd.Series(dtype=int)).compute()
        return set(chosen["park_id"].to_numpy()[np.unique(hits.to_numpy().astype(int))])

    return raw, covered


def _touched(part: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, layers: list[str], survey_import: int | None) -> pd.Series:
    """Positions (in ``parks``) of the parks some land record of ``layers`` touches."""
    if "layer" in part:
        layer = part["layer"].astype(str)
        keep = layer.isin(layers) & ((layer != "survey") | (pd.to_numeric(part["import_id"]) == survey_import))
        part = part[keep.to_numpy()]
    return _partition_touched(part, parks)


def _raw_rows(partial: pd.DataFrame, pieces: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, bases: list[str]) -> pd.DataFrame:
    """Partition sums added up, shaped as the PostGIS rows (park totals, then zone pieces with land)."""
    numeric = [c for c in partial.columns if c not in ("key", "sources")]
    total = partial.groupby("key")[numeric].sum()
    sources = partial.groupby("key")["sources"].agg(lambda s: "; ".join(sorted({x for v in s for x in v.split("\x1f") if x})) or None)
    n, keys = len(pieces), np.arange(len(pieces) + len(parks))
    total, sources = total.reindex(keys, fill_value=0.0), sources.reindex(keys)
    quality = dict(zip(parks["boundary_id"], parks["geometry_quality"].astype(str)))
    ids = np.concatenate([pieces["boundary_id"].to_numpy(), parks["boundary_id"].to_numpy()])
    frame = pd.DataFrame({
        "boundary_id": ids,
        "park_id": np.concatenate([pieces["park_id"].to_numpy(), parks["park_id"].to_numpy()]),
        "zone_id": np.concatenate([pieces["zone_id"].to_numpy(dtype=float), np.full(len(parks), np.nan)]),
        "quality": [quality[i] for i in ids],
        "is_park_total": keys >= n,
        "zone_name": np.concatenate([pieces["zone_name"].to_numpy(), np.full(len(parks), None)]),
        **{f"{b}_{s}": total[f"{b}_{s}"].to_numpy() for b in bases for s in ("m2", "n")},
        "any_synthetic": total["n_synthetic"].to_numpy() > 0,
        "sources": sources.to_numpy(),
    })
    for b in bases:
        frame[f"{b}_n"] = frame[f"{b}_n"].astype(int)
    # the PostGIS query has a piece row only where some parcel lies, and none for the rest
    keep = frame["is_park_total"] | (frame["zone_id"].notna() & (total["n_any"].to_numpy() > 0))
    frame = frame[keep].sort_values(["park_id", "is_park_total", "zone_id"], ascending=[True, False, True], kind="stable")
    return frame.reset_index(drop=True)


def open_parcels(parquet: str | Path) -> dask_geopandas.GeoDataFrame:
    """The parcels of an :func:`gis_service.export.export_parquet` directory as a dask frame
    (one partition per file).  Raises InputError when it is not such an export."""
    from gis_service.errors import InputError
    from gis_service.export import PARCELS_DIR, PARQUET_MANIFEST

    root = Path(parquet)
    if not (root / PARQUET_MANIFEST).is_file() or not (root / PARCELS_DIR).is_dir():
        raise InputError(f"parquet: {str(root)!r} is not a parquet export (no {PARQUET_MANIFEST} or {PARCELS_DIR}/); "
                         "write one with `gis-service export parquet DIR`")
    frame = dask_geopandas.read_parquet(str(root / PARCELS_DIR))
    return frame.drop(columns=["bbox"]) if "bbox" in frame.columns else frame
