"""Mapbox vector tiles from PostGIS (``ST_AsMVT``) for parcels and parks.

A tile carries every feature that intersects it: there is no feature cap, so no tile
is ever cut short.  Parcel tiles below ``parcel_tile_minzoom`` are refused with a 422
(said in the TileJSON too) rather than served partially.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from gis_service.api.catalog import COLLECTIONS
from gis_service.api.dependencies import ApiInputError, api_settings, check_tile
from gis_service.api.headers import public_base_url
from gis_service.errors import NotFoundError

router = APIRouter(prefix="/tiles", tags=["vector tiles"])

MVT = "application/vnd.mapbox-vector-tile"
EXTENT = 4096
BUFFER = 64


@dataclass(frozen=True)
class TileLayer:
    """A tiled layer: the catalog collection it comes from and the properties it carries."""

    name: str
    collection: str
    properties: tuple[str, ...]


TILE_LAYERS: dict[str, TileLayer] = {
    "parcels": TileLayer("parcels", "parcels", ("layer", "land_use_class", "land_use_code", "is_supplied", "is_built", "is_synthetic")),
    "parks": TileLayer("parks", "parks", ("code", "name", "kind", "geometry_quality")),
}


def _layer(name: str) -> TileLayer:
    try:
        return TILE_LAYERS[name]
    except KeyError:
        raise NotFoundError(f"no tile layer '{name}' (layers: {', '.join(TILE_LAYERS)})") from None


@lru_cache(maxsize=None)
def _tile_sql(layer: TileLayer) -> str:
    """The tile query of a layer, built once (driver-level %(name)s parameters)."""
    source = COLLECTIONS[layer.collection].source
    props = ", ".join(f"s.{p}" for p in layer.properties)
    # Margin in tile units -> fraction of the tile for ST_TileEnvelope; the bbox test is done
    # in EPSG:4326 so the GiST index on the stored geometry is used.
    return f"""
        WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
                          ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s), 4326) AS env4326),
        f AS MATERIALIZED (  -- materialized: ST_AsMVTGeom runs once per feature, not again in the filter
            SELECT s.id, {props},
                   ST_AsMVTGeom(ST_Transform(s.geom, 3857), b.env, {EXTENT}, {BUFFER}, true) AS geom
            FROM ({source}) s, b
            WHERE s.geom && b.env4326
        )
        SELECT ST_AsMVT(f, %(name)s, {EXTENT}, 'geom', 'id') FROM f WHERE f.geom IS NOT NULL
    """


def render_tile(engine: Engine, layer: TileLayer, z: int, x: int, y: int) -> bytes:
    """The MVT of ``layer`` for tile ``z/x/y`` (Web Mercator quadtree), all features included."""
    params = {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT, "name": layer.name}
    with engine.connect() as conn:
        tile = conn.exec_driver_sql(_tile_sql(layer), params).scalar_one()
    return bytes(tile or b"")


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response, responses={200: {"content": {MVT: {}}}})
def tile(request: Request, layer: str, z: int, x: int, y: int) -> Response:
    """One vector tile (every feature that intersects it)."""
    spec = _layer(layer)
    check_tile(z, x, y)
    minzoom = api_settings(request).parcel_tile_minzoom if spec.name == "parcels" else 0
    if z < minzoom:
        raise ApiInputError("z", f"'{spec.name}' tiles start at zoom {minzoom} (got {z}); tiles are never truncated")
    data = render_tile(request.app.state.engine, spec, z, x, y)
    return Response(data, media_type=MVT, headers={"Cache-Control": "public, max-age=60"})


@router.get("/{layer}.json", summary="TileJSON of a layer")
def tilejson(request: Request, layer: str) -> dict[str, object]:
    spec = _layer(layer)
    minzoom = api_settings(request).parcel_tile_minzoom if spec.name == "parcels" else 0
    base = public_base_url(request)
    return {
        "tilejson": "3.0.0",
        "name": spec.name,
        "tiles": [f"{base}/tiles/{spec.name}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": minzoom,
        "maxzoom": 22,
        "vector_layers": [{"id": spec.name, "fields": {p: "" for p in spec.properties}}],
    }
