"""Aggregation of unit (park) figures to zones: 片 of 三片, areas of 一廊九区, towns, the district.

A park that straddles zones is apportioned by the share of its area in each zone: the
share of its industrial land (parcels) when parcels are given, else of its boundary area
(EPSG:4549).  Extensive figures (output, tax, employees, areas) are multiplied by the
share and summed; intensive ones (densities, 亩均) are recomputed from the sums, never
averaged or summed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_service.coords.crs import AREA_CRS, projected_areas_m2
from gis_service.metrics.bases import INDUSTRIAL_LAND, require_columns
from gis_service.metrics.density import DENSITY_COLUMNS, density_columns
from gis_service.metrics.parcel_land import parcel_bases
from gis_service.metrics.postgis import zone_land_shares
from gis_service.metrics.units import M2_PER_KM2

SHARE_COLUMNS = ["unit_id", "zone_id", "share", "share_method"]


def zone_shares(
    units: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    parcel_basis: str = INDUSTRIAL_LAND,
    year: int | None = None,
) -> pd.DataFrame:
    """Share of each unit in each zone it overlaps (shares of one unit sum to ≤ 1).

    Parameters
    ----------
    units
        Unit boundaries with ``unit_id``.
    zones
        Zone boundaries with ``zone_id``.
    parcels
        When given, shares are shares of the unit's ``parcel_basis`` land (industrial land by
        default); a unit without such land falls back to boundary-area shares (and says so
        in ``share_method``).
    """
    require_columns(units, ["unit_id"], "units")
    require_columns(zones, ["zone_id"], "zones")
    zones = zones.to_crs(units.crs) if zones.crs != units.crs else zones
    pieces = gpd.overlay(
        units[["unit_id", "geometry"]], zones[["zone_id", "geometry"]], how="intersection", keep_geom_type=True
    )
    if pieces.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    unit_area = pd.Series(projected_areas_m2(units.geometry), index=units["unit_id"].to_numpy())
    piece_area = projected_areas_m2(pieces.geometry)
    share = piece_area / unit_area.loc[pieces["unit_id"]].to_numpy()
    method = np.full(len(pieces), f"boundary area share ({AREA_CRS})", dtype=object)
    if parcels is not None:
        keyed = pieces.assign(unit_id=np.arange(len(pieces)))
        piece_land = parcel_bases(keyed, parcels, bases=[parcel_basis], year=year)["area_km2"].to_numpy()
        unit_land = parcel_bases(units, parcels, bases=[parcel_basis], year=year)
        total = pd.Series(unit_land["area_km2"].to_numpy(), index=unit_land["unit_id"].to_numpy())
        total_per_piece = total.loc[pieces["unit_id"]].to_numpy()
        has_land = total_per_piece > 0
        share = np.where(has_land, piece_land / np.where(has_land, total_per_piece, 1.0), share)
        method = np.where(has_land, f"{parcel_basis} share (parcels, {AREA_CRS})", method + ", no parcels")
    return pd.DataFrame(
        {"unit_id": pieces["unit_id"].to_numpy(), "zone_id": pieces["zone_id"].to_numpy(), "share": share, "share_method": method}
    )


def aggregate_to_zones(
    density: pd.DataFrame, shares: pd.DataFrame, *, zone_names: dict[object, str] | None = None
) -> pd.DataFrame:
    """Apportion and sum the unit figures of a density table into zones; recompute densities.

    A zone whose contributing unit lacks a figure gets no figure for it (an incomplete sum
    is not presented as a total); ``missing_units`` names the units at fault.

    Returns
    -------
    pandas.DataFrame
        A density table (:data:`DENSITY_COLUMNS`) whose ``unit_id`` is the zone id, plus
        ``contributing_units``, ``missing_units`` and ``share_method``.
    """
    require_columns(shares, SHARE_COLUMNS[:3], "shares")
    parts = _apportioned(density, shares)
    groups: dict[tuple[object, ...], list[int]] = {}
    for pos, key in enumerate(zip(*(parts[k] for k in _ZONE_KEYS))):
        groups.setdefault(key, []).append(pos)
    names = zone_names or {}
    # a loop over the (few) zone × numerator × basis groups, not over units or geometries
    rows = [_zone_sum(parts, np.array(positions, dtype=int), names) for positions in groups.values()]
    columns = {c: [row[c] for row in rows] for c in _ZONE_ROW_COLUMNS}
    arrays = {c: np.array(columns[c], dtype=float) for c in _EXTENSIVE_COLUMNS}
    columns.update(
        density_columns(
            np.array(columns["numerator"], dtype=object),
            np.array(columns["basis"], dtype=object),
            arrays["value_yi_yuan"],
            arrays["value_count"],
            arrays["area_km2"],
        )
    )
    return pd.DataFrame(columns)[[*DENSITY_COLUMNS, "contributing_units", "missing_units", "share_method"]]


_ZONE_KEYS = ("zone_id", "year", "numerator", "numerator_label", "basis")
_EXTENSIVE_COLUMNS = ("value_yi_yuan", "value_count", "area_km2")
_ZONE_TEXT_COLUMNS = ("numerator_source", "basis_source", "share_method")
_ZONE_FLAG_COLUMNS = ("uses_synthetic_data", "is_approximate")
_ZONE_ROW_COLUMNS = (
    "unit_id", "unit_name", *_ZONE_KEYS[1:], *_EXTENSIVE_COLUMNS, *_ZONE_TEXT_COLUMNS, *_ZONE_FLAG_COLUMNS,
    "boundary_version", "figure_year", "contributing_units", "missing_units",
)


def _apportioned(density: pd.DataFrame, shares: pd.DataFrame) -> dict[str, np.ndarray]:
    """Columns with one entry per (density row, zone of its unit): extensive figures × share.

    A dictionary join rather than a merge: both frames have a row per unit (few), and this
    runs on the answer's critical path.  ``missing`` marks entries without figure or area.
    """
    zones_of: dict[object, list[int]] = {}
    for pos, unit in enumerate(shares["unit_id"]):
        zones_of.setdefault(unit, []).append(pos)
    pairs = [(row, z) for row, unit in enumerate(density["unit_id"]) for z in zones_of.get(unit, ())]
    rows_at = np.array([r for r, _ in pairs], dtype=int)
    shares_at = np.array([z for _, z in pairs], dtype=int)
    share = shares["share"].to_numpy(dtype=float)[shares_at]
    parts = {c: density[c].to_numpy(dtype=float, na_value=np.nan)[rows_at] * share for c in _EXTENSIVE_COLUMNS}
    for c in (*_ZONE_KEYS[1:], *_ZONE_TEXT_COLUMNS[:2], *_ZONE_FLAG_COLUMNS, "unit_id", "figure_year"):
        parts[c] = density[c].to_numpy()[rows_at]
    parts["zone_id"] = shares["zone_id"].to_numpy()[shares_at]
    methods = shares["share_method"] if "share_method" in shares.columns else pd.Series("", index=shares.index)
    parts["share_method"] = methods.to_numpy()[shares_at]
    no_value = np.isnan(parts["value_yi_yuan"]) & np.isnan(parts["value_count"])
    parts["missing"] = no_value | np.isnan(parts["area_km2"])
    return parts


def _zone_sum(parts: dict[str, np.ndarray], idx: np.ndarray, names: dict[object, str]) -> dict[str, object]:
    """One zone row from the apportioned entries at ``idx`` (densities are recomputed later)."""
    zone_id = parts["zone_id"][idx[0]]
    units = parts["unit_id"][idx]
    return {
        "unit_id": zone_id,
        "unit_name": names.get(zone_id, str(zone_id)),
        **{k: parts[k][idx[0]] for k in _ZONE_KEYS[1:]},
        **{c: _complete_sum(parts[c][idx]) for c in _EXTENSIVE_COLUMNS},
        **{c: _join_unique(parts[c][idx]) for c in _ZONE_TEXT_COLUMNS},
        **{c: bool(parts[c][idx].astype(bool).any()) for c in _ZONE_FLAG_COLUMNS},
        "boundary_version": pd.NA,
        "figure_year": _oldest(parts["figure_year"][idx]),
        "contributing_units": ", ".join(map(str, units)),
        "missing_units": ", ".join(map(str, units[parts["missing"][idx]])) or None,
    }


def _oldest(years: np.ndarray) -> object:
    """The oldest figure year among a zone's contributors (its data vintage), NA when none."""
    known = [int(y) for y in years if not pd.isna(y)]
    return min(known) if known else pd.NA


def _complete_sum(values: np.ndarray) -> float:
    """The sum, or NaN when any part is missing (an incomplete sum is not a total)."""
    return float(values.sum()) if len(values) and not np.isnan(values).any() else np.nan


def _join_unique(values: object) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))


def with_boundary_fallback(
    land_shares: pd.DataFrame | None, units: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Shares of each unit in each zone: of its parcel land where it has any, else of its
    boundary area (EPSG:4549), each row saying which (``share_method``).

    ``land_shares`` comes from :func:`~gis_service.metrics.postgis.zone_land_shares`
    (NaN where the unit has no parcel land); ``zones`` has ``zone_id`` and boundaries.
    Boundary shares are computed only for the units that need them.
    """
    unit_ids = units["unit_id"].to_numpy()
    by_land: set[object] = set()
    if land_shares is not None and not land_shares.empty:
        land_shares = land_shares[np.isin(land_shares["unit_id"].to_numpy(), unit_ids)]
        by_land = _units_with_land(land_shares)
    frames = []
    if by_land:
        frames.append(land_shares.loc[np.isin(land_shares["unit_id"].to_numpy(), list(by_land)), SHARE_COLUMNS])
    without_land = ~np.isin(unit_ids, list(by_land))
    if without_land.any() or not frames:
        frames.append(zone_shares(units[without_land], zones)[SHARE_COLUMNS])
    return frames[0].reset_index(drop=True) if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def park_zone_shares(
    pieces: pd.DataFrame, *, basis: str | None, parks: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Share of each park in each zone it overlaps, as every apportioning answer takes it: of
    its ``basis`` land (from :func:`~gis_service.metrics.postgis.parcel_piece_areas` rows
    ``pieces``) where it has any, else of its boundary area (:func:`with_boundary_fallback`).

    ``parks`` are the parks apportioned (leaf parks: a parent would count its blocks twice);
    ``zones`` the zones of one kind (``zone_id`` and boundaries).  The density answer and the
    land-intensity answer both call this, so a zone gets the same share of a park in both.
    """
    land = zone_land_shares(pieces, basis=basis) if basis else None
    return with_boundary_fallback(land, parks, zones)


def _units_with_land(land_shares: pd.DataFrame) -> set[object]:
    """Units whose land shares are all known and add up to more than nothing."""
    known: dict[object, bool] = {}
    total: dict[object, float] = {}
    for unit, share in zip(land_shares["unit_id"], land_shares["share"].to_numpy(dtype=float)):
        known[unit] = known.get(unit, True) and not np.isnan(share)
        total[unit] = total.get(unit, 0.0) + (0.0 if np.isnan(share) else share)
    return {u for u, ok in known.items() if ok and total[u] > 0}


def overlap_areas_km2(units: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> dict[object, float]:
    """Per zone, the area (km², EPSG:4549) of the zone covered by ``units``' boundaries: the
    geometric overlap, not an apportioned sum.  Units must not overlap each other."""
    zones = zones.to_crs(units.crs) if zones.crs != units.crs else zones
    pieces = gpd.overlay(
        units[["unit_id", "geometry"]], zones[["zone_id", "geometry"]], how="intersection", keep_geom_type=True
    )
    areas = pd.Series(projected_areas_m2(pieces.geometry) / M2_PER_KM2, index=pieces["zone_id"].to_numpy())
    return areas.groupby(level=0).sum().to_dict()
