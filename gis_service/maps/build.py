"""Folium maps of the district overview and of one park (labels, popups, legends in Chinese).

Both pages draw data from the shared loaders and figures from the metrics engine (via
:mod:`gis_service.maps.figures`), simplified for display (:mod:`.simplify`), styled by
:mod:`.styles`, and, on the 高德 (Amap) variant, converted to GCJ-02 so the overlays
line up with its tiles.  Approximate geometry is dashed and said to be approximate.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element
from folium import plugins
from jinja2 import Template
from sqlalchemy import Engine

from gis_service.coords import wgs84_to_gcj02
from gis_service.coords.crs import to_area_crs
from gis_service.errors import NotFoundError
from gis_service.maps import park_sheet, styles
from gis_service.maps.assets import STATIC_URL, Basemap, basemaps, localise
from gis_service.answers import DensityAnswer, DensityQuestion, answer_density
from gis_service.answers.parks import park_features, park_frame, with_answer
from gis_service.maps.simplify import simplify_for_display
from gis_service.metrics.bases import ALL_BASES, BASIS_LABELS_ZH, MEASURED_AREA, PARCEL_BASES, PUBLISHED_AREA
from gis_service.metrics.density import NUMERATORS
from gis_service.store.versions import DataMemo
from gis_service.store import find_park, read_district, read_parcels, read_roads, read_towns, read_zones

@dataclass(frozen=True)
class MapOptions:
    """How a page is rendered: basemap ``variant`` (``default`` or ``amap``), offline assets, keys."""

    variant: str = "default"
    offline: bool = False
    #: serve Leaflet and the plugins' scripts/styles from this service even when online, so a
    #: page never depends on a CDN (offline mode always does)
    local_assets: bool = True
    tianditu_key: str | None = None
    local_tile_url: str | None = None
    local_tile_attribution: str = "本地底图"
    static_prefix: str = STATIC_URL
    overview_tolerance_m: float = 20.0
    park_tolerance_m: float = 2.0
    #: ``nonce`` of the page's own inline scripts (a Content-Security-Policy allows only those);
    #: the web service passes a slot it fills with a fresh nonce per answer
    script_nonce: str | None = None

    @property
    def gcj02(self) -> bool:
        """Overlays are drawn in GCJ-02 (only on the Amap basemap, never offline)."""
        return self.variant == "amap" and not self.offline


# ----------------------------------------------------------------------------- helpers
#: characters neutralised beyond HTML's: ` and $ open JavaScript template literals (folium puts
#: tooltips and popups inside them) and \ starts an escape there ('\u' or '\x' followed by
#: anything else is a syntax error that stops the whole page); { and } open Jinja syntax (folium
#: compiles each layer's rendered script as a template again, so '{{ 7*7 }}' in a name would run
#: on the server and show 49)
_PAGE_ENTITIES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def page_text(value: object) -> str:
    """Text made safe where it enters a map page — the one place: HTML-escaped and
    :data:`_PAGE_ENTITIES` replaced.  The browser shows it exactly as written."""
    return html.escape(str(value)).translate(_PAGE_ENTITIES)


def _fmt(value: object, digits: int = 2, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "无数据"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"
    return page_text(value)


def _esc(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return page_text(value)


class _Html(Element):
    """Finished HTML put into the page as data.  ``folium.Element(text)`` would compile the
    text as a Jinja template, so a stored name containing ``{{ … }}`` would run on the server."""

    _template = Template("{{ this.html }}")

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self.html = html_text


def _display(frame: gpd.GeoDataFrame, tolerance_m: float, options: MapOptions, *, coverage: bool = False) -> gpd.GeoDataFrame:
    """Simplify for display, then convert to GCJ-02 on the Amap variant."""
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if frame.empty:
        return frame
    shown = simplify_for_display(frame, tolerance_m, coverage=coverage)
    return wgs84_to_gcj02(shown) if options.gcj02 else shown


def _geojson_data(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    """GeoJSON of ``columns``; text is HTML-escaped because folium's tooltips and popups
    insert properties with innerHTML (``popup_html`` is built escaped already)."""
    cols = [c for c in columns if c in frame.columns]
    data = frame[[*cols, frame.geometry.name]].to_geo_dict(na="null", drop_id=True)
    for feature in data["features"]:
        props = feature["properties"]
        for key, value in props.items():
            if isinstance(value, str) and key != "popup_html":
                props[key] = page_text(value)
    return data


_PADDING = ((40, 130), (40, 40))


def _fit(m: folium.Map, bounds: tuple[float, float, float, float],
         padding: tuple[tuple[int, int], tuple[int, int]] = _PADDING) -> None:
    minx, miny, maxx, maxy = bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=padding[0], padding_bottom_right=padding[1])


def _base_map(bounds: tuple[float, float, float, float] | None, options: MapOptions,
              padding: tuple[tuple[int, int], tuple[int, int]] = _PADDING) -> folium.Map:
    """Basemaps and controls; framed on ``bounds`` (lon/lat) when given, else later by :func:`_fit`."""
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_control=True)
    layers = basemaps(variant=options.variant, offline=options.offline, tianditu_key=options.tianditu_key,
                      local_tile_url=options.local_tile_url, local_attribution=options.local_tile_attribution)
    for i, layer in enumerate(layers):
        folium.TileLayer(tiles=layer.url, attr=layer.attribution, name=layer.name, subdomains=layer.subdomains,
                         overlay=layer.overlay, control=True, show=(i == 0 or layer.overlay), max_zoom=19).add_to(m)
    if bounds is not None:
        _fit(m, bounds, padding)
    plugins.Fullscreen(title="全屏", title_cancel="退出全屏", position="topleft").add_to(m)
    plugins.MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                           primary_area_unit="sqmeters", secondary_area_unit="hectares").add_to(m)
    mini = _minimap_layer(layers)
    if mini is not None:
        plugins.MiniMap(tile_layer=mini, toggle_display=True, position="bottomright").add_to(m)
    return m


def _minimap_layer(layers: list[Basemap]) -> folium.TileLayer | None:
    """The minimap shows the first basemap; with no basemap (offline, no local tiles) there is none."""
    base = next((b for b in layers if not b.overlay), None)
    if base is None:
        return None
    return folium.TileLayer(tiles=base.url, attr=base.attribution, subdomains=base.subdomains)


def _finish(m: folium.Map, options: MapOptions, header: str, legend: str) -> str:
    root = m.get_root()
    root.html.add_child(_Html(header + legend))
    root.header.add_child(_Html(_PAGE_CSS))
    root.header.add_child(_Html('<meta name="gis-map-crs" content="%s">' % ("GCJ-02" if options.gcj02 else "WGS84")))
    localise(m, offline=options.offline or options.local_assets, prefix=options.static_prefix)
    if not options.script_nonce:
        return root.render()
    tag = f'<script nonce="{options.script_nonce}">'
    root._template = Template(_FIGURE_TEMPLATE.replace("<script>", tag))  # the page's script, in the template
    head, end, body = root.render().partition("</head>")
    # the head is made of templates and asset links only (stored text goes in the body), so its
    # inline scripts (folium's L_NO_TOUCH switches) are the page's own
    return head.replace("<script>", tag) + end + body


#: branca's Figure template (the page around the map), its one inline script to be given a nonce
_FIGURE_TEMPLATE = (
    "<!DOCTYPE html>\n<html>\n<head>\n{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n</head>\n<body>\n    {{this.html.render(**kwargs)}}\n</body>\n"
    "<script>\n    {{this.script.render(**kwargs)}}\n</script>\n</html>\n"
)


_PAGE_CSS = """<style>
.gis-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.94);padding:8px 10px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.45 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;}
.gis-header{top:10px;left:60px;max-width:55%;} .gis-header h1{font-size:16px;margin:0 0 4px 0;}
.gis-legend{bottom:60px;left:10px;max-width:340px;} .gis-legend i{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #555;}
.gis-legend .dash{border:2px dashed #252525;background:none;}
.gis-popup table{border-collapse:collapse;font-size:12px;} .gis-popup th{text-align:left;padding-right:8px;white-space:nowrap;color:#444;vertical-align:top;}
.gis-popup td{padding:1px 0;} .gis-warn{color:#b2182b;}
</style>"""


def _choice_text(answer: DensityAnswer) -> str:
    t, q = answer.target, answer.question
    nature = f",{t.nature}" if t.nature else ""
    return (f"数据年份 {q.year} · 指标 {NUMERATORS[q.numerator].label_zh} / {BASIS_LABELS_ZH[q.basis]} · "
            f"目标 {t.value:g} {_esc(t.unit)}({t.year}年{_esc(nature)};口径 {BASIS_LABELS_ZH[t.basis]};"
            f"来源 {_esc(t.source)})")


def _land_note(answer: DensityAnswer) -> str:
    """Which land records make the basis shown, and a warning when the answer uses demo data."""
    q = answer.question
    out = ""
    if q.basis in PARCEL_BASES:
        out += f'<div class="gis-land">土地数据:{_esc(answer.meta["vintage"]["land"][q.basis]["label_zh"])}</div>'
    if answer.meta["uses_synthetic_data"]:
        out += '<div class="gis-warn gis-synthetic">含演示数据(合成):部分面积来自演示用合成数据,并非真实调查或供地记录。</div>'
    return out


def _comparability_note(answer: DensityAnswer) -> str:
    note = answer.meta["comparability_note_zh"]
    out = f'<div class="gis-warn">注意:{_esc(note)}。</div>' if note else ""
    t = answer.target
    if t.warnings:  # the stored default target is unusable: the published value stands in
        out += (f'<div class="gis-warn gis-target-warning">注意:库中存储的目标 {_esc(t.code)} 无法用于比较,'
                f"已改用公布值 {t.value:g} {_esc(t.unit)}(来源 {_esc(t.source)});"
                "请管理员运行 gis-service qa 查看并修正该目标。</div>")
    return out


def _legend(answer: DensityAnswer, extra: str = "") -> str:
    rows = "".join(f'<div><i style="background:{c}"></i>{label}</div>' for _, c, label in styles.ATTAINMENT_CLASSES)
    return (
        '<div class="gis-panel gis-legend" id="gis-legend"><b>达标率(地均产值 ÷ 目标)</b>'
        f"<div>{_choice_text(answer)}</div>{rows}"
        f'<div><i style="background:{styles.NO_DATA_COLOUR}"></i>无数据</div>'
        '<div><i class="dash"></i>虚线边界:近似边界(据四至推算,非测绘)</div>'
        f"{_land_note(answer)}{_comparability_note(answer)}{extra}</div>"
    )


# ----------------------------------------------------------------------------- park popup
def park_popup_html(row: pd.Series, answer: DensityAnswer) -> str:
    """The popup of one park: name, 四至, areas, output, density, target, gap, status, sources."""
    sides = row.get("sizhi_sides") or {}
    side_rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in sides.items())
    q = answer.question
    num_label = NUMERATORS[q.numerator].label_zh
    short = num_label.split("(")[0]  # "产值(工业总产值)" -> "产值"
    density_rows = (f"<tr><th>地均{short}({BASIS_LABELS_ZH[q.basis]})</th>"
                    f"<td>{_fmt(row.get('density_yi_per_km2'), 2, '亿元/km²')}</td></tr>")
    for basis in (PUBLISHED_AREA, MEASURED_AREA):
        if basis != q.basis:  # for reference, on the published and the measured area
            density_rows += (f"<tr><th>参考:按{BASIS_LABELS_ZH[basis]}</th>"
                             f"<td>{_fmt(row.get(f'density_on_{basis}_yi_per_km2'), 2, '亿元/km²')}</td></tr>")
    approx = row.get("geometry_quality") != "surveyed"
    measured = _fmt(row.get("measured_area_km2"), 2, "km²") + (("(近似)") if approx and row.get("measured_area_km2") is not None else "")
    reason = row.get("missing_reason")
    reason_txt = f"({_esc(reason)})" if isinstance(reason, str) and reason else ""
    attainment = row.get("attainment_pct")
    t = answer.target
    return (
        f'<div class="gis-popup"><h4 style="margin:0 0 4px 0">{_esc(row.get("unit_name"))}</h4><table>'
        f"<tr><th>四至</th><td>{_esc(row.get('sizhi_text'))}</td></tr>{side_rows}"
        f"<tr><th>管辖面积(公布)</th><td>{_fmt(row.get('published_area_km2'), 2, 'km²')}</td></tr>"
        f"<tr><th>量算面积(EPSG:4549)</th><td>{measured}</td></tr>"
        f"<tr><th>{num_label}</th><td>{_fmt(row.get('value_yi_yuan'), 2, '亿元')}</td></tr>"
        f"{density_rows}"
        f"<tr><th>目标</th><td>{t.value:g} {_esc(t.unit)}({t.year}年,{BASIS_LABELS_ZH[t.basis]})</td></tr>"
        f"<tr><th>达标率</th><td>{_fmt(attainment, 1, '%')}{reason_txt}</td></tr>"
        f"<tr><th>差距</th><td>{_fmt(row.get('gap_yi_per_km2'), 2, '亿元/km²')}</td></tr>"
        f"<tr><th>状态</th><td>{_esc(row.get('status'))}</td></tr>"
        f"<tr><th>数据年份</th><td>{_esc(row.get('figure_year'))}</td></tr>"
        f"<tr><th>数据来源</th><td>{_esc(row.get('numerator_source'))}</td></tr>"
        f"<tr><th>面积来源</th><td>{_esc(row.get('basis_source'))}</td></tr>"
        f"{'<tr><th>演示数据</th><td class=gis-warn>是(合成数据,非真实)</td></tr>' if row.get('uses_synthetic_data') else ''}"
        f"<tr><th>边界来源</th><td>{_esc(row.get('source_document'))} {_esc(row.get('source_section'))}</td></tr>"
        f"<tr><th>几何质量</th><td{' class=gis-warn' if approx else ''}>{styles.quality_zh(row.get('geometry_quality'))}</td></tr>"
        f"</table>{_comparability_note(answer)}</div>"
    )


def _park_answer_columns(parks: gpd.GeoDataFrame, answer: DensityAnswer) -> dict[str, list[str]]:
    """What a park feature shows of the answer: colour, status, density text, popup."""
    return {
        "fill": [styles.attainment_colour(v) for v in parks["attainment_pct"]],
        "status": list(parks["status"]),
        "density_text": [_fmt(v, 2, "亿元/km²") for v in parks["density_yi_per_km2"]],
        "popup_html": [park_popup_html(r, answer) for _, r in parks.iterrows()],
    }


def _parks_layer(m: folium.Map, parks: gpd.GeoDataFrame, name: str, fill_opacity: float = 0.7) -> folium.GeoJson:
    """The parks, coloured by ``fill``, with ``name`` and ``density_text`` tooltips and the
    ``popup_html`` popup (columns of ``parks``)."""
    data = _geojson_data(parks, ["unit_id", "name", "geometry_quality", "fill", "status", "density_text", "popup_html"])
    layer = folium.GeoJson(
        data,
        name=name,
        style_function=lambda f: {**styles.park_style(f["properties"]["fill"], f["properties"]["geometry_quality"]),
                                  "fillOpacity": fill_opacity},
        highlight_function=lambda f: {"weight": 4},
        tooltip=folium.GeoJsonTooltip(fields=["name", "density_text"], aliases=["名称", "地均产值"]),
        popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False, max_width=460),
    )
    layer.add_to(m)
    return layer


def _add_parks(m: folium.Map, parks: gpd.GeoDataFrame, answer: DensityAnswer, name: str,
               fill_opacity: float = 0.7) -> folium.GeoJson:
    shown = parks.assign(name=parks["unit_name"], **_park_answer_columns(parks, answer))
    return _parks_layer(m, shown, name, fill_opacity)


# ----------------------------------------------------------------------------- overview
#: display frames (simplified, GCJ-02 on Amap) of the layers under the parks and of the park
#: boundaries, kept until those layers change: a new figure or parcel does not redo them
_REFERENCE_TABLES = ("district", "town", "zone", "zone_town")
_PARK_TABLES = ("park", "park_boundary", "sizhi")
_REFERENCE_FRAMES = DataMemo(max_entries=16, tables=_REFERENCE_TABLES)
_PARK_FRAMES = DataMemo(max_entries=16, tables=_PARK_TABLES)
_ZONE_LAYERS = (("pian", "三片"), ("corridor", "G60科创走廊"), ("corridor_area", "一廊九区 功能区"))


def _reference_frames(engine: Engine, options: MapOptions) -> dict[str, gpd.GeoDataFrame]:
    def compute() -> dict[str, gpd.GeoDataFrame]:
        tol = options.overview_tolerance_m
        zones = read_zones(engine)
        return {
            "district": _display(read_district(engine), tol, options),
            "towns": _display(read_towns(engine), tol, options, coverage=True),
            **{kind: _display(zones[zones["kind"] == kind], tol, options) for kind, _ in _ZONE_LAYERS},
        }

    return _REFERENCE_FRAMES.get_or_compute(engine, ("reference", options.overview_tolerance_m, options.gcj02), compute)


def _park_display_frame(engine: Engine, year: int, options: MapOptions) -> gpd.GeoDataFrame:
    tol = options.overview_tolerance_m / 4
    return _PARK_FRAMES.get_or_compute(engine, ("parks", year, tol, options.gcj02),
                                       lambda: _display(park_frame(engine, year), tol, options))


def _reference_layers(engine: Engine, options: MapOptions) -> tuple[folium.Map, gpd.GeoDataFrame]:
    """The overview's map with the district, towns and zones laid out (no parks yet), and the
    district shown (its extent frames the map; empty when none is loaded)."""
    frames = _reference_frames(engine, options)
    district, towns = frames["district"], frames["towns"]
    m = _base_map(tuple(district.total_bounds) if not district.empty else None, options)  # type: ignore[arg-type]
    if not district.empty:
        folium.GeoJson(_geojson_data(district, ["name"]), name="松江区界", style_function=lambda f: styles.DISTRICT_STYLE,
                       tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["名称"])).add_to(m)
    if not towns.empty:
        folium.GeoJson(
            _geojson_data(towns, ["name", "kind", "pian", "geometry_quality"]), name="镇、街道",
            style_function=lambda f: {**styles.TOWN_STYLE, **styles.outline(f["properties"]["geometry_quality"], "#737373", 1)},
            tooltip=folium.GeoJsonTooltip(fields=["name", "kind", "pian"], aliases=["名称", "类型", "所属片区"]),
        ).add_to(m)
    for kind, label in _ZONE_LAYERS:
        subset = frames[kind]
        if subset.empty:
            continue
        subset = subset.assign(quality_text=[styles.quality_zh(q) for q in subset["geometry_quality"]])
        folium.GeoJson(
            _geojson_data(subset, ["name", "kind", "geometry_quality", "quality_text", "source_document"]), name=label,
            style_function=lambda f: styles.zone_style(f["properties"]["kind"], f["properties"]["geometry_quality"]),
            tooltip=folium.GeoJsonTooltip(fields=["name", "quality_text"], aliases=["名称", "几何"]),
            show=kind != "corridor_area",
        ).add_to(m)
    return m, district


#: the overview page without its answer, kept until the layers it draws change: a new figure
#: or parcel only refills its slots (:func:`_fill_slots`)
_OVERVIEW_PAGES = DataMemo(max_entries=16, tables=(*_REFERENCE_TABLES, *_PARK_TABLES))
_SLOT = "@@gis-slot-{}@@"
_SLOTS = re.compile(r'"@@gis-slot-([a-z_]+-\d+)@@"|@@gis-slot-(header|legend)@@')
_OVERVIEW_TITLE = "松江区产业园区地均产值总览"
_PARKS_LAYER_NAME = "园区(按达标率着色)"


def build_overview(engine: Engine, question: DensityQuestion, options: MapOptions = MapOptions()) -> str:
    """HTML of the district overview for ``question`` (year, numerator/basis, target).

    The page is laid out once per version of the layers it draws (district, towns, zones,
    park boundaries and 四至), with slots where the answer goes; each answer fills them.  So
    after a new figure or parcel the page costs the answer and a few milliseconds.
    """
    answer = answer_density(engine, question)
    year = answer.question.year
    page = _OVERVIEW_PAGES.get_or_compute(engine, ("overview", year, options),
                                          lambda: _overview_skeleton(engine, year, options))
    parks = with_answer(_park_display_frame(engine, year, options), answer)
    return _fill_slots(page, parks, answer, options)


def _overview_skeleton(engine: Engine, year: int, options: MapOptions) -> str:
    """The overview page with the parks laid out and a slot for each value the answer gives."""
    m, district = _reference_layers(engine, options)
    parks = _park_display_frame(engine, year, options)
    if district.empty:
        if parks.empty:
            raise NotFoundError("no district or park geometry is loaded; run `gis-service load-sample` first")
        _fit(m, tuple(parks.total_bounds))  # type: ignore[arg-type]
    slots = {field: [_SLOT.format(f"{field}-{i}") for i in range(len(parks))]
             for field in ("fill", "status", "density_text", "popup_html")}
    parks_layer = _parks_layer(m, parks.assign(**slots), _PARKS_LAYER_NAME)
    plugins.Search(layer=parks_layer, search_label="name", placeholder="按园区名称搜索", collapsed=False,
                   position="topright", search_zoom=14).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return _finish(m, options, _SLOT.format("header"), _SLOT.format("legend"))


def _fill_slots(page: str, parks: gpd.GeoDataFrame, answer: DensityAnswer, options: MapOptions) -> str:
    """The skeleton with the answer's values: JSON slots take JSON strings encoded as jinja's
    ``tojson`` encodes them (safe inside a script), the header and legend slots HTML."""
    values = {f"{field}-{i}": _script_json(page_text(v) if field in ("status", "density_text") else v)
              for field, column in _park_answer_columns(parks, answer).items() for i, v in enumerate(column)}
    values["header"] = _header(_OVERVIEW_TITLE, answer, options, park_links=parks[["unit_id", "unit_name"]],
                               no_data_anywhere=bool(parks["density_yi_per_km2"].isna().all()))
    values["legend"] = _legend(answer)
    return _SLOTS.sub(lambda m: values[m.group(1) or m.group(2)], page)


def _script_json(value: object) -> str:
    """``value`` as JSON safe inside a <script> (as jinja's tojson writes it)."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def _basis_links(answer: DensityAnswer, base: str) -> str:
    """Links that switch the density's basis (口径), the current one in bold."""
    links = []
    for basis in ALL_BASES:
        label = BASIS_LABELS_ZH[basis]
        q = answer.question
        if basis == q.basis:
            links.append(f"<b>{label}</b>")
        else:
            links.append(f'<a href="{base}?year={q.year}&numerator={q.numerator}&basis={basis}">{label}</a>')
    return "口径:" + " | ".join(links)


def _header(title: str, answer: DensityAnswer, options: MapOptions, *, park_links: pd.DataFrame | None = None,
            base: str = "/", no_data_anywhere: bool = False) -> str:
    q = answer.question
    query = f"year={q.year}&numerator={q.numerator}&basis={q.basis}"
    crs_note = "坐标:GCJ-02(已由 WGS84 转换,与高德底图对齐)" if options.gcj02 else "坐标:WGS84"
    variants = (f'底图:<a href="{base}?{query}">标准(WGS84)</a> | <a href="{base}?{query}&basemap=amap">高德(GCJ-02)</a>'
                if not options.offline else "离线模式:脚本与样式由本服务提供")
    links = ""
    if park_links is not None and not park_links.empty:
        links = "<div>园区详情:" + " ".join(
            f'<a href="/maps/parks/{int(r.unit_id)}?{query}">{_esc(r.unit_name)}</a>' for r in park_links.itertuples()
        ) + "</div>"
    empty_note = (f'<div class="gis-warn">此口径({BASIS_LABELS_ZH[q.basis]})下所有园区均无数据'
                  f"{'(尚未导入土地利用现状调查、供地记录或地块登记:gis-service import landuse|supply|parcels)' if q.basis in PARCEL_BASES else ''},"
                  "可改选其他口径查看。</div>") if no_data_anywhere else ""
    return (f'<div class="gis-panel gis-header" id="gis-header"><h1>{_esc(title)}</h1>'
            f"<div>{_choice_text(answer)}</div>{_land_note(answer)}{empty_note}"
            f"<div>{_basis_links(answer, base)}</div><div>{crs_note} · {variants}</div>{links}</div>")


# ----------------------------------------------------------------------------- one park
def build_park_map(engine: Engine, park_id: int, question: DensityQuestion, options: MapOptions = MapOptions()) -> str:
    """HTML of one park: boundary, 四至 sides labelled, bounding roads, parcels by land use, figures."""
    figures, answer = park_features(engine, question)
    row = find_park(figures, park_id)
    rows = figures[figures["unit_id"] == row["unit_id"]]
    if row.geometry is None or row.geometry.is_empty:
        raise NotFoundError(f"park {park_id} ({row.unit_name}) has no boundary valid in {answer.question.year}")
    tol = options.park_tolerance_m
    park = _display(rows, tol, options)
    roads = _bounding_roads(engine, rows)
    parcels = _park_parcels(engine, rows, answer.question.year)
    # keep the park clear of the header (top) and of the figures panel (right)
    m = _base_map(tuple(park.total_bounds), options, padding=((90, 150), (480, 60)))  # type: ignore[arg-type]

    for layer, group in (parcels.groupby("layer", sort=False) if not parcels.empty else []):
        _add_land_layer(m, _display(group, tol, options), _land_layer_name(str(layer), answer))
    if not roads.empty:
        shown_roads = _display(roads, tol, options)
        folium.GeoJson(
            _geojson_data(shown_roads, ["name", "kind", "geometry_quality"]), name="边界道路与河道",
            style_function=lambda f: styles.road_style(f["properties"]["kind"], f["properties"]["geometry_quality"]),
            tooltip=folium.GeoJsonTooltip(fields=["name", "kind"], aliases=["名称", "类型"]),
        ).add_to(m)
    _add_parks(m, park, answer, "园区边界", fill_opacity=0.12)
    _add_side_labels(m, park.iloc[0].geometry, row.get("sizhi_sides") or {})
    sheet = park_sheet.add_sheet(m, engine, row, figures, answer, options)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    land_uses = sorted(set(parcels["land_use_class"])) if not parcels.empty else []
    land_legend = "".join(
        f'<div><i style="background:{styles.LAND_USE_COLOURS.get(c, styles.OTHER_LAND_USE_COLOUR)}"></i>'
        f"{_esc(styles.LAND_USE_ZH.get(c, c))}</div>" for c in land_uses
    )
    figures_panel = f'<div class="gis-panel" style="top:150px;right:10px;width:430px;max-height:calc(100% - 200px);overflow:auto" id="gis-figures">{sheet.top}{park_popup_html(row, answer)}{sheet.sections}</div>'
    header = sheet.head + _header(f"{row.unit_name}", answer, options, base=f"/maps/parks/{park_id}")
    legend = _legend(answer, extra=("<b>用地类别</b>" + land_legend) if land_legend else "")
    return _finish(m, options, header + figures_panel, legend)


def _bounding_roads(engine: Engine, park: gpd.GeoDataFrame, within_m: float = 150.0) -> gpd.GeoDataFrame:
    """Roads/rivers within ``within_m`` metres (EPSG:4549) of the park boundary, or named in its 四至."""
    roads = read_roads(engine)
    if roads.empty:
        return roads
    boundary = to_area_crs(park).geometry.iloc[0].boundary
    distance_m = to_area_crs(roads).distance(boundary)
    text = str(park.iloc[0].get("sizhi_text") or "")
    named = roads["name"].map(lambda n: bool(n) and n in text)
    return roads[(distance_m <= within_m) | (named & distance_m.le(2000))]


def _park_parcels(engine: Engine, park: gpd.GeoDataFrame, year: int) -> gpd.GeoDataFrame:
    """The land records in force for ``year`` that touch the park (survey snapshot, supply, register)."""
    geom = park.geometry.iloc[0]
    parcels = read_parcels(engine, bbox=tuple(geom.bounds), year=year)  # type: ignore[arg-type]
    return parcels[parcels.intersects(geom)] if not parcels.empty else parcels


def _land_layer_name(layer: str, answer: DensityAnswer) -> str:
    """The layer-control name of a land layer: what it is and, for a survey, which snapshot."""
    if layer == "survey":
        snapshot = answer.meta["vintage"]["land"]["industrial_land"].get("snapshot") or {}
        return f"土地利用现状调查 {snapshot.get('year', '')} 年(按地类)"
    return {"supply": "供地宗地(按土地用途)", "register": "地块登记(按用途)"}.get(layer, page_text(layer))


def _add_land_layer(m: folium.Map, shown: gpd.GeoDataFrame, name: str) -> None:
    """One land layer coloured by class; the tooltip says the code, its system and whether it is demo data."""
    shown = shown.assign(
        land_use_zh=[styles.LAND_USE_ZH.get(c, c) for c in shown["land_use_class"]],
        demo=np.where(shown["is_synthetic"].fillna(False).astype(bool), "是(演示数据,非真实)", "否"),
        code_text=[f"{c or ''} {n or ''}".strip() for c, n in zip(shown["land_use_code"], shown["land_use_name"])],
        ref=shown["supervision_no"].fillna(shown["external_id"]).fillna(""),
    )
    folium.GeoJson(
        _geojson_data(shown, ["parcel_id", "land_use_class", "land_use_zh", "code_text", "ref", "demo"]),
        name=name, style_function=lambda f: styles.parcel_style(f["properties"]["land_use_class"]),
        tooltip=folium.GeoJsonTooltip(fields=["land_use_zh", "code_text", "ref", "demo"],
                                      aliases=["用途", "代码/名称", "编号", "演示数据"]),
    ).add_to(m)


def _add_side_labels(m: folium.Map, geom: Any, sides: dict[str, str]) -> None:
    """Label each 四至 side at the middle of that side of the boundary's envelope."""
    minx, miny, maxx, maxy = geom.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    anchors = {"东至": (cy, maxx), "南至": (miny, cx), "西至": (cy, minx), "北至": (maxy, cx)}
    group = folium.FeatureGroup(name="四至标注")
    for side, text in sides.items():
        if side not in anchors:
            continue
        colour = styles.SIDE_COLOURS.get(side, "#333")
        label = (f'<div class="gis-side" style="white-space:nowrap;font:bold 12px sans-serif;color:{colour};'
                 f'background:rgba(255,255,255,.85);padding:1px 4px;border:1px solid {colour};display:inline-block;">'
                 f"{_esc(side)}:{_esc(text)}</div>")
        folium.Marker(anchors[side], icon=folium.DivIcon(html=label, icon_size=(0, 0)),
                      tooltip=_esc(f"{side}:{text}")).add_to(group)
    group.add_to(m)
