"""End to end: from the database to the per-park and per-zone answer against a target.

The parcel-by-boundary areas run in PostGIS (:mod:`gis_service.metrics.postgis`), where the
parcels are: fetching every parcel into Python per request would cost more than the whole
answer.  Densities, targets and zone apportioning run in pandas on the small frames that
come back, with the same functions analysts call on their own frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.metrics.apportion import aggregate_to_zones, zone_shares
from gis_service.metrics.bases import (
    PARCEL_BASES,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
    measured_area_base,
    published_area_base,
)
from gis_service.metrics.density import density_table
from gis_service.metrics.postgis import parcel_bases_sql, zone_piece_bases_sql
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, compare_with_target
from gis_service.store.readers import read_indicators, read_parks, read_zones


@dataclass(frozen=True)
class Answer:
    """Per-park rows against the target and, when a zone kind was asked, per-zone rows."""

    parks: pd.DataFrame
    zones: pd.DataFrame | None


def units_from_parks(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn :func:`~gis_service.store.readers.read_parks` output into an engine units frame."""
    return parks.rename(columns={"park_id": "unit_id", "name": "unit_name", "boundary_id": "boundary_version"})


def indicators_for_parks(indicators: pd.DataFrame) -> pd.DataFrame:
    """Park rows of :func:`~gis_service.store.readers.read_indicators` keyed by ``unit_id``.

    Projections (e.g. 004 表2's 2025 figures) are left out: they are not what a park
    achieved in that year.
    """
    projected = indicators["is_projection"].astype(bool) if "is_projection" in indicators else False
    rows = indicators[indicators["park_id"].notna() & ~projected].copy()
    rows["unit_id"] = rows["park_id"].astype(int)
    return rows


def leaf_parks(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parks that are not the parent of other parks, with a boundary.

    A parent park (张江高新区松江园) is the union of its blocks: counting it with them in
    a zone or town would count the same land and output twice.
    """
    parents = set(units["parent_id"].dropna().astype(int)) if "parent_id" in units else set()
    has_geom = units.geometry.notna() & ~units.geometry.is_empty
    return units[has_geom & ~units["unit_id"].isin(parents)]


def with_boundary_fallback(
    land_shares: pd.DataFrame | None, units: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Shares of each park in each zone: of its parcel land where it has any, else of its
    boundary area (EPSG:4549), each row saying which (``share_method``).

    ``land_shares`` comes from :func:`~gis_service.metrics.postgis.zone_piece_bases_sql`
    (NaN where the park has no parcel land); ``zones`` has ``zone_id`` and boundaries.
    """
    boundary = zone_shares(units, zones)
    if land_shares is None or land_shares.empty:
        return boundary
    land_shares = land_shares[land_shares["unit_id"].isin(units["unit_id"])]
    with_land = land_shares.groupby("unit_id")["share"].apply(lambda s: s.notna().all() and s.sum() > 0)
    by_land = set(with_land.index[with_land])
    keep = land_shares[land_shares["unit_id"].isin(by_land)]
    rest = boundary[~boundary["unit_id"].isin(by_land)]
    return pd.concat([keep[boundary.columns.intersection(keep.columns)], rest], ignore_index=True)


def park_zone_answer(
    engine: Engine,
    *,
    year: int,
    target: TargetSpec = DEFAULT_TARGET,
    zone_kind: str | None = None,
    numerators: Sequence[str] = ("output",),
    thresholds: Thresholds = Thresholds(),
    basis: str | None = None,
) -> Answer:
    """Every park (and zone of ``zone_kind``) in ``year`` against ``target``.

    Parks are apportioned to zones by the share of their target-basis parcel land in each
    zone (computed in the same PostGIS pass as the park areas; supplied industrial land when
    the target's basis is not made of parcels).  Zones of one kind must not overlap
    (:class:`~gis_service.metrics.errors.OverlappingZonesError`).

    ``basis`` (default: the target's) and the first of ``numerators`` (default: the target's
    metric) choose the density shown; when they differ from the target's, the rows carry
    the target applied as a reference only, flagged ``comparable_with_target = False``
    (:func:`~gis_service.metrics.targets.compare_with_target`).
    """
    shown_numerator = numerators[0] if numerators else target.metric
    shown_basis = check_basis(basis) if basis is not None else target.basis
    numerators = list(dict.fromkeys([shown_numerator, *numerators]))
    units = units_from_parks(read_parks(engine, year=year))
    indicators = indicators_for_parks(read_indicators(engine, year=year))
    parcel_bases = [shown_basis] if shown_basis in PARCEL_BASES else []
    if zone_kind is not None:
        # parks are apportioned by their parcel land in each zone: the target's parcel basis,
        # or supplied industrial land when the target is over a published or measured area
        share_basis = parcel_bases or [SUPPLIED_INDUSTRIAL_LAND]
        piece_bases, land_shares = zone_piece_bases_sql(engine, year=year, zone_kind=zone_kind, bases=share_basis)
        zones = read_zones(engine, zone_kind).rename(columns={"name": "zone_name"})
        shares = with_boundary_fallback(land_shares, leaf_parks(units), zones)
        shares["zone_name"] = shares["zone_id"].map(dict(zip(zones["zone_id"], zones["zone_name"])))
        park_bases = piece_bases if parcel_bases else None
    else:
        park_bases = parcel_bases_sql(engine, year=year, bases=parcel_bases) if parcel_bases else None
        shares = None
    bases = pd.concat(
        [b for b in (park_bases, measured_area_base(units), published_area_base(indicators, year=year)) if b is not None and not b.empty],
        ignore_index=True,
    )
    table = density_table(units, indicators, bases, year=year, numerators=numerators, basis=shown_basis)

    def compare(rows: pd.DataFrame) -> pd.DataFrame:
        return compare_with_target(rows, target, numerator=shown_numerator, basis=shown_basis, thresholds=thresholds)

    parks = compare(table)
    zones = None
    if shares is not None:
        names = dict(zip(shares["zone_id"], shares["zone_name"]))
        # only the density shown is apportioned (densities are recomputed from the zone sums)
        shown = table[table["numerator"] == shown_numerator]
        zones = compare(aggregate_to_zones(shown, shares, zone_names=names))
    return Answer(parks, zones)
