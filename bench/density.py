"""Benchmark of the density engine on synthetic parcels (not a timed test).

Generates synthetic parcels (seeded) over the Songjiang parks box for each size (default
10k, ~108k = Shanghai's ~48,500 industrial parcels at the generator's 45 % industrial share,
and 1M), with 7 synthetic park boundaries and 3 synthetic zones, loads them into a
throwaway PostGIS once per size (COPY; the 1M set is generated and loaded once and reused by
every step and repeat), and times in one run, min and median over repeats with the peak RSS
growth of this Python process in one more call after the timed ones (the PostgreSQL
backend's memory is not included):

- ``engine_e2e``: database → per-park and per-zone answer against 80 亿元/km²
  (:func:`gis_service.answers.density.compute_density`, parcel areas in PostGIS);
  ``engine_e2e_parks``: the same for the parks only;
- ``postgis_query``: the engine's parcel-by-park query alone (supplied industrial land, no
  zones: stored area + ST_ContainsProperly short-cut + partial index, JIT off), the "best
  PostGIS query" the engine is held to; ``postgis_query_zones``: the same query cut by the
  片 zones, which is what ``engine_e2e`` runs;
  ``postgis_plain``: ST_Intersection/ST_Area on every pair (server defaults);
- ``geopandas``: :func:`gis_service.metrics.parcel_land.parcel_bases` on the in-memory frame an
  analyst holds (spatial index built inside the timing; no database read);
- ``tobler_e2e``: ``tobler.area_weighted.area_interpolate`` *including* fetching its inputs
  from the database: every supplied industrial parcel and the parks (read_postgis), then
  projecting to EPSG:4549, then interpolating; ``tobler_bbox_e2e``: the same, but the fetch
  is limited in SQL to parcels whose bounding box meets a park's (a kinder set-up);
- ``overlay_e2e``: ``geopandas.overlay`` + area sum, inputs fetched like ``tobler_e2e``;
- ``dask``: :func:`gis_service.metrics.dask_path.parcel_bases_dask` on a 2-worker LocalCluster
  (parcels persisted on the workers before timing; no database read).

Earlier versions gave tobler and overlay pre-filtered, pre-projected frames built outside the
timing; they are now timed end to end, like the engine.

The four engine and query steps are timed interleaved (one call of each per round, 15 rounds
by default), so a drift in the speed of shared cores hits them alike; their ratios are min
over min.

Usage: ``.venv/bin/python bench/density.py --sizes 10000 107778 1000000 --repeats 5``.
Writes ``bench/results/density.md`` (and .json).  Requires ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import psutil
import shapely
from sqlalchemy import create_engine, text

from gis_service.answers import DensityQuestion
from gis_service.answers.density import compute_density
from gis_service.coords.crs import AREA_SRID, STORED_CRS, to_area_crs
from gis_service.metrics.parcel_land import parcel_bases, parcel_mask
from gis_service.metrics.postgis import parcel_piece_areas
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.testing import load_synthetic_parcels, load_synthetic_units, throwaway_postgis

warnings.filterwarnings("ignore")
RESULTS = Path(__file__).parent / "results"

#: what tobler and overlay are given, fetched inside their timing like the engine's reads
FETCH_PARKS_SQL = f"""
SELECT pb.park_id, pb.geom FROM park_boundary pb
WHERE {in_force_sql("pb")}
"""
FETCH_SUPPLIED_SQL = """
SELECT p.id, p.geom FROM land_parcel p
WHERE p.land_use_class = 'industrial' AND p.is_supplied AND (p.supply_year IS NULL OR p.supply_year <= :year)
"""
NEAR_PARKS_SQL = f"""
  AND EXISTS (SELECT 1 FROM park_boundary pb WHERE pb.geom && p.geom
              AND {in_force_sql("pb")})
"""
SHANGHAI_INDUSTRIAL_PARCELS = 48_500  # the whole stock of industrial parcels in Shanghai (issue 5)


def fetch_inputs(engine: object, *, near_parks: bool) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Parks and supplied industrial parcels (2020) from the database, projected to EPSG:4549."""
    params = {"on": boundary_date(2020), "year": 2020}
    with engine.connect() as conn:  # type: ignore[attr-defined]
        parks = gpd.read_postgis(text(FETCH_PARKS_SQL), conn, geom_col="geom", params=params, crs=STORED_CRS)
        sql = FETCH_SUPPLIED_SQL + (NEAR_PARKS_SQL if near_parks else "")
        parcels = gpd.read_postgis(text(sql), conn, geom_col="geom", params=params, crs=STORED_CRS)
    parcels = to_area_crs(parcels)
    parcels["area_m2"] = parcels.area
    return to_area_crs(parks), parcels


def tobler_e2e(engine: object, *, near_parks: bool = False) -> object:
    import tobler.area_weighted

    parks, parcels = fetch_inputs(engine, near_parks=near_parks)
    # allocate_total=False: a parcel crossing the boundary gives only its share (the default
    # True would hand its whole area to the park and overstate the land by the crossers)
    return tobler.area_weighted.area_interpolate(parcels, parks, extensive_variables=["area_m2"], allocate_total=False)


def overlay_e2e(engine: object) -> object:
    parks, parcels = fetch_inputs(engine, near_parks=False)
    pieces = gpd.overlay(parcels[["area_m2", "geom"]], parks, how="intersection", keep_geom_type=True)
    return pieces.area.groupby(pieces["park_id"]).sum()


PLAIN_SQL = text(
    f"""
SELECT pb.park_id, SUM(ST_Area(ST_Transform(ST_Intersection(pb.geom, p.geom), {AREA_SRID}))) AS m2
FROM park_boundary pb JOIN land_parcel p ON ST_Intersects(pb.geom, p.geom)
WHERE {in_force_sql("pb")}
  AND p.land_use_class = 'industrial' AND p.is_supplied AND (p.supply_year IS NULL OR p.supply_year <= :year)
GROUP BY pb.park_id
"""
)


def plain_query(engine: object) -> list[object]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return list(conn.execute(PLAIN_SQL, {"on": boundary_date(2020), "year": 2020}).all())


class PeakRss:
    """Peak resident memory growth of this process while the block runs (sampled every 2 ms)."""

    def __enter__(self) -> PeakRss:
        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def timed(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    """Min/median of ``repeats`` calls after one untimed warm-up call (whose time is ``first_s``:
    the first query after a bulk load also sets hint bits and reads cold pages)."""
    return timed_interleaved({"step": fn}, repeats)["step"]


def timed_interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, dict[str, float]]:
    """:func:`timed` for steps whose times are compared: one call of each per round, the order
    rotating, so that a machine whose speed drifts (shared cores) slows all of them alike.

    Peak memory comes from one more call of each step afterwards: the RSS sampler is a Python
    thread, and while timing it would take the GIL from the steps that run Python (the engine)
    and not from those that wait on the database, which is not a fair race.
    """
    first: dict[str, float] = {}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
    names = list(fns)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    out = {}
    for name, fn in fns.items():
        with PeakRss() as rss:
            fn()
        out[name] = {
            "min_s": min(times[name]),
            "median_s": statistics.median(times[name]),
            "peak_mb": rss.growth_mb,
            "first_s": first[name],
        }
    return out


def run(sizes: list[int], repeats: int, compare_repeats: int) -> list[dict[str, object]]:
    from distributed import Client, LocalCluster as DaskCluster

    import dask_geopandas
    from gis_service.metrics.dask_path import parcel_bases_dask

    results: list[dict[str, object]] = []
    with throwaway_postgis("bench", prefix="gis-bench-pg-") as cluster:
        engine = create_engine(cluster.url())
        units = load_synthetic_units(engine)
        dask_cluster = DaskCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(dask_cluster)
        for n in sizes:
            parcels, load_times = load_synthetic_parcels(engine, n, seed=42)
            t_gen, t_load = load_times["generate_s"], load_times["load_s"]
            supplied = parcel_mask(parcels, "supplied_industrial_land", year=2020)
            n_industrial = int((parcels["land_use_class"] == "industrial").sum())
            pairs_info = candidate_stats(units, parcels, supplied)
            row: dict[str, object] = {
                "parcels": n,
                "industrial": n_industrial,
                "supplied_industrial": int(supplied.sum()),
                "generate_s": round(t_gen, 2),
                "load_s": round(t_load, 2),
                **pairs_info,
            }
            row["tobler_vs_engine_max_rel_diff"] = tobler_agreement(engine, units)
            geo = lambda: parcel_bases(units, gpd.GeoDataFrame(parcels.drop(columns="geometry"), geometry=np.asarray(parcels.geometry.array), crs=STORED_CRS), year=2020)
            ddf = dask_geopandas.from_geopandas(parcels, npartitions=8).persist()
            compared = {
                "engine_e2e": lambda: compute_density(engine, DensityQuestion(year=2020, level="pian")),
                "engine_e2e_parks": lambda: compute_density(engine, DensityQuestion(year=2020)),
                "postgis_query": lambda: parcel_piece_areas(engine, year=2020),
                "postgis_query_zones": lambda: parcel_piece_areas(engine, year=2020, zone_kind="pian"),
            }
            for name, stats in timed_interleaved(compared, compare_repeats).items():
                for key, value in stats.items():
                    row[f"{name}_{key}"] = round(value, 4 if key != "peak_mb" else 1)
                print(n, name, stats, flush=True)
            timings = {
                "postgis_plain": lambda: plain_query(engine),
                "geopandas": geo,
                "tobler_e2e": lambda: tobler_e2e(engine),
                "tobler_bbox_e2e": lambda: tobler_e2e(engine, near_parks=True),
                "overlay_e2e": lambda: overlay_e2e(engine),
                "dask": lambda: parcel_bases_dask(units, ddf, year=2020),
            }
            for name, fn in timings.items():
                stats = timed(fn, repeats)
                for key, value in stats.items():
                    row[f"{name}_{key}"] = round(value, 4 if key != "peak_mb" else 1)
                print(n, name, stats, flush=True)
            results.append(row)
            del ddf
        client.close()
        dask_cluster.close()
        engine.dispose()
    return results


def tobler_agreement(engine: object, units: gpd.GeoDataFrame) -> float:
    """Largest relative difference between tobler's and the engine's per-park land (a sanity check)."""
    parks, _ = fetch_inputs(engine, near_parks=True)
    got = tobler_e2e(engine, near_parks=True)["area_m2"].to_numpy()
    ours = parcel_piece_areas(engine, year=2020)
    ours = ours[ours["is_park_total"]].set_index("park_id")["supplied_industrial_land_m2"].astype(float)
    expected = ours.loc[parks["park_id"]].to_numpy()
    return float(np.max(np.abs(got - expected) / expected))


def candidate_stats(units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, mask: np.ndarray) -> dict[str, object]:
    """How many supplied-industrial parcels are candidates of a park, and how many cross a boundary."""
    geoms = np.asarray(units.geometry.array)
    ui, pj = parcels.sindex.query(geoms, predicate="intersects")
    keep = mask[pj]
    ui, pj = ui[keep], pj[keep]
    inside = shapely.contains_properly(geoms[ui], np.asarray(parcels.geometry.array)[pj])
    return {"pairs": int(len(ui)), "crossing_pct": round(100 * float((~inside).mean()) if len(ui) else 0.0, 2)}


def write_table(results: list[dict[str, object]]) -> str:
    steps = ["engine_e2e", "engine_e2e_parks", "postgis_query", "postgis_query_zones", "postgis_plain", "geopandas", "tobler_e2e", "tobler_bbox_e2e", "overlay_e2e", "dask"]
    lines = [
        "| parcels | industrial | supplied ind. | pairs | crossing % | " + " | ".join(f"{s} min/median s (peak MB)" for s in steps) + " |",
        "|" + "---|" * (5 + len(steps)),
    ]
    for r in results:
        cells = [f"{r['parcels']:,}", f"{r['industrial']:,}", f"{r['supplied_industrial']:,}", f"{r['pairs']:,}", str(r["crossing_pct"])]
        for s in steps:
            if f"{s}_min_s" in r:
                cells.append(f"{r[f'{s}_min_s']:.3f} / {r[f'{s}_median_s']:.3f} ({r[f'{s}_peak_mb']:.0f})")
            else:
                cells.append("–")
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Ratios (min over min).  e2e ÷ best PostGIS: the whole answer (parks and 片 zones against the "
        "target) over the parks-only PostGIS query; the same for the parks-only answer; e2e ÷ its own query: "
        "over the parks-and-zones query the engine actually runs (the engine's own overhead).  The four are "
        "timed interleaved.  tobler rel. diff: largest relative difference of tobler's per-park land from the engine's.",
        "",
        "| parcels | industrial | engine_e2e first call s | e2e ÷ best PostGIS | parks-only e2e ÷ best PostGIS | "
        "e2e ÷ its own query | tobler_e2e ÷ e2e | tobler_bbox_e2e ÷ e2e | tobler vs engine rel. diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        e2e = float(r["engine_e2e_min_s"])
        best = float(r["postgis_query_min_s"])
        lines.append(
            f"| {r['parcels']:,} | {r['industrial']:,} | {float(r['engine_e2e_first_s']):.3f} | {e2e / best:.2f} | "
            f"{float(r['engine_e2e_parks_min_s']) / best:.2f} | {e2e / float(r['postgis_query_zones_min_s']):.2f} | "
            f"{float(r['tobler_e2e_min_s']) / e2e:.1f} | {float(r['tobler_bbox_e2e_min_s']) / e2e:.1f} | "
            f"{float(r['tobler_vs_engine_max_rel_diff']):.1e} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shanghai = round(SHANGHAI_INDUSTRIAL_PARCELS / 0.45)  # generate_parcels draws 45 % industrial
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, shanghai, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--compare-repeats", type=int, default=15,
        help="rounds of the interleaved engine/query steps (cheap, and their ratio needs stable minimums)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "density.md")
    args = parser.parse_args()
    results = run(args.sizes, args.repeats, args.compare_repeats)
    table = write_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    machine = f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    args.out.write_text(
        f"# Density engine benchmark\n\nSynthetic parcels (seed 42), 7 synthetic parks, 3 synthetic zones; "
        f"supplied-industrial-land areas per park (and per zone for engine_e2e); {args.repeats} repeats after one "
        f"untimed warm-up call per step; the engine and PostGIS query steps interleaved, {args.compare_repeats} rounds; "
        f"machine: {machine}; load times include COPY and VACUUM ANALYZE.\n\n{table}\n"
    )
    print(table)


if __name__ == "__main__":
    main()
