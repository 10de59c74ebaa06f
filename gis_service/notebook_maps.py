"""``gs.explore``: the service's maps in a notebook.

A face like the web maps: it draws answers and computes nothing.  Parks and zones are
drawn by the very layer builder of the service's map pages (:mod:`gis_service.maps.build`),
so the colours (attainment classes, no-data grey), the dashed outline of approximate
boundaries, the Chinese tooltips and popups and the escaping of stored text are the
service's own.  Parcels are drawn on the GPU (lonboard) from GeoArrow, in the colours of
:func:`gis_service.maps.styles.parcel_style`, so a million parcels show in seconds; they
are never turned into GeoJSON.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers import ClassesAnswer, DensityAnswer, WhatIfAnswer
from gis_service.answers.parks import park_frame, with_answer
from gis_service.answers.vocabulary import LEVEL_LABELS_ZH, PARK, TOWN
from gis_service.errors import InputError
from gis_service.maps import styles
from gis_service.maps.assets import self_contained
from gis_service.maps.build import (
    _PAGE_CSS,
    MapOptions,
    _add_parks,
    _base_map,
    _display,
    _geojson_data,
    _Html,
    _legend,
)
from gis_service.store.readers import read_parcels, read_towns, read_zones

if TYPE_CHECKING:
    import lonboard

#: parcel columns handed to the GPU layer (what a click shows); the rest stays behind
_PARCEL_COLUMNS = ["land_use_class", "land_use_code", "land_use_name", "is_synthetic"]


def notebook_options() -> MapOptions:
    """The map options of a notebook: the basemap switches of the service's pages
    (``GIS_API_OFFLINE``, ``GIS_API_LOCAL_TILE_URL``, ``GIS_API_TIANDITU_KEY``), so that a
    notebook on the intranet draws on the same tiles as the service."""
    from gis_service.api.config import ApiSettings

    s = ApiSettings()
    return MapOptions(offline=s.offline, tianditu_key=s.tianditu_key, local_tile_url=s.local_tile_url,
                      local_tile_attribution=s.local_tile_attribution)


def explore(what: Any, engine: Engine | None = None, *, options: MapOptions | None = None) -> folium.Map | lonboard.Map:
    """An interactive map of ``what``, styled as the service's maps.

    ``what`` is one of

    - a :class:`~gis_service.answers.DensityAnswer` (``gs.answer_density``) at any level:
      its units coloured by attainment, approximate boundaries dashed, the service's
      Chinese tooltip and popup (folium map; ``engine`` reads the units' boundaries);
    - a :class:`~gis_service.answers.WhatIfAnswer` (``gs.answer_whatif``): the baseline
      and the scenario as two layers to switch between (folium);
    - a :class:`~gis_service.answers.ClassesAnswer` (``gs.answer_classes``): the parks
      coloured by 亩均 class A–D (folium);
    - parcels — a GeoDataFrame with ``land_use_class`` (``gs.read_parcels``,
      ``gs.generate_parcels``) or the text ``"parcels"`` (read through ``engine``):
      a lonboard map drawn on the GPU from GeoArrow, coloured by land-use class.

    The folium maps carry their scripts, styles and icons inside the page (the service's
    vendored copies, :func:`gis_service.maps.assets.self_contained`): no CDN is asked, so they
    show on an intranet too; ``options`` defaults to :func:`notebook_options`.
    """
    options = options or notebook_options()
    if isinstance(what, WhatIfAnswer):
        return self_contained(_answer_map(_needs(engine, what), [("基准(现状数据)", what.baseline, False),
                                                                 ("情景(假设变化,未保存)", what.scenario, True)], options))
    if isinstance(what, DensityAnswer):
        return self_contained(_answer_map(
            _needs(engine, what), [(f"{LEVEL_LABELS_ZH[what.question.level]}(按达标率着色)", what, True)], options))
    if isinstance(what, ClassesAnswer):
        return self_contained(_classes_map(_needs(engine, what), what, options))
    if isinstance(what, str) and what == "parcels":
        return parcels_map(read_parcels(_needs(engine, what)), options)
    if isinstance(what, gpd.GeoDataFrame) and "land_use_class" in what.columns:
        return parcels_map(what, options)
    raise InputError(
        f"explore: cannot draw a {type(what).__name__}; give a DensityAnswer, WhatIfAnswer or ClassesAnswer "
        "(with the engine), parcels (a GeoDataFrame with land_use_class) or 'parcels'"
    )


def _needs(engine: Engine | None, what: Any) -> Engine:
    if engine is None:
        raise InputError(f"explore: drawing a {type(what).__name__} needs the engine (gs.explore(answer, engine))")
    return engine


# ----------------------------------------------------------------------------- parks and zones
def unit_frame(engine: Engine, answer: DensityAnswer) -> gpd.GeoDataFrame:
    """The answer's rows on their units' boundaries (EPSG:4326), with ``geometry_quality``."""
    level, year = answer.question.level, answer.question.year
    if level == PARK:
        return with_answer(park_frame(engine, year), answer)
    if level == TOWN:
        units = read_towns(engine).rename(columns={"town_id": "unit_id"})
    else:
        units = read_zones(engine, kind=level).rename(columns={"zone_id": "unit_id"})
    units = units[["unit_id", "geometry_quality", units.geometry.name]]
    return units.merge(answer.rows, on="unit_id", how="inner")


def _answer_map(engine: Engine, layers: list[tuple[str, DensityAnswer, bool]], options: MapOptions) -> folium.Map:
    frames = [_display(unit_frame(engine, answer), options.overview_tolerance_m / 4, options) for _, answer, _ in layers]
    m = _framed_map(pd.concat(frames), options)
    for (name, answer, shown), frame in zip(layers, frames):
        _add_parks(m, frame, answer, name).show = shown
    if len(layers) > 1:
        folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _add_panel(m, _legend(layers[-1][1]))
    return m


def _classes_map(engine: Engine, answer: ClassesAnswer, options: MapOptions) -> folium.Map:
    year = int(answer.rows["year"].iloc[0]) if not answer.rows.empty else None
    parks = park_frame(engine, year).merge(answer.rows, on="unit_id", how="inner")
    shown = _display(parks, options.overview_tolerance_m / 4, options)
    shown = shown.assign(
        name=shown["unit_name"],
        fill=[styles.class_colour(c) for c in shown["class"]],
        class_text=[c if isinstance(c, str) and c else "未评级(缺少指标)" for c in shown["class"]],
        score_text=[f"{s:.2f}" if pd.notna(s) else "无数据" for s in shown["score"]],
    )
    m = _framed_map(shown, options)
    folium.GeoJson(
        _geojson_data(shown, ["name", "geometry_quality", "fill", "class_text", "score_text"]),
        name="亩均等级",
        style_function=lambda f: styles.park_style(f["properties"]["fill"], f["properties"]["geometry_quality"]),
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=["name", "class_text", "score_text"], aliases=["名称", "亩均等级", "综合得分"]),
    ).add_to(m)
    rows = "".join(f'<div><i style="background:{c}"></i>{k} 类</div>' for k, c in styles.MU_JUN_CLASS_COLOURS.items())
    _add_panel(m, f'<div class="gis-panel gis-legend"><b>亩均等级(A 最好,D 最差)</b>{rows}'
                  f'<div><i style="background:{styles.NO_DATA_COLOUR}"></i>未评级</div>'
                  '<div><i class="dash"></i>虚线边界:近似边界(据四至推算,非测绘)</div></div>')
    return m


def _framed_map(frame: gpd.GeoDataFrame, options: MapOptions) -> folium.Map:
    if frame.empty:
        raise InputError("explore: none of the answer's units has a boundary to draw")
    return _base_map(tuple(frame.total_bounds), options)  # type: ignore[arg-type]


def _add_panel(m: folium.Map, panel_html: str) -> None:
    """The legend panel of the service's pages (HTML built escaped), with their CSS."""
    root = m.get_root()
    root.header.add_child(_Html(_PAGE_CSS))
    root.html.add_child(_Html(panel_html))


# ----------------------------------------------------------------------------- parcels
def parcels_map(parcels: gpd.GeoDataFrame, options: MapOptions | None = None) -> lonboard.Map:
    """Parcels on the GPU: a lonboard polygon layer built from the frame's GeoArrow table,
    filled by land-use class as :func:`~gis_service.maps.styles.parcel_style` fills them.

    The widget's decoder and triangulation worker are the vendored copies (no CDN, see
    :func:`_self_contained_widget`); offline (``GIS_API_OFFLINE``) there is no basemap.
    """
    from lonboard import PolygonLayer

    if parcels.empty:
        raise InputError("explore: there are no parcels to draw")
    frame = parcels[[c for c in _PARCEL_COLUMNS if c in parcels.columns] + [parcels.geometry.name]]
    frame = frame.assign(land_use_zh=frame["land_use_class"].map(styles.LAND_USE_ZH).fillna("其他"))
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    line = styles.parcel_style(None)
    layer = PolygonLayer.from_geopandas(
        frame,
        get_fill_color=styles.parcel_fill_rgba(frame["land_use_class"].to_numpy()),
        get_line_color=styles.rgb(line["color"]),
        line_width_units="pixels",
        get_line_width=line["weight"],
        pickable=True,
    )
    offline = (options or notebook_options()).offline
    return _self_contained_widget()(layer, **({"basemap": None} if offline else {}))


#: what lonboard's bundle fetches from cdn.jsdelivr.net at run time -> the vendored file that
#: replaces it (gis_service/maps/static/lonboard/README.md says where each comes from)
_WIDGET_CDN_FILES = {
    re.compile(r"https://cdn\.jsdelivr\.net/npm/parquet-wasm@\$\{\w+\}/esm/parquet_wasm_bg\.wasm"):
        ("lonboard/parquet_wasm_bg.wasm", "application/wasm"),
    re.compile(r"https://cdn\.jsdelivr\.net/npm/@geoarrow/geoarrow-js@0\.3\.0/dist/earcut-worker\.min\.js"):
        ("lonboard/earcut-worker.min.js", "text/javascript"),
}
#: the parquet-wasm version lonboard's bundle asks for must be the vendored one
_PARQUET_WASM_VERSION = re.compile(r'var \w+="([0-9.]+)",\w+=`https://cdn\.jsdelivr\.net/npm/parquet-wasm@')
_VENDORED_PARQUET_WASM = "0.9.0"


@lru_cache(maxsize=1)
def _self_contained_widget() -> type[lonboard.Map]:
    """lonboard's ``Map`` with its front-end code (anywidget's ``_esm``) rewritten to take the
    Parquet decoder (WebAssembly) and the earcut worker from ``data:`` URIs of the vendored
    copies instead of cdn.jsdelivr.net: without that the widget draws nothing on a machine
    that cannot reach the CDN (an intranet)."""
    from lonboard import Map

    from gis_service.maps.assets import STATIC_DIR

    code = str(Map._esm)  # anywidget holds the bundle as FileContents, whose text is its str()
    asked = _PARQUET_WASM_VERSION.search(code)
    if asked is None or asked.group(1) != _VENDORED_PARQUET_WASM:
        raise RuntimeError(f"lonboard's bundle asks for parquet-wasm {asked and asked.group(1)}, vendored is "
                           f"{_VENDORED_PARQUET_WASM}: vendor the matching file (gis_service/maps/static/lonboard)")
    for pattern, (relative, mime) in _WIDGET_CDN_FILES.items():
        data = base64.b64encode((STATIC_DIR / relative).read_bytes()).decode("ascii")
        code, found = pattern.subn(f"data:{mime};base64,{data}", code)
        if found != 1:
            raise RuntimeError(f"lonboard's bundle no longer fetches {pattern.pattern}: review _WIDGET_CDN_FILES")
    return type("SelfContainedMap", (Map,), {"_esm": code, "__module__": __name__})
