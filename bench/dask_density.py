"""Benchmark of the density answer's parcel step on Dask against PostGIS (not a timed test).

For each size (default 10M synthetic parcels, seeded, over the Songjiang parks box, with the
7 synthetic parks and 3 片 zones of ``bench/density.py``): load them into a throwaway
PostGIS (COPY), export every layer to GeoParquet (``export_parquet``: parcels Hilbert-sorted,
500k rows a file), then time one run each of the whole density answer (zone level, 片):

- ``postgis``: :func:`gis_service.answers.density.compute_density`, parcel step in PostGIS;
- ``dask``: the same call with ``parcel_engine="dask"`` on a local 2-worker cluster
  (``processes=True``, 1 thread each), reading the parcels from the GeoParquet files.

It checks that both give the same rows and records the ratio and the peak RSS of each Dask
worker process during its run (sampled every 0.2 s) and of this process (PostgreSQL's
backend memory is not included).

Usage: ``.venv/bin/python bench/dask_density.py --sizes 10000000``.
Writes ``bench/results/dask_density.md`` (and .json).  Requires ``pip install -e .[bench,scale]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).parent))
from density import PeakRss  # noqa: E402  (the sibling bench's RSS sampler)

from gis_service.answers import DensityQuestion  # noqa: E402
from gis_service.answers.density import compute_density  # noqa: E402
from gis_service.answers.inputs import ParcelStep  # noqa: E402
from gis_service.export import export_parquet  # noqa: E402
from gis_service.testing import load_synthetic_parcels, load_synthetic_units, throwaway_postgis  # noqa: E402

RESULTS = Path(__file__).parent / "results"
QUESTION = DensityQuestion(year=2020, level="pian")


def _worker_peaks(client: object, stop: threading.Event, peaks: dict[str, float]) -> None:
    """Peak RSS (MB) of each worker process while ``stop`` is not set."""
    while not stop.is_set():
        for worker, rss in client.run(lambda: psutil.Process().memory_info().rss).items():  # type: ignore[attr-defined]
            peaks[worker] = max(peaks.get(worker, 0.0), rss / 2**20)
        stop.wait(0.2)


#: parcels generated and written at a time: 10M parcels as one GeoDataFrame do not fit beside
#: the export and the database on a 24 GB machine
STRIP = 1_000_000


def load_parcels(engine: object, n: int, seed: int = 42) -> dict[str, float]:
    """``n`` synthetic parcels; above :data:`STRIP`, generated and written strip by strip (the
    parks box cut into horizontal strips, each its own non-overlapping grid), so the bench's
    own memory stays flat.  Up to :data:`STRIP` the data are those of the other benches."""
    if n <= STRIP:
        return load_synthetic_parcels(engine, n, seed=seed)[1]  # type: ignore[arg-type]
    from sqlalchemy import text

    from gis_service.parcels import generate_parcels, write_parcels
    from gis_service.parcels.synthetic import SONGJIANG_PARKS_BBOX

    minx, miny, maxx, maxy = SONGJIANG_PARKS_BBOX
    strips = -(-n // STRIP)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("TRUNCATE land_parcel"))
    t0 = time.perf_counter()
    for i in range(strips):
        count = n // strips + (1 if i < n % strips else 0)
        box = (minx, miny + (maxy - miny) * i / strips, maxx, miny + (maxy - miny) * (i + 1) / strips)
        write_parcels(engine, generate_parcels(count, seed=seed + i, bbox=box))  # type: ignore[arg-type]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # type: ignore[attr-defined]
        conn.execute(text("VACUUM ANALYZE land_parcel"))
    return {"load_s": time.perf_counter() - t0}


def run(sizes: list[int]) -> list[dict[str, object]]:
    from distributed import Client, LocalCluster

    results = []
    with throwaway_postgis("bench", prefix="gis-bench-pg-") as cluster, tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as dask_cluster, \
            Client(dask_cluster) as client:
        engine = create_engine(cluster.url())
        load_synthetic_units(engine)
        for n in sizes:
            times = load_parcels(engine, n, seed=42)
            t0 = time.perf_counter()
            directory = Path(tmp) / f"pq{n}"
            export_parquet(engine, directory)
            row: dict[str, object] = {"parcels": n, "load_s": round(times["load_s"], 1),
                                      "export_parquet_s": round(time.perf_counter() - t0, 1)}
            with PeakRss() as rss:
                t0 = time.perf_counter()
                pg = compute_density(engine, QUESTION)
                row["postgis_s"] = round(time.perf_counter() - t0, 2)
            row["postgis_client_peak_mb"] = round(rss.growth_mb, 1)
            step = ParcelStep("dask", dask_cluster.scheduler_address, str(directory))
            peaks: dict[str, float] = {}
            stop = threading.Event()
            sampler = threading.Thread(target=_worker_peaks, args=(client, stop, peaks), daemon=True)
            sampler.start()
            t0 = time.perf_counter()
            dk = compute_density(engine, QUESTION, step=step)
            row["dask_s"] = round(time.perf_counter() - t0, 2)
            stop.set()
            sampler.join()
            row["dask_worker_peak_mb"] = [round(v, 1) for v in peaks.values()]
            row["dask_over_postgis"] = round(row["dask_s"] / row["postgis_s"], 2)  # type: ignore[operator]
            a = pg.rows["density_yi_per_km2"].to_numpy(float)
            b = dk.rows["density_yi_per_km2"].to_numpy(float)
            row["same_rows"] = bool(np.allclose(a, b, rtol=1e-6, equal_nan=True) and list(pg.rows["status"]) == list(dk.rows["status"]))
            print(row, flush=True)
            results.append(row)
            engine.dispose()
    return results


def write_table(results: list[dict[str, object]], note: str) -> str:
    lines = [
        "# Density answer: parcel step on Dask (GeoParquet) vs PostGIS",
        "",
        "One run each of the 片-level density answer (`compute_density`, no cache) on synthetic parcels;",
        "Dask: local cluster, 2 worker processes × 1 thread, parcels read from the GeoParquet export;",
        "PostGIS: the throwaway cluster of the bench, same machine (2 cores shared).",
        "",
        note,
        "",
        "| parcels | load (s) | export parquet (s) | PostGIS (s) | Dask (s) | Dask / PostGIS | peak RSS per worker (MB) | same rows |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['parcels']:,} | {r['load_s']} | {r['export_parquet_s']} | {r['postgis_s']} | {r['dask_s']} | "
                     f"{r['dask_over_postgis']} | {', '.join(map(str, r['dask_worker_peak_mb']))} | {r['same_rows']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--note", default="")
    parser.add_argument("--out", type=Path, default=RESULTS / "dask_density.md")
    args = parser.parse_args()
    results = run(args.sizes)
    args.out.write_text(write_table(results, args.note), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
