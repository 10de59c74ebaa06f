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

from gis_service.metrics.bases import INDUSTRIAL_LAND, parcel_bases, projected_areas_m2, require_columns
from gis_service.metrics.density import DENSITY_COLUMNS, recompute_densities

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
    method = np.full(len(pieces), "boundary area share (EPSG:4549)", dtype=object)
    if parcels is not None:
        keyed = pieces.assign(unit_id=np.arange(len(pieces)))
        piece_land = parcel_bases(keyed, parcels, bases=[parcel_basis], year=year)["area_km2"].to_numpy()
        unit_land = parcel_bases(units, parcels, bases=[parcel_basis], year=year)
        total = pd.Series(unit_land["area_km2"].to_numpy(), index=unit_land["unit_id"].to_numpy())
        total_per_piece = total.loc[pieces["unit_id"]].to_numpy()
        has_land = total_per_piece > 0
        share = np.where(has_land, piece_land / np.where(has_land, total_per_piece, 1.0), share)
        method = np.where(has_land, f"{parcel_basis} share (parcels, EPSG:4549)", method + ", no parcels")
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
    A density table (:data:`DENSITY_COLUMNS`) whose ``unit_id`` is the zone id, plus
    ``contributing_units``, ``missing_units`` and ``share_method``.
    """
    require_columns(shares, SHARE_COLUMNS[:3], "shares")
    joined = density.merge(shares, on="unit_id", how="inner")
    for col in ("value_yi_yuan", "value_count", "area_km2"):
        joined[col] = joined[col].astype(float) * joined["share"]
    joined["_missing_value"] = joined["value_yi_yuan"].isna() & joined["value_count"].isna()
    joined["_missing_area"] = joined["area_km2"].isna()
    keys = ["zone_id", "year", "numerator", "numerator_label", "basis"]
    grouped = joined.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(
        value_yi_yuan=("value_yi_yuan", lambda s: s.sum(min_count=len(s))),
        value_count=("value_count", lambda s: s.sum(min_count=len(s))),
        area_km2=("area_km2", lambda s: s.sum(min_count=len(s))),
        numerator_source=("numerator_source", _join_unique),
        basis_source=("basis_source", _join_unique),
        uses_synthetic_data=("uses_synthetic_data", "any"),
        is_approximate=("is_approximate", "any"),
        share_method=("share_method", _join_unique),
        contributing_units=("unit_id", lambda s: ", ".join(map(str, s))),
    ).reset_index()
    missing = (
        joined[joined["_missing_value"] | joined["_missing_area"]]
        .groupby(keys, sort=False, dropna=False)["unit_id"]
        .agg(lambda s: ", ".join(map(str, s)))
        .rename("missing_units")
        .reset_index()
    )
    out = out.merge(missing, on=keys, how="left")
    out = out.rename(columns={"zone_id": "unit_id"})
    names = zone_names or {}
    out["unit_name"] = [names.get(z, str(z)) for z in out["unit_id"]]
    out["boundary_version"] = pd.NA
    out = recompute_densities(out)
    return out[[*DENSITY_COLUMNS, "contributing_units", "missing_units", "share_method"]]


def _join_unique(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))
