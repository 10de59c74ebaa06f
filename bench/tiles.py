"""Vector tile benchmark: cold z14 tiles against tipg, the tile cache, and the low-zoom bounds.

Usage::

    .venv/bin/python bench/tiles.py --sizes 100000 1000000 --out bench/results/tiles.md

For each parcel count the table ``land_parcel`` is filled with the synthetic grid parcels of
bench/api.py (``fill_parcels``: N rectangles over a 0.15° square of Songjiang, VACUUM ANALYZE),
and three figures are taken:

1. **Cold z14 tile, ours vs tipg, equal work.**  Both servers under the same uvicorn command (one
   worker, bench/api.py's flags) on loopback, one asyncio client at concurrency 16, ABBA halves.
   Ours runs with ``GIS_API_TILE_CACHE_BYTES=0`` and the client sends no ``If-None-Match``: every
   request renders the tile from PostGIS, as tipg does.  tipg is set not to truncate
   (``TIPG_MAX_FEATURES_PER_TILE`` 1e8), the same buffer (64/4096) and properties, no gzip; before
   the run one tile of each side is decoded and counted against the parcels of the tile (the
   bench stops if either is short).
2. **Repeated tile.**  Ours with its cache (default settings), one keep-alive http.client
   connection: after a harmless write to ``land_parcel`` (the data version changes; the bench
   waits until the server has heard of it, asking on an empty tile) the first request of a tile
   is timed (cold: rendered), then ``--repeats`` identical requests (served from the cache) and
   as many with ``If-None-Match`` (304).  Speedup = cold ÷ median repeated, for a z14, a z12 and
   a z10 tile.
3. **Low zooms.**  Every tile of z0..12 over the parcels (cache off): largest bytes and features
   per zoom, and the generalisation level used.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import sys
import time
from contextlib import ExitStack
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api as api_bench

from gis_service.testing import mvt_layers, running_server, throwaway_postgis, tile_of

ROOT = Path(__file__).resolve().parents[1]
TILE_POINT = api_bench.TILE_POINT
TARGET_COLD = 2.0  # ours ÷ tipg, req/s
TARGET_REPEAT = 50.0  # cold ÷ repeated
TARGET_LOW_BYTES = 500_000
BUMP_SQL = text("UPDATE land_parcel SET is_built = is_built WHERE id = (SELECT min(id) FROM land_parcel)")


def low_zoom_tiles(z: int) -> list[tuple[int, int]]:
    """Every tile of zoom ``z`` over the synthetic parcels (bench/api.py's REGION)."""
    w, s, e, n = api_bench.REGION
    x0, y0 = tile_of(w, n, z)
    x1, y1 = tile_of(e, s, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def low_zoom_figures(base: str, max_zoom: int = 12) -> dict[str, object]:
    """Largest tile (bytes, features) per zoom up to ``max_zoom``, and the cold render times."""
    out: dict[str, object] = {}
    with httpx.Client(timeout=600, headers=api_bench.CLIENT_HEADERS) as client:
        for z in range(max_zoom + 1):
            sizes, features, seconds, levels = [], [], [], set()
            for x, y in low_zoom_tiles(z):
                t0 = time.perf_counter()
                r = client.get(f"{base}/tiles/parcels/{z}/{x}/{y}.mvt")
                seconds.append(time.perf_counter() - t0)
                r.raise_for_status()
                sizes.append(len(r.content))
                features.append(sum(mvt_layers(r.content).values()))
                levels.add(r.headers.get("X-Tile-Generalisation", "full detail"))
            out[str(z)] = {"tiles": len(sizes), "max_bytes": max(sizes), "max_features": max(features),
                           "max_cold_s": max(seconds), "levels": sorted(levels)}
            print("low zoom", z, json.dumps(out[str(z)], ensure_ascii=False), flush=True)
    return out


class KeepAlive:
    """One keep-alive HTTP/1.1 connection (the standard library's http.client): a client whose own
    cost per request (about 0.1 ms) is small against a cached tile's, unlike httpx's (1-3 ms here)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        self.conn.request("GET", path, headers={**api_bench.CLIENT_HEADERS, **(headers or {})})
        response = self.conn.getresponse()
        return response.status, response.headers, response.read()


def bump_and_wait(engine: Engine, client: KeepAlive, etag: str) -> None:
    """A harmless write to land_parcel, then wait until the server's data version has moved (its
    copy is pushed by NOTIFY, a few ms after the commit): asked on an empty tile, not the timed one."""
    with engine.begin() as conn:
        conn.execute(BUMP_SQL)
    empty = f"/tiles/parcels/14/{tile_of(0.0, 0.0, 14)[0]}/{tile_of(0.0, 0.0, 14)[1]}.mvt"
    while client.get(empty, {"If-None-Match": etag})[0] == 304:
        time.sleep(0.001)


def repeated_figures(base: str, url: str, repeats: int) -> dict[str, object]:
    """Cold (first after a data change) vs repeated (cache) vs revalidated (304) latency per tile."""
    engine = create_engine(url)
    out: dict[str, object] = {}
    client = KeepAlive(base)
    for z in (14, 12, 10):
        x, y = tile_of(*TILE_POINT, z)
        path = f"/tiles/parcels/{z}/{x}/{y}.mvt"
        colds, warms, revalidated = [], [], []
        for _ in range(3):
            bump_and_wait(engine, client, client.get(path)[1]["ETag"])
            t0 = time.perf_counter()
            _, first, body = client.get(path)
            colds.append(time.perf_counter() - t0)
            assert first["X-Tile-Cache"] == "miss", first
            for _ in range(repeats):
                t0 = time.perf_counter()
                _, headers, again = client.get(path)
                warms.append(time.perf_counter() - t0)
                assert headers["X-Tile-Cache"] == "hit" and again == body
                t0 = time.perf_counter()
                status, _, _ = client.get(path, {"If-None-Match": first["ETag"]})
                revalidated.append(time.perf_counter() - t0)
                assert status == 304
        cold, warm, not_modified = statistics.median(colds), statistics.median(warms), statistics.median(revalidated)
        out[str(z)] = {"bytes": len(body), "cold_ms": cold * 1000, "repeated_ms": warm * 1000,
                       "not_modified_ms": not_modified * 1000, "speedup": cold / warm,
                       "speedup_304": cold / not_modified}
        print("repeated", z, json.dumps(out[str(z)]), flush=True)
    engine.dispose()
    return out


def cold_vs_tipg(ours: str, tipg: str, url: str, seconds: float, concurrency: int) -> dict[str, object]:
    """z14 req/s of ours (no cache) and tipg at ``concurrency``, ABBA, after the equal-work check."""
    x, y = tile_of(*TILE_POINT, 14)
    our_url, tipg_url = api_bench.scenarios(ours, tipg)["tile z14"]
    check = api_bench.check_equal_work("tile z14", our_url, tipg_url, api_bench.tile_truth(url, 14, x, y))
    runs: dict[str, list[dict[str, object]]] = {"ours": [], "tipg": []}
    for who in ("ours", "tipg", "tipg", "ours"):
        target = our_url if who == "ours" else tipg_url
        runs[who].append(asyncio.run(api_bench.hammer(target, concurrency=concurrency, seconds=seconds / 2,
                                                      max_requests=100_000)))
    row = {who: api_bench.summarize(r) for who, r in runs.items()}
    row["ratio"] = row["ours"]["rps"] / row["tipg"]["rps"] if row["tipg"]["rps"] else float("inf")
    row["check"] = check
    print("cold z14", json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=16.0, help="z14 load per side (ABBA halves)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/tiles.md")
    args = parser.parse_args()
    results: dict[str, object] = {"concurrency": args.concurrency, "seconds": args.seconds, "sizes": {}}
    with ExitStack() as stack:
        url = args.database_url or stack.enter_context(throwaway_postgis("bench", prefix="gis-bench-tiles-")).url()
        for n in args.sizes:
            print(f"filling {n:,} parcels ...", flush=True)
            api_bench.fill_parcels(url, n)
            env = api_bench.ours_env(url)
            size: dict[str, object] = {}
            with running_server(api_bench.OURS_CMD, env={**env, "GIS_API_TILE_CACHE_BYTES": "0"},
                                clean_env_prefixes=api_bench.FOREIGN_ENV) as ours, \
                    running_server(api_bench.TIPG_CMD, env=api_bench.tipg_env(url), health="/healthz",
                                   clean_env_prefixes=api_bench.FOREIGN_ENV) as tipg:
                size["cold_z14"] = cold_vs_tipg(ours, tipg, url, args.seconds, args.concurrency)
                size["low_zooms"] = low_zoom_figures(ours)
            with running_server(api_bench.OURS_CMD, env=env, clean_env_prefixes=api_bench.FOREIGN_ENV) as ours:
                size["repeated"] = repeated_figures(ours, url, args.repeats)
            results["sizes"][str(n)] = size  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    args.out.write_text(report(results))
    print(report(results))


def report(results: dict) -> str:  # type: ignore[type-arg]
    lines = ["# Vector tiles: cold z14 vs tipg, the tile cache, low-zoom bounds", "",
             f"Synthetic grid parcels (bench/api.py `fill_parcels`); one uvicorn worker each, concurrency "
             f"{results['concurrency']}, {results['seconds']} s per side in ABBA halves, no gzip. Ours cold = "
             "tile cache off (`GIS_API_TILE_CACHE_BYTES=0`, no If-None-Match): every request renders from PostGIS. "
             "tipg: max features per tile 1e8 (no truncation), buffer 64/4096, the same 6 properties.", "",
             f"Goals: cold z14 ≥ {TARGET_COLD:g}x tipg; repeated tile ≥ {TARGET_REPEAT:g}x faster than cold; "
             f"every tile at z ≤ 12 < {TARGET_LOW_BYTES:,} bytes.", "",
             "## Cold z14 tile, req/s", "",
             "| parcels | features ours/tipg (parcels in tile) | bytes ours/tipg | ours req/s | tipg req/s | ratio | "
             "ours p50/p99 ms | tipg p50/p99 ms |", "|---|---|---|---|---|---|---|---|"]
    for n, r in results["sizes"].items():
        c, o, t = r["cold_z14"]["check"], r["cold_z14"]["ours"], r["cold_z14"]["tipg"]
        lines.append(f"| {int(n):,} | {c['ours_features']:,}/{c['tipg_features']:,} ({c['in_tile']:,}) | "
                     f"{c['ours_bytes']:,}/{c['tipg_bytes']:,} | {o['rps']:.1f} | {t['rps']:.1f} | "
                     f"**{r['cold_z14']['ratio']:.2f}x** | {o['p50_ms']:.0f}/{o['p99_ms']:.0f} | "
                     f"{t['p50_ms']:.0f}/{t['p99_ms']:.0f} |")
    lines += ["", "## Repeated tile (cache on, one keep-alive http.client connection; medians)", "",
              "| parcels | zoom | bytes | cold ms | repeated ms | 304 ms | speedup | speedup (304) |",
              "|---|---|---|---|---|---|---|---|"]
    for n, r in results["sizes"].items():
        for z, f in r["repeated"].items():
            lines.append(f"| {int(n):,} | {z} | {f['bytes']:,} | {f['cold_ms']:.0f} | {f['repeated_ms']:.2f} | "
                         f"{f['not_modified_ms']:.2f} | **{f['speedup']:.0f}x** | {f['speedup_304']:.0f}x |")
    lines += ["", "## Low zooms (every tile over the parcels, cache off)", "",
              "| parcels | zoom | tiles | max bytes | max features | slowest cold s | levels used |",
              "|---|---|---|---|---|---|---|"]
    for n, r in results["sizes"].items():
        for z, f in r["low_zooms"].items():
            lines.append(f"| {int(n):,} | {z} | {f['tiles']} | {f['max_bytes']:,} | {f['max_features']:,} | "
                         f"{f['max_cold_s']:.2f} | {'; '.join(f['levels'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
