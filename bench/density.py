"""Benchmark of the density engine on synthetic parcels (not a timed test).

Generates 10k, 100k and 1M synthetic parcels (seeded) over the Songjiang parks box, with
7 synthetic park boundaries and 3 synthetic zones, loads them into a throwaway PostGIS
(COPY), and times in one run, min and median over repeats with the peak RSS growth:

- ``engine_e2e``: database → per-park and per-zone answer against 80 亿元/km²
  (:func:`gis_service.metrics.answer.park_zone_answer`, parcel areas in PostGIS);
- ``postgis_query``: the parcel-by-park supplied-industrial-land query with the
  ST_ContainsProperly short-cut; ``postgis_plain``: the same with ST_Intersection on every pair;
- ``geopandas``: :func:`gis_service.metrics.bases.parcel_bases` on the in-memory frame
  (spatial index built inside the timing);
- ``tobler``: ``tobler.area_weighted.area_interpolate`` (parcels pre-projected to EPSG:4549);
- ``overlay``: ``geopandas.overlay`` + area sum (same pre-projected frames);
- ``dask``: :func:`gis_service.metrics.dask_path.parcel_bases_dask` on a 2-worker LocalCluster
  (parcels persisted on the workers before timing).

Usage: ``.venv/bin/python bench/density.py --sizes 10000 100000 1000000 --repeats 3``.
Writes ``bench/results/density.md`` (and .json).  Requires ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import psutil
import shapely
from shapely.geometry import box
from sqlalchemy import create_engine, text

from gis_service.db import migrate
from gis_service.db.cluster import LocalCluster
from gis_service.metrics.answer import park_zone_answer
from gis_service.metrics.bases import parcel_bases, parcel_mask
from gis_service.metrics.postgis import parcel_piece_areas
from gis_service.parcels import generate_parcels, synthetic_boundaries, write_parcels
from gis_service.parcels.synthetic import SONGJIANG_PARKS_BBOX
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the test helpers
from tests.metrics.helpers import insert_indicator, insert_park, insert_zone

warnings.filterwarnings("ignore")
RESULTS = Path(__file__).parent / "results"

PLAIN_SQL = text(
    """
SELECT pb.park_id, SUM(ST_Area(ST_Transform(ST_Intersection(pb.geom, p.geom), 4549))) AS m2
FROM park_boundary pb JOIN land_parcel p ON ST_Intersects(pb.geom, p.geom)
WHERE pb.valid_from <= :on AND (pb.valid_to IS NULL OR pb.valid_to > :on)
  AND p.land_use_class = 'industrial' AND p.is_supplied AND (p.supply_year IS NULL OR p.supply_year <= :year)
GROUP BY pb.park_id
"""
)


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
    times, mem = [], []
    for _ in range(repeats):
        with PeakRss() as rss:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        mem.append(rss.growth_mb)
    return {"min_s": min(times), "median_s": statistics.median(times), "peak_mb": max(mem)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_database(url: str) -> tuple[gpd.GeoDataFrame, object]:
    engine = create_engine(url)
    parks = synthetic_boundaries(7, seed=5, bbox=SONGJIANG_PARKS_BBOX, radius_deg=0.009)
    ids = []
    for row in parks.itertuples():
        pid, bid = insert_park(engine, row.unit_id, row.unit_name, row.geometry)
        insert_indicator(engine, pid, 2020, "output", 40.0 + 10 * len(ids), "亿元", "synthetic benchmark figure")
        ids.append((pid, bid))
    minx, miny, maxx, maxy = SONGJIANG_PARKS_BBOX
    edges = np.linspace(minx, maxx, 4)
    for k in range(3):
        insert_zone(engine, f"Z{k}", f"合成片区{k + 1}", box(edges[k], miny, edges[k + 1], maxy))
    units = parks.assign(unit_id=[i[0] for i in ids], boundary_version=[i[1] for i in ids])
    return units, engine


def run(sizes: list[int], repeats: int) -> list[dict[str, object]]:
    import tobler.area_weighted
    from distributed import Client, LocalCluster as DaskCluster

    import dask_geopandas
    from gis_service.metrics.dask_path import parcel_bases_dask

    root = Path(tempfile.mkdtemp(prefix="gis-bench-pg-"))
    root.chmod(0o755)
    cluster = LocalCluster(root / "pg", port=free_port(), database="bench")
    cluster.start()
    results: list[dict[str, object]] = []
    try:
        migrate.upgrade(cluster.url())
        units, engine = setup_database(cluster.url())
        dask_cluster = DaskCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(dask_cluster)
        for n in sizes:
            t0 = time.perf_counter()
            parcels = generate_parcels(n, seed=42)
            t_gen = time.perf_counter() - t0
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE land_parcel"))
            t0 = time.perf_counter()
            write_parcels(engine, parcels)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE land_parcel"))
            t_load = time.perf_counter() - t0
            supplied = parcel_mask(parcels, "supplied_industrial_land", year=2020)
            n_industrial = int((parcels["land_use_class"] == "industrial").sum())
            sel = parcels[supplied].to_crs(4549)
            sel["area_m2"] = sel.area
            parks_4549 = units[["unit_id", "geometry"]].to_crs(4549)
            pairs_info = candidate_stats(units, parcels, supplied)
            row: dict[str, object] = {
                "parcels": n,
                "industrial": n_industrial,
                "supplied_industrial": int(supplied.sum()),
                "generate_s": round(t_gen, 2),
                "load_s": round(t_load, 2),
                **pairs_info,
            }
            geo = lambda: parcel_bases(units, gpd.GeoDataFrame(parcels.drop(columns="geometry"), geometry=np.asarray(parcels.geometry.array), crs=4326), year=2020)
            ddf = dask_geopandas.from_geopandas(parcels, npartitions=8).persist()
            timings = {
                "engine_e2e": lambda: park_zone_answer(engine, year=2020, zone_kind="pian"),
                "postgis_query": lambda: parcel_piece_areas(engine, year=2020),
                "postgis_plain": lambda: engine.connect().execute(PLAIN_SQL, {"on": "2020-12-31", "year": 2020}).all(),
                "geopandas": geo,
                "tobler": lambda: tobler.area_weighted.area_interpolate(sel, parks_4549, extensive_variables=["area_m2"]),
                "overlay": lambda: gpd.overlay(sel, parks_4549, how="intersection", keep_geom_type=True).area.groupby(level=0).sum(),
                "dask": lambda: parcel_bases_dask(units, ddf, year=2020),
            }
            for name, fn in timings.items():
                if name == "overlay" and n > 1_000_000:
                    continue
                stats = timed(fn, repeats)
                for key, value in stats.items():
                    row[f"{name}_{key}"] = round(value, 4 if key != "peak_mb" else 1)
                print(n, name, stats, flush=True)
            results.append(row)
            del ddf
        client.close()
        dask_cluster.close()
        engine.dispose()
    finally:
        cluster.destroy()
    return results


def candidate_stats(units: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame, mask: np.ndarray) -> dict[str, object]:
    """How many supplied-industrial parcels are candidates of a park, and how many cross a boundary."""
    geoms = np.asarray(units.geometry.array)
    ui, pj = parcels.sindex.query(geoms, predicate="intersects")
    keep = mask[pj]
    ui, pj = ui[keep], pj[keep]
    inside = shapely.contains_properly(geoms[ui], np.asarray(parcels.geometry.array)[pj])
    return {"pairs": int(len(ui)), "crossing_pct": round(100 * float((~inside).mean()) if len(ui) else 0.0, 2)}


def write_table(results: list[dict[str, object]]) -> str:
    steps = ["engine_e2e", "postgis_query", "postgis_plain", "geopandas", "tobler", "overlay", "dask"]
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "density.md")
    args = parser.parse_args()
    results = run(args.sizes, args.repeats)
    table = write_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    machine = f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    args.out.write_text(
        f"# Density engine benchmark\n\nSynthetic parcels (seed 42), 7 synthetic parks, 3 synthetic zones; "
        f"supplied-industrial-land areas per park (and per zone for engine_e2e); {args.repeats} repeats; "
        f"machine: {machine}; load times include COPY and VACUUM ANALYZE.\n\n{table}\n"
    )
    print(table)


if __name__ == "__main__":
    main()
