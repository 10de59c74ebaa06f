"""Benchmark of the land-intensity answer (开发区土地集约利用评价) against the density answer.

Synthetic parcels (:func:`gis_service.testing.load_synthetic_parcels`, seed 42: a parcel
register with land use, supply and built flags) and as many synthetic buildings (one per
parcel: the parcel shrunk to a random 20–60 % of its side around its centre, 1–12 floors,
a third given 层数 only so their floor area is estimated), 7 synthetic parks, 3 片 zones and
3 九区-like areas cutting two parks through their centres (:func:`load_cutting_zones`), in a
throwaway PostGIS.  Timed, interleaved round by round so a drift of the shared cores
hits both alike (min and median over the rounds, after one untimed warm-up call each):

- ``intensity_e2e``: :func:`gis_service.answers.intensity.compute_intensity_levels`: the parks
  (and blocks) and the zones, measured in one pass over the cells of their arrangement — every
  indicator, sources, type, scores, ranks, both levels' answers (no cache);
- ``density_e2e``: :func:`gis_service.answers.density.compute_density` for the parks and for
  the 片 zones (what ``bench/density.py`` calls engine_e2e plus engine_e2e_parks);
- ``intensity_one_level``: :func:`gis_service.answers.intensity.compute_intensity` for the
  parks alone (it measures both levels: the pass is one);
- ``intensity_warm``: :func:`gis_service.answers.intensity.answer_intensity` for both levels,
  the answer kept per data version (:class:`gis_service.store.versions.DataMemo`): what a
  repeated question costs while the data has not changed.  Never to be read as the cold figure.

Before timing, each size checks the measured quantities (``metrics.intensity._measure``, both
levels) against :data:`REFERENCE_SQL`, the one-statement query of 2026-12-01 (a probe of
``land_parcel`` per building, ST_PointOnSurface computed per query): every value equal to
1e-9 relative, else the bench stops.

Usage: ``.venv/bin/python bench/intensity.py --sizes 100000 1000000 --rounds 5``.
Writes ``bench/results/intensity.md`` (and .json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, create_engine, text

from gis_service.answers import DensityQuestion
from gis_service.answers.density import compute_density
from gis_service.answers.intensity import (
    IntensityQuestion,
    answer_intensity,
    compute_intensity,
    compute_intensity_levels,
)
from gis_service.coords.crs import AREA_SRID
from gis_service.ingest.land.write import ewkb_hex
from gis_service.metrics import intensity as metrics
from gis_service.metrics.bases import (
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.postgis import _IS_BUILT, _SESSION_SQL, IS_SUPPLIED_ANY_USE
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.land import land_in_force
from gis_service.testing import (
    insert_indicator,
    load_synthetic_parcels,
    load_synthetic_units,
    throwaway_postgis,
)

RESULTS = Path(__file__).parent / "results"
YEAR = 2020
#: results must equal the reference's to this relative difference: a record that a zone's edge
#: cuts inside a park counts for the park as the sum of its two pieces' areas where the
#: reference took its stored area; the cut adds vertices on the record's edges, and an edge
#: straight in EPSG:4326 bows slightly in EPSG:4549, so the two differ by ~1e-8 of the record
#: (3e-4 m² over park 2's 20.7 ha of residential land at 1M, 1.5e-9 of it)
TOLERANCE = 1e-8

#: the intensity query as it was before the speed work (commit cb36972), kept to check the new one
REFERENCE_SQL = text(
    f"""
WITH inforce AS (
    SELECT pb.id, pb.park_id, pb.geom FROM park_boundary pb WHERE {in_force_sql("pb")}
),
units AS (
    SELECT b.park_id AS unit_id, b.id AS boundary_id, b.geom FROM inforce b WHERE :level = 'park'
    UNION ALL
    SELECT z.id, NULL::int, ST_Multi(ST_CollectionExtract(ST_Intersection(z.geom, a.geom), 3))
    FROM zone z, (SELECT ST_Union(geom) AS geom FROM inforce) a
    WHERE :level = 'zone' AND z.geom IS NOT NULL AND a.geom IS NOT NULL AND ST_Intersects(z.geom, a.geom)
),
land AS (
    SELECT u.unit_id, p.source_document,
           COALESCE({_IS_BUILT}, false) AS is_built, COALESCE({metrics._IS_INDUSTRIAL_STORAGE}, false) AS is_ind,
           COALESCE({metrics._IS_RESIDENTIAL}, false) AS is_res, COALESCE({IS_SUPPLIED_ANY_USE}, false) AS is_sup,
           COALESCE({metrics._IS_IDLE}, false) AS is_idle_found, p.idle_status,
           CASE WHEN ST_ContainsProperly(u.geom, p.geom) THEN p.area_m2
                ELSE ST_Area(ST_Transform(ST_Intersection(u.geom, p.geom), {AREA_SRID})) END AS a
    FROM units u JOIN land_parcel p ON u.geom && p.geom
    WHERE ({_IS_BUILT} OR {metrics._IS_INDUSTRIAL_STORAGE} OR {metrics._IS_RESIDENTIAL} OR {IS_SUPPLIED_ANY_USE}) AND ST_Intersects(u.geom, p.geom)
),
land_sum AS (
    SELECT unit_id,
           SUM(a) FILTER (WHERE is_built) AS built_m2, SUM(a) FILTER (WHERE is_ind) AS ind_m2,
           SUM(a) FILTER (WHERE is_res) AS res_m2, SUM(a) FILTER (WHERE is_sup) AS sup_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'idle') AS idle_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'disposed') AS disposed_m2,
           SUM(a) FILTER (WHERE is_idle_found) AS idle_found_m2,
           string_agg(DISTINCT source_document, '; ') AS land_sources
    FROM land GROUP BY unit_id
),
bld AS MATERIALIZED (
    SELECT u.unit_id, b.footprint_m2, b.floor_area_m2, b.floor_area_estimated,
           CASE WHEN ST_ContainsProperly(u.geom, b.geom) THEN 1.0
                ELSE ST_Area(ST_Transform(ST_Intersection(u.geom, b.geom), {AREA_SRID})) / NULLIF(b.footprint_m2, 0) END AS share,
           EXISTS (SELECT 1 FROM land_parcel p
                   WHERE p.geom && ST_PointOnSurface(b.geom) AND {metrics._IS_INDUSTRIAL_STORAGE}
                     AND ST_Intersects(p.geom, ST_PointOnSurface(b.geom))) AS on_ind
    FROM units u JOIN building b ON b.import_id = :building_import AND u.geom && b.geom
    WHERE ST_Intersects(u.geom, b.geom)
),
bld_sum AS (
    SELECT unit_id, SUM(floor_area_m2 * share) AS floor_m2, SUM(footprint_m2 * share) AS foot_m2,
           SUM(floor_area_m2 * share) FILTER (WHERE on_ind) AS ind_floor_m2,
           SUM(footprint_m2 * share) FILTER (WHERE on_ind) AS ind_foot_m2,
           COUNT(*) AS n_buildings, COUNT(*) FILTER (WHERE floor_area_estimated) AS n_estimated,
           COUNT(*) FILTER (WHERE share < 0.999999) AS n_split
    FROM bld GROUP BY unit_id
)
SELECT u.unit_id, u.boundary_id, ST_Area(ST_Transform(u.geom, {AREA_SRID})) AS unit_m2,
       COALESCE(l.built_m2, 0) AS built_m2, COALESCE(l.ind_m2, 0) AS ind_m2, COALESCE(l.res_m2, 0) AS res_m2,
       COALESCE(l.sup_m2, 0) AS sup_m2, COALESCE(l.idle_m2, 0) AS idle_m2, COALESCE(l.disposed_m2, 0) AS disposed_m2,
       COALESCE(l.idle_found_m2, 0) AS idle_found_m2, l.land_sources,
       COALESCE(s.floor_m2, 0) AS floor_m2, COALESCE(s.foot_m2, 0) AS foot_m2,
       COALESCE(s.ind_floor_m2, 0) AS ind_floor_m2, COALESCE(s.ind_foot_m2, 0) AS ind_foot_m2,
       COALESCE(s.n_buildings, 0) AS n_buildings, COALESCE(s.n_estimated, 0) AS n_estimated,
       COALESCE(s.n_split, 0) AS n_split
FROM units u LEFT JOIN land_sum l ON l.unit_id = u.unit_id LEFT JOIN bld_sum s ON s.unit_id = u.unit_id
ORDER BY u.unit_id
"""
)


def check_against_reference(engine: Engine) -> float:
    """The largest relative difference between the measured quantities and the reference
    query's, over both levels (and the seconds the reference took); raises beyond TOLERANCE."""
    land = land_in_force(engine, YEAR)
    buildings = metrics.buildings_in_force(engine, YEAR)
    worst = 0.0
    for level in ("park", "zone"):
        params = {"on": boundary_date(YEAR), "level": level, "building_import": buildings["id"] if buildings else None,
                  **land.sql_params([INDUSTRIAL_LAND, BUILT_UP_LAND, SUPPLIED_INDUSTRIAL_LAND]), "year": YEAR}
        with engine.begin() as conn:
            conn.execute(_SESSION_SQL)
            reference = [dict(r) for r in conn.execute(REFERENCE_SQL, params).mappings()]
        measured = metrics.measure_quantities(engine, year=YEAR)[level].to_dict("records")
        if len(reference) != len(measured):
            raise AssertionError(f"{level}: {len(measured)} units measured, {len(reference)} in the reference")
        for ref, new in zip(reference, measured):
            for key, want in ref.items():
                got = new[key]
                if key == "land_sources" or want is None or got is None:
                    if (want or None) != (got or None):
                        raise AssertionError(f"{level} unit {ref['unit_id']} {key}: {got!r} != reference {want!r}")
                    continue
                rel = abs(float(got) - float(want)) / max(abs(float(want)), 1e-300) if want != got else 0.0
                if rel > TOLERANCE:
                    raise AssertionError(f"{level} unit {ref['unit_id']} {key}: {got!r} != reference {want!r}")
                worst = max(worst, rel)
    return worst


def load_buildings(engine: Engine, parcels, seed: int = 7) -> float:  # type: ignore[no-untyped-def]
    """One synthetic building inside each parcel, written by COPY; returns the seconds taken."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    geoms = np.asarray(parcels.geometry.array)
    factor = rng.uniform(0.2, 0.6, len(geoms))
    centres = shapely.centroid(geoms)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    bounds = shapely.bounds(geoms)
    hw, hh = (bounds[:, 2] - bounds[:, 0]) * factor / 2, (bounds[:, 3] - bounds[:, 1]) * factor / 2
    boxes = shapely.box(cx - hw, cy - hh, cx + hw, cy + hh)
    multi = shapely.multipolygons(boxes[:, None]) if hasattr(shapely, "multipolygons") else boxes
    wkb = ewkb_hex(np.asarray([shapely.MultiPolygon([b]) for b in boxes]) if multi is boxes else multi)
    floors = rng.integers(1, 13, len(geoms)).astype(float)
    estimated = rng.random(len(geoms)) < 1 / 3
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE building_import CASCADE"))
        import_id = conn.execute(text(
            "INSERT INTO building_import (year, source_document, file_name, feature_count, estimated_count, is_synthetic)"
            " VALUES (:y, 'synthetic', 'bench', :n, :e, true) RETURNING id"), {"y": YEAR, "n": len(geoms), "e": int(estimated.sum())}).scalar_one()
        dbapi = conn.connection.driver_connection
        with dbapi.cursor() as cur, cur.copy(
                "COPY building (import_id, year, geom, floor_area_m2, floors, floor_area_estimated, source_document, is_synthetic)"
                " FROM STDIN") as copy:
            # floor area: a stand-in (footprint in degrees is not m²; the bench times, it does not check values)
            for g, f, e in zip(wkb, floors, estimated):
                copy.write_row((import_id, YEAR, g, float(f) * 1000.0, float(f), bool(e), "synthetic", True))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE building"))
    return time.perf_counter() - t0


def interleaved(steps: dict, rounds: int) -> dict[str, dict[str, float]]:  # type: ignore[type-arg]
    for fn in steps.values():
        fn()  # warm-up, untimed
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: {"min_s": min(t), "median_s": statistics.median(t)} for name, t in times.items()}


#: per park, the yearly figures the intensity answer reads (synthetic), so that the zone level
#: apportions them as it would on real data (the shares cost a parcel query per zone kind)
FIGURES = (("industrial_fixed_assets_cumulative", 300.0, "亿元"), ("industrial_tax", 8.0, "亿元"),
           ("tax", 12.0, "亿元"), ("resident_population", 20000.0, "人"), ("land_ready_for_supply", 500.0, "公顷"))


def load_figures(engine: Engine) -> None:
    with engine.connect() as conn:
        parks = [int(r[0]) for r in conn.execute(text("SELECT id FROM park ORDER BY id"))]
    for park in parks:
        for metric, value, unit in FIGURES:
            insert_indicator(engine, park, YEAR, metric, value, unit, "synthetic benchmark figure")


def load_cutting_zones(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    """Three 九区-like areas (kind corridor_area) whose edges run through the centres of the first
    two parks: zones cut parks, as they do in Songjiang, so the cells are not just the parks."""
    from shapely.geometry import box

    from gis_service.db.models import ZoneKind
    from gis_service.parcels.synthetic import SONGJIANG_PARKS_BBOX
    from gis_service.testing import insert_zone

    minx, miny, maxx, maxy = SONGJIANG_PARKS_BBOX
    cuts = sorted(float(g.centroid.x) for g in parks.geometry.iloc[:2])
    for k, (x0, x1) in enumerate(zip([minx, *cuts], [*cuts, maxx])):
        insert_zone(engine, f"C{k}", f"合成九区{k + 1}", box(x0, miny, x1, maxy), kind=ZoneKind.corridor_area)


def run(sizes: list[int], rounds: int) -> list[dict[str, object]]:
    rows = []
    with throwaway_postgis("bench", prefix="gis-bench-pg-") as cluster:
        engine = create_engine(cluster.url())
        parks = load_synthetic_units(engine)
        load_cutting_zones(engine, parks)
        load_figures(engine)
        for n in sizes:
            parcels, load = load_synthetic_parcels(engine, n, seed=42)
            t_buildings = load_buildings(engine, parcels)
            del parcels
            worst = check_against_reference(engine)
            print(f"{n}: equal to the reference query, largest relative difference {worst:.1e}", flush=True)
            steps = {
                "intensity_e2e": lambda: compute_intensity_levels(engine, year=YEAR),
                "intensity_one_level": lambda: compute_intensity(engine, IntensityQuestion(year=YEAR)),
                "density_e2e": lambda: (compute_density(engine, DensityQuestion(year=YEAR)),
                                        compute_density(engine, DensityQuestion(year=YEAR, level="pian"))),
                "intensity_warm": lambda: (answer_intensity(engine, IntensityQuestion(year=YEAR)),
                                           answer_intensity(engine, IntensityQuestion(year=YEAR, level="zone"))),
            }
            stats = interleaved(steps, rounds)
            parks = compute_intensity(engine, IntensityQuestion(year=YEAR)).rows
            row = {"parcels": n, "buildings": n, "max_rel_diff_vs_reference": worst, "generate_and_load_parcels_s": round(load["generate_s"] + load["load_s"], 1),
                   "load_buildings_s": round(t_buildings, 1), "parks": len(parks),
                   "buildings_in_parks": int(sum(parks["n_buildings"])),
                   **{f"{k}_{m}": round(v, 3) for k, s in stats.items() for m, v in s.items()}}
            row["ratio_min"] = round(row["intensity_e2e_min_s"] / row["density_e2e_min_s"], 2)
            rows.append(row)
            print(row, flush=True)
    return rows


def write(rows: list[dict[str, object]], rounds: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intensity.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Land-intensity answer benchmark",
        "",
        "Synthetic parcels (seed 42) and one synthetic building per parcel, 7 synthetic parks (each with the five yearly "
        "figures the answer reads, apportioned to the zones), 3 synthetic 片 zones and 3 九区-like areas cutting two "
        "parks through their centres; "
        f"one warm-up call then {rounds} interleaved rounds; machine: 2 CPUs (shared with other jobs), 24 GiB RAM. "
        "intensity_e2e = every indicator for the parks and for the zones, both levels measured in one pass over the "
        "cells of their arrangement (compute_intensity_levels, no cache); intensity_one_level = the parks alone "
        "(compute_intensity, no cache: it measures both levels all the same); "
        "density_e2e = the density answer for the parks and for the 片 zones (compute_density, no cache); "
        "intensity_warm = the same two intensity questions through answer_intensity, answered from the per-data-version "
        "memo (warm: NOT the cold figure). Checked first: both levels equal to the pre-speed-work query (REFERENCE_SQL) "
        f"to {TOLERANCE:g} relative.",
        "",
        "| parcels | buildings | buildings in parks | intensity_e2e (cold) min / median s | density_e2e min / median s "
        "| ratio cold (min/min) | intensity_one_level min / median s | intensity_warm min / median s "
        "| max rel. diff vs reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['parcels']:,} | {r['buildings']:,} | {r['buildings_in_parks']:,} | "
                     f"{r['intensity_e2e_min_s']} / {r['intensity_e2e_median_s']} | "
                     f"{r['density_e2e_min_s']} / {r['density_e2e_median_s']} | {r['ratio_min']} | "
                     f"{r['intensity_one_level_min_s']} / {r['intensity_one_level_median_s']} | "
                     f"{r['intensity_warm_min_s']} / {r['intensity_warm_median_s']} | {r['max_rel_diff_vs_reference']:.1e} |")
    (RESULTS / "intensity.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    write(run(args.sizes, args.rounds), args.rounds)


if __name__ == "__main__":
    main()
