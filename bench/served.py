"""Served-path benchmark: the density answers over HTTP against the engine's own answer and the query.

At N synthetic parcels (``generate_parcels(N, seed=42)``, 7 synthetic parks with 2020 output
figures, 3 片 zones: the data set of bench/density.py, loaded the same way), the real service
runs in its own process (``gis-service serve`` on a free loopback port) against a throwaway
PostGIS, and each round times, one call of each step, the order rotating from round to round:

- ``served_park`` / ``served_pian`` / ``served_overview``: ``GET /metrics/density?level=park``,
  ``GET /metrics/density?level=pian`` and the overview page ``GET /``, **cold**: the first request
  after a data change (the service keeps answers and pages until ``data_version`` changes);
  the identical request right after it is timed as the **warm** answer;
- ``engine_park`` / ``engine_pian``: :func:`engine_answer` in this process (no cache);
- ``postgis_query``: the best PostGIS query alone (``parcel_piece_areas``, parks only: the
  ``postgis_query`` step of bench/density.py); ``postgis_query_zones``: the same cut by the 片.

Before every step of every round (outside its timing) a harmless write bumps the data-change
counters (migration 0003): an UPDATE setting one indicator row's note to itself.  Every step thus
runs right after a write, and the service's caches are cold for the cold requests (checked: the
data version changes, and the overview answers ``X-Map-Cache: miss`` cold and ``hit`` warm).
The served and in-process answers are compared once (the same densities).  One untimed call of
every step comes first (the first query after a bulk load reads cold pages and sets hint bits).

Usage (the official run is the lead's, at 1M parcels)::

    .venv/bin/python bench/served.py --sizes 1000000 --rounds 15

Writes ``bench/results/served.md`` and ``.json`` (``--out`` to change).  Requires ``pip install -e .[bench]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import psutil
from sqlalchemy import Engine, create_engine, text

from gis_service.store.versions import data_version
from gis_service.metrics.postgis import parcel_piece_areas
from gis_service.testing import SERVE_CLI, load_synthetic_parcels, load_synthetic_units, running_service, throwaway_postgis

YEAR = 2020


def engine_answer(engine: Engine, level: str) -> object:
    """The engine's own answer for ``level`` (``park`` or ``pian``), in this process.

    The one place to change when the engine's entry point changes (``gis_service.answers``).
    """
    from gis_service.answers import DensityQuestion
    from gis_service.answers.density import compute_density

    # the same question the served requests ask (default year, target and basis), uncached
    return compute_density(engine, DensityQuestion(level=level))


RESULTS = Path(__file__).parent / "results"
SERVED = {"served_park": "/metrics/density?level=park", "served_pian": "/metrics/density?level=pian",
          "served_overview": "/"}
#: each served step is held to this engine step
ENGINE_OF = {"served_park": "engine_park", "served_pian": "engine_pian", "served_overview": "engine_park"}
BUMP_SQL = text("UPDATE indicator SET note = note WHERE id = (SELECT min(id) FROM indicator)")
TARGET_SERVED = 1.15  # served (cold) ÷ engine
TARGET_ENGINE = 1.10  # engine ÷ best PostGIS query


def bump(engine: Engine) -> None:
    """A harmless write: the data-change counters move, nothing else does."""
    with engine.begin() as conn:
        conn.execute(BUMP_SQL)


def served_step(client: httpx.Client, path: str, warm: list[float], headers: list[tuple[str, str]]) -> Callable[[], None]:
    """A step timing the cold request (returned by the step) and then the warm one (into ``warm``)."""

    def get() -> httpx.Response:
        r = client.get(path)
        r.raise_for_status()
        _ = r.content
        return r

    def step() -> None:
        get()  # cold: timed by the caller
        t0 = time.perf_counter()
        r = get()
        warm.append(time.perf_counter() - t0)
        headers.append(("warm", r.headers.get("x-map-cache", "")))

    return step


def run_size(url: str, engine: Engine, n: int, rounds: int) -> dict[str, object]:
    parcels, load_times = load_synthetic_parcels(engine, n, seed=42)
    row: dict[str, object] = {"parcels": n, "industrial": int((parcels["land_use_class"] == "industrial").sum()),
                              "generate_s": round(load_times["generate_s"], 2), "load_s": round(load_times["load_s"], 2)}
    del parcels
    with running_service(url, cmd=SERVE_CLI, quiet=True) as base, \
            httpx.Client(base_url=base, timeout=600, headers={"Accept-Encoding": "identity"}) as client:
        warm: dict[str, list[float]] = {name: [] for name in SERVED}
        cache_headers: dict[str, list[tuple[str, str]]] = {name: [] for name in SERVED}
        steps: dict[str, Callable[[], object]] = {
            name: served_step(client, path, warm[name], cache_headers[name]) for name, path in SERVED.items()
        }
        steps.update({
            "engine_park": lambda: engine_answer(engine, "park"),
            "engine_pian": lambda: engine_answer(engine, "pian"),
            "postgis_query": lambda: parcel_piece_areas(engine, year=YEAR),
            "postgis_query_zones": lambda: parcel_piece_areas(engine, year=YEAR, zone_kind="pian"),
        })
        before = data_version(engine)
        bump(engine)
        if data_version(engine) == before:
            raise RuntimeError("the bump did not change data_version: the 'cold' requests would be warm")
        row["agreement_max_rel_diff"] = agreement(client, engine)
        times, first = interleaved(engine, steps, rounds)
        for name in SERVED:  # the warm-up round's warm requests are not counted
            warm[name] = warm[name][1:]
        overview_flags = [h for _, h in cache_headers["served_overview"][1:]]
        row["overview_warm_cache_hits"] = f"{overview_flags.count('hit')}/{len(overview_flags)}"
        r = client.get("/")
        row["overview_bytes"] = len(r.content)
        row["density_park_bytes"] = len(client.get(SERVED["served_park"]).content)
        bump(engine)
        row["overview_cold_cache_header"] = client.get("/").headers.get("x-map-cache", "")
    for name, values in times.items():
        key = f"{name}_cold" if name in SERVED else name
        row[f"{key}_min_s"] = round(min(values), 4)
        row[f"{key}_median_s"] = round(statistics.median(values), 4)
        row[f"{key}_first_s"] = round(first[name], 4)
    for name, values in warm.items():
        row[f"{name}_warm_min_s"] = round(min(values), 4)
        row[f"{name}_warm_median_s"] = round(statistics.median(values), 4)
    return row


def interleaved(engine: Engine, steps: dict[str, Callable[[], object]], rounds: int
                ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """One untimed call of each step, then ``rounds`` rounds of one call each, the order rotating;
    a bump before every call, outside its timing."""
    names = list(steps)
    first: dict[str, float] = {}
    for name in names:
        bump(engine)
        t0 = time.perf_counter()
        steps[name]()
        first[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            bump(engine)
            t0 = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - t0)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in times.items()), flush=True)
    return times, first


def agreement(client: httpx.Client, engine: Engine) -> float:
    """Largest relative difference between the served densities and the engine's (parks and 片)."""
    worst = 0.0
    for level in ("park", "pian"):
        served = {r["unit_id"]: r["density_yi_per_km2"] for r in client.get(SERVED[f"served_{level}"]).json()["rows"]}
        answer = engine_answer(engine, level)
        frame = answer.rows  # type: ignore[attr-defined]
        ours = dict(zip(frame["unit_id"], frame["density_yi_per_km2"]))
        if set(served) != set(ours):
            raise RuntimeError(f"{level}: the service answers units {sorted(served)}, the engine {sorted(ours)}")
        for unit, value in ours.items():
            a, b = served[unit], value
            if a is None or b is None or (isinstance(b, float) and np.isnan(b)):
                if not (a is None and (b is None or np.isnan(b))):
                    raise RuntimeError(f"{level} unit {unit}: served {a}, engine {b}")
                continue
            worst = max(worst, abs(a - b) / abs(b) if b else abs(a - b))
    return worst


def ratios(r: dict[str, object], stat: str) -> dict[str, float]:
    def v(key: str) -> float:
        return float(r[f"{key}_{stat}_s"])  # type: ignore[arg-type]

    out = {f"{s}_cold/{e}": v(f"{s}_cold") / v(e) for s, e in ENGINE_OF.items()}
    out.update({f"{s}_warm/{e}": v(f"{s}_warm") / v(e) for s, e in ENGINE_OF.items()})
    out["engine_park/postgis_query"] = v("engine_park") / v("postgis_query")
    out["engine_pian/postgis_query"] = v("engine_pian") / v("postgis_query")
    out["engine_pian/postgis_query_zones"] = v("engine_pian") / v("postgis_query_zones")
    return out


def write_report(results: list[dict[str, object]], rounds: int) -> str:
    official = rounds >= 15 and any(int(r["parcels"]) >= 1_000_000 for r in results)  # type: ignore[call-overload]
    machine = f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    lines = ["# Served-path benchmark", ""]
    if not official:
        sizes = ", ".join(f"{int(r['parcels']):,}" for r in results)  # type: ignore[call-overload]
        lines += [f"**Smoke run ({sizes} parcels, {rounds} rounds): "
                  "not the official numbers** (those are the 1M run, 15 rounds).", ""]
    lines += [
        f"Generated by `bench/served.py` on {time.strftime('%Y-%m-%d %H:%M')} ({machine}, shared; PostgreSQL and the "
        "service on the same machine).  Synthetic parcels (seed 42), 7 synthetic parks with 2020 output figures, "
        "3 片 zones (the bench/density.py data set).  The service: `gis-service serve` in its own process, one "
        "persistent HTTP/1.1 connection from this process, no compression.  Each round: one call of each step, "
        "the order rotating; before each call a harmless write (one indicator row's note set to itself) moves the "
        f"data-change counters, so every served request marked cold is the first after a data change.  {rounds} "
        "rounds after one untimed call of each step.  Warm: the identical request again right after the cold one.",
        "",
        "Steps: `served_park` = `GET /metrics/density?level=park`, `served_pian` = `GET /metrics/density?level=pian`, "
        "`served_overview` = `GET /` (the overview map page); `engine_park` / `engine_pian` = the engine's own "
        "answer in-process (`engine_answer(engine, level)`: `gis_service.answers.density.compute_density`, "
        "uncached, of the same question as the request); `postgis_query` = the best PostGIS query alone (`parcel_piece_areas`, parks only), "
        "`postgis_query_zones` = the same cut by the 片.  The overview is held to `engine_park` (it shows the parks' "
        "figures against the target).",
        "",
        "## Times (seconds, min / median)",
        "",
        "| parcels | served_park cold | warm | served_pian cold | warm | served_overview cold | warm | engine_park | "
        "engine_pian | postgis_query | postgis_query_zones |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def mm(r: dict[str, object], key: str) -> str:
        return f"{float(r[f'{key}_min_s']):.3f} / {float(r[f'{key}_median_s']):.3f}"  # type: ignore[arg-type]

    for r in results:
        lines.append(f"| {int(r['parcels']):,} | " + " | ".join(mm(r, k) for k in (  # type: ignore[call-overload]
            "served_park_cold", "served_park_warm", "served_pian_cold", "served_pian_warm", "served_overview_cold",
            "served_overview_warm", "engine_park", "engine_pian", "postgis_query", "postgis_query_zones")) + " |")
    lines += ["", "## Ratios (min over min; median over median in brackets) and targets", "",
              f"Targets: served park, 片 and overview (cold) within {TARGET_SERVED}x of the engine's own answer; "
              f"the engine within {TARGET_ENGINE}x of the best PostGIS query.", "",
              "| parcels | ratio | min (median) | target | met (min)? |", "|---|---|---|---|---|"]
    for r in results:
        lo, med = ratios(r, "min"), ratios(r, "median")
        for key in lo:
            if "_warm/" in key:
                target, met = "–", ""
            elif key.startswith("served"):
                target, met = f"≤ {TARGET_SERVED}", "yes" if lo[key] <= TARGET_SERVED else "**no**"
            elif key == "engine_pian/postgis_query_zones":
                target, met = "– (its own query)", ""
            else:
                target, met = f"≤ {TARGET_ENGINE}", "yes" if lo[key] <= TARGET_ENGINE else "**no**"
            lines.append(f"| {int(r['parcels']):,} | {key} | {lo[key]:.2f} ({med[key]:.2f}) | {target} | {met} |")  # type: ignore[call-overload]
    lines += ["", "## Checks and set-up", "",
              "| parcels | generate s | load s | served vs engine densities, max rel. diff | overview cold header | "
              "overview warm hits | overview bytes | density (park) bytes | first calls: served park / pian / "
              "overview / engine park / pian / query s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        firsts = " / ".join(f"{float(r[f'{k}_first_s']):.3f}" for k in (  # type: ignore[arg-type]
            "served_park_cold", "served_pian_cold", "served_overview_cold", "engine_park", "engine_pian", "postgis_query"))
        lines.append(f"| {int(r['parcels']):,} | {r['generate_s']} | {r['load_s']} | "  # type: ignore[call-overload]
                     f"{float(r['agreement_max_rel_diff']):.1e} | {r['overview_cold_cache_header']} | "  # type: ignore[arg-type]
                     f"{r['overview_warm_cache_hits']} | {int(r['overview_bytes']):,} | "  # type: ignore[call-overload]
                     f"{int(r['density_park_bytes']):,} | {firsts} |")  # type: ignore[call-overload]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS / "served.md")
    args = parser.parse_args()
    results: list[dict[str, object]] = []
    with throwaway_postgis("bench", prefix="gis-bench-served-") as cluster:
        url = cluster.url()
        engine = create_engine(url)
        load_synthetic_units(engine, year=YEAR)
        for n in args.sizes:
            print(f"{n:,} parcels ...", flush=True)
            row = run_size(url, engine, n, args.rounds)
            print(json.dumps(row), flush=True)
            results.append(row)
        engine.dispose()
    report = write_report(results, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"rounds": args.rounds, "results": results}, indent=1))
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
