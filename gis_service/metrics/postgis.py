"""Parcel-by-boundary areas computed in PostGIS, where the parcels live.

One query returns, per park boundary valid at the end of the year (and, optionally, per
piece of a park inside each zone of a kind), the area in m² (EPSG:4549) of its industrial,
supplied industrial and built-up parcels.  Parcels properly inside a piece count whole
(``ST_ContainsProperly``, no intersection computed); only the parcels that cross a boundary
are intersected.  All values are bound parameters; the SQL text is fixed.

The intersection is taken in EPSG:4326 and its area measured in EPSG:4549, exactly like
:func:`gis_service.metrics.parcel_land.overlap_pairs`, so both paths agree to rounding.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer

from gis_service.coords.crs import AREA_CRS, AREA_SRID
from gis_service.metrics.bases import (
    BASES_COLUMNS,
    BASIS_LABELS_ZH,
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    PARCEL_BASES,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.errors import OverlappingZonesError, UnknownBasisError
from gis_service.metrics.parcel_land import mark_uncovered
from gis_service.metrics.units import M2_PER_KM2
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.land import LandInForce, land_in_force

#: the land records that make each basis (:mod:`gis_service.metrics.land_layers`): the layer
#: bound per year by :meth:`gis_service.store.land.LandInForce.sql_params`; survey patches
#: only of the snapshot in force.  Fixed texts (no user input goes in).
_IN_SNAPSHOT = "(p.layer <> 'survey' OR p.import_id = :survey_import)"
_IS_INDUSTRIAL = f"(p.land_use_class = 'industrial' AND p.layer = :land_use_layer AND {_IN_SNAPSHOT})"
#: supplied land of any use (已供应国有建设用地): a contract by the end of the year, not recovered
IS_SUPPLIED_ANY_USE = (
    "(p.is_supplied AND p.layer = :supplied_layer"
    " AND (p.supply_year IS NULL OR p.supply_year <= :year)"
    " AND (p.recovery_date IS NULL OR p.recovery_date > :year_end))"
)
_IS_SUPPLIED = f"(p.land_use_class = 'industrial' AND {IS_SUPPLIED_ANY_USE})"
_IS_BUILT = f"(p.is_built AND p.layer = :built_layer AND {_IN_SNAPSHOT})"

#: the land records each basis is made of; a query's filter is the OR of its bases' (each
#: layer makes its own bases, so supplied land is not a subset of industrial land).  The
#: supplied-industrial filter alone matches the partial GiST index
#: ``ix_land_parcel_geom_supplied_industrial`` (migration 0002), so the planner uses it.
_BASIS_FILTERS: dict[str, str] = {
    INDUSTRIAL_LAND: _IS_INDUSTRIAL,
    SUPPLIED_INDUSTRIAL_LAND: _IS_SUPPLIED,
    BUILT_UP_LAND: _IS_BUILT,
}

_PIECE_AREAS_TEMPLATE = """
WITH b AS (
    SELECT pb.id AS boundary_id, pb.park_id, pb.geom, pb.geometry_quality::text AS quality
    FROM park_boundary pb
    WHERE {in_force}
      AND (CAST(:park_ids AS int[]) IS NULL OR pb.park_id = ANY(CAST(:park_ids AS int[])))
),
z AS (
    -- the areas parks are cut by: the zones of one kind, or the towns (kind 'town')
    SELECT id, name, geom FROM zone
    WHERE CAST(:zone_kind AS text) IS NOT NULL AND kind::text = CAST(:zone_kind AS text) AND geom IS NOT NULL
    UNION ALL
    SELECT id, name, geom FROM town WHERE CAST(:zone_kind AS text) = 'town' AND geom IS NOT NULL
),
pieces AS (
    -- a park is cut into its parts inside each zone and the rest, so that every parcel is
    -- visited once: park totals are the sums over the pieces (zones of one kind must not
    -- overlap; parcel_piece_areas checks that first)
    SELECT b.boundary_id, z.id AS zone_id, ST_CollectionExtract(ST_Intersection(b.geom, z.geom), 3) AS geom
    FROM b JOIN z ON ST_Intersects(b.geom, z.geom)
    UNION ALL
    SELECT b.boundary_id, NULL::int,
           COALESCE(ST_Difference(b.geom, (SELECT ST_Union(z.geom) FROM z WHERE ST_Intersects(z.geom, b.geom))), b.geom)
    FROM b
),
pairs AS (
    -- candidates by bounding box only; one prepared predicate decides most of them: a parcel
    -- properly inside its piece counts whole with its stored area (no transform, no
    -- intersection); only crossers are intersected; non-intersecting candidates give NULL
    SELECT pc.boundary_id, pc.zone_id, p.id AS parcel_id, p.is_synthetic, p.source_document,
           COALESCE({is_industrial}, false) AS is_ind,
           COALESCE({is_supplied}, false) AS is_sup,
           COALESCE({is_built}, false) AS is_built,
           CASE WHEN ST_ContainsProperly(pc.geom, p.geom) THEN p.area_m2
                WHEN ST_Intersects(pc.geom, p.geom) THEN ST_Area(ST_Transform(ST_Intersection(pc.geom, p.geom), {area_srid}))
           END AS area_m2
    FROM pieces pc
    JOIN land_parcel p ON pc.geom && p.geom
    WHERE {parcel_filter}
)
SELECT b.boundary_id, b.park_id, f.zone_id, b.quality, GROUPING(f.zone_id) = 1 AS is_park_total,
       (SELECT zn.name FROM z zn WHERE zn.id = f.zone_id) AS zone_name,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_ind), 0) AS industrial_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_ind AND f.area_m2 IS NOT NULL) AS industrial_land_n,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_sup), 0) AS supplied_industrial_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_sup AND f.area_m2 IS NOT NULL) AS supplied_industrial_land_n,
       COALESCE(SUM(f.area_m2) FILTER (WHERE f.is_built), 0) AS built_up_land_m2,
       COUNT(DISTINCT f.parcel_id) FILTER (WHERE f.is_built AND f.area_m2 IS NOT NULL) AS built_up_land_n,
       COALESCE(bool_or(f.is_synthetic) FILTER (WHERE f.area_m2 IS NOT NULL), false) AS any_synthetic,
       string_agg(DISTINCT f.source_document, '; ') FILTER (WHERE f.area_m2 IS NOT NULL) AS sources
FROM b
LEFT JOIN pairs f ON f.boundary_id = b.boundary_id
GROUP BY GROUPING SETS ((b.boundary_id, b.park_id, b.quality), (b.boundary_id, b.park_id, b.quality, f.zone_id))
ORDER BY b.park_id, f.zone_id NULLS FIRST
"""

def _filter_key(bases: Sequence[str]) -> tuple[str, ...]:
    """The parcel bases of a query in a fixed order (the key of its prepared SQL)."""
    return tuple(b for b in PARCEL_BASES if b in bases)


_PIECE_AREAS_SQL: dict[tuple[str, ...], TextClause] = {
    key: text(
        _PIECE_AREAS_TEMPLATE.format(
            parcel_filter=" OR ".join(_BASIS_FILTERS[b] for b in key),
            in_force=in_force_sql("pb"),
            area_srid=AREA_SRID,
            is_industrial=_IS_INDUSTRIAL,
            is_supplied=_IS_SUPPLIED,
            is_built=_IS_BUILT,
        )
    ).bindparams(bindparam("park_ids", type_=ARRAY(Integer)))
    for key in {_filter_key(c) for c in itertools.product(*[(b, None) for b in PARCEL_BASES])}
    if key
}

#: zones of one kind whose interiors overlap (DE-9IM: interiors meet in an area), with the
#: overlap area in m² (EPSG:4549)
_ZONE_OVERLAPS_SQL = text(
    """
WITH z AS (
    SELECT id, code, name, geom FROM zone WHERE kind::text = :zone_kind AND geom IS NOT NULL
    UNION ALL
    SELECT id, name, name, geom FROM town WHERE :zone_kind = 'town' AND geom IS NOT NULL
)
SELECT a.code AS code_a, a.name AS name_a, b.code AS code_b, b.name AS name_b,
       ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4549)) AS overlap_m2
FROM z a JOIN z b ON a.id < b.id AND a.geom && b.geom
WHERE ST_Relate(a.geom, b.geom, '2********')
ORDER BY a.id, b.id
"""
)

#: per-transaction planner settings: this query is cheap to plan and its cost estimate is
#: high, so PostgreSQL's JIT would spend ~0.2 s compiling it (more than the query runs);
#: the sort of the pairs for COUNT(DISTINCT) should stay in memory
_SESSION_SQL = text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")

#: overlaps smaller than this (m², EPSG:4549) are taken as digitising slivers, not overlaps
ZONE_OVERLAP_TOLERANCE_M2 = 1.0


#: which of the given park boundaries some land record of any use touches, in the layers
#: that make the bases asked (the land data covers them); EXISTS stops at the first found
_COVERED_BOUNDARIES_SQL = text(
    f"""
SELECT b.id FROM park_boundary b
WHERE b.id = ANY(:boundary_ids)
  AND EXISTS (SELECT 1 FROM land_parcel p
              WHERE p.geom && b.geom AND p.layer = ANY(:cover_layers) AND {_IN_SNAPSHOT}
                AND ST_Intersects(p.geom, b.geom))
"""
).bindparams(bindparam("boundary_ids", type_=ARRAY(Integer)))


def _covered_by_parcels(engine: Engine, raw: pd.DataFrame, params: dict[str, object]) -> Callable[[list[object]], set[object]]:
    """A ``covered`` callback for :func:`~gis_service.metrics.parcel_land.mark_uncovered` (park ids)."""

    def covered(park_ids: list[object]) -> set[object]:
        boundary_of = dict(zip(raw["park_id"], raw["boundary_id"]))
        ids = [int(boundary_of[p]) for p in park_ids]
        bound = {"boundary_ids": ids, "cover_layers": params["cover_layers"], "survey_import": params["survey_import"]}
        with engine.connect() as conn:
            hit = set(conn.execute(_COVERED_BOUNDARIES_SQL, bound).scalars())
        return {p for p in park_ids if int(boundary_of[p]) in hit}

    return covered


def parcel_piece_areas(
    engine: Engine,
    *,
    year: int,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    zone_kind: str | None = None,
    park_ids: Sequence[int] | None = None,
    land: LandInForce | None = None,
) -> pd.DataFrame:
    """Raw per-piece parcel areas from PostGIS (m², EPSG:4549).

    ``land`` says which land records count for ``year`` (read when not given).

    ``zone_kind`` is a zone kind (``pian``, ``corridor_area``, ``corridor``) or ``town`` (the
    towns and sub-districts).  Returns one row per park boundary (``is_park_total``) and, when
    ``zone_kind`` is given,
    one row per park-zone piece (``zone_id``, ``zone_name`` set), with ``<basis>_m2`` and
    ``<basis>_n`` (parcel count) columns.  A park boundary without any qualifying parcel
    still has a row (areas 0).

    Raises
    ------
    OverlappingZonesError
        when two zones of ``zone_kind`` overlap by more than
        :data:`ZONE_OVERLAP_TOLERANCE_M2` (their overlap would be counted twice in the
        park totals and apportioned twice); the message names both zones and the overlap.
    """
    for b in bases:
        if b not in PARCEL_BASES:
            raise UnknownBasisError(f"{b!r} is not a parcel basis; parcel bases: {', '.join(PARCEL_BASES)}")
    with engine.begin() as conn:  # one transaction: the settings are local to it
        land = land or land_in_force(conn, year)
        params = {
            "on": boundary_date(year),
            "year": year,
            "zone_kind": zone_kind,
            "park_ids": list(park_ids) if park_ids is not None else None,
            **land.sql_params(list(bases)),
        }
        conn.execute(_SESSION_SQL)
        if zone_kind is not None:
            check_zones_do_not_overlap(conn, zone_kind)
        rows = conn.execute(_PIECE_AREAS_SQL[_filter_key(bases)], params).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    if frame.empty:
        return frame
    # drop the per-piece row of the rest-of-park piece (and the empty LEFT JOIN group)
    return frame[frame["is_park_total"] | frame["zone_id"].notna()].reset_index(drop=True)


def check_zones_do_not_overlap(
    conn: Connection, zone_kind: str, *, tolerance_m2: float = ZONE_OVERLAP_TOLERANCE_M2
) -> None:
    """Raise :class:`OverlappingZonesError` naming the zones of ``zone_kind`` that overlap.

    Zones of one kind (the 三片, the areas of 一廊九区) partition space; an overlap larger
    than ``tolerance_m2`` (EPSG:4549) is a data error the engine refuses to guess around.
    """
    overlaps = [
        r for r in conn.execute(_ZONE_OVERLAPS_SQL, {"zone_kind": zone_kind}).mappings() if r["overlap_m2"] > tolerance_m2
    ]
    if overlaps:
        pairs = "; ".join(
            f"{r['name_a']} ({r['code_a']}) and {r['name_b']} ({r['code_b']}) overlap by {r['overlap_m2']:,.0f} m²"
            for r in overlaps
        )
        raise OverlappingZonesError(
            f"zones of kind {zone_kind!r} overlap, so parcel land would be counted twice: {pairs}. "
            "Fix the zone boundaries (zones of one kind must not overlap)."
        )


def parcel_bases_sql(
    engine: Engine,
    *,
    year: int,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
    park_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Parcel bases per park (``unit_id`` = park id) as a bases frame, computed in PostGIS.

    Same columns and meaning as :func:`gis_service.metrics.parcel_land.parcel_bases`.
    """
    land = land_in_force(engine, year)
    raw = parcel_piece_areas(engine, year=year, bases=bases, park_ids=park_ids, land=land)
    return park_bases_from_pieces(engine, raw, bases=bases, year=year, land=land)


def zone_piece_bases_sql(
    engine: Engine,
    *,
    year: int,
    zone_kind: str,
    bases: Sequence[str] = (SUPPLIED_INDUSTRIAL_LAND,),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-park bases and the parcel-land shares of each park in each zone of ``zone_kind``.

    Returns ``(park_bases, shares)``: :func:`park_bases_from_pieces` and
    :func:`zone_land_shares` of one :func:`parcel_piece_areas` pass.
    """
    land = land_in_force(engine, year)
    raw = parcel_piece_areas(engine, year=year, bases=bases, zone_kind=zone_kind, land=land)
    park_bases = park_bases_from_pieces(engine, raw, bases=bases, year=year, land=land)
    return park_bases, zone_land_shares(raw, basis=bases[0])


def park_bases_from_pieces(
    engine: Engine, raw: pd.DataFrame, *, bases: Sequence[str], year: int, land: LandInForce | None = None,
    covered: Callable[[list[object]], set[object]] | None = None, measured_by: str = "PostGIS",
) -> pd.DataFrame:
    """The park-total rows of :func:`parcel_piece_areas` as a bases frame (km²).

    A park with no qualifying parcel gets a missing area, not 0, when no parcel of any use
    touches it (:func:`~gis_service.metrics.parcel_land.mark_uncovered`; that check queries
    ``engine``, and only for such parks).  Rows measured elsewhere (the dask engine,
    :func:`gis_service.metrics.dask_path.piece_areas_on_frames`) bring their own ``covered``
    check on the same parcels and name where they were measured (``measured_by``).
    """
    if raw.empty:  # no park has a boundary in force
        return pd.DataFrame(columns=BASES_COLUMNS)
    parks = raw[raw["is_park_total"]]
    land = land or land_in_force(engine, year)
    covered = covered or _covered_by_parcels(engine, parks, land.sql_params(list(bases)))
    return mark_uncovered(_to_bases(parks, bases, year, land, unit_column="park_id", measured_by=measured_by), covered)


#: columns of :func:`zone_land_shares`, ready for :func:`~gis_service.metrics.apportion.aggregate_to_zones`
LAND_SHARE_COLUMNS = ["unit_id", "zone_id", "share", "share_method", "zone_name"]


def zone_land_shares(raw: pd.DataFrame, *, basis: str) -> pd.DataFrame:
    """Share of each park's ``basis`` land in each zone, from :func:`parcel_piece_areas` rows.

    ``share`` = the park's land in the zone / the park's total land; NaN when the park
    has no such land (the caller then falls back to boundary-area shares).
    """
    if raw.empty or "zone_id" not in raw.columns:
        return pd.DataFrame(columns=LAND_SHARE_COLUMNS)
    is_total = raw["is_park_total"].to_numpy(dtype=bool)
    park_ids = raw["park_id"].to_numpy()
    land = raw[f"{basis}_m2"].to_numpy(dtype=float)
    total = dict(zip(park_ids[is_total], land[is_total]))
    piece = ~is_total
    denom = np.array([total[p] for p in park_ids[piece]], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denom > 0, land[piece] / denom, np.nan)
    return pd.DataFrame(
        {
            "unit_id": park_ids[piece],
            "zone_id": raw["zone_id"].to_numpy()[piece].astype(int),
            "share": share,
            "share_method": f"{basis} share (PostGIS, {AREA_CRS})",
            "zone_name": raw["zone_name"].to_numpy()[piece],
        }
    )


def _to_bases(
    raw: pd.DataFrame, bases: Sequence[str], year: int, land: LandInForce, *, unit_column: str, measured_by: str = "PostGIS"
) -> pd.DataFrame:
    n = len(raw)
    versions = raw["boundary_id"].to_numpy()
    sources = raw["sources"].fillna("no parcel").to_numpy()
    shared = {
        "unit_id": raw[unit_column].to_numpy(),
        "year": pd.array(np.full(n, year), dtype="Int64"),
        "boundary_version": versions,
        "is_synthetic": raw["any_synthetic"].to_numpy(dtype=bool),
        "is_approximate": raw["quality"].isin(["approximate", "synthetic"]).to_numpy(),
    }
    frames = [
        pd.DataFrame(
            {
                **shared,
                "basis": basis,
                "area_km2": raw[f"{basis}_m2"].to_numpy(dtype=float) / M2_PER_KM2,
                "basis_source": [
                    f"{BASIS_LABELS_ZH[basis]}: {land.describe(basis)['label_zh']} ∩ park_boundary {v}, "
                    f"area in {AREA_CRS} ({measured_by}) [{s}]"
                    for v, s in zip(versions, sources)
                ],
                "n_parcels": raw[f"{basis}_n"].to_numpy(dtype=int),
            },
            columns=BASES_COLUMNS,
        )
        for basis in bases
    ]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
