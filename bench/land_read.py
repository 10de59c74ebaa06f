"""What reading a land file costs: read_chunks against the bare readers, time and peak RSS.

Writes (once, reused) an ``--n``-polygon DLTB-like layer of simple 5-vertex squares in
Songjiang as a GeoPackage (EPSG:4490), a GeoPackage in EPSG:4549 (metres: the transform
is measured too), a Shapefile with GBK attributes and no ``.cpg`` (as offices have them:
the encoding is detected, GDAL recodes GB18030 to UTF-8) and the same Shapefile in UTF-8,
then streams each one in a fresh process per step and reports wall time and peak RSS
(``VmHWM``; for ``ogr2ogr`` the child's maximum RSS):

- ``read_chunks``: :func:`gis_service.ingest.land.files.read_chunks` (decode, transform,
  checks, MultiPolygon, GeoDataFrame per chunk) after ``open_land_file``;
- ``open_arrow``: ``pyogrio.open_arrow`` batches of the chunk size, nothing done with them
  (the reading floor of the streaming path);
- ``open_arrow+wkb``: the same plus ``shapely.from_wkb`` and ``to_pandas`` per batch;
- ``read_arrow``: ``pyogrio.read_arrow`` of the whole layer in one table;
- ``skip/max``: ``pyogrio.read_dataframe`` with ``skip_features``/``max_features`` per chunk
  (the other way to chunk);
- ``ogr2ogr``: ``ogr2ogr -f GeoJSONSeq /dev/null`` when an ``ogr2ogr`` is on the PATH (it may
  be another GDAL version than pyogrio's; its version is printed).

Run: ``python bench/land_read.py --n 1000000`` (files go to ``--dir``, default
``/tmp/gis-land-bench``; ``--out`` also writes the table as Markdown).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's gis_service, also when run as bench/land_read.py

STEPS = ("read_chunks", "open_arrow", "open_arrow+wkb", "read_arrow", "skip/max", "ogr2ogr")
DLMC = ("工业用地", "水田", "城镇住宅用地", "公路用地")


def _files(folder: Path, n: int) -> dict[str, Path]:
    return {
        "GeoPackage EPSG:4490": folder / f"dltb_{n}.gpkg",
        "GeoPackage EPSG:4549": folder / f"dltb_{n}_4549.gpkg",
        "Shapefile GBK, no .cpg": folder / f"shp_{n}" / "DLTB.shp",
        "Shapefile UTF-8": folder / f"shp_{n}_utf8" / "DLTB.shp",
    }


def generate(folder: Path, n: int) -> dict[str, Path]:
    """The bench files (written once)."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    files = _files(folder, n)
    if all(path.exists() for path in files.values()):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    index = np.arange(n)
    side = int(np.ceil(np.sqrt(n)))
    lon = 121.02 + 0.36 * (index % side) / side  # Songjiang: lon 121.02-121.38, lat 30.92-31.12
    lat = 30.92 + 0.20 * (index // side) / side
    frame = gpd.GeoDataFrame(
        {
            "BSM": np.char.add("310117", np.char.zfill(index.astype(str), 10)),
            "DLBM": np.array(["0601", "0101", "0701", "1003"])[index % 4],
            "DLMC": np.array(DLMC)[index % 4],
            "ZLDWMC": "新桥村",
            "TBMJ": np.round(2000.0 + index % 997, 2),
        },
        geometry=shapely.box(lon, lat, lon + 0.3 / side, lat + 0.15 / side),
        crs=4490,
    )
    pyogrio.write_dataframe(frame, files["GeoPackage EPSG:4490"], layer="DLTB")
    pyogrio.write_dataframe(frame.to_crs(4549), files["GeoPackage EPSG:4549"], layer="DLTB")
    shp = files["Shapefile GBK, no .cpg"]
    shp.parent.mkdir(exist_ok=True)
    pyogrio.write_dataframe(frame, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    files["Shapefile UTF-8"].parent.mkdir(exist_ok=True)
    pyogrio.write_dataframe(frame, files["Shapefile UTF-8"], encoding="UTF-8")
    return files


# ----------------------------------------------------------------------------- steps (child process)
def _step(name: str, path: Path, chunk: int) -> int:
    """Run one step; returns the number of features read."""
    import pyogrio

    encoding = _encoding(path)
    if name == "read_chunks":
        from gis_service.ingest.land.files import (
            LandFileOptions,
            open_land_file,
            read_chunks,
        )

        options = LandFileOptions(chunk_size=chunk)
        with open_land_file(path, options) as land:
            return sum(len(c.frame) for c in read_chunks(land, options))
    if name in ("open_arrow", "open_arrow+wkb"):
        import shapely

        total = 0
        with pyogrio.open_arrow(path, batch_size=chunk, use_pyarrow=True, encoding=encoding) as (meta, reader):
            column = meta["geometry_name"] or "wkb_geometry"
            for batch in reader:
                total += batch.num_rows
                if name == "open_arrow+wkb":
                    shapely.from_wkb(batch.column(column).to_numpy(zero_copy_only=False))
                    batch.drop_columns([column]).to_pandas()
        return total
    if name == "read_arrow":
        return pyogrio.read_arrow(path, encoding=encoding)[1].num_rows
    if name == "skip/max":
        total, count = 0, int(pyogrio.read_info(path)["features"])
        while total < count:
            total += len(pyogrio.read_dataframe(path, skip_features=total, max_features=chunk, encoding=encoding))
        return total
    raise ValueError(name)


def _encoding(path: Path) -> str | None:
    """What read_chunks decides for the bench files (the bare readers are told)."""
    if path.suffix != ".shp":
        return None
    return "UTF-8" if path.with_suffix(".cpg").exists() else "GB18030"


def _hwm_mb() -> float:
    """This process's peak RSS (VmHWM, reset by exec unlike ru_maxrss), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(name: str, path: Path, chunk: int) -> None:
    """Measure one step in this (fresh) process and print it as JSON."""
    if name == "ogr2ogr":
        started = time.perf_counter()
        recode = ["-oo", f"ENCODING={_encoding(path)}"] if path.suffix == ".shp" else []
        subprocess.run(
            ["ogr2ogr", "-f", "GeoJSONSeq", "/dev/null", str(path), *recode], check=True, capture_output=True
        )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "base_mb": 0.0, "features": None}))
        return
    import geopandas  # noqa: F401  (imports are not the step's cost)
    import pyarrow  # noqa: F401
    import pyogrio  # noqa: F401
    import shapely  # noqa: F401

    import gis_service.ingest.land.files  # noqa: F401

    base = _hwm_mb()
    started = time.perf_counter()
    features = _step(name, path, chunk)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _hwm_mb(), "base_mb": base, "features": features}))


# ----------------------------------------------------------------------------- driver
def measure(name: str, path: Path, chunk: int, repeats: int) -> dict[str, float]:
    """Best time (and its peak RSS) of ``repeats`` fresh processes."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--path", str(path), "--chunk-size", str(chunk)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda run: run["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="polygons per file")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/gis-land-bench"))
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=STEPS)
    parser.add_argument("--out", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.chunk_size)
        return
    if args.generate_only:
        generate(args.dir, args.n)
        return
    started = time.perf_counter()  # the files are written in a child: this process stays small
    subprocess.run(
        [sys.executable, __file__, "--generate-only", "--n", str(args.n), "--dir", str(args.dir)], check=True
    )
    files = _files(args.dir, args.n)
    print(f"files ready in {time.perf_counter() - started:.1f} s in {args.dir}", flush=True)
    steps = [s for s in args.steps if s != "ogr2ogr" or shutil.which("ogr2ogr")]
    if "ogr2ogr" in steps:
        version = subprocess.run(["ogr2ogr", "--version"], check=True, capture_output=True, text=True).stdout.strip()
        print(f"ogr2ogr: {version}", flush=True)
    rows = ["| file | step | features | seconds | peak RSS MB | RSS after imports MB |", "|---|---|---|---|---|---|"]
    for label, path in files.items():
        for step in steps:
            result = measure(step, path, args.chunk_size, args.repeats)
            features = "-" if result["features"] is None else f"{result['features']:,}"
            rows.append(
                f"| {label} | {step} | {features} | {result['seconds']:.2f} | {result['peak_mb']:.0f} | "
                f"{result['base_mb']:.0f} |"
            )
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    if args.out:
        args.out.write_text(f"# Land file reading, {args.n:,} polygons, chunks of {args.chunk_size:,}\n\n{table}\n")


if __name__ == "__main__":
    main()
