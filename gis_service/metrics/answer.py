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
from gis_service.metrics.bases import measured_area_base, published_area_base
from gis_service.metrics.density import density_table
from gis_service.metrics.postgis import parcel_bases_sql, zone_piece_bases_sql
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
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
    zone (computed in the same PostGIS pass as the park areas).
    """
    units = units_from_parks(read_parks(engine, year=year))
    indicators = indicators_for_parks(read_indicators(engine, year=year))
    parcel_bases = [target.basis] if target.basis.endswith("_land") else []
    if zone_kind is not None and parcel_bases:
        park_bases, shares = zone_piece_bases_sql(engine, year=year, zone_kind=zone_kind, bases=parcel_bases)
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
        names = read_zones(engine, zone_kind).set_index("zone_id")["name"].to_dict()
        zones = against_target(aggregate_to_zones(table, shares, zone_names=names), target, thresholds=thresholds)
    return Answer(parks, zones)
