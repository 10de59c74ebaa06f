"""Load run: mixed read requests at a fixed concurrency against uvicorn on loopback.

Usage::

    .venv/bin/python bench/load.py --requests 10000 --concurrency 32 --out bench/results/load.md

A throwaway PostGIS cluster is started (or ``--database-url`` used), the reference data
loaded (``gis_service.ingest.load_sample``) plus ``--parcels`` synthetic parcels (flagged
``is_synthetic``), and the service started under uvicorn (one worker process).  One
asyncio client sends exactly ``--requests`` requests, drawn round-robin from a fixed mix of
read endpoints, with ``--concurrency`` in flight.  The run is bounded: it stops by itself
after ``--max-seconds`` even if requests remain (reported as not sent).  An error is any
answer other than 200 or a transport failure.  Reported: requests/s, p50/p90/p99/max
latency overall and per endpoint, and the errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from gis_service.testing import UVICORN_APP, running_server, throwaway_postgis, tile_of

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for bench.api (this script may run as bench/load.py)

from bench.api import fill_parcels  # noqa: E402  (the same synthetic grid as the API benchmark)

#: the read mix (path templates; {park}/{indicator}/{tile} filled from the loaded data), round-robin
MIX = [
    "/health",
    "/parks",
    "/parks/{park}",
    "/parks/{park}/indicators",
    "/indicators/{indicator}",
    "/zones",
    "/towns",
    "/targets",
    "/metrics/density",
    "/ogc/collections",
    "/ogc/collections/parks/items?limit=10",
    "/ogc/collections/parcels/items?limit=100&bbox=121.22,31.05,121.23,31.06",
    "/ogc/collections/roads/items?limit=50",
    "/tiles/parcels/{tile}.mvt",
    "/tiles/parks/{tile_low}.mvt",
    "/parks/{park}/sizhi",
]


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..1) of an ascending list, milliseconds in, milliseconds out."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(round(p * len(sorted_values) + 0.5 - 1e-9))))
    return sorted_values[rank - 1]


def urls(url_db: str) -> list[str]:
    engine = create_engine(url_db)
    with engine.connect() as conn:
        park = conn.execute(text("SELECT park_id FROM sizhi ORDER BY park_id LIMIT 1")).scalar_one()
        indicator = conn.execute(text("SELECT min(id) FROM indicator")).scalar_one()
    engine.dispose()
    x, y = tile_of(121.225, 31.055, 14)
    xl, yl = tile_of(121.225, 31.055, 11)
    values = {"park": park, "indicator": indicator, "tile": f"14/{x}/{y}", "tile_low": f"11/{xl}/{yl}"}
    return [m.format(**values) for m in MIX]


async def run(base: str, paths: list[str], *, total: int, concurrency: int, max_seconds: float) -> dict[str, object]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    next_index = 0
    deadline = time.perf_counter() + max_seconds
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        for path in paths:  # warm-up (not counted): caches, pools, imports
            await client.get(path)

        async def worker() -> None:
            nonlocal next_index
            while next_index < total and time.perf_counter() < deadline:
                path = paths[next_index % len(paths)]
                next_index += 1
                t0 = time.perf_counter()
                try:
                    r = await client.get(path)
                    status = str(r.status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed_ms = (time.perf_counter() - t0) * 1000
                if status == "200":
                    latencies[path].append(elapsed_ms)
                else:
                    errors[f"{path} -> {status}"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    every = sorted(v for vs in latencies.values() for v in vs)
    return {"wall_s": wall, "sent": next_index, "ok": len(every), "errors": errors, "all": every,
            "per_path": {p: sorted(v) for p, v in latencies.items()}, "not_sent": max(0, total - next_index)}


def report(result: dict[str, object], *, total: int, concurrency: int, workers: int, parcels: int) -> str:
    every: list[float] = result["all"]  # type: ignore[assignment]
    errors: Counter[str] = result["errors"]  # type: ignore[assignment]
    wall: float = result["wall_s"]  # type: ignore[assignment]
    lines = [
        "# Load run: mixed reads on loopback",
        "",
        f"Generated by `bench/load.py` on {time.strftime('%Y-%m-%d %H:%M')} ({os.cpu_count()} CPUs, shared with other "
        f"work; PostgreSQL on the same machine). Reference data from `gis_service.ingest.load_sample`, {parcels:,} "
        f"synthetic parcels. uvicorn with {workers} worker(s); one asyncio httpx client, concurrency {concurrency}; "
        f"{len(MIX)} read endpoints round-robin. Latency is client-side, milliseconds.",
        "",
        "| requests planned | sent | 200 | errors | not sent (time bound) | wall s | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {total:,} | {result['sent']:,} | {result['ok']:,} | {sum(errors.values())} | {result['not_sent']} | "
        f"{wall:.1f} | {result['ok'] / wall:.1f} | {percentile(every, .5):.1f} | {percentile(every, .9):.1f} | "
        f"{percentile(every, .99):.1f} | {max(every) if every else float('nan'):.1f} |",
        "",
        "Per endpoint:",
        "",
        "| endpoint | n | p50 ms | p99 ms | mean ms |",
        "|---|---|---|---|---|",
    ]
    for path, values in result["per_path"].items():  # type: ignore[attr-defined]
        lines.append(f"| `{path}` | {len(values)} | {percentile(values, .5):.1f} | {percentile(values, .99):.1f} | "
                     f"{statistics.fmean(values):.1f} |")
    lines += ["", "Errors: " + (", ".join(f"{k}: {v}" for k, v in errors.items()) if errors else "none"), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop sending after this long")
    parser.add_argument("--database-url", default=None, help="use this PostGIS instead of a throwaway cluster")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.md")
    args = parser.parse_args()

    with ExitStack() as stack:
        url = args.database_url
        if url is None:
            from gis_service.ingest import load_sample

            url = stack.enter_context(throwaway_postgis("load", prefix="gis-load-pg-")).url()
            engine = create_engine(url)
            load_sample(engine)
            engine.dispose()
            fill_parcels(url, args.parcels)
        # keep-alive longer than the client ever idles, as `gis-service serve` does (uvicorn default 5 s
        # races with a pooled client reusing a connection the server is closing); one worker
        cmd = [*UVICORN_APP, "--no-access-log", "--timeout-keep-alive", "75"]
        with running_server(cmd, env={"GIS_DATABASE_URL": url}) as base:
            result = asyncio.run(run(base, urls(url), total=args.requests, concurrency=args.concurrency,
                                     max_seconds=args.max_seconds))
        text_ = report(result, total=args.requests, concurrency=args.concurrency, workers=1, parcels=args.parcels)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text_, encoding="utf-8")
        print(text_)
        return 0 if not result["errors"] and not result["not_sent"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
