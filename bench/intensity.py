"""Benchmark of the land-intensity answer (开发区土地集约利用评价) against the density answer.

Synthetic parcels (:func:`gis_service.testing.load_synthetic_parcels`, seed 42: a parcel
register with land use, supply and built flags) and as many synthetic buildings (one per
parcel: the parcel shrunk to a random 20–60 % of its side around its centre, 1–12 floors,
a third given 层数 only so their floor area is estimated), 7 synthetic parks and 3 zones,
in a throwaway PostGIS.  Timed, interleaved round by round so a drift of the shared cores
hits both alike (min and median over the rounds, after one untimed warm-up call each):

- ``intensity_e2e``: :func:`gis_service.answers.intensity.compute_intensity` for the parks
  (and blocks) and for the zones — every indicator, sources, type, scores, ranks;
- ``density_e2e``: :func:`gis_service.answers.density.compute_density` for the parks and for
  the 片 zones (what ``bench/density.py`` calls engine_e2e plus engine_e2e_parks).

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
from gis_service.answers.intensity import IntensityQuestion, compute_intensity
from gis_service.ingest.land.write import ewkb_hex
from gis_service.testing import load_synthetic_parcels, load_synthetic_units, throwaway_postgis

RESULTS = Path(__file__).parent / "results"
YEAR = 2020


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


def run(sizes: list[int], rounds: int) -> list[dict[str, object]]:
    rows = []
    with throwaway_postgis("bench", prefix="gis-bench-pg-") as cluster:
        engine = create_engine(cluster.url())
        load_synthetic_units(engine)
        for n in sizes:
            parcels, load = load_synthetic_parcels(engine, n, seed=42)
            t_buildings = load_buildings(engine, parcels)
            steps = {
                "intensity_e2e": lambda: (compute_intensity(engine, IntensityQuestion(year=YEAR)),
                                          compute_intensity(engine, IntensityQuestion(year=YEAR, level="zone"))),
                "density_e2e": lambda: (compute_density(engine, DensityQuestion(year=YEAR)),
                                        compute_density(engine, DensityQuestion(year=YEAR, level="pian"))),
            }
            stats = interleaved(steps, rounds)
            parks = compute_intensity(engine, IntensityQuestion(year=YEAR)).rows
            row = {"parcels": n, "buildings": n, "generate_and_load_parcels_s": round(load["generate_s"] + load["load_s"], 1),
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
        f"Synthetic parcels (seed 42) and one synthetic building per parcel, 7 synthetic parks, 3 synthetic zones; "
        f"one warm-up call then {rounds} interleaved rounds; machine: 2 CPUs (shared with other jobs), 24 GiB RAM. "
        "intensity_e2e = every indicator for the parks and for the zones (compute_intensity, no cache); "
        "density_e2e = the density answer for the parks and for the 片 zones (compute_density, no cache).",
        "",
        "| parcels | buildings | buildings in parks | intensity_e2e min / median s | density_e2e min / median s | ratio (min/min) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['parcels']:,} | {r['buildings']:,} | {r['buildings_in_parks']:,} | "
                     f"{r['intensity_e2e_min_s']} / {r['intensity_e2e_median_s']} | "
                     f"{r['density_e2e_min_s']} / {r['density_e2e_median_s']} | {r['ratio_min']} |")
    (RESULTS / "intensity.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    write(run(args.sizes, args.rounds), args.rounds)


if __name__ == "__main__":
    main()
