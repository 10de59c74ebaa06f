"""Parcel bases with dask-geopandas: parcel sets larger than memory or than one machine wants.

The parcels are a dask-geopandas frame split in partitions; the (few) unit boundaries are
sent to every partition, each partition computes its unit-parcel overlap areas with the same
vectorized function as the in-memory path (:func:`gis_service.metrics.parcel_land.overlap_pairs`),
and the partial sums are added up.  A parcel belongs to exactly one partition, so the sum is
exact: the numbers equal the GeoPandas and PostGIS paths.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd

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
