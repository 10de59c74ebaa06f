"""Mapbox vector tiles from PostGIS (``ST_AsMVT``) for parcels and parks.

From ``parcel_tile_detail_zoom`` (default 14) a parcel tile carries every parcel that meets it:
no feature cap, nothing dropped.  Below it parcel tiles are generalised the tippecanoe way
(:mod:`gis_service.tiles.render`): parcels of at least 4 px² kept and simplified, smaller ones
merged by land layer into grid cells (layer ``parcel_cells``), every feature flagged
``generalised``, each tile under ``parcel_tile_max_bytes``; the TileJSON says so per zoom.
Parcel tiles below ``parcel_tile_minzoom`` (default 0: none) are refused with a 422.

Tiles are cached per data version: the ETag comes from the ``data_change`` counters of the
layer's tables (the map pages' notion of a data change), ``If-None-Match`` gets a 304, and
rendered tiles are kept in an in-process LRU bounded in bytes (``tile_cache_bytes``).

Cost per request: the counters are the in-process copy pushed by the database
(:class:`~gis_service.store.version_watch.VersionWatch`), so a 304 or a cache hit touches no
connection (and no worker thread: the route is async).  A cold tile is one autocommit
statement on the tile engine, whose connections carry the planner settings from connect
time; that statement also reads the counters, so a tile's ETag always names the data it was
rendered from (see the version watch's docstring for the window a hit or 304 may lag by).
While the watcher is not connected the route reads the counters with one query first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from psycopg import pq
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from gis_service.api.catalog import COLLECTIONS
from gis_service.api.config import ApiSettings
from gis_service.api.dependencies import ApiInputError, api_settings, check_tile
from gis_service.api.headers import public_base_url
from gis_service.errors import NotFoundError
from gis_service.store.version_watch import (
    VersionWatch,
    libpq_conninfo,
    read_versions,
    watched,
)
from gis_service.tiles import (
    BUFFER,
    EXTENT,
    LEVELS,
    RenderedTile,
    TileBox,
    TileCache,
    TileLayerSql,
)
from gis_service.tiles.render import Rendered, render_detail, render_generalised

T = TypeVar("T")
router = APIRouter(prefix="/tiles", tags=["vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"
__all__ = ["BUFFER", "EXTENT", "MVT", "TILE_LAYERS", "TileLayer", "render_tile", "router"]
#: bumped when the way tiles are rendered changes, so that clients' ETags of old renderings lapse
RENDERING = "2"
CELL_FIELDS = {"layer": "土地数据类型", "land_use_class": "面积最大的用地类别", "is_supplied": "供应面积过半",
               "supplied_share": "已供应面积占比", "parcel_count": "地块数", "coverage": "地块覆盖网格比例",
               "is_synthetic": "含合成数据", "generalised": "综合(概化)要素"}


@dataclass(frozen=True)
class TileLayer:
    """A tiled layer: its catalog collection, properties, the tables its data version is read
    from, whether its content depends on today's date (boundaries in force), and whether it is
    generalised below the detail zoom."""

    name: str
    collection: str
    properties: tuple[str, ...]
    tables: tuple[str, ...]
    dated: bool = False
    generalised: bool = False

    @property
    def sql(self) -> TileLayerSql:
        return TileLayerSql(self.name, COLLECTIONS[self.collection].source, self.properties, self.tables)


TILE_LAYERS: dict[str, TileLayer] = {
    "parcels": TileLayer("parcels", "parcels",
                         ("layer", "land_use_class", "land_use_code", "is_supplied", "is_built", "is_synthetic"),
                         tables=("land_parcel", "land_import"), generalised=True),
    "parks": TileLayer("parks", "parks", ("code", "name", "kind", "geometry_quality"),
                       tables=("park", "park_boundary"), dated=True),
}


def _layer(name: str) -> TileLayer:
    try:
        return TILE_LAYERS[name]
    except KeyError:
        raise NotFoundError(f"no tile layer '{name}' (layers: {', '.join(TILE_LAYERS)})") from None


def detail_zoom(layer: TileLayer, settings: ApiSettings) -> int:
    """The zoom from which ``layer``'s tiles hold every feature unchanged."""
    return settings.parcel_tile_detail_zoom if layer.generalised else 0


def render_tile(conn: Connection, layer: TileLayer, z: int, x: int, y: int, *,
                detail_from: int = 14, max_bytes: int = 500_000) -> tuple[RenderedTile, dict[str, int]]:
    """The MVT of ``layer`` for tile ``z/x/y`` and the data versions it was read at: full detail
    from ``detail_from``, else generalised at the first level of :data:`LEVELS` that fits
    ``max_bytes`` (the last always fits).  ``conn`` is in autocommit (one snapshot per statement)."""
    box = TileBox(z, x, y)
    if not layer.generalised or z >= detail_from:
        out = render_detail(conn, layer.sql, box)
        return RenderedTile(out.data), out.versions
    rendered: Rendered | None = None
    for level in LEVELS:
        rendered = render_generalised(conn, layer.sql, box, level)
        if len(rendered.data) <= max_bytes:
            break
    assert rendered is not None  # LEVELS is not empty
    return RenderedTile(rendered.data, level.describe()), rendered.versions


def _read_once(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(conn)`` on a connection of ``engine``, again once on a fresh one if the first
    had died (a restarted server): the tile engine has no pre-ping round trip, and a read is
    safe to repeat."""
    try:
        with engine.connect() as conn:
            return read(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with engine.connect() as conn:
        return read(conn)


def _etag(layer: TileLayer, settings: ApiSettings, versions: dict[str, int]) -> str:
    """The version of every tile of ``layer``: its tables' data versions, plus what else shapes it."""
    parts = [RENDERING, watched(versions), detail_zoom(layer, settings), settings.parcel_tile_max_bytes]
    if layer.dated:
        parts.append(dt.date.today().isoformat())
    return '"' + hashlib.sha1(repr(parts).encode()).hexdigest()[:20] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _cache(request: Request) -> TileCache:
    state = request.app.state
    if getattr(state, "tile_cache", None) is None:
        state.tile_cache = TileCache(api_settings(request).tile_cache_bytes)
    return state.tile_cache  # type: ignore[no-any-return]


class _BinaryCursor(psycopg.Cursor[Any]):
    """A cursor receiving results in binary: a tile's bytea comes as it is, not hex-encoded by
    the server and decoded here (twice its size in text, for nothing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.format = pq.Format.BINARY


def _binary_results(dbapi_connection: psycopg.Connection[Any], _record: object) -> None:
    dbapi_connection.cursor_factory = _BinaryCursor


def open_tiles(app: FastAPI, engine: Engine) -> Callable[[], None]:
    """Give ``app`` its tile engine (autocommit, planner settings per connection, binary results)
    and start the data version watch on the same database (lifespan start).  Returns what ends
    them (lifespan end): these two, even if a later start replaced them in ``app.state``."""
    event.listen(engine, "connect", _binary_results)
    watch = VersionWatch(libpq_conninfo(engine.url.render_as_string(hide_password=False)))
    app.state.tile_engine, app.state.version_watch = engine, watch
    watch.start()

    def close() -> None:
        watch.stop()
        engine.dispose()

    return close


async def _versions(request: Request, layer: TileLayer) -> dict[str, int]:
    """The layer's data versions: the pushed copy, or one query while the watch is not connected."""
    versions = request.app.state.version_watch.current(layer.tables)
    if versions is not None:
        return versions  # type: ignore[no-any-return]
    engine = request.app.state.tile_engine
    return await run_in_threadpool(_read_once, engine, lambda conn: read_versions(conn, layer.tables))


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response, responses={200: {"content": {MVT: {}}}, 304: {}})
async def tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile: every feature from the detail zoom, generalised and bounded below it.

    ``ETag`` is the tile's data version; send it back in ``If-None-Match`` to get a 304."""
    spec = _layer(layer)
    check_tile(z, x, y)
    settings = api_settings(request)
    minzoom = settings.parcel_tile_minzoom if spec.name == "parcels" else 0
    if z < minzoom:
        raise ApiInputError("z", f"'{spec.name}' tiles start at zoom {minzoom} (got {z}) on this server")
    if_none_match = request.headers.get("if-none-match")
    etag = _etag(spec, settings, await _versions(request, spec))
    headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate every time: a data change shows at once
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    cache = _cache(request)
    rendered = cache.get((spec.name, z, x, y, etag))
    headers["X-Tile-Cache"] = "hit" if rendered is not None else "miss"
    if rendered is None:
        rendered, versions = await run_in_threadpool(
            _read_once, request.app.state.tile_engine,
            lambda conn: render_tile(conn, spec, z, x, y, detail_from=detail_zoom(spec, settings),
                                     max_bytes=settings.parcel_tile_max_bytes))
        # the versions read with the content name it, whatever the copy said before: a write
        # committed meanwhile gives the tile its new ETag (and cache key), never the old one
        headers["ETag"] = etag = _etag(spec, settings, versions)
        cache.put((spec.name, z, x, y, etag), rendered)
        if _matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
    if rendered.generalisation:
        headers["X-Tile-Generalisation"] = rendered.generalisation
    return Response(rendered.data, media_type=MVT, headers=headers)


@router.get("/{layer}.json", summary="TileJSON of a layer")
def tilejson(request: Request, layer: str) -> dict[str, object]:
    spec = _layer(layer)
    settings = api_settings(request)
    minzoom = settings.parcel_tile_minzoom if spec.name == "parcels" else 0
    base = public_base_url(request)
    layers: list[dict[str, object]] = [{"id": spec.name, "fields": {p: "" for p in spec.properties},
                                        "minzoom": minzoom, "maxzoom": 22}]
    out: dict[str, object] = {"tilejson": "3.0.0", "name": spec.name,
                              "tiles": [f"{base}/tiles/{spec.name}/{{z}}/{{x}}/{{y}}.mvt"],
                              "minzoom": minzoom, "maxzoom": 22}
    full = detail_zoom(spec, settings)
    if spec.generalised and full > minzoom:
        layers[0]["fields"] = {**layers[0]["fields"], "generalised": "综合(概化)瓦片中为 true"}  # type: ignore[dict-item]
        layers.append({"id": "parcel_cells", "fields": CELL_FIELDS, "minzoom": minzoom, "maxzoom": full - 1,
                       "description": "小于阈值的地块按网格与土地数据类型合并"})
        out["generalisation"] = {
            "full_detail_from_zoom": full,
            "generalised_zooms": [minzoom, full - 1],
            "levels": [level.describe() for level in LEVELS],
            "max_bytes": settings.parcel_tile_max_bytes,
            "rule": "below full_detail_from_zoom: parcels covering at least min_area_px of a 256 px tile are kept, "
                    "simplified by half a pixel; smaller ones are merged per land layer into square cells "
                    "(layer parcel_cells: dominant class by area, supplied share, parcel count, coverage); the first "
                    "level whose tile fits max_bytes is used (header X-Tile-Generalisation names it); every feature "
                    "of a generalised tile has generalised=true.  From full_detail_from_zoom every parcel is kept.",
            "description": f"第 {full} 级起每个地块原样输出;以下各级为综合瓦片:面积不足阈值的小地块按网格合并,其余地块简化。",
        }
    out["vector_layers"] = layers
    return out
