"""Where the maps' scripts, styles and basemap tiles come from (CDN or this service).

Folium declares each element's JavaScript/CSS as data (``default_js``/``default_css``).
:func:`localise` rewrites those declarations on every element of a map: in offline
mode each asset is served from ``gis_service/maps/static`` (vendored from the npm
packages leaflet 1.9.3, jquery 3.7.1, leaflet.fullscreen 3.0.0, leaflet-measure 2.1.7,
leaflet-minimap 3.6.1, leaflet-search 2.9.7: the versions folium 0.20 links to), so a
page works on an intranet with no internet.  Assets the maps never use (Bootstrap,
Font Awesome, awesome-markers) are dropped in both modes.  leaflet-measure's five HTML
templates are precompiled (scripts/precompile_measure_templates.js): the npm bundle compiles
them with ``new Function`` on load, which a Content-Security-Policy without 'unsafe-eval' stops.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import folium
from folium import plugins

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/maps"
#: the page frame's own script (panes, scale, search, drawer), always served by this service
PAGE_SCRIPT = "gis/page.js"

#: folium asset name -> path under STATIC_DIR
LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "jquery": "jquery/jquery.min.js",
    "Control.Fullscreen.js": "fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "fullscreen/Control.FullScreen.css",
    "leaflet_measure_js": "measure/leaflet-measure.min.js",
    "leaflet_measure_css": "measure/leaflet-measure.css",
    "Control_MiniMap_js": "minimap/Control.MiniMap.min.js",
    "Control_MiniMap_css": "minimap/Control.MiniMap.min.css",
    "Leaflet.Search.js": "search/dist/leaflet-search.min.js",
    "Leaflet.Search.css": "search/dist/leaflet-search.min.css",
    "vectorGrid": "vectorgrid/Leaflet.VectorGrid.bundled.min.js",  # leaflet.vectorgrid 1.3.0 (parcel tiles)
    "gis_page_js": PAGE_SCRIPT,
}
#: folium defaults the maps do not use (no markers with icons, no Bootstrap widgets)
UNUSED_ASSETS = frozenset(
    {"bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css", "awesome_markers_font_css",
     "awesome_markers_css", "awesome_rotate_css"}
)


class MissingAssetError(RuntimeError):
    """An element declares an asset that has no vendored copy (offline mode would break)."""


def _rewrite(assets: list[tuple[str, str]], offline: bool, prefix: str) -> list[tuple[str, str]]:
    out = []
    for name, url in assets:
        if name in UNUSED_ASSETS:
            continue
        if offline:
            if name not in LOCAL_ASSETS:
                raise MissingAssetError(f"no vendored copy of asset {name!r} ({url})")
            url = f"{prefix}/{LOCAL_ASSETS[name]}"
        out.append((name, url))
    return out


def localise(m: folium.Map, *, offline: bool, prefix: str = STATIC_URL) -> folium.Map:
    """Rewrite the asset links of ``m`` and all its children (in place; returns ``m``)."""
    stack: list[object] = [m]
    while stack:
        element = stack.pop()
        if hasattr(element, "default_js"):
            element.default_js = _rewrite(list(element.default_js), offline, prefix)  # type: ignore[attr-defined]
            element.default_css = _rewrite(list(element.default_css), offline, prefix)  # type: ignore[attr-defined]
        stack.extend(getattr(element, "_children", {}).values())
    return m


@dataclass(frozen=True)
class Basemap:
    """A tile layer: ``crs`` is ``wgs84`` (Web Mercator over WGS84/CGCS2000) or ``gcj02``."""

    key: str
    name: str
    url: str
    attribution: str
    crs: str = "wgs84"
    subdomains: str = "abc"
    overlay: bool = False


def basemaps(*, variant: str, offline: bool, tianditu_key: str | None, local_tile_url: str | None,
             local_attribution: str = "本地底图") -> list[Basemap]:
    """The basemaps of a page.

    ``variant="amap"`` gives only the 高德 (GCJ-02) basemap: overlays must then be converted
    to GCJ-02, and no WGS84 basemap is offered on the same page (the two never mix).
    Offline, only the configured local tile URL (or nothing) is used.
    """
    if offline:
        return [Basemap("local", "本地底图", local_tile_url, local_attribution)] if local_tile_url else []
    if local_tile_url:  # an intranet tile server (天地图 cache, company cache) comes first online too
        layers_local = [Basemap("local", "本地底图", local_tile_url, local_attribution)]
    else:
        layers_local = []
    if variant == "amap":
        return [Basemap("amap", "高德地图", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                        "© 高德地图 AutoNavi", crs="gcj02", subdomains="1234")]
    layers = [
        *layers_local,
        Basemap("osm", "开放街道地图(OSM)", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "© OpenStreetMap 贡献者"),
        Basemap("positron", "浅色底图(CARTO)", "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
                "© OpenStreetMap 贡献者 © CARTO", subdomains="abcd"),
    ]
    if tianditu_key:
        wmts = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
                "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
        layers.append(Basemap("tianditu", "天地图 矢量", wmts.format(s="{s}", layer="vec", key=tianditu_key),
                              "© 天地图", subdomains="01234567"))
        layers.append(Basemap("tianditu_label", "天地图 注记", wmts.format(s="{s}", layer="cva", key=tianditu_key),
                              "© 天地图", subdomains="01234567", overlay=True))
    return layers


def _origin(url: str) -> str:
    """CSP source of a URL: scheme://host, a templated first label (``{s}.tile…``) as ``*.``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "{" in host.split(".")[0]:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


@lru_cache(maxsize=1)
def cdn_origins() -> tuple[str, ...]:
    """Where folium loads the maps' scripts and styles from when they are not served locally."""
    elements = (folium.Map, plugins.Fullscreen, plugins.MeasureControl, plugins.MiniMap, plugins.Search)
    urls = {url for cls in elements for name, url in (*cls.default_js, *cls.default_css) if name not in UNUSED_ASSETS}
    return tuple(sorted({_origin(u) for u in urls}))


def tile_origins(*, offline: bool, tianditu_key: str | None, local_tile_url: str | None) -> list[str]:
    """CSP sources of every basemap a page may show (both variants)."""
    layers = [*basemaps(variant="default", offline=offline, tianditu_key=tianditu_key, local_tile_url=local_tile_url),
              *basemaps(variant="amap", offline=offline, tianditu_key=tianditu_key, local_tile_url=local_tile_url)]
    return sorted({_origin(layer.url) for layer in layers})


# ----------------------------------------------------------------------------- self-contained maps
_MIME = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
#: a relative ``url(...)`` in a stylesheet (icons next to it); ``#…`` and ``data:`` stay
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#|https?:)([^)'\"]+)\1\)")


@lru_cache(maxsize=None)
def data_uri(relative: str) -> str:
    """A vendored asset as a ``data:`` URI; a stylesheet's icons are inlined into it first."""
    path = STATIC_DIR / relative
    if path.suffix == ".css":
        css = _CSS_URL.sub(lambda m: f"url({data_uri(str((path.parent / m.group(2)).resolve().relative_to(STATIC_DIR.resolve())))})",
                           path.read_text(encoding="utf-8"))
        return f"data:text/css;base64,{base64.b64encode(css.encode('utf-8')).decode('ascii')}"
    return f"data:{_MIME[path.suffix]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def self_contained(m: folium.Map) -> folium.Map:
    """Put every script, style and icon of ``m`` (and its children) into the page itself as
    ``data:`` URIs, from the vendored copies: a map with no service behind it (a notebook's
    output, a saved HTML file) then needs no CDN and works on an intranet.  Only basemap
    tiles are still fetched.  In place; returns ``m``."""
    stack: list[object] = [m]
    while stack:
        element = stack.pop()
        if hasattr(element, "default_js"):
            for kind in ("default_js", "default_css"):
                declared = _rewrite(list(getattr(element, kind)), True, "")
                setattr(element, kind, [(name, data_uri(url.lstrip("/"))) for name, url in declared])
        stack.extend(getattr(element, "_children", {}).values())
    return m
