"""Vector tiles: rendering (full detail or generalised) and the in-process tile cache."""

from gis_service.tiles.cache import RenderedTile, TileCache
from gis_service.tiles.render import (
    BUFFER,
    EXTENT,
    LEVELS,
    Level,
    TileBox,
    TileLayerSql,
)

__all__ = ["BUFFER", "EXTENT", "LEVELS", "Level", "RenderedTile", "TileBox", "TileCache", "TileLayerSql"]
