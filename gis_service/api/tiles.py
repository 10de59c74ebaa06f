"""Mapbox vector tiles from PostGIS (``ST_AsMVT``) for parcels and parks.

From ``parcel_tile_detail_zoom`` (default 14) a parcel tile carries every parcel that meets it:
no feature cap, nothing dropped.  Below it parcel tiles are generalised the tippecanoe way
(:mod:`gis_service.tiles.render`): parcels of at least 4 px² kept and simplified, smaller ones
merged by land layer into grid cells (layer ``parcel_cells``), every feature flagged
``generalised``, each tile under ``parcel_tile_max_bytes``; the TileJSON says so per zoom.
Parcel tiles below ``parcel_tile_minzoom`` (default 0: none) are refused with a 422.

Tiles are cached per data version: the ETag comes from
:func:`~gis_service.store.versions.data_version` of the layer's tables (the map pages' notion
of a data change), ``If-None-Match`` gets a 304, and rendered tiles are kept in an in-process
LRU bounded in bytes (``tile_cache_bytes``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from gis_service.api.catalog import COLLECTIONS
from gis_service.api.config import ApiSettings
from gis_service.api.dependencies import ApiInputError, api_settings, check_tile
from gis_service.api.headers import public_base_url
from gis_service.errors import NotFoundError
from gis_service.store.versions import connection_data_version
from gis_service.tiles import (
    BUFFER,
    EXTENT,
    LEVELS,
    RenderedTile,
    TileBox,
    TileCache,
    TileLayerSql,
)
from gis_service.tiles.render import render_detail, render_generalised, tile_transaction

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
        return TileLayerSql(self.name, COLLECTIONS[self.collection].source, self.properties)


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
                detail_from: int = 14, max_bytes: int = 500_000) -> RenderedTile:
    """The MVT of ``layer`` for tile ``z/x/y``: full detail from ``detail_from``, else generalised
    at the first level of :data:`LEVELS` that fits ``max_bytes`` (the last always fits)."""
    box = TileBox(z, x, y)
    tile_transaction(conn)
    if not layer.generalised or z >= detail_from:
        return RenderedTile(render_detail(conn, layer.sql, box))
    for level in LEVELS:
        data = render_generalised(conn, layer.sql, box, level)
        if len(data) <= max_bytes:
            break
    return RenderedTile(data, level.describe())


def _etag(conn: Connection, layer: TileLayer, settings: ApiSettings) -> str:
    """The version of every tile of ``layer``: its tables' data version, plus what else shapes it."""
    parts = [RENDERING, connection_data_version(conn, layer.tables), detail_zoom(layer, settings),
             settings.parcel_tile_max_bytes]
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


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response, responses={200: {"content": {MVT: {}}}, 304: {}})
def tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile: every feature from the detail zoom, generalised and bounded below it.

    ``ETag`` is the tile's data version; send it back in ``If-None-Match`` to get a 304."""
    spec = _layer(layer)
    check_tile(z, x, y)
    settings = api_settings(request)
    minzoom = settings.parcel_tile_minzoom if spec.name == "parcels" else 0
    if z < minzoom:
        raise ApiInputError("z", f"'{spec.name}' tiles start at zoom {minzoom} (got {z}) on this server")
    # one REPEATABLE READ transaction (one snapshot) for the version and the rendering: a tile
    # is never rendered from data other than its ETag says
    with request.app.state.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        etag = _etag(conn, spec, settings)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate every time: a data change shows at once
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        rendered, hit = _cache(request).get_or_render(
            (spec.name, z, x, y, etag),
            lambda: render_tile(conn, spec, z, x, y, detail_from=detail_zoom(spec, settings),
                                max_bytes=settings.parcel_tile_max_bytes))
    headers["X-Tile-Cache"] = "hit" if hit else "miss"
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
