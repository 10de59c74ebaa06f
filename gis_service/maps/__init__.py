"""Folium maps: the district overview and per-park pages (see :mod:`gis_service.maps.build`).

Maps only draw: the figures come from :mod:`gis_service.answers`.
"""

from gis_service.maps.build import MapOptions, build_park_map, park_popup_html
from gis_service.maps.cache import RenderCache
from gis_service.maps.overview import build_overview
from gis_service.maps.simplify import simplify_for_display

__all__ = [
    "MapOptions",
    "RenderCache",
    "build_overview",
    "build_park_map",
    "park_popup_html",
    "simplify_for_display",
]
