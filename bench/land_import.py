"""Importing a land-use survey snapshot (三调 DLTB) against ``ogr2ogr -f PostgreSQL``: time and peak RSS.

Writes (once, reused; ``--dir``, default ``/tmp/gis-land-bench``) a DLTB-like GeoPackage of ``--n``
polygon patches over Songjiang in EPSG:4490: a jittered grid **partition** (every node of the grid
moved at random by up to 15 % of a cell; every cell edge carries ``--edge-points`` points displaced
sideways by up to 8 %, shared exactly by the two patches of the edge, so the patches tile the box
without overlaps or gaps, as a survey's patches do), lon 121.052-121.348, lat 30.952-31.098, with
the fields of a DLTB: ``BSM``, ``DLBM`` (三调 codes 0101 0201 0301 0404 0601 0701 0702 1004 1101 in
realistic shares), the matching ``DLMC``, ``QSDWMC`` and ``TBMJ`` (m²).

Then, in a throwaway PostGIS (``gis_service.testing.throwaway_postgis``, the schema of the
migrations), ``--rounds`` rounds; each round, the order of the first two rotating, times in a fresh
process each (wall time and the process's peak RSS, ``ru_maxrss`` from ``os.wait4``):

- ``ours``: ``python -m gis_service import landuse FILE --year 2020 --source bench --json`` (the CLI,
  ``GIS_DATABASE_URL`` set) into an emptied ``land_parcel`` (TRUNCATE before, outside the timing): read
  in chunks, checks, classification, COPY into ``land_parcel`` with its indexes, generated ``area_m2``
  and triggers, the partition (overlap) check over all patches, the area sums, one transaction;
- ``ogr2ogr``: ``ogr2ogr -f PostgreSQL PG:... FILE -nln ogr_patches -lco GEOMETRY_NAME=geom -t_srs
  EPSG:4326 --config PG_USE_COPY YES -overwrite`` (a plain table with a GiST index, no checks);
- ``ours_reimport``: the same CLI import again, right after ``ours``: the replace path (the year's
  snapshot deleted, 1M rows, and written again in the same transaction).

A ``CHECKPOINT`` runs before every step (outside its timing), so no step pays for the previous
step's dirty pages.  The PostgreSQL backend's memory is not counted (for either side).

``--profile`` also runs the import once in-process with timers around its stages (read, checks,
classification, EWKB, CSV, COPY, overlap check, area sums, commit) and reports them.

Run: ``python bench/land_import.py --n 1000000 --rounds 2`` (writes ``bench/results/land_import.md`` and
``.json``; ``--n 20000 --rounds 1 --out /tmp/land_import.md`` for a smoke run).  ``ogr2ogr`` is not
installed by the project's bootstrap (Debian: ``apt-get install gdal-bin``); without it the bench
says so and times only ours.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's gis_service, also when run as bench/land_import.py

RESULTS = ROOT / "bench" / "results"
YEAR = 2020
#: 三调 codes, their DLMC, and their share of the patches (roughly a suburban district's)
CODES = (
    ("0101", "水田", 0.14), ("0201", "果园", 0.04), ("0301", "乔木林地", 0.08), ("0404", "其他草地", 0.05),
    ("0601", "工业用地", 0.16), ("0701", "城镇住宅用地", 0.12), ("0702", "农村宅基地", 0.20),
    ("1004", "城镇村道路用地", 0.12), ("1101", "河流水面", 0.09),
)
VILLAGES = ("新桥村", "九亭村", "泗泾村", "洞泾村", "佘山村", "小昆山村", "石湖荡村", "新浜村", "叶榭村", "车墩村")
BOX = (121.052, 30.952, 121.348, 31.098)  # lon/lat inside 121.05-121.35, 30.95-31.10


# ----------------------------------------------------------------------------- data
def partition(n: int, *, edge_points: int = 2, seed: int = 7):  # type: ignore[no-untyped-def]
    """``n`` polygons tiling (part of) :data:`BOX` in a jittered grid, row by row; and the grid's shape."""
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    lon0, lat0, lon1, lat1 = BOX
    aspect = (lon1 - lon0) * np.cos(np.radians(31.0)) / (lat1 - lat0)  # cells about square in metres
    nx = int(np.ceil(np.sqrt(n * aspect)))
    ny = int(np.ceil(n / nx))
    dx, dy = (lon1 - lon0) / nx, (lat1 - lat0) / ny
    gx, gy = np.meshgrid(lon0 + dx * np.arange(nx + 1), lat0 + dy * np.arange(ny + 1))
    jx = rng.uniform(-0.15, 0.15, gx.shape) * dx
    jy = rng.uniform(-0.15, 0.15, gy.shape) * dy
    jx[:, [0, -1]] = 0.0  # the outer nodes stay on the box
    jy[[0, -1], :] = 0.0
    nodes = np.stack([gx + jx, gy + jy], axis=-1)  # (ny+1, nx+1, 2)
    t = (np.arange(1, edge_points + 1) / (edge_points + 1))[None, None, :, None]
    a, b = nodes[:, :-1, None, :], nodes[:, 1:, None, :]  # horizontal edges, west to east
    hor = a + (b - a) * t
    hor[..., 1] += rng.uniform(-0.08, 0.08, hor.shape[:-1]) * dy * (np.arange(ny + 1) % ny != 0)[:, None, None]
    a, b = nodes[:-1, :, None, :], nodes[1:, :, None, :]  # vertical edges, south to north
    ver = a + (b - a) * t
    ver[..., 0] += rng.uniform(-0.08, 0.08, ver.shape[:-1]) * dx * (np.arange(nx + 1) % nx != 0)[None, :, None]
    j, i = np.divmod(np.arange(n), nx)
    rings = np.concatenate(
        [
            nodes[j, i][:, None], hor[j, i],  # south edge, west to east
            nodes[j, i + 1][:, None], ver[j, i + 1],  # east edge, south to north
            nodes[j + 1, i + 1][:, None], hor[j + 1, i][:, ::-1],  # north edge, east to west
            nodes[j + 1, i][:, None], ver[j, i][:, ::-1],  # west edge, north to south
            nodes[j, i][:, None],
        ],
        axis=1,
    )
    return shapely.polygons(rings), (nx, ny)


def bench_file(folder: Path, n: int, edge_points: int) -> Path:
    return folder / f"dltb_partition_{n}_e{edge_points}.gpkg"


def generate(folder: Path, n: int, edge_points: int) -> dict[str, object]:
    """Write the bench file once; returns its facts (kept beside it as JSON)."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    from gis_service.coords.crs import projected_areas_m2

    path = bench_file(folder, n, edge_points)
    facts_path = path.with_suffix(".json")
    if path.exists() and facts_path.exists():
        return json.loads(facts_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    geoms, (nx, ny) = partition(n, edge_points=edge_points)
    if not shapely.is_valid(geoms).all():
        raise RuntimeError("the generated partition has invalid polygons")
    rng = np.random.default_rng(11)
    shares = np.array([share for _, _, share in CODES])
    kind = rng.choice(len(CODES), size=n, p=shares / shares.sum())
    areas = projected_areas_m2(geoms, "EPSG:4326")
    frame = gpd.GeoDataFrame(
        {
            "BSM": np.char.add("310117", np.char.zfill(np.arange(1, n + 1).astype(str), 10)),
            "DLBM": np.array([c for c, _, _ in CODES])[kind],
            "DLMC": np.array([name for _, name, _ in CODES])[kind],
            "QSDWMC": np.array(VILLAGES)[(np.arange(n) * len(VILLAGES)) // n],
            "TBMJ": np.round(areas, 2),
        },
        geometry=geoms,
        crs="EPSG:4490",
    )
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, tmp, layer="DLTB", driver="GPKG", use_arrow=True)
    tmp.rename(path)
    bounds = shapely.total_bounds(geoms)
    facts = {
        "file": str(path), "features": n, "grid": [nx, ny], "edge_points": edge_points,
        "vertices_per_patch": int(shapely.get_num_coordinates(geoms[0])), "bytes": path.stat().st_size,
        "bounds": [round(float(v), 6) for v in bounds], "total_area_km2": float(areas.sum()) / 1e6,
        "area_by_code_km2": {c: float(areas[kind == k].sum()) / 1e6 for k, (c, _, _) in enumerate(CODES)},
        "generate_s": round(time.perf_counter() - started, 1),
    }
    facts_path.write_text(json.dumps(facts, indent=1))
    return facts


# ----------------------------------------------------------------------------- steps
def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict[str, object]:
    """Run ``cmd`` (in ``cwd``); wall time, peak RSS of the process (MB) and its output."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out, err = b"", b""
    # communicate() would reap the child and lose its rusage: read the pipes, then wait4 ourselves
    import threading

    chunks: dict[str, list[bytes]] = {"out": [], "err": []}

    def drain(stream, key: str) -> None:  # type: ignore[no-untyped-def]
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    readers = [threading.Thread(target=drain, args=(proc.stdout, "out")),
               threading.Thread(target=drain, args=(proc.stderr, "err"))]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = b"".join(chunks["out"]), b"".join(chunks["err"])
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}... failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "stdout": out.decode(errors="replace")}


def ours_cmd(path: Path) -> list[str]:
    return [sys.executable, "-m", "gis_service", "import", "landuse", str(path), "--year", str(YEAR),
            "--source", "bench", "--json"]


def ogr_cmd(ogr2ogr: str, pg: str, path: Path) -> list[str]:
    return [ogr2ogr, "-f", "PostgreSQL", pg, str(path), "-nln", "ogr_patches", "-lco", "GEOMETRY_NAME=geom",
            "-t_srs", "EPSG:4326", "--config", "PG_USE_COPY", "YES", "-overwrite"]


def pg_connection_string(url: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"PG:host={u.host} port={u.port} dbname={u.database} user={u.username} password={u.password}"


def child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = url
    return env


# ----------------------------------------------------------------------------- in-process stage profile
class _Stages:
    """Seconds per stage, summed over calls, by thread (worker / writer)."""

    def __init__(self) -> None:
        import threading

        self.seconds: dict[str, float] = {}
        self.lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self.lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def timed(self, name: str, func):  # type: ignore[no-untyped-def]
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t0)

        return wrapper

    def timed_iter(self, name: str, func):  # type: ignore[no-untyped-def]
        """A generator function whose every next() is timed (what it does between yields)."""
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            it = iter(func(*args, **kwargs))
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    self.add(name, time.perf_counter() - t0)
                    return
                self.add(name, time.perf_counter() - t0)
                yield item

        return wrapper


#: stage name, where it runs, what it is
STAGES = (
    ("read", "worker", "pyogrio Arrow batches from the file (files._tables)"),
    ("checks", "worker", "decode WKB, transform, type/extent/validity checks, MultiPolygon, GeoDataFrame (files._chunk)"),
    ("classify", "worker", "code system detection and classification, code/name check (codes.classify)"),
    ("partition_add", "worker", "the streaming partition check, per chunk (PartitionCheck.add)"),
    ("ewkb", "worker", "EWKB of the geometries (write.ewkb)"),
    ("encode", "worker", "COPY binary tuples (write._binary_copy_parts)"),
    ("wait_rows", "writer", "the writer waiting for the worker's next chunk"),
    ("copy", "writer", "COPY of the chunks (PostgreSQL parsing, indexes, FK checks, generated area_m2)"),
    ("replace", "writer", "counting and deleting the year's previous snapshot (_count, _replace_superseded)"),
    ("partition_final", "writer", "PartitionCheck.proven at the end"),
    ("partition_pairwise", "writer", "reading back and the pairwise test, only when the proof fails"),
    ("area_sums", "writer", "SUM(area_m2) by class (_area_by_class)"),
    ("count_after", "writer", "the count after (_count)"),
    ("commit", "writer", "audit row and COMMIT"),
)


def profile_child(url: str, path: Path) -> dict[str, object]:
    """One import in this process with timers around its stages, and an RSS timeline."""
    import threading

    from sqlalchemy import create_engine, event

    import gis_service.ingest.land.files as files
    import gis_service.ingest.land.overlaps as overlaps
    import gis_service.ingest.land.survey as survey
    import gis_service.ingest.land.write as write
    from gis_service.ingest.land import SurveyOptions, import_landuse

    stages = _Stages()
    files._tables = stages.timed_iter("read", files._tables)
    files._chunk = stages.timed("checks", files._chunk)
    survey.classify = stages.timed("classify", survey.classify)
    survey.detect_code_system = stages.timed("classify", survey.detect_code_system)
    overlaps.PartitionCheck.add = stages.timed("partition_add", overlaps.PartitionCheck.add)
    overlaps.PartitionCheck.proven = stages.timed("partition_final", overlaps.PartitionCheck.proven)
    survey.partition_overlaps = stages.timed("partition_pairwise", survey.partition_overlaps)
    survey._SurveyState._written = stages.timed("partition_pairwise", survey._SurveyState._written)
    survey.ewkb = stages.timed("ewkb", survey.ewkb)
    write._binary_copy_parts = stages.timed("encode", write._binary_copy_parts)
    write._area_by_class = stages.timed("area_sums", write._area_by_class)
    write._replace_superseded = stages.timed("replace", write._replace_superseded)
    count = write._count
    calls = {"count": 0}

    def timed_count(conn, header):  # type: ignore[no-untyped-def]
        calls["count"] += 1
        return stages.timed("replace" if calls["count"] == 1 else "count_after", count)(conn, header)

    write._count = timed_count
    iterate = write._Prepared.__iter__
    write._Prepared.__iter__ = stages.timed_iter("wait_rows", iterate)
    marks: dict[str, float] = {}
    engine = create_engine(url)

    @event.listens_for(engine, "commit")
    def _before_commit(conn) -> None:  # type: ignore[no-untyped-def]
        marks["commit_start"] = time.perf_counter()

    original_audit = write.audit.record

    def audit_record(*args, **kwargs):  # type: ignore[no-untyped-def]
        marks["audit_start"] = time.perf_counter()
        return original_audit(*args, **kwargs)

    write.audit.record = audit_record
    original_final = survey._SurveyState.final_check

    def final_check(self, conn, import_id):  # type: ignore[no-untyped-def]
        marks["copy_end"] = time.perf_counter()
        return original_final(self, conn, import_id)

    survey._SurveyState.final_check = final_check
    rss: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            rss.append((time.perf_counter() - started, _rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    base = _rss_mb()
    started = time.perf_counter()
    sampler.start()
    report = import_landuse(engine, path, SurveyOptions(year=YEAR, source_document="bench"), actor="bench")
    total = time.perf_counter() - started
    done.set()
    sampler.join()
    ended = started + total
    stages.add("commit", ended - marks.get("audit_start", ended))
    s = stages.seconds
    # the writer's COPY time: from its first chunk request to the final check, less its waits
    first_copy = marks["copy_end"] - started - s.get("replace", 0.0) - s.get("wait_rows", 0.0)
    s["copy"] = max(first_copy, 0.0)
    return {
        "seconds": round(total, 2), "features": report.features, "overlap_pairs": report.overlap_pairs,
        "stages": {k: round(v, 2) for k, v in s.items()}, "rss_base_mb": round(base, 0),
        "rss_peak_mb": round(max((m for _, m in rss), default=base), 0),
        "rss_timeline": [(round(t, 1), round(m)) for t, m in rss[:: max(1, len(rss) // 60)]],
        "vm_hwm_mb": round(_hwm_mb(), 0),
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------------- driver
def empty_land(engine) -> None:  # type: ignore[no-untyped-def]
    """No land rows and no imports (outside the timings; TRUNCATE leaves no dead rows)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("TRUNCATE land_parcel, land_import"))


def checkpoint(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))


def scalar(engine, sql: str) -> object:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def run_ours(engine, url: str, path: Path, facts: dict[str, object], *, fresh: bool) -> dict[str, object]:  # type: ignore[no-untyped-def]
    if fresh:
        empty_land(engine)
    checkpoint(engine)
    result = run_measured(ours_cmd(path), child_env(url))
    report = json.loads(result.pop("stdout"))
    if report["features"] != facts["features"] or report["overlap_pairs"] != 0:
        raise RuntimeError(f"our import wrote {report['features']} features, {report['overlap_pairs']} overlaps")
    total = sum(report["area_by_class_km2"].values())
    if abs(total - float(facts["total_area_km2"])) > 1e-3:  # type: ignore[arg-type]
        raise RuntimeError(f"our import's areas sum to {total} km², the file's to {facts['total_area_km2']}")
    result["features_before"] = report["features_before"]
    result["report_seconds"] = report["seconds"]
    return result


def run_ogr(engine, ogr2ogr: str, url: str, path: Path, facts: dict[str, object]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    checkpoint(engine)
    result = run_measured(ogr_cmd(ogr2ogr, pg_connection_string(url), path), child_env(url))
    result.pop("stdout")
    rows = scalar(engine, "SELECT count(*) FROM ogr_patches")
    if rows != facts["features"]:
        raise RuntimeError(f"ogr2ogr wrote {rows} rows")
    return result


def measure_pg_parts(engine, url: str, path: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """What the table's parts cost PostgreSQL: the land rows of the last import COPYed (binary) into
    copies of land_parcel without some of its parts (outside the interleaved rounds)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    columns = ("layer, import_id, external_id, geom, land_use_code, code_system, land_use_name, land_use_class, "
               "is_supplied, supply_year, is_built, supervision_no, project_name, supply_method, contract_date, "
               "recovery_date, stated_area_ha, is_synthetic, source_document")
    variants = {
        "land_parcel as is (indexes, FK, generated area_m2, trigger)": None,
        "same without the foreign key and trigger": "(LIKE land_parcel INCLUDING DEFAULTS INCLUDING GENERATED "
                                                    "INCLUDING CONSTRAINTS INCLUDING INDEXES)",
        "no indexes, no FK (generated area_m2 kept)": "(LIKE land_parcel INCLUDING DEFAULTS INCLUDING GENERATED "
                                                      "INCLUDING CONSTRAINTS)",
        "no indexes, no FK, no generated area_m2": "(LIKE land_parcel INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
    }
    out: dict[str, float] = {}
    with psycopg.connect(host=u.host, port=u.port, dbname=u.database, user=u.username, password=u.password,
                         autocommit=True) as conn:
        import_id = conn.execute("SELECT max(import_id) FROM land_parcel").fetchone()[0]  # type: ignore[index]
        data = bytearray()
        with conn.cursor() as cur, cur.copy(f"COPY (SELECT {columns} FROM land_parcel WHERE import_id = {import_id}) "
                                            "TO STDOUT WITH (FORMAT binary)") as copy:
            for block in copy:
                data += block
        for label, definition in variants.items():
            table = "land_parcel" if definition is None else "bench_parts"
            conn.execute("DROP TABLE IF EXISTS bench_parts")
            if definition is not None:
                conn.execute(f"CREATE TABLE bench_parts {definition}")
            else:
                conn.execute("TRUNCATE land_parcel, land_import")
                conn.execute("INSERT INTO land_import (id, kind, year, source_document, file_name, feature_count) "
                             f"VALUES ({import_id}, 'survey', {YEAR}, 'bench', 'bench', 0)")
            conn.execute("CHECKPOINT")
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur, \
                    cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)") as copy:
                view = memoryview(data)
                for i in range(0, len(view), 8 << 20):
                    copy.write(view[i:i + (8 << 20)])
            out[label] = round(time.perf_counter() - t0, 2)
            print(f"  COPY into {label}: {out[label]} s", flush=True)
        conn.execute("DROP TABLE IF EXISTS bench_parts")
        conn.execute("TRUNCATE land_parcel, land_import")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="patches in the file")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--edge-points", type=int, nargs="+", default=[2],
                        help="points on each cell edge between its nodes (13 coordinates per patch at 2, 29 at 6); "
                             "several values: one file each, the first one profiled")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/gis-land-bench"))
    parser.add_argument("--out", type=Path, default=RESULTS / "land_import.md")
    parser.add_argument("--no-profile", action="store_true", help="skip the in-process stage profile")
    parser.add_argument("--no-pg-parts", action="store_true", help="skip the COPY cost of the table's parts")
    parser.add_argument("--baseline", metavar="GIT_REF", help="also time our import once with the code of GIT_REF")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        print(json.dumps(generate(args.dir, args.n, args.edge_points[0])))
        return
    if args.profile_child:
        print(json.dumps(profile_child(args.url, bench_file(args.dir, args.n, args.edge_points[0]))))
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine

    from gis_service.testing import throwaway_postgis

    ogr2ogr = shutil.which("ogr2ogr")
    ogr_version = None
    if ogr2ogr is None:
        print("ogr2ogr is not installed (the project's bootstrap does not install it; Debian: apt-get install "
              "gdal-bin): timing our import only, no ratio", flush=True)
    else:
        ogr_version = subprocess.run([ogr2ogr, "--version"], check=True, capture_output=True, text=True).stdout.strip()
        print(f"ogr2ogr: {ogr2ogr} ({ogr_version})", flush=True)
    configs: list[dict[str, object]] = []
    with throwaway_postgis("bench", prefix="gis-bench-land-") as cluster:
        url = cluster.url()
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        version = scalar(engine, "SELECT version()")
        postgis = scalar(engine, "SELECT postgis_lib_version()")
        for k, edge_points in enumerate(args.edge_points):
            config = run_config(args, engine, url, ogr2ogr, edge_points, main=k == 0)
            configs.append(config)
        engine.dispose()
    results = {
        "n": args.n, "rounds": args.rounds, "ogr2ogr": ogr_version, "postgresql": version, "postgis": postgis,
        "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M"), "configs": configs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    args.out.write_text(write_report(results))
    print(args.out.read_text())


def run_config(args: argparse.Namespace, engine, url: str, ogr2ogr: str | None, edge_points: int,  # type: ignore[no-untyped-def]
               *, main: bool) -> dict[str, object]:
    """Warm-up, the interleaved rounds, and (main file only) the profile, the table's parts and the baseline."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--generate-only", "--n", str(args.n), "--dir", str(args.dir),
                          "--edge-points", str(edge_points)], check=True, capture_output=True, text=True, cwd=ROOT)
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    path = Path(str(facts["file"]))
    print(f"file {path} ({facts['bytes'] / 1e6:.0f} MB, {facts['features']:,} patches, "
          f"{facts['vertices_per_patch']} coordinates each) ready in {time.perf_counter() - started:.1f} s", flush=True)
    # warm-up (untimed): the new cluster creates its WAL segment files, the file enters the page cache
    warm: dict[str, float] = {}
    if ogr2ogr is not None:
        warm["ogr2ogr"] = round(float(run_ogr(engine, ogr2ogr, url, path, facts)["seconds"]), 1)  # type: ignore[arg-type]
    warm["ours"] = round(float(run_ours(engine, url, path, facts, fresh=True)["seconds"]), 1)  # type: ignore[arg-type]
    print(f"warm-up (untimed): {warm}", flush=True)
    rounds: list[dict[str, object]] = []
    for r in range(args.rounds):
        row: dict[str, object] = {"round": r + 1}
        steps = ["ours", "ogr2ogr"] if r % 2 == 0 else ["ogr2ogr", "ours"]
        for step in steps:
            if step == "ours":
                row["ours"] = run_ours(engine, url, path, facts, fresh=True)
                row["ours_reimport"] = run_ours(engine, url, path, facts, fresh=False)
            elif ogr2ogr is not None:
                row["ogr2ogr"] = run_ogr(engine, ogr2ogr, url, path, facts)
        row["order"] = " → ".join("ours, ours_reimport" if s == "ours" else s for s in steps if s == "ours" or ogr2ogr)
        rounds.append(row)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v['seconds']:.1f} s / {v['peak_mb']:.0f} MB"  # type: ignore[index]
                                             for k, v in row.items() if isinstance(v, dict)), flush=True)
    config: dict[str, object] = {"file": facts, "warm_up": warm, "runs": rounds, "summary": summary(rounds)}
    if main and not args.no_profile:
        empty_land(engine)
        checkpoint(engine)
        out = subprocess.run([sys.executable, __file__, "--profile-child", "--url", url, "--n", str(args.n),
                              "--dir", str(args.dir), "--edge-points", str(edge_points)],
                             check=True, capture_output=True, text=True, cwd=ROOT, env=child_env(url))
        config["profile"] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"profile: {config['profile']['seconds']} s, stages {config['profile']['stages']}", flush=True)  # type: ignore[index]
    if main and args.baseline:
        config["baseline"] = run_baseline(engine, url, path, facts, args.baseline)
        print(f"baseline {args.baseline}: {config['baseline']}", flush=True)
    if main and not args.no_pg_parts:
        run_ours(engine, url, path, facts, fresh=True)
        config["pg_parts"] = measure_pg_parts(engine, url, path)
    empty_land(engine)
    return config


def run_baseline(engine, url: str, path: Path, facts: dict[str, object], ref: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Our import with the code of git ``ref`` (e.g. the commit before this work), once, fresh."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gis-bench-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", ref, "gis_service", "data"], check=True, capture_output=True, cwd=ROOT)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        empty_land(engine)
        checkpoint(engine)
        env = child_env(url)
        env["PYTHONPATH"] = tmp
        cmd = [sys.executable, "-c", "import sys; sys.argv[0] = 'gis-service'; from gis_service.cli import main; main()",
               *ours_cmd(path)[3:]]
        result = run_measured(cmd, env, cwd=Path(tmp))  # (the checkout's own gis_service is not on the path)
        report = json.loads(result.pop("stdout"))
        result.update(ref=ref, features=report["features"], overlap_pairs=report["overlap_pairs"])
        if report["features"] != facts["features"]:
            raise RuntimeError(f"the baseline wrote {report['features']} features")
    empty_land(engine)
    return result


def machine() -> str:
    import platform

    cpus = os.cpu_count()
    mem = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) / 1024**2
    return f"{cpus} CPUs, {mem:.0f} GiB RAM, {platform.machine()}, Python {platform.python_version()}"


def summary(rounds: list[dict[str, object]]) -> dict[str, object]:
    def values(step: str, key: str) -> list[float]:
        return [float(r[step][key]) for r in rounds if step in r]  # type: ignore[index]

    out: dict[str, object] = {}
    for step in ("ours", "ours_reimport", "ogr2ogr"):
        if values(step, "seconds"):
            out[f"{step}_median_s"] = round(statistics.median(values(step, "seconds")), 2)
            out[f"{step}_min_s"] = round(min(values(step, "seconds")), 2)
            out[f"{step}_peak_mb"] = round(max(values(step, "peak_mb")), 0)
    ratios = [float(r["ours"]["seconds"]) / float(r["ogr2ogr"]["seconds"])  # type: ignore[index]
              for r in rounds if "ogr2ogr" in r]
    again = [float(r["ours_reimport"]["seconds"]) / float(r["ogr2ogr"]["seconds"])  # type: ignore[index]
             for r in rounds if "ogr2ogr" in r]
    if ratios:
        out["ratio_per_round"] = [round(x, 2) for x in ratios]
        out["ratio_median"] = round(statistics.median(ratios), 2)
        out["reimport_ratio_per_round"] = [round(x, 2) for x in again]
        out["reimport_ratio_median"] = round(statistics.median(again), 2)
    return out


def write_report(results: dict[str, object]) -> str:
    configs: list[dict[str, object]] = results["configs"]  # type: ignore[assignment]
    n = int(results["n"])  # type: ignore[call-overload]
    main = configs[0]
    facts: dict[str, object] = main["file"]  # type: ignore[assignment]
    lines = ["# Land-use survey import vs ogr2ogr", ""]
    if n < 1_000_000 or int(results["rounds"]) < 2:  # type: ignore[call-overload]
        lines += [f"**Smoke run ({n:,} patches, {results['rounds']} round(s)): not the official numbers** "
                  "(those are 1M patches, 2 rounds or more).", ""]
    edge = " ".join(str(c["file"]["edge_points"]) for c in configs)  # type: ignore[index]
    lines += [
        f"Generated by `bench/land_import.py --n {n} --rounds {results['rounds']} --edge-points {edge}` on "
        f"{results['date']} ({results['machine']}; the 2 cores are shared with other work, and PostgreSQL runs on the "
        f"same machine).  {results['postgresql']}, PostGIS {results['postgis']}.  ogr2ogr: "
        + (f"{results['ogr2ogr']} (Debian's `gdal-bin`, **not installed by the project's bootstrap**; pyogrio's own "
           "GDAL is newer)." if results["ogr2ogr"] else "**not installed** (the project's bootstrap does not install "
           "it; Debian: `apt-get install gdal-bin`), so no ratio."),
        "",
        f"The files: GeoPackages (EPSG:4490, layer DLTB) of {n:,} patches partitioning Songjiang (lon "
        f"{facts['bounds'][0]}-{facts['bounds'][2]}, lat {facts['bounds'][1]}-{facts['bounds'][3]}) in a jittered "  # type: ignore[index]
        f"{facts['grid'][0]} × {facts['grid'][1]} grid, neighbours sharing their edges vertex for vertex, fields BSM, "  # type: ignore[index]
        "DLBM (三调 codes 0101 0201 0301 0404 0601 0701 0702 1004 1101), DLMC, QSDWMC, TBMJ.",
        "",
        "Steps, each in a fresh process (wall time, and the process's peak RSS from `wait4`; PostgreSQL's own memory "
        "is counted for neither):",
        "",
        "- **ours**: `python -m gis_service import landuse FILE --year 2020 --source bench --json` (the CLI; "
        "`GIS_DATABASE_URL` set) into an emptied `land_parcel` (TRUNCATE before, untimed): reading in chunks, every "
        "check (geometry, extent, codes, names), COPY into `land_parcel` with its indexes, foreign key, generated "
        "`area_m2` and trigger, the partition check over all patches, the area sums, the audit row; one transaction.",
        "- **re-import**: the same command again right after: the year's snapshot is replaced (all its rows deleted "
        "and written again, in one transaction).",
        "- **ogr2ogr**: `ogr2ogr -f PostgreSQL PG:... FILE -nln ogr_patches -lco GEOMETRY_NAME=geom -t_srs EPSG:4326 "
        "--config PG_USE_COPY YES -overwrite`: a new plain table (primary key, GiST index created before the COPY), "
        "no checks.",
        "",
        "Per file, one untimed warm-up (ogr2ogr, then ours: the new cluster creates its WAL files, the file enters "
        "the page cache) comes first; a CHECKPOINT runs before every step (untimed); the order of ours and ogr2ogr "
        "alternates by round.",
    ]
    for config in configs:
        lines += _times_section(config)
    baseline = main.get("baseline")
    if baseline:
        s: dict[str, object] = main["summary"]  # type: ignore[assignment]
        ogr = s.get("ogr2ogr_median_s")
        ratio = f", {float(baseline['seconds']) / float(ogr):.2f}x the median ogr2ogr" if ogr else ""  # type: ignore[arg-type,index]
        lines += ["", f"**Before this work** (the same CLI command with the code of `{baseline['ref']}`, once, after the "  # type: ignore[index]
                  f"rounds): {float(baseline['seconds']):.1f} s{ratio}, peak RSS {float(baseline['peak_mb']):.0f} MB."]  # type: ignore[index,arg-type]
    profile = main.get("profile")
    if profile:
        st: dict[str, float] = profile["stages"]  # type: ignore[index,assignment]
        lines += ["", f"## Where the time goes ({facts['vertices_per_patch']}-coordinate file, one import in-process, "
                  "timers around the stages)", "",
                  f"Total {profile['seconds']} s (in-process: the CLI adds its start-up, ~1.4 s of imports, and its "  # type: ignore[index]
                  f"exit); RSS {profile['rss_base_mb']:.0f} MB after the imports, peak {profile['vm_hwm_mb']:.0f} MB.  "  # type: ignore[index]
                  "A worker thread reads, checks and encodes the rows while the writer thread streams the previous "
                  "slice into COPY: the worker's stages overlap the writer's `copy`, which is PostgreSQL's time.", "",
                  "| stage | thread | seconds | what |", "|---|---|---|---|"]
        for name, thread, what in STAGES:
            if name in st:
                lines.append(f"| {name} | {thread} | {st[name]:.2f} | {what} |")
        worker = sum(st.get(k, 0.0) for k, t, _ in STAGES if t == "worker")
        lines.append(f"| (worker total) | worker | {worker:.2f} | overlaps `copy` |")
    parts = main.get("pg_parts")
    if parts:
        lines += ["", "## What the table costs PostgreSQL", "",
                  f"The rows of one import of the {facts['vertices_per_patch']}-coordinate file, taken out once with "
                  "`COPY ... TO STDOUT (FORMAT binary)` and COPYed back from memory (no Python work at all) into "
                  "`land_parcel` and into copies of it without some of its parts:", "",
                  "| table | COPY s |", "|---|---|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in parts.items()]  # type: ignore[union-attr]
    return "\n".join(lines) + "\n"


def _times_section(config: dict[str, object]) -> list[str]:
    facts: dict[str, object] = config["file"]  # type: ignore[assignment]
    runs: list[dict[str, object]] = config["runs"]  # type: ignore[assignment]
    s: dict[str, object] = config["summary"]  # type: ignore[assignment]
    lines = ["", f"## Times and memory: {facts['vertices_per_patch']} coordinates per patch "
             f"({int(facts['bytes']) / 1e6:.0f} MB file; warm-up {config['warm_up']})", "",  # type: ignore[call-overload]
             "| round | order | ours s | ours peak MB | ogr2ogr s | ogr2ogr peak MB | ours / ogr2ogr | re-import s | "
             "re-import peak MB | re-import / ogr2ogr |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        ours, again, ogr = r["ours"], r["ours_reimport"], r.get("ogr2ogr")  # type: ignore[assignment]
        o = f"{ogr['seconds']:.1f} | {ogr['peak_mb']:.0f}" if ogr else "– | –"  # type: ignore[index]
        ratio = f"{ours['seconds'] / ogr['seconds']:.2f}" if ogr else "–"  # type: ignore[index]
        ratio2 = f"{again['seconds'] / ogr['seconds']:.2f}" if ogr else "–"  # type: ignore[index]
        lines.append(f"| {r['round']} | {r['order']} | {ours['seconds']:.1f} | {ours['peak_mb']:.0f} | {o} | {ratio} | "  # type: ignore[index]
                     f"{again['seconds']:.1f} | {again['peak_mb']:.0f} | {ratio2} |")  # type: ignore[index]
    if "ratio_median" in s:
        lines += ["", f"**Median ours / ogr2ogr: {s['ratio_median']}** (target ≤ 2); re-import / ogr2ogr "
                  f"{s['reimport_ratio_median']}.  Peak RSS: ours {s['ours_peak_mb']:.0f} MB, re-import "
                  f"{s['ours_reimport_peak_mb']:.0f} MB (target < 1024 MB)."]
    else:
        lines += ["", f"Ours: median {s['ours_median_s']} s, peak {s['ours_peak_mb']:.0f} MB (no ogr2ogr, no ratio)."]
    return lines


if __name__ == "__main__":
    main()
