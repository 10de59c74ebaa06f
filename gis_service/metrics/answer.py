"""End to end: from the database to the per-park and per-zone answer against a target.

The parcel-by-boundary areas run in PostGIS (:mod:`gis_service.metrics.postgis`), where the
parcels are: fetching every parcel into Python per request would cost more than the whole
answer.  That query is most of the time, so it runs on a worker thread with its own
connection while this thread reads the parks, figures and zones and prepares everything
that does not depend on the parcel areas.  Densities, targets and zone apportioning then
run in pandas on the small frames that come back, with the same functions analysts call on
their own frames (bench/density.py: the whole answer at 1M parcels within ~5-10 % of the
PostGIS query alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gis_service.metrics.apportion import SHARE_COLUMNS, aggregate_to_zones, zone_shares
from gis_service.metrics.area_bases import measured_area_base, published_area_base
from gis_service.metrics.bases import (
    BASES_COLUMNS,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
)
from gis_service.metrics.density import divide_by_bases, unit_figures
from gis_service.metrics.postgis import park_bases_from_pieces, parcel_piece_areas, zone_land_shares
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

    ``land_shares`` comes from :func:`~gis_service.metrics.postgis.zone_land_shares`
    (NaN where the park has no parcel land); ``zones`` has ``zone_id`` and boundaries.
    Boundary shares are computed only for the parks that need them.
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


def _units_with_land(land_shares: pd.DataFrame) -> set[object]:
    """Units whose land shares are all known and add up to more than nothing."""
    known: dict[object, bool] = {}
    total: dict[object, float] = {}
    for unit, share in zip(land_shares["unit_id"], land_shares["share"].to_numpy(dtype=float)):
        known[unit] = known.get(unit, True) and not np.isnan(share)
        total[unit] = total.get(unit, 0.0) + (0.0 if np.isnan(share) else share)
    return {u for u, ok in known.items() if ok and total[u] > 0}


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

    The parcel query runs on its own connection while this thread reads the parks, the
    figures and the zones and prepares what does not depend on the parcel areas: the
    query dominates, and the rest is done by the time it returns.
    """
    shown_numerator = numerators[0] if numerators else target.metric
    shown_basis = check_basis(basis) if basis is not None else target.basis
    numerators = list(dict.fromkeys([shown_numerator, *numerators]))
    parcel_bases = [shown_basis] if shown_basis in PARCEL_BASES else []
    # parks are apportioned by their parcel land in each zone: the shown parcel basis, or
    # supplied industrial land when the basis is a published or measured area
    query_bases = parcel_bases or ([SUPPLIED_INDUSTRIAL_LAND] if zone_kind is not None else [])
    got = _read_while_querying(
        engine, year=year, numerators=numerators, basis=shown_basis, zone_kind=zone_kind, query_bases=query_bases
    )
    bases = park_bases_from_pieces(engine, got.pieces, bases=parcel_bases, year=year) if parcel_bases else got.area_bases
    table = divide_by_bases(got.figures, bases, basis=shown_basis)

    def compare(rows: pd.DataFrame) -> pd.DataFrame:
        return compare_with_target(rows, target, numerator=shown_numerator, basis=shown_basis, thresholds=thresholds)

    parks = compare(table)
    if got.zones is None:
        return Answer(parks, None)
    shares = with_boundary_fallback(zone_land_shares(got.pieces, basis=query_bases[0]), got.leaves, got.zones)
    names = dict(zip(got.zones["zone_id"], got.zones["zone_name"]))
    # only the density shown is apportioned (densities are recomputed from the zone sums)
    shown = table[table["numerator"] == shown_numerator]
    return Answer(parks, compare(aggregate_to_zones(shown, shares, zone_names=names)))


@dataclass(frozen=True)
class _Inputs:
    """What :func:`park_zone_answer` needs before dividing: figures, areas, zones, parcel pieces."""

    figures: pd.DataFrame
    area_bases: pd.DataFrame
    zones: gpd.GeoDataFrame | None
    leaves: gpd.GeoDataFrame | None  # the parks apportioned to the zones (when zones are asked)
    pieces: pd.DataFrame


def _read_while_querying(
    engine: Engine, *, year: int, numerators: Sequence[str], basis: str, zone_kind: str | None, query_bases: list[str]
) -> _Inputs:
    """Start the parcel query (:func:`parcel_piece_areas`) on its own connection, read and
    prepare everything else meanwhile, then wait for it.  An error of the query is raised
    here, as if it had run on this thread."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parcel-areas")
    try:
        query = (
            pool.submit(parcel_piece_areas, engine, year=year, bases=query_bases, zone_kind=zone_kind)
            if query_bases
            else None
        )
        units = units_from_parks(read_parks(engine, year=year))
        indicators = indicators_for_parks(read_indicators(engine, year=year))
        zones = read_zones(engine, zone_kind).rename(columns={"name": "zone_name"}) if zone_kind is not None else None
        return _Inputs(
            figures=unit_figures(units, indicators, year=year, numerators=numerators),
            area_bases=_area_bases(basis, units, indicators, year=year),
            leaves=leaf_parks(units) if zones is not None else None,
            zones=zones,
            pieces=query.result() if query is not None else pd.DataFrame(),
        )
    finally:
        # not joined: waiting for the finished worker thread to exit cost ~5-10 ms (a GIL
        # hand-over); after an error here a running query finishes on its own and its
        # connection goes back to the pool
        pool.shutdown(wait=False)


def _area_bases(basis: str, units: gpd.GeoDataFrame, indicators: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """The published or measured area base, when that is the basis shown (else empty)."""
    if basis == PUBLISHED_AREA:
        return published_area_base(indicators, year=year)
    if basis == MEASURED_AREA:
        return measured_area_base(units)
    return pd.DataFrame(columns=BASES_COLUMNS)
