"""Parcel-by-boundary areas computed in PostGIS, where the parcels live.

One query returns, per park boundary valid at the end of the year (and, optionally, per
piece of a park inside each zone of a kind), the area in m² (EPSG:4549) of its industrial,
supplied industrial and built-up parcels.  Parcels properly inside a piece count whole
(``ST_ContainsProperly``, no intersection computed); only the parcels that cross a boundary
are intersected.  All values are bound parameters; the SQL text is fixed.

The intersection is taken in EPSG:4326 and its area measured in EPSG:4549, exactly like
:func:`gis_service.metrics.bases.overlap_pairs`, so both paths agree to rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer

from gis_service.metrics.bases import (
    AREA_CRS,
    BASES_COLUMNS,
    BASIS_LABELS_ZH,
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    PARCEL_BASES,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.errors import UnknownBasisError
from gis_service.metrics.units import M2_PER_KM2

_PIECE_AREAS_SQL = text(
    """
WITH b AS (
    SELECT pb.id AS boundary_id, pb.park_id, pb.geom, pb.geometry_quality::text AS quality
    FROM park_boundary pb
    WHERE pb.valid_from <= :on AND (pb.valid_to IS NULL OR pb.valid_to > :on)
      AND (CAST(:park_ids AS int[]) IS NULL OR pb.park_id = ANY(CAST(:park_ids AS int[])))
),
z AS (
    SELECT id, geom FROM zone
    WHERE CAST(:zone_kind AS text) IS NOT NULL AND kind::text = CAST(:zone_kind AS text) AND geom IS NOT NULL
),
pieces AS (
    -- a park is cut into its parts inside each zone and the rest, so that every parcel is
    -- visited once: park totals are the sums over the pieces (zones of one kind do not overlap)
    SELECT b.boundary_id, z.id AS zone_id, ST_CollectionExtract(ST_Intersection(b.geom, z.geom), 3) AS geom
    FROM b JOIN z ON ST_Intersects(b.geom, z.geom)
    UNION ALL
    SELECT b.boundary_id, NULL::int,
           COALESCE(ST_Difference(b.geom, (SELECT ST_Union(z.geom) FROM z WHERE ST_Intersects(z.geom, b.geom))), b.geom)
    FROM b
),
pairs AS (
    SELECT pc.boundary_id, pc.zone_id, p.id AS parcel_id,
           p.land_use_class, p.is_supplied, p.supply_year, p.is_built, p.is_synthetic, p.source_document,
           CASE WHEN ST_ContainsProperly(pc.geom, p.geom)
                THEN ST_Area(ST_Transform(p.geom, 4549))
                ELSE ST_Area(ST_Transform(ST_Intersection(pc.geom, p.geom), 4549))
           END AS area_m2
    FROM pieces pc
    JOIN land_parcel p ON ST_Intersects(pc.geom, p.geom)
    WHERE (p.land_use_class = 'industrial'
           AND (:all_industrial OR (p.is_supplied AND (p.supply_year IS NULL OR p.supply_year <= :year))))
       OR (:with_built AND p.is_built)
),
flagged AS (
    SELECT pr.*,
           pr.land_use_class = 'industrial' AS is_ind,
           pr.land_use_class = 'industrial' AND pr.is_supplied
               AND (pr.supply_year IS NULL OR pr.supply_year <= :year) AS is_sup
    FROM pairs pr
)
SELECT b.boundary_id, b.park_id, f.zone_id, b.quality, GROUPING(f.zone_id) = 1 AS is_park_total,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_ind), 0) AS industrial_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_ind) AS industrial_land_n,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_sup), 0) AS supplied_industrial_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_sup) AS supplied_industrial_land_n,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_built), 0) AS built_up_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_built) AS built_up_land_n,
       COALESCE(bool_or(f.is_synthetic), false) AS any_synthetic,
       string_agg(DISTINCT f.source_document, '; ') AS sources
FROM b
LEFT JOIN flagged f ON f.boundary_id = b.boundary_id
GROUP BY GROUPING SETS ((b.boundary_id, b.park_id, b.quality), (b.boundary_id, b.park_id, b.quality, f.zone_id))
ORDER BY b.park_id, f.zone_id NULLS FIRST
"""
).bindparams(bindparam("park_ids", type_=ARRAY(Integer)))


def boundary_date(year: int) -> dt.date:
    """Boundaries are taken as valid on the last day of the data year."""
    return dt.date(year, 12, 31)


def parcel_piece_areas(
    engine: Engine,
    *,
    year: int,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    zone_kind: str | None = None,
    park_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Raw per-piece parcel areas from PostGIS (m², EPSG:4549).

    Returns one row per park boundary (``is_park_total``) and, when ``zone_kind`` is given,
    one row per park-zone piece (``zone_id`` set), with ``<basis>_m2`` and ``<basis>_n``
    (parcel count) columns.  A park boundary without any qualifying parcel still has a row
    (areas 0).  The zones of one kind are taken not to overlap (三片 are unions of distinct
    towns); overlapping zones would count the overlap twice in the park totals.
    """
    for b in bases:
        if b not in PARCEL_BASES:
            raise UnknownBasisError(f"{b!r} is not a parcel basis; parcel bases: {', '.join(PARCEL_BASES)}")
    params = {
        "on": boundary_date(year),
        "year": year,
        "zone_kind": zone_kind,
        "park_ids": list(park_ids) if park_ids is not None else None,
        "all_industrial": INDUSTRIAL_LAND in bases,
        "with_built": BUILT_UP_LAND in bases,
    }
    with engine.connect() as conn:
        rows = conn.execute(_PIECE_AREAS_SQL, params).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    if frame.empty:
        return frame
    # drop the per-piece row of the rest-of-park piece (and the empty LEFT JOIN group)
    return frame[frame["is_park_total"] | frame["zone_id"].notna()].reset_index(drop=True)


def parcel_bases_sql(
    engine: Engine,
    *,
    year: int,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    park_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Parcel bases per park (``unit_id`` = park id) as a bases frame, computed in PostGIS.

    Same columns and meaning as :func:`gis_service.metrics.bases.parcel_bases`.
    """
    raw = parcel_piece_areas(engine, year=year, bases=bases, park_ids=park_ids)
    if raw.empty:
        return pd.DataFrame(columns=BASES_COLUMNS)
    return _to_bases(raw[raw["is_park_total"]], bases, year, unit_column="park_id")


def zone_piece_bases_sql(
    engine: Engine,
    *,
    year: int,
    zone_kind: str,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-park bases and the parcel-land shares of each park in each zone of ``zone_kind``.

    Returns ``(park_bases, shares)``; ``shares`` has ``unit_id`` (park id), ``zone_id``,
    ``share`` (the park's ``bases[0]`` land in the zone / the park's total) and
    ``share_method``, ready for :func:`gis_service.metrics.apportion.aggregate_to_zones`.
    """
    raw = parcel_piece_areas(engine, year=year, bases=bases, zone_kind=zone_kind)
    parks = raw[raw["is_park_total"]]
    pieces = raw[~raw["is_park_total"]]
    key = f"{bases[0]}_m2"
    total = parks.set_index("park_id")[key]
    denom = total.loc[pieces["park_id"]].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denom > 0, pieces[key].to_numpy() / denom, np.nan)
    shares = pd.DataFrame(
        {
            "unit_id": pieces["park_id"].to_numpy(),
            "zone_id": pieces["zone_id"].astype(int).to_numpy(),
            "share": share,
            "share_method": f"{bases[0]} share (PostGIS, {AREA_CRS})",
        }
    )
    return _to_bases(parks, bases, year, unit_column="park_id"), shares


def _to_bases(raw: pd.DataFrame, bases: Sequence[str], year: int, *, unit_column: str) -> pd.DataFrame:
    frames = []
    for basis in bases:
        sources = raw["sources"].fillna("no parcel").astype(str)
        frames.append(
            pd.DataFrame(
                {
                    "unit_id": raw[unit_column].to_numpy(),
                    "basis": basis,
                    "area_km2": raw[f"{basis}_m2"].astype(float).to_numpy() / M2_PER_KM2,
                    "year": pd.array([year] * len(raw), dtype="Int64"),
                    "boundary_version": raw["boundary_id"].to_numpy(),
                    "basis_source": [
                        f"{BASIS_LABELS_ZH[basis]}: land_parcel ∩ park_boundary {v}, area in {AREA_CRS} (PostGIS) [{s}]"
                        for v, s in zip(raw["boundary_id"], sources)
                    ],
                    "is_synthetic": raw["any_synthetic"].astype(bool).to_numpy(),
                    "is_approximate": raw["quality"].isin(["approximate", "synthetic"]).to_numpy(),
                    "n_parcels": raw[f"{basis}_n"].astype(int).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
