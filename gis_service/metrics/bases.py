"""Denominators ("bases") of the densities, per spatial unit (park block, park, town, zone...).

A *basis* names what an output figure is divided by:

========================== ===================================================================
``published_area``         管辖面积, the jurisdiction area as published (an indicator row)
``measured_area``          area of the stored boundary, in EPSG:4549 (CGCS2000 / 3-degree
                           Gauss-Kruger CM 120E) or geodesic on the GRS80 ellipsoid
``industrial_land``        parcels of industrial land use intersected with the boundary
``supplied_industrial_land`` industrial parcels that are supplied (已供应工业用地), intersected
                           with the boundary: the basis of 001 表1 #9 (80 亿元/km²)
``built_up_land``          parcels flagged built-up (建成土地), intersected with the boundary
========================== ===================================================================

Every function returns a *bases frame*: one row per unit and basis with the columns
``unit_id, basis, area_km2, year, boundary_version, basis_source, is_synthetic,
is_approximate, n_parcels``.  Areas are never computed in degrees.

The parcel intersection is vectorized (shapely 2 + the frame's STRtree): candidate
pairs come from the spatial index, parcels that lie *properly inside* a boundary count
whole (prepared ``contains_properly``, no intersection computed), and only the few that
cross a boundary are intersected.  The intersection is taken in the stored CRS and its
area measured after projecting to EPSG:4549, exactly as the PostGIS path does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from gis_service.coords.crs import AREA_CRS, STORED_CRS, projected_areas_m2
from gis_service.metrics.errors import (
    DuplicateUnitError,
    MissingColumnError,
    NegativeValueError,
    UnknownBasisError,
)
from gis_service.metrics.units import M2_PER_KM2, area_factor_to_km2

PUBLISHED_AREA = "published_area"
MEASURED_AREA = "measured_area"
INDUSTRIAL_LAND = "industrial_land"
SUPPLIED_INDUSTRIAL_LAND = "supplied_industrial_land"
BUILT_UP_LAND = "built_up_land"

PARCEL_BASES: tuple[str, ...] = (INDUSTRIAL_LAND, SUPPLIED_INDUSTRIAL_LAND, BUILT_UP_LAND)
ALL_BASES: tuple[str, ...] = (PUBLISHED_AREA, MEASURED_AREA, *PARCEL_BASES)

#: Chinese labels for reports
BASIS_LABELS_ZH: dict[str, str] = {
    PUBLISHED_AREA: "管辖面积(公布)",
    MEASURED_AREA: "边界量算面积",
    INDUSTRIAL_LAND: "工业用地",
    SUPPLIED_INDUSTRIAL_LAND: "已供应工业用地",
    BUILT_UP_LAND: "建成土地",
}

BASES_COLUMNS: list[str] = [
    "unit_id",
    "basis",
    "area_km2",
    "year",
    "boundary_version",
    "basis_source",
    "is_synthetic",
    "is_approximate",
    "n_parcels",
]

#: metric codes under which a published jurisdiction area (管辖面积) may be stored
PUBLISHED_AREA_METRICS: tuple[str, ...] = ("jurisdiction_area", "published_area", "area")


def check_basis(basis: str) -> str:
    """Return ``basis`` if the engine knows it, else raise :class:`UnknownBasisError`."""
    if basis not in ALL_BASES:
        raise UnknownBasisError(f"unknown basis {basis!r}; known bases: {', '.join(ALL_BASES)}")
    return basis


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`MissingColumnError` naming the missing columns of ``what``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{what} lacks column(s) {', '.join(missing)}")


# --------------------------------------------------------------------------- published area
def published_area_base(
    indicators: pd.DataFrame,
    *,
    year: int | None = None,
    metric_codes: Sequence[str] = PUBLISHED_AREA_METRICS,
) -> pd.DataFrame:
    """Published jurisdiction areas (管辖面积) from indicator rows, converted to km².

    Parameters
    ----------
    indicators
        Long frame with ``unit_id, year, metric_code, value, unit, source_document,
        source_section``; units 公顷/亩/km² are converted (178 公顷 → 1.78 km²).
    year
        Use the most recent published area at or before ``year``; ``None`` takes the latest.
    metric_codes
        Metric codes that hold a published area.
    """
    require_columns(indicators, ["unit_id", "year", "metric_code", "value", "unit"], "indicators")
    rows = indicators[indicators["metric_code"].isin(metric_codes)]
    if year is not None:
        rows = rows[rows["year"] <= year]
    if rows.empty:
        return _empty_bases()
    rows = rows.sort_values("year").groupby("unit_id", sort=False).tail(1)
    factors = np.array(
        [area_factor_to_km2(u, where=f"indicator of unit {i}") for u, i in zip(rows["unit"], rows["unit_id"])]
    )
    area_km2 = rows["value"].astype(float).to_numpy() * factors
    if (area_km2 < 0).any():
        bad = rows["unit_id"].to_numpy()[area_km2 < 0][0]
        raise NegativeValueError(f"negative published area for unit {bad!r}")
    return pd.DataFrame(
        {
            "unit_id": rows["unit_id"].to_numpy(),
            "basis": PUBLISHED_AREA,
            "area_km2": area_km2,
            "year": rows["year"].astype("Int64").to_numpy(),
            "boundary_version": pd.NA,
            "basis_source": _source_text(rows),
            "is_synthetic": False,
            "is_approximate": False,
            "n_parcels": pd.NA,
        }
    )


# --------------------------------------------------------------------------- measured area
def measured_area_base(units: gpd.GeoDataFrame, *, method: str = "projected") -> pd.DataFrame:
    """Area of each unit's boundary in km²: EPSG:4549 (``method="projected"``) or geodesic.

    The geometry quality (``geometry_quality`` column, ``approximate``/``synthetic``) is
    carried into ``is_approximate`` / ``is_synthetic``: an area of an approximate boundary
    is an approximate area.
    """
    _check_units(units)
    if method == "projected":
        area_m2 = projected_areas_m2(units.geometry)
        how = f"measured area of the boundary in {AREA_CRS}"
    elif method == "geodesic":
        geod = Geod(ellps="GRS80")
        lonlat = units.geometry.to_crs(STORED_CRS)
        # A loop over the (few) unit boundaries, not over parcels: Geod has no array form.
        area_m2 = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat])
        how = "geodesic area of the boundary (GRS80)"
    else:
        raise UnknownBasisError(f"unknown area method {method!r}; use 'projected' or 'geodesic'")
    # a unit without a boundary in force has no measured area (missing, not 0)
    area_m2 = np.where(shapely.is_empty(np.asarray(units.geometry.array)), np.nan, area_m2)
    quality = _column_or(units, "geometry_quality", "unknown").astype(str)
    return pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "basis": MEASURED_AREA,
            "area_km2": area_m2 / M2_PER_KM2,
            "year": pd.array([pd.NA] * len(units), dtype="Int64"),
            "boundary_version": _column_or(units, "boundary_version", pd.NA).to_numpy(),
            "basis_source": [f"{how}; boundary {v}" for v in _column_or(units, "boundary_version", "?")],
            "is_synthetic": (quality == "synthetic").to_numpy(),
            "is_approximate": quality.isin(["approximate", "synthetic"]).to_numpy(),
            "n_parcels": pd.NA,
        }
    )


# --------------------------------------------------------------------------- parcel bases
def parcel_mask(parcels: pd.DataFrame, basis: str, *, year: int | None = None) -> np.ndarray:
    """Boolean mask of the parcels that make up ``basis`` (in ``year`` if given).

    A parcel with ``supply_year`` after ``year`` is not yet supplied in ``year``.
    """
    check_basis(basis)
    if basis == INDUSTRIAL_LAND:
        return (parcels["land_use_class"] == "industrial").to_numpy()
    if basis == SUPPLIED_INDUSTRIAL_LAND:
        supplied = parcels["is_supplied"].fillna(False).astype(bool).to_numpy()
        if year is not None and "supply_year" in parcels.columns:
            supply_year = (
                pd.to_numeric(parcels["supply_year"], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            )
            supplied = supplied & ~(supply_year > year)  # NaN (unknown year) stays supplied
        return (parcels["land_use_class"] == "industrial").to_numpy() & supplied
    if basis == BUILT_UP_LAND:
        if "is_built" not in parcels.columns:
            return np.zeros(len(parcels), dtype=bool)
        return parcels["is_built"].fillna(False).astype(bool).to_numpy()
    raise UnknownBasisError(f"basis {basis!r} is not made of parcels; parcel bases: {PARCEL_BASES}")


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
    A bases frame; a unit with no qualifying parcel gets ``area_km2 = 0`` (a measured zero)
    and ``n_parcels = 0`` when parcels of some other use show that the parcel data covers
    it, and ``area_km2 = NaN`` (missing) when no parcel of any use touches it
    (:func:`mark_uncovered`).
    """
    _check_units(units)
    require_columns(parcels, ["land_use_class", "is_supplied"], "parcels")
    for b in bases:
        if b not in PARCEL_BASES:
            raise UnknownBasisError(f"{b!r} is not a parcel basis; parcel bases: {', '.join(PARCEL_BASES)}")
    masks = {b: parcel_mask(parcels, b, year=year) for b in bases}
    any_mask = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(len(parcels), bool)
    pairs = overlap_pairs(units, parcels, candidates=any_mask)
    synthetic = _column_or(parcels, "is_synthetic", False).fillna(False).astype(bool).to_numpy()
    sources = _column_or(parcels, "source_document", "land_parcel").astype(str).to_numpy()
    frames = [
        _aggregate_pairs(units, pairs, masks[b], b, year, synthetic, sources) for b in bases
    ]
    if not frames:
        return _empty_bases()

    def covered(unit_ids: list[object]) -> set[object]:
        chosen = units[units["unit_id"].isin(unit_ids)]
        if parcels.crs is not None and chosen.crs != parcels.crs:
            chosen = chosen.to_crs(parcels.crs)
        hit_units, _ = parcels.sindex.query(chosen.geometry.to_numpy(), predicate="intersects")
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
    versions = _column_or(units, "boundary_version", pd.NA).to_numpy()
    basis_source = [
        f"{BASIS_LABELS_ZH[basis]}: land_parcel ∩ boundary {versions[i]}, area in {AREA_CRS}"
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
            "is_approximate": _column_or(units, "geometry_quality", "").astype(str).isin(["approximate", "synthetic"]).to_numpy(),
            "n_parcels": count,
        }
    )


# --------------------------------------------------------------------------- helpers
def bases_from_areas(rows: Iterable[dict[str, object]]) -> pd.DataFrame:
    """Build a bases frame from hand-supplied rows (``unit_id``, ``basis``, ``area_km2``, ...).

    Missing optional fields get neutral defaults; the area must be non-negative.
    """
    frame = pd.DataFrame(list(rows))
    require_columns(frame, ["unit_id", "basis", "area_km2"], "bases rows")
    for b in frame["basis"]:
        check_basis(str(b))
    defaults: dict[str, object] = {
        "year": pd.NA,
        "boundary_version": pd.NA,
        "basis_source": "supplied by caller",
        "is_synthetic": False,
        "is_approximate": False,
        "n_parcels": pd.NA,
    }
    for col, value in defaults.items():
        if col not in frame.columns:
            frame[col] = value
    frame["area_km2"] = frame["area_km2"].astype(float)
    negative = frame[frame["area_km2"] < 0]
    if not negative.empty:
        row = negative.iloc[0]
        raise NegativeValueError(f"negative area {row['area_km2']} km² for unit {row['unit_id']!r} ({row['basis']})")
    return frame[BASES_COLUMNS]


def _empty_bases() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in BASES_COLUMNS})


def _check_units(units: gpd.GeoDataFrame) -> None:
    require_columns(units, ["unit_id"], "units")
    if units["unit_id"].duplicated().any():
        dup = units["unit_id"][units["unit_id"].duplicated()].iloc[0]
        raise DuplicateUnitError(f"units: unit_id {dup!r} appears twice; one boundary per unit")


def _column_or(frame: pd.DataFrame, column: str, default: object) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    return pd.Series([default] * len(frame), index=frame.index)


def _source_text(rows: pd.DataFrame) -> list[str]:
    docs = _column_or(rows, "source_document", "").fillna("").astype(str)
    sections = _column_or(rows, "source_section", "").fillna("").astype(str)
    return [f"{d} {s}".strip() or "unsourced" for d, s in zip(docs, sections)]
