"""Parcel bases: industrial, supplied industrial and built-up land inside each boundary.

The parcel intersection is vectorized (shapely 2 + the frame's STRtree): candidate
pairs come from the spatial index, parcels that lie *properly inside* a boundary count
whole (prepared ``contains_properly``, no intersection computed), and only the few that
cross a boundary are intersected.  The intersection is taken in the stored CRS and its
area measured after projecting to EPSG:4549 (:func:`gis_service.coords.crs.projected_areas_m2`),
exactly as the PostGIS path (:mod:`gis_service.metrics.postgis`) does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_service.coords.crs import AREA_CRS, projected_areas_m2
from gis_service.metrics.bases import (
    BASIS_LABELS_ZH,
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    PARCEL_BASES,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
    check_units,
    column_or,
    empty_bases,
    require_columns,
)
from gis_service.metrics.errors import MissingColumnError, UnknownBasisError
from gis_service.metrics.land_layers import LAYER_LABELS_ZH, REGISTER, serving_layer
from gis_service.metrics.units import M2_PER_KM2


def parcel_mask(
    parcels: pd.DataFrame, basis: str, *, year: int | None = None, layers_present: Collection[str] | None = None
) -> np.ndarray:
    """Boolean mask of the parcels that make up ``basis`` (in ``year`` if given).

    Only the rows of the layer that makes the basis count (``layer`` column: survey, supply,
    register; absent means register), chosen by :func:`~gis_service.metrics.land_layers.serving_layer`
    from the layers in the frame: a frame of the land in force for a year
    (:func:`gis_service.store.readers.read_parcels` with ``year``) holds one survey snapshot
    at most.  A parcel with ``supply_year`` after ``year``, or recovered (``recovery_date``)
    by the end of ``year``, is not supplied in ``year``.  ``layers_present`` overrides the
    layers seen in ``parcels`` (a partition of a larger frame must use the whole frame's).
    """
    check_basis(basis)
    if basis not in PARCEL_BASES:
        raise UnknownBasisError(f"basis {basis!r} is not made of parcels; parcel bases: {PARCEL_BASES}")
    layers = column_or(parcels, "layer", REGISTER).astype(str).to_numpy()
    present = set(np.unique(layers)) if layers_present is None else set(layers_present)
    in_layer = layers == serving_layer(basis, present)
    industrial = (parcels["land_use_class"] == "industrial").to_numpy()
    if basis == INDUSTRIAL_LAND:
        return in_layer & industrial
    if basis == BUILT_UP_LAND:
        built = _as_flag(column_or(parcels, "is_built", False))
        return in_layer & built
    supplied = _as_flag(parcels["is_supplied"])
    if year is not None:
        supplied = supplied & ~_after(parcels, "supply_year", year) & ~_recovered_by(parcels, year)
    return in_layer & industrial & supplied


def _as_flag(values: pd.Series) -> np.ndarray:
    """A yes/no column as booleans, missing = no.  Text "True"/"False" counts as what it says:
    dask turns object columns (booleans with gaps) into strings, and ``astype(bool)`` would
    make every non-empty string true."""
    if values.dtype == bool:
        return values.to_numpy()
    return values.astype(str).str.strip().str.lower().isin(["true", "t", "1"]).to_numpy()


def _after(parcels: pd.DataFrame, column: str, year: int) -> np.ndarray:
    """Rows whose ``column`` year is after ``year`` (unknown years are not)."""
    if column not in parcels.columns:
        return np.zeros(len(parcels), dtype=bool)
    years = pd.to_numeric(parcels[column], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return years > year


def _recovered_by(parcels: pd.DataFrame, year: int) -> np.ndarray:
    """Rows recovered (收回) on or before 31 December ``year``."""
    if "recovery_date" not in parcels.columns:
        return np.zeros(len(parcels), dtype=bool)
    dates = pd.to_datetime(parcels["recovery_date"], errors="coerce")
    return (dates <= pd.Timestamp(year, 12, 31)).fillna(False).to_numpy(dtype=bool)


@dataclass(frozen=True)
class OverlapPairs:
    """Unit-parcel pairs with the overlapping area in m² (EPSG:4549)."""

    unit_index: np.ndarray  # positions in the units frame
    parcel_index: np.ndarray  # positions in the parcels frame
    area_m2: np.ndarray
    crossing: np.ndarray  # True where the parcel crosses the boundary (intersection computed)


def overlap_pairs(
    units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, *, candidates: np.ndarray | None = None
) -> OverlapPairs:
    """Area of every parcel inside each unit, vectorized, with the contains_properly short-cut.

    Parameters
    ----------
    units
        Boundaries (few); any CRS, reprojected to the parcels' CRS.
    parcels
        Parcels; the spatial index of this frame (``parcels.sindex``) is used and cached.
        An ``area_m2`` column (area in EPSG:4549), when present, saves reprojecting the
        parcels that lie wholly inside a boundary.
    candidates
        Optional boolean mask over ``parcels``: only these parcels are considered.
    """
    if parcels.crs is None:
        raise MissingColumnError("parcels have no CRS; set it (EPSG:4326 for stored data)")
    bounds = units.geometry.to_crs(parcels.crs) if units.crs != parcels.crs else units.geometry
    # Private copies: shapely.prepare() mutates geometry objects, and the same unit
    # geometries are shared by concurrent dask tasks (threads), where preparing one object
    # twice at once crashes GEOS.  Units are few, so the copy costs nothing.
    unit_geoms = shapely.from_wkb(shapely.to_wkb(np.asarray(bounds.array)))
    parcel_geoms = np.asarray(parcels.geometry.array)
    ui, pj = parcels.sindex.query(unit_geoms)  # bounding-box candidates
    if candidates is not None:
        keep = candidates[pj]
        ui, pj = ui[keep], pj[keep]
    shapely.prepare(unit_geoms)
    inside = shapely.contains_properly(unit_geoms[ui], parcel_geoms[pj])
    rest = np.flatnonzero(~inside)
    touches = shapely.intersects(unit_geoms[ui[rest]], parcel_geoms[pj[rest]])
    cross = rest[touches]
    area = np.zeros(len(ui))
    if inside.any():
        if "area_m2" in parcels.columns:
            area[inside] = parcels["area_m2"].to_numpy(dtype=float)[pj[inside]]
        else:
            area[inside] = projected_areas_m2(parcel_geoms[pj[inside]], parcels.crs)
    if len(cross):
        pieces = shapely.intersection(unit_geoms[ui[cross]], parcel_geoms[pj[cross]])
        area[cross] = projected_areas_m2(pieces, parcels.crs)
    keep = inside.copy()
    keep[cross] = True
    crossing = np.zeros(len(ui), dtype=bool)
    crossing[cross] = True
    return OverlapPairs(ui[keep], pj[keep], area[keep], crossing[keep])


def parcel_bases(
    units: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    *,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    year: int | None = None,
) -> pd.DataFrame:
    """Parcel-made bases (industrial, supplied industrial, built-up land) per unit, in km².

    Parameters
    ----------
    units
        GeoDataFrame with ``unit_id`` (optionally ``boundary_version``) and boundaries.
    parcels
        GeoDataFrame with ``land_use_class``, ``is_supplied``, optionally ``is_built``,
        ``supply_year``, ``is_synthetic``, ``source_document``, ``area_m2``.
    bases
        Which parcel bases to compute (one pass over the parcels for all of them).
    year
        Year of the answer; parcels supplied after it are not counted as supplied.

    Returns
    -------
    pandas.DataFrame
        A bases frame; a unit with no qualifying parcel gets ``area_km2 = 0`` (a measured zero)
        and ``n_parcels = 0`` when parcels of some other use show that the parcel data covers
        it, and ``area_km2 = NaN`` (missing) when no parcel of any use touches it
        (:func:`mark_uncovered`).
    """
    check_units(units)
    require_columns(parcels, ["land_use_class", "is_supplied"], "parcels")
    for b in bases:
        if b not in PARCEL_BASES:
            raise UnknownBasisError(f"{b!r} is not a parcel basis; parcel bases: {', '.join(PARCEL_BASES)}")
    masks = {b: parcel_mask(parcels, b, year=year) for b in bases}
    any_mask = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(len(parcels), bool)
    pairs = overlap_pairs(units, parcels, candidates=any_mask)
    synthetic = column_or(parcels, "is_synthetic", False).fillna(False).astype(bool).to_numpy()
    sources = column_or(parcels, "source_document", "land_parcel").astype(str).to_numpy()
    layers = column_or(parcels, "layer", REGISTER).astype(str).to_numpy()
    frames = [
        _aggregate_pairs(units, pairs, masks[b], b, year, synthetic, sources, layers) for b in bases
    ]
    if not frames:
        return empty_bases()

    in_cover = np.isin(layers, [serving_layer(b, set(np.unique(layers))) for b in bases])

    def covered(unit_ids: list[object]) -> set[object]:
        chosen = units[units["unit_id"].isin(unit_ids)]
        if parcels.crs is not None and chosen.crs != parcels.crs:
            chosen = chosen.to_crs(parcels.crs)
        hit_units, hit_parcels = parcels.sindex.query(chosen.geometry.to_numpy(), predicate="intersects")
        hit_units = hit_units[in_cover[hit_parcels]]  # only land of the layers that make the bases
        return set(chosen["unit_id"].to_numpy()[np.unique(hit_units)])

    return mark_uncovered(pd.concat(frames, ignore_index=True), covered)


#: why a parcel-made area is missing rather than 0
NO_PARCEL_DATA = "no land parcel of any use touches this boundary: the parcel data does not cover it"


def mark_uncovered(bases: pd.DataFrame, covered: Callable[[list[object]], set[object]]) -> pd.DataFrame:
    """Make the parcel areas of units that the parcel data does not cover missing, not 0.

    A unit with no qualifying parcel has a true zero only if parcels of some use are
    there at all; otherwise nothing is known about its land.  ``covered`` receives the ids
    of the units with no qualifying parcel on any basis (usually few) and returns those
    that some parcel of any use touches; the rest get ``area_km2 = NaN`` and a
    ``basis_source`` saying why.  Missing stays missing.
    """
    if bases.empty:
        return bases
    counts: dict[object, int] = {}
    for unit, n in zip(bases["unit_id"], bases["n_parcels"]):
        counts[unit] = counts.get(unit, 0) + (0 if pd.isna(n) else int(n))
    empty_units = [u for u, n in counts.items() if n == 0]
    if not empty_units:
        return bases
    uncovered = set(empty_units) - covered(empty_units)
    if not uncovered:
        return bases
    out = bases.copy()
    mask = out["unit_id"].isin(uncovered)
    out.loc[mask, "area_km2"] = np.nan
    out.loc[mask, "basis_source"] = out.loc[mask, "basis_source"].astype(str) + f" — {NO_PARCEL_DATA}"
    return out


def _aggregate_pairs(
    units: gpd.GeoDataFrame,
    pairs: OverlapPairs,
    mask: np.ndarray,
    basis: str,
    year: int | None,
    synthetic: np.ndarray,
    sources: np.ndarray,
    layers: np.ndarray,
) -> pd.DataFrame:
    sel = mask[pairs.parcel_index]
    ui, pj = pairs.unit_index[sel], pairs.parcel_index[sel]
    n = len(units)
    area_m2 = np.bincount(ui, weights=pairs.area_m2[sel], minlength=n)
    count = np.bincount(ui, minlength=n)
    any_synth = np.bincount(ui, weights=synthetic[pj].astype(float), minlength=n) > 0
    source_per_unit = (
        pd.DataFrame({"u": ui, "s": sources[pj]}).drop_duplicates().groupby("u")["s"].agg(lambda s: "; ".join(sorted(s)))
    )
    versions = column_or(units, "boundary_version", pd.NA).to_numpy()
    layer_label = LAYER_LABELS_ZH.get(str(layers[pj[0]]) if len(pj) else "", "land_parcel")
    basis_source = [
        f"{BASIS_LABELS_ZH[basis]}: {layer_label} ∩ boundary {versions[i]}, area in {AREA_CRS}"
        + (f" [{source_per_unit[i]}]" if i in source_per_unit.index else " [no parcel]")
        for i in range(n)
    ]
    return pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "basis": basis,
            "area_km2": area_m2 / M2_PER_KM2,
            "year": pd.array([year] * n, dtype="Int64"),
            "boundary_version": versions,
            "basis_source": basis_source,
            "is_synthetic": any_synth,
            "is_approximate": column_or(units, "geometry_quality", "").astype(str).isin(["approximate", "synthetic"]).to_numpy(),
            "n_parcels": count,
        }
    )
