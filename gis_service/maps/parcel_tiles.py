"""The parcels as a vector-tile layer of a Leaflet map (``/tiles/parcels``), styled by land use
and supply status, so that a map shows every parcel at any count without embedding them.

The tiles are generalised below zoom 14 (:mod:`gis_service.api.tiles`): layer ``parcels``
holds parcels (all of them from z14), layer ``parcel_cells`` the small ones merged into grid
cells, drawn with their dominant class and as opaque as the parcels cover the cell.  Colours
are :data:`~gis_service.maps.styles.LAND_USE_COLOURS` (those of the embedded parcel layer);
a supplied parcel is drawn solid, one not supplied lighter with a dashed outline.  Drawn by
Leaflet.VectorGrid (vendored under ``static/vectorgrid`` for offline mode: asset name
``vectorGrid`` in :data:`~gis_service.maps.assets.LOCAL_ASSETS`).
"""

from __future__ import annotations

import json

import folium
from folium.plugins import VectorGridProtobuf

from gis_service.maps import styles

TILES_PATH = "/tiles/parcels/{z}/{x}/{y}.mvt"
LAYER_NAME = "用地地块(按用地类别与供应状态)"

_STYLE_JS = """{
    rendererFactory: L.canvas.tile,%(pane)s
    maxNativeZoom: 22,
    attribution: "用地地块",
    vectorTileLayerStyles: {
        parcels: function (p) {
            var fill = %(colours)s[p.land_use_class] || "%(other)s";
            return {fill: true, fillColor: fill, fillOpacity: p.is_supplied ? 0.7 : 0.35,
                    color: p.is_supplied ? "#444444" : "#888888", weight: 0.5,
                    dashArray: p.is_supplied ? null : "2 2"};
        },
        parcel_cells: function (p) {
            var fill = %(colours)s[p.land_use_class] || "%(other)s";
            var share = Math.max(0.1, p.coverage || 0);
            return {fill: true, fillColor: fill, fillOpacity: (p.is_supplied ? 0.7 : 0.35) * share,
                    stroke: false};
        }
    }
}"""


def parcel_tiles_options(pane: str | None = None) -> str:
    """The VectorGrid options (JavaScript) styling both tile layers, drawn in ``pane`` if given."""
    return _STYLE_JS % {"colours": json.dumps(styles.LAND_USE_COLOURS), "other": styles.OTHER_LAND_USE_COLOUR,
                        "pane": f"\n    pane: {json.dumps(pane)}," if pane else ""}


def add_parcel_tiles(m: folium.Map, base_url: str = "", *, show: bool = False, pane: str | None = None) -> VectorGridProtobuf:
    """Add the parcel tile layer to ``m`` (``base_url``: the service's public base, "" for the
    same origin) and return it; it appears in the layer control as :data:`LAYER_NAME`.  ``pane``:
    a pane the page has made (the service's pages stack land under the parks in ``gisLand``)."""
    layer = VectorGridProtobuf(base_url + TILES_PATH, LAYER_NAME, parcel_tiles_options(pane), show=show)
    layer.add_to(m)
    return layer
