"""Folium maps: the district overview and per-park pages (see :mod:`gis_service.maps.build`)."""

from gis_service.maps.build import MapOptions, build_overview, build_park_map, park_popup_html
from gis_service.maps.cache import RenderCache, data_version
from gis_service.maps.figures import FigureChoice, choose, park_figures, resolve_target
from gis_service.maps.simplify import simplify_for_display

__all__ = [
    "FigureChoice",
    "MapOptions",
    "RenderCache",
    "build_overview",
    "build_park_map",
    "choose",
    "data_version",
    "park_figures",
    "park_popup_html",
    "resolve_target",
    "simplify_for_display",
]
