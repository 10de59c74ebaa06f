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

from gis_service.metrics.apportion import aggregate_to_zones
from gis_service.metrics.bases import PARCEL_BASES, SUPPLIED_INDUSTRIAL_LAND, measured_area_base, published_area_base
from gis_service.metrics.density import density_table
from gis_service.metrics.postgis import parcel_bases_sql, zone_piece_bases_sql
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
from gis_service.store.readers import read_indicators, read_parks


@dataclass(frozen=True)
class Answer:
    """Per-park rows against the target and, when a zone kind was asked, per-zone rows."""

    parks: pd.DataFrame
    zones: pd.DataFrame | None


def units_from_parks(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn :func:`~gis_service.store.readers.read_parks` output into an engine units frame."""
    return parks.rename(columns={"park_id": "unit_id", "name": "unit_name", "boundary_id": "boundary_version"})


def indicators_for_parks(indicators: pd.DataFrame) -> pd.DataFrame:
    """Park rows of :func:`~gis_service.store.readers.read_indicators` keyed by ``unit_id``."""
    rows = indicators[indicators["park_id"].notna()].copy()
    rows["unit_id"] = rows["park_id"].astype(int)
    return rows


def park_zone_answer(
    engine: Engine,
    *,
    year: int,
    target: TargetSpec = DEFAULT_TARGET,
    zone_kind: str | None = None,
    numerators: Sequence[str] = ("output",),
    thresholds: Thresholds = Thresholds(),
) -> Answer:
    """Every park (and zone of ``zone_kind``) in ``year`` against ``target``.

    Parks are apportioned to zones by the share of their target-basis parcel land in each
    zone (computed in the same PostGIS pass as the park areas; supplied industrial land when
    the target's basis is not made of parcels).  Zones of one kind must not overlap
    (:class:`~gis_service.metrics.errors.OverlappingZonesError`).
    """
    numerators = list(dict.fromkeys([target.metric, *numerators]))  # the target's metric is always computed
    units = units_from_parks(read_parks(engine, year=year))
    indicators = indicators_for_parks(read_indicators(engine, year=year))
    parcel_bases = [target.basis] if target.basis in PARCEL_BASES else []
    if zone_kind is not None:
        # parks are apportioned by their parcel land in each zone: the target's parcel basis,
        # or supplied industrial land when the target is over a published or measured area
        share_basis = parcel_bases or [SUPPLIED_INDUSTRIAL_LAND]
        piece_bases, shares = zone_piece_bases_sql(engine, year=year, zone_kind=zone_kind, bases=share_basis)
        park_bases = piece_bases if parcel_bases else None
    else:
        park_bases = parcel_bases_sql(engine, year=year, bases=parcel_bases) if parcel_bases else None
        shares = None
    bases = pd.concat(
        [b for b in (park_bases, measured_area_base(units), published_area_base(indicators, year=year)) if b is not None and not b.empty],
        ignore_index=True,
    )
    table = density_table(units, indicators, bases, year=year, numerators=numerators)
    parks = against_target(table, target, thresholds=thresholds)
    zones = None
    if shares is not None:
        names = dict(zip(shares["zone_id"], shares["zone_name"]))
        # only the target's numerator over its basis is compared, so only it is apportioned
        on_target = table[(table["numerator"] == target.metric) & (table["basis"] == target.basis)]
        zones = against_target(aggregate_to_zones(on_target, shares, zone_names=names), target, thresholds=thresholds)
    return Answer(parks, zones)
