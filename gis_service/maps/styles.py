"""Every visual choice of the maps in one place: colours, line styles, legends' wording.

Attainment (density / target) is coloured on a diverging scale centred on 100 %:
reds below target, blues above, a pale neutral at the target.  Approximate geometry
is always drawn with a dashed outline and said so in words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gis_service.ingest.land.codes import CLASS_LABELS_ZH

#: attainment classes (lower bound in %, colour, label); diverging around 100 %
ATTAINMENT_CLASSES: tuple[tuple[float, str, str], ...] = (
    (0.0, "#b2182b", "< 50%"),
    (50.0, "#ef8a62", "50–80%"),
    (80.0, "#fddbc7", "80–100%"),
    (100.0, "#d1e5f0", "100–120%"),
    (120.0, "#67a9cf", "120–150%"),
    (150.0, "#2166ac", "≥ 150%"),
)
NO_DATA_COLOUR = "#bdbdbd"
#: a park with a density that is not graded (its numerator is not the target's): one neutral colour
UNGRADED_COLOUR = "#c6dbef"
APPROXIMATE_DASH = "6 4"

QUALITY_ZH = {
    "surveyed": "测绘边界",
    "approximate": "近似边界(据四至与近似道路推算,非测绘数据)",
    "synthetic": "合成数据(演示/测试用,非真实边界)",
}

#: fill colour of each land-use class (:data:`gis_service.ingest.land.codes.LAND_USE_CLASSES`)
LAND_USE_COLOURS = {
    "industrial": "#8c6bb1",
    "mining": "#6a51a3",
    "logistics_warehouse": "#b3a2c7",
    "commercial": "#e34a33",
    "residential": "#fec44f",
    "public_service": "#41b6c4",
    "transport": "#969696",
    "utilities": "#bdbdbd",
    "green_open_space": "#78c679",
    "water": "#6baed6",
    "agricultural": "#d9f0a3",
    "ecological": "#238443",
    "other": "#d9d9d9",
}
#: the classes' Chinese names, from the one crosswalk
LAND_USE_ZH = CLASS_LABELS_ZH
OTHER_LAND_USE_COLOUR = "#d9d9d9"

ROAD_COLOURS = {"expressway": "#e6550d", "river": "#3182bd", "boundary": "#636363"}
ROAD_DEFAULT_COLOUR = "#525252"

ZONE_COLOURS = {"corridor": "#e7298a", "corridor_area": "#d95f02", "pian": "#1b9e77"}
DISTRICT_STYLE = {"color": "#252525", "weight": 3, "fill": False}
TOWN_STYLE = {"color": "#737373", "weight": 1, "fillOpacity": 0.0, "dashArray": None}

#: 亩均 classes (A best … D worst), a sequential green-to-red scale; unclassed units are no-data grey
MU_JUN_CLASS_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d73027"}

SIDE_COLOURS = {"东至": "#d7301f", "南至": "#238b45", "西至": "#2171b5", "北至": "#6a51a3"}


def attainment_colour(pct: float | None) -> str:
    """Fill colour of an attainment percentage (grey for missing)."""
    if pct is None or (isinstance(pct, float) and math.isnan(pct)):
        return NO_DATA_COLOUR
    colour = ATTAINMENT_CLASSES[0][1]
    for lower, col, _ in ATTAINMENT_CLASSES:
        if pct >= lower:
            colour = col
    return colour


def outline(quality: str | None, colour: str, weight: float = 2.0) -> dict[str, Any]:
    """Leaflet path style of an outline: dashed when the geometry is not surveyed."""
    style: dict[str, Any] = {"color": colour, "weight": weight}
    if quality != "surveyed":
        style["dashArray"] = APPROXIMATE_DASH
    return style


def park_style(fill: str, quality: str | None) -> dict[str, Any]:
    return {**outline(quality, "#252525", 2.0), "fillColor": fill, "fillOpacity": 0.7}


def zone_style(kind: str, quality: str | None) -> dict[str, Any]:
    colour = ZONE_COLOURS.get(kind, "#666666")
    return {**outline(quality, colour, 2.5), "fillColor": colour, "fillOpacity": 0.08}


def road_style(kind: str, quality: str | None) -> dict[str, Any]:
    colour = next((c for k, c in ROAD_COLOURS.items() if k in (kind or "")), ROAD_DEFAULT_COLOUR)
    return outline(quality, colour, 3.0)


def parcel_style(land_use_class: str | None) -> dict[str, Any]:
    colour = LAND_USE_COLOURS.get(land_use_class or "", OTHER_LAND_USE_COLOUR)
    return {"color": "#555555", "weight": 0.5, "fillColor": colour, "fillOpacity": 0.6}


def quality_zh(quality: str | None) -> str:
    return QUALITY_ZH.get(quality or "", "未知")


def class_colour(label: str | None) -> str:
    """Fill colour of a 亩均 class (grey for a unit without a class)."""
    return MU_JUN_CLASS_COLOURS.get(label or "", NO_DATA_COLOUR)


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` → (r, g, b): the same colour for GPU layers, which take numbers, not CSS."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def parcel_fill_rgba(land_use_classes: Iterable[str | None]) -> np.ndarray:
    """One RGBA row (uint8) per parcel: :func:`parcel_style`'s fill colour and opacity, vectorised
    so a million parcels are coloured without a Python dict per feature."""
    classes = np.asarray(list(land_use_classes) if not isinstance(land_use_classes, np.ndarray) else land_use_classes,
                         dtype=object)
    names = [*LAND_USE_COLOURS, None]
    palette = np.array([(*rgb(parcel_style(c)["fillColor"]), round(255 * parcel_style(c)["fillOpacity"])) for c in names],
                       dtype=np.uint8)
    index = {c: i for i, c in enumerate(names)}
    other = len(names) - 1  # an unknown class or None: OTHER_LAND_USE_COLOUR, as parcel_style
    codes = np.fromiter((index.get(c, other) for c in classes), dtype=np.intp, count=len(classes))
    return palette[codes]
