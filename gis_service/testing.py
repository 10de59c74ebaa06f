"""Helpers for tests and benchmarks (in the spirit of ``geopandas.testing``).

Public, small and free of pytest, so that the test suite and ``bench/`` share them without
one importing the other:

- vector tiles: :func:`tile_of`, :func:`tile_bounds` and :func:`mvt_layers`, a minimal
  Mapbox vector tile reader (layer name -> number of features);
- a throwaway PostGIS: :func:`throwaway_postgis` (a :class:`~gis_service.db.cluster.LocalCluster`
  in a temporary directory on a free port, migrated, destroyed on exit) and :func:`free_port`;
- a live service: :func:`running_server` (any uvicorn-style command in its own process, waited
  for until healthy) and :func:`running_service` (this application against a database);
- synthetic data: :func:`insert_park`, :func:`insert_zone`, :func:`insert_indicator`, and the
  benchmark data set, :func:`load_synthetic_units` (7 parks with 2020 output figures, 3 片
  zones) and :func:`load_synthetic_parcels` (:func:`~gis_service.parcels.generate_parcels`,
  written by COPY, then VACUUM ANALYZE).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import shapely
    from sqlalchemy import Engine

    from gis_service.db.cluster import LocalCluster
    from gis_service.db.models import GeometryQuality, ZoneKind

__all__ = [
    "SERVE_CLI",
    "UVICORN_APP",
    "free_port",
    "insert_indicator",
    "insert_park",
    "insert_zone",
    "load_synthetic_parcels",
    "load_synthetic_units",
    "mvt_layers",
    "running_server",
    "running_service",
    "throwaway_postgis",
    "tile_bounds",
    "tile_of",
]


# -- vector tiles ------------------------------------------------------------------------------
def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(x, y) of the Web Mercator tile of zoom ``z`` holding the point ``lon``/``lat``."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile, degrees."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _fields(buf: bytes) -> list[tuple[int, bytes | int]]:
    """Top-level protobuf fields (number, payload) of a message."""
    out: list[tuple[int, bytes | int]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            out.append((number, value))
        elif wire == 2:
            size, i = _varint(buf, i)
            out.append((number, buf[i:i + size]))
            i += size
        elif wire == 5:
            out.append((number, buf[i:i + 4]))
            i += 4
        else:
            out.append((number, buf[i:i + 8]))
            i += 8
    return out


def mvt_layers(tile: bytes) -> dict[str, int]:
    """Layer name -> number of features of a Mapbox vector tile."""
    layers = {}
    for number, layer in _fields(tile):
        if number == 3:
            parts = _fields(layer)  # type: ignore[arg-type]
            name = next(v for n, v in parts if n == 1).decode()  # type: ignore[union-attr]
            layers[name] = sum(1 for n, _ in parts if n == 2)
    return layers


# -- a throwaway PostGIS -----------------------------------------------------------------------
def free_port() -> int:
    """A TCP port free on the loopback interface (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_postgis(database: str = "gis", *, migrate: bool = True, prefix: str = "gis-pg-") -> Iterator[LocalCluster]:
    """A running PostgreSQL + PostGIS cluster of its own, deleted on exit.

    The cluster lives in a new temporary directory (``prefix``), listens on a free loopback
    port, holds ``database`` and, unless ``migrate=False``, the schema of the Alembic
    migrations.  Yields the :class:`~gis_service.db.cluster.LocalCluster`; ``cluster.url()``
    is the SQLAlchemy URL of ``database``.
    """
    from gis_service.db import migrate as migrations
    from gis_service.db.cluster import LocalCluster

    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)  # the unprivileged cluster account (when run as root) must be able to enter it
    cluster = LocalCluster(root / "pg", port=free_port(), database=database)
    try:
        cluster.start()
        if migrate:
            migrations.upgrade(cluster.url())
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


# -- a live service ----------------------------------------------------------------------------
def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_server(
    cmd: Sequence[str], *, env: Mapping[str, str] | None = None, health: str = "/health", timeout_s: float = 60.0,
    port: int | None = None, clean_env_prefixes: Sequence[str] = ("GIS_",), quiet: bool = False,
) -> Iterator[str]:
    """Run an HTTP server command in its own process; yield its base URL once ``health`` answers 200.

    ``cmd`` is the command without its address: ``--host 127.0.0.1 --port PORT`` is appended
    (a free port unless ``port`` is given).  The child gets this process's environment
    without the variables starting with ``clean_env_prefixes`` (so a developer's settings do
    not leak in), plus ``env``.  ``quiet`` drops the child's standard output (uvicorn's
    access log); its errors still show.  The server is terminated on exit (killed after 15 s).

    A separate process rather than a thread: clients such as GDAL hold the GIL while they
    wait for the network, which would stall a server thread in the same interpreter.
    """
    import httpx

    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(clean_env_prefixes))}
    child_env.update(env or {})
    proc = subprocess.Popen([*cmd, "--host", "127.0.0.1", "--port", str(port)], env=child_env,
                            stdout=subprocess.DEVNULL if quiet else None)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(base + health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(cmd)} on port {port} did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        _stop(proc)


#: this application under uvicorn (one worker; the port and host are appended)
UVICORN_APP = (sys.executable, "-m", "uvicorn", "--factory", "gis_service.api.app:create_app", "--log-level", "warning",
               "--no-server-header")
#: this application as it is deployed, ``gis-service serve`` (keep-alive 75 s)
SERVE_CLI = (sys.executable, "-m", "gis_service", "serve")


@contextmanager
def running_service(db_url: str, *, cmd: Sequence[str] = UVICORN_APP, quiet: bool = False,
                    **api: object) -> Iterator[str]:
    """This application against ``db_url`` in its own process; yields its base URL.

    ``api`` are :class:`~gis_service.api.config.ApiSettings` fields, passed as ``GIS_API_*``
    variables (``count_limit=10**9`` -> ``GIS_API_COUNT_LIMIT``).  ``cmd`` is
    :data:`UVICORN_APP` (the test suite's server) or :data:`SERVE_CLI` (the deployed command).
    """
    env = {"GIS_DATABASE_URL": db_url, **{f"GIS_API_{k.upper()}": str(v) for k, v in api.items()}}
    with running_server(cmd, env=env, health="/health", quiet=quiet) as base:
        yield base


# -- synthetic data ----------------------------------------------------------------------------
def _multi_wkt(geom: shapely.Geometry) -> str:
    import shapely as shp

    multi = geom if geom.geom_type == "MultiPolygon" else shp.MultiPolygon([geom])
    return f"SRID=4326;{multi.wkt}"


def insert_park(
    engine: Engine, code: str, name: str, geom_4326: shapely.Geometry, *, valid_from: dt.date = dt.date(2010, 1, 1),
    valid_to: dt.date | None = None, quality: GeometryQuality | None = None,
) -> tuple[int, int]:
    """Insert a park (kind block) and one boundary version; returns (park_id, boundary_id).

    ``quality`` defaults to ``GeometryQuality.synthetic``.
    """
    from sqlalchemy.orm import Session

    from gis_service.db.models import GeometryQuality, Park, ParkBoundary, ParkKind

    with Session(engine) as s, s.begin():
        park = Park(code=code, name=name, kind=ParkKind.block)
        s.add(park)
        s.flush()
        b = ParkBoundary(park_id=park.id, geom=_multi_wkt(geom_4326), valid_from=valid_from, valid_to=valid_to,
                         geometry_quality=quality or GeometryQuality.synthetic, source_document="test fixture",
                         method="test")
        s.add(b)
        s.flush()
        return park.id, b.id


def insert_zone(engine: Engine, code: str, name: str, geom_4326: shapely.Geometry, kind: ZoneKind | None = None) -> int:
    """Insert a zone (default kind 片, ``ZoneKind.pian``) with a synthetic geometry; returns its id."""
    from sqlalchemy.orm import Session

    from gis_service.db.models import GeometryQuality, Zone, ZoneKind

    with Session(engine) as s, s.begin():
        z = Zone(code=code, name=name, kind=kind or ZoneKind.pian, geom=_multi_wkt(geom_4326),
                 geometry_quality=GeometryQuality.synthetic, source_document="test fixture")
        s.add(z)
        s.flush()
        return z.id


def insert_indicator(engine: Engine, park_id: int, year: int, metric: str, value: float, unit: str,
                     source: str = "test fixture") -> None:
    """Insert one park figure (e.g. ``output`` in 亿元)."""
    from sqlalchemy.orm import Session

    from gis_service.db.models import Indicator

    with Session(engine) as s, s.begin():
        s.add(Indicator(park_id=park_id, year=year, metric_code=metric, value=value, unit=unit,
                        source_document=source, source_section="test"))


def insert_target_from_sample(engine: Engine, code: str = "t001_09") -> None:
    """Store the sample data's target row ``code`` (data/layers/targets.csv, e.g. 001 表1 #9,
    80 亿元/km² on supplied industrial land), as ``load-sample`` does: answers compare with the
    stored target only."""
    import csv

    from sqlalchemy import text

    path = Path(__file__).resolve().parents[1] / "data" / "layers" / "targets.csv"
    with path.open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["code"] == code)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO target (code, scope, category, name, metric_code, basis, year, value, unit, nature,"
                " source_document, source_section) VALUES (:code, :scope, :category, :name, :metric_code, :basis,"
                " :year, :value, :unit, CAST(:nature AS target_nature), :source_document, :source_section)"
            ),
            {k: row[k] for k in ("code", "scope", "category", "name", "metric_code", "basis", "unit", "nature",
                                 "source_document", "source_section")}
            | {"year": int(row["year"]), "value": float(row["value"])},
        )


def load_synthetic_units(engine: Engine, *, parks: int = 7, zones: int = 3, year: int = 2020) -> gpd.GeoDataFrame:
    """The benchmark's parks and zones: ``parks`` synthetic park boundaries (seed 5) over the
    Songjiang parks box, each with an ``output`` figure of ``year`` (40, 50, ... 亿元), and
    ``zones`` 片 zones cutting the box into vertical strips.

    Returns the parks as engine units (``unit_id``, ``unit_name``, ``boundary_version``, geometry).
    """
    import numpy as np
    from shapely.geometry import box

    from gis_service.parcels import synthetic_boundaries
    from gis_service.parcels.synthetic import SONGJIANG_PARKS_BBOX

    frame = synthetic_boundaries(parks, seed=5, bbox=SONGJIANG_PARKS_BBOX, radius_deg=0.009)
    ids = []
    for row in frame.itertuples():
        pid, bid = insert_park(engine, row.unit_id, row.unit_name, row.geometry)
        insert_indicator(engine, pid, year, "output", 40.0 + 10 * len(ids), "亿元", "synthetic benchmark figure")
        ids.append((pid, bid))
    minx, miny, maxx, maxy = SONGJIANG_PARKS_BBOX
    edges = np.linspace(minx, maxx, zones + 1)
    for k in range(zones):
        insert_zone(engine, f"Z{k}", f"合成片区{k + 1}", box(edges[k], miny, edges[k + 1], maxy))
    insert_target_from_sample(engine)
    return frame.assign(unit_id=[i[0] for i in ids], boundary_version=[i[1] for i in ids])


def load_synthetic_parcels(engine: Engine, n: int, *, seed: int = 42) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    """Replace ``land_parcel`` by ``n`` synthetic parcels (:func:`~gis_service.parcels.generate_parcels`,
    ``seed``), written by COPY (:func:`~gis_service.parcels.write_parcels`), then VACUUM ANALYZE.

    Returns the parcels and ``{"generate_s": ..., "load_s": ...}`` (load = COPY + VACUUM ANALYZE).
    """
    from sqlalchemy import text

    from gis_service.parcels import generate_parcels, write_parcels

    t0 = time.perf_counter()
    parcels = generate_parcels(n, seed=seed)
    t_gen = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE land_parcel"))
    t0 = time.perf_counter()
    write_parcels(engine, parcels)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE land_parcel"))
    return parcels, {"generate_s": t_gen, "load_s": time.perf_counter() - t0}
