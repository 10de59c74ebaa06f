"""Web API benchmark: this service vs tipg on the same PostGIS tables, plus map page weight.

Usage::

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/api.py --sizes 10000 100000 1000000 --out bench/results/api.md

A throwaway PostGIS cluster is started (or ``--database-url`` used), the reference
data loaded (``gis_service.ingest.load_sample``), and for each parcel count the table
``land_parcel`` is filled with synthetic parcels (flagged ``is_synthetic``).  Both
servers run under uvicorn with one worker each on loopback ports; requests come from
one asyncio client at concurrency 16, for a bounded time per scenario.  Reported:
requests/s, p50 and p99 latency, failures, and for tiles the number of features in
the tile (to show truncation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.test_tiles import mvt_layers, tile_of  # noqa: E402  (the test's MVT reader)

REGION = (121.15, 30.98, 121.30, 31.13)  # lon/lat box the synthetic parcels fill
TILE_POINT = (121.225, 31.055)
BBOX = "121.22,31.05,121.23,31.06"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(cmd: list[str], env: dict[str, str], health: str) -> Iterator[str]:
    """Run a uvicorn command on a free port; yield its base URL."""
    port = free_port()
    proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                             "--log-level", "warning"], env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd} did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fill_parcels(url: str, n: int) -> None:
    """Replace land_parcel with ``n`` synthetic parcels on a square grid over REGION."""
    side = math.ceil(math.sqrt(n))
    w, s, e, nth = REGION
    dx, dy = (e - w) / side, (nth - s) / side
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE land_parcel RESTART IDENTITY"))
        conn.execute(text("""
            INSERT INTO land_parcel (external_id, geom, land_use_code, land_use_class, is_supplied, supply_year,
                                     is_built, is_synthetic, source_document)
            SELECT 'b' || g, ST_Multi(ST_MakeEnvelope(:w + (g % :side) * :dx, :s + (g / :side) * :dy,
                                                      :w + (g % :side + 0.8) * :dx, :s + (g / :side + 0.8) * :dy, 4326)),
                   (ARRAY['M1','R2','B1','W1','G1'])[g % 5 + 1],
                   (ARRAY['industrial','residential','commercial','warehouse','green'])[g % 5 + 1],
                   g % 3 <> 0, 2000 + g % 20, g % 4 <> 0, true, 'bench/api.py synthetic'
            FROM generate_series(0, :n - 1) g
        """), {"w": w, "s": s, "dx": dx, "dy": dy, "side": side, "n": n})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE land_parcel"))
    engine.dispose()


async def hammer(url: str, *, concurrency: int, seconds: float, max_requests: int) -> dict[str, float]:
    """Requests/s and latency percentiles of GET ``url`` at ``concurrency``."""
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:
        await client.get(url)  # warm-up

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < stop and len(latencies) + failures < max_requests:
                t0 = time.perf_counter()
                r = await client.get(url)
                if r.status_code == 200:
                    latencies.append(time.perf_counter() - t0)
                else:
                    failures += 1

        t_start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t_start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "n": len(latencies),
            "failures": failures}


def scenarios(ours: str, tipg: str) -> dict[str, tuple[str, str]]:
    x, y = tile_of(*TILE_POINT, 14)
    t = "public.land_parcel"
    return {
        "items limit=100": (f"{ours}/ogc/collections/parcels/items?limit=100", f"{tipg}/collections/{t}/items?limit=100"),
        "items limit=1000": (f"{ours}/ogc/collections/parcels/items?limit=1000", f"{tipg}/collections/{t}/items?limit=1000"),
        "bbox limit=100": (f"{ours}/ogc/collections/parcels/items?limit=100&bbox={BBOX}",
                           f"{tipg}/collections/{t}/items?limit=100&bbox={BBOX}"),
        "tile z14": (f"{ours}/tiles/parcels/14/{x}/{y}.mvt", f"{tipg}/collections/{t}/tiles/WebMercatorQuad/14/{x}/{y}"),
    }


def page_figures(base: str) -> dict[str, float]:
    """Overview size and build time, cold and cached; park page sizes."""
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    cold = httpx.get(f"{base}/", timeout=300)
    out["overview_cold_s"] = time.perf_counter() - t0
    out["overview_status"] = cold.status_code
    out["overview_bytes"] = len(cold.content)
    t0 = time.perf_counter()
    httpx.get(f"{base}/", timeout=300)
    out["overview_cached_s"] = time.perf_counter() - t0
    parks = httpx.get(f"{base}/ogc/collections/parks/items?limit=100", timeout=60).json()["features"]
    sizes = []
    for f in parks:
        if f["geometry"] is None:
            continue
        r = httpx.get(f"{base}/maps/parks/{f['id']}", timeout=300)
        if r.status_code == 200:
            sizes.append(len(r.content))
    out["park_pages"] = len(sizes)
    out["park_max_bytes"] = max(sizes) if sizes else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--scenarios", nargs="*", default=None, help="names to run (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/api.md")
    args = parser.parse_args()

    cluster = None
    if args.database_url is None:
        from gis_service.db import migrate
        from gis_service.db.cluster import LocalCluster

        root = Path(tempfile.mkdtemp(prefix="gis-bench-api-"))
        root.chmod(0o755)
        cluster = LocalCluster(root / "pg", port=free_port(), database="bench")
        cluster.start()
        url = cluster.url()
        migrate.upgrade(url)
    else:
        url = args.database_url
    results: dict[str, object] = {"sizes": {}, "concurrency": args.concurrency}
    try:
        from gis_service.ingest import load_sample

        engine = create_engine(url)
        try:
            load_sample(engine)
            results["reference_data"] = "gis_service.ingest.load_sample"
        except Exception as exc:  # a bench still runs without the reference layers
            results["reference_data"] = f"not loaded: {exc}"
        engine.dispose()
        ours_cmd = [sys.executable, "-m", "uvicorn", "--factory", "gis_service.api.app:create_app"]
        ours_env = {"GIS_DATABASE_URL": url, "GIS_API_MAX_LIMIT": "10000"}
        with server(ours_cmd, ours_env, "/health") as ours:
            results["pages"] = page_figures(ours)
        asyncpg_url = url.replace("postgresql+psycopg://", "postgresql://")
        tipg_env = {"DATABASE_URL": asyncpg_url, "TIPG_DB_SCHEMAS": '["public"]', "TIPG_DB_TABLES": '["public.land_parcel"]'}
        tipg_cmd = [sys.executable, "-m", "uvicorn", "tipg.main:app"]
        for n in args.sizes:
            print(f"filling {n:,} parcels ...", flush=True)
            fill_parcels(url, n)
            size_results: dict[str, object] = {}
            with server(ours_cmd, ours_env, "/health") as ours, server(tipg_cmd, tipg_env, "/healthz") as tipg:
                for name, (our_url, tipg_url) in scenarios(ours, tipg).items():
                    if args.scenarios and name not in args.scenarios:
                        continue
                    row: dict[str, object] = {}
                    for who, target in (("ours", our_url), ("tipg", tipg_url)):
                        row[who] = asyncio.run(hammer(target, concurrency=args.concurrency, seconds=args.seconds,
                                                      max_requests=args.max_requests))
                        if name.startswith("tile"):
                            row[who]["features"] = sum(mvt_layers(httpx.get(target, timeout=120).content).values())  # type: ignore[index]
                    size_results[name] = row
                    print(n, name, json.dumps(row), flush=True)
            results["sizes"][str(n)] = size_results  # type: ignore[index]
    finally:
        if cluster is not None:
            cluster.destroy()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    args.out.write_text(report(results))
    print(report(results))


def report(results: dict) -> str:  # type: ignore[type-arg]
    lines = ["# API benchmark: gis_service vs tipg", "",
             f"One uvicorn worker each, concurrency {results['concurrency']}, same PostGIS table.", ""]
    pages = results.get("pages", {})
    if pages:
        lines += ["## Map pages", "",
                  f"- overview: {pages['overview_bytes'] / 1e6:.2f} MB, cold build {pages['overview_cold_s']:.2f} s, "
                  f"cached {pages['overview_cached_s'] * 1000:.0f} ms (status {pages['overview_status']})",
                  f"- park pages: {pages['park_pages']}, largest {pages['park_max_bytes'] / 1e3:.0f} kB", ""]
    lines += ["| parcels | scenario | ours req/s | tipg req/s | ratio | ours p50/p99 ms | tipg p50/p99 ms | tile features ours/tipg |",
              "|---|---|---|---|---|---|---|---|"]
    for n, rows in results["sizes"].items():
        for name, row in rows.items():
            o, t = row["ours"], row["tipg"]
            feats = f"{o.get('features', '')}/{t.get('features', '')}" if "features" in o else ""
            ratio = o["rps"] / t["rps"] if t["rps"] else float("inf")
            lines.append(f"| {int(n):,} | {name} | {o['rps']:.1f} | {t['rps']:.1f} | {ratio:.2f}x | "
                         f"{o['p50_ms']:.0f}/{o['p99_ms']:.0f} | {t['p50_ms']:.0f}/{t['p99_ms']:.0f} | {feats} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
