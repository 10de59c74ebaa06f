"""Folium maps of the district overview and of one park (labels, popups, legends in Chinese).

Both pages draw data from the shared loaders and figures from the metrics engine (via
:mod:`gis_service.maps.figures`), simplified for display (:mod:`.simplify`), styled by
:mod:`.styles`, and, on the 高德 (Amap) variant, converted to GCJ-02 so the overlays
line up with its tiles.  Approximate geometry is dashed and said to be approximate.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from jinja2 import Template
from sqlalchemy import Engine

from gis_service.answers import DensityAnswer, DensityQuestion
from gis_service.answers.parks import park_features
from gis_service.coords import wgs84_to_gcj02
from gis_service.coords.crs import to_area_crs
from gis_service.errors import NotFoundError
from gis_service.maps import park_sheet, styles
from gis_service.maps.assets import PAGE_SCRIPT, STATIC_URL, Basemap, basemaps, localise
from gis_service.maps.simplify import simplify_for_display
from gis_service.maps.sources import basis_source_zh, missing_reason_zh, source_zh
from gis_service.metrics.bases import (
    ALL_BASES,
    BASIS_LABELS_ZH,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
)
from gis_service.metrics.density import NUMERATORS
from gis_service.store import find_park, read_parcels, read_roads


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
    # the scale is added by the page script: metric only (folium's shows miles and feet too)
    # max_zoom: with no basemap (offline) Leaflet has no zoom limit and a padded fit on a small
    # screen goes to an infinite zoom
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=False, zoom_control=True, maxZoom=19)
    _Panes().add_to(m)  # before any overlay: layers name their pane
    layers = basemaps(variant=options.variant, offline=options.offline, tianditu_key=options.tianditu_key,
                      local_tile_url=options.local_tile_url, local_attribution=options.local_tile_attribution)
    for i, layer in enumerate(layers):
        folium.TileLayer(tiles=layer.url, attr=layer.attribution, name=layer.name, subdomains=layer.subdomains,
                         overlay=layer.overlay, control=True, show=(i == 0 or layer.overlay), max_zoom=19).add_to(m)
    if bounds is not None:
        _fit(m, bounds, padding)
    plugins.Fullscreen(title="全屏", title_cancel="退出全屏", position="topleft").add_to(m)
    plugins.MeasureControl(position="topleft", primary_length_unit="meters", secondary_length_unit="kilometers",
                           primary_area_unit="sqmeters", secondary_area_unit="hectares", localization="cn").add_to(m)
    mini = _minimap_layer(layers)
    if mini is not None:
        plugins.MiniMap(tile_layer=mini, toggle_display=True, position="bottomright",
                        strings={"hideText": "隐藏鹰眼图", "showText": "显示鹰眼图"}).add_to(m)
    return m


class _Panes(JSCSSMixin, MacroElement):
    """Creates the page's panes right after the map (:file:`static/gis/page.js`): the stacking
    order of overlays (parks above zones whatever is toggled) and popups above every panel."""

    _template = Template("{% macro script(this, kwargs) %}gisFrame.panes({{ this._parent.get_name() }});{% endmacro %}")
    default_js: ClassVar[list[tuple[str, str]]] = [("gis_page_js", f"{STATIC_URL}/{PAGE_SCRIPT}")]
    default_css: ClassVar[list[tuple[str, str]]] = []

    def __init__(self) -> None:
        super().__init__()
        self._name = "GisPanes"


class _FrameScript(MacroElement):
    """Finishes the page once every layer is on the map: labels, search, drawer, sortable tables."""

    _template = Template(
        "{% macro script(this, kwargs) %}gisFrame.finish({{ this._parent.get_name() }}, {"
        "parks: [{% for l in this.parks %}{{ l.get_name() }}{% if not loop.last %}, {% endif %}{% endfor %}], "
        "layerControl: {% if this.control %}{{ this.control.get_name() }}{% else %}null{% endif %}});{% endmacro %}"
    )

    def __init__(self, parks: list[folium.GeoJson], control: folium.LayerControl | None) -> None:
        super().__init__()
        self._name = "GisFrame"
        self.parks = parks
        self.control = control


def _minimap_layer(layers: list[Basemap]) -> folium.TileLayer | None:
    """The minimap shows the first basemap; with no basemap (offline, no local tiles) there is none."""
    base = next((b for b in layers if not b.overlay), None)
    if base is None:
        return None
    return folium.TileLayer(tiles=base.url, attr=base.attribution, subdomains=base.subdomains)


_H1 = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)


def _finish(m: folium.Map, options: MapOptions, header: str, legend: str, title: str | None = None) -> str:
    """The page around the map: the panels (a drawer on phones, below the map in print), the
    title bar, ``<title>`` and ``lang``; ``title`` (page text) defaults to the header's ``<h1>``."""
    root = m.get_root()
    found = _H1.search(header)
    title = title if title is not None else (found.group(1) if found else "松江区产业园区地图")
    control = next((c for c in m._children.values() if isinstance(c, folium.LayerControl)), None)
    _FrameScript(getattr(m, "_gis_parks", []), control).add_to(m)
    root.html.add_child(_Html(_titlebar(title) + f'<div class="gis-frame" id="gis-frame">{header}{legend}</div>'))
    root.header.add_child(_Html(_PAGE_CSS))
    root.header.add_child(_Html('<meta name="viewport" content="width=device-width, initial-scale=1">'))
    root.header.add_child(_Html('<meta name="gis-map-crs" content="%s">' % ("GCJ-02" if options.gcj02 else "WGS84")))
    localise(m, offline=options.offline or options.local_assets, prefix=options.static_prefix)
    root.title = title  # page text already (escaped where it was made)
    tag = f'<script nonce="{options.script_nonce}">' if options.script_nonce else "<script>"
    root._template = Template(_FIGURE_TEMPLATE.replace("<script>", tag))  # the page's script, in the template
    if not options.script_nonce:
        return root.render()
    head, end, body = root.render().partition("</head>")
    # the head is made of templates and asset links only (stored text goes in the body), so its
    # inline scripts (folium's L_NO_TOUCH switches) are the page's own
    return head.replace("<script>", tag) + end + body


#: branca's Figure template (the page around the map), its one inline script to be given a nonce
_FIGURE_TEMPLATE = (
    "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n</head>\n<body>\n    {{this.html.render(**kwargs)}}\n</body>\n"
    "<script>\n    {{this.script.render(**kwargs)}}\n</script>\n</html>\n"
)


_PAGE_CSS = """<style>
.gis-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.94);padding:8px 10px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.45 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;}
.gis-header{top:10px;left:60px;max-width:55%;max-height:40vh;overflow:auto;} .gis-header h1{font-size:16px;margin:0 0 4px 0;}
.gis-legend{bottom:60px;left:10px;max-width:340px;max-height:45vh;overflow:auto;} .gis-legend i{display:inline-block;width:18px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #555;}
.gis-legend .dash{border:2px dashed #252525;background:none;}
.gis-ranking{right:10px;bottom:30px;max-width:460px;max-height:38vh;overflow:auto;}
.gis-ranking table{border-collapse:collapse;font-size:12px;} .gis-ranking th,.gis-ranking td{padding:1px 5px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap;}
.gis-ranking th{cursor:pointer;background:#f3f3f3;position:sticky;top:0;} .gis-ranking td:first-child,.gis-ranking th:first-child{text-align:left;}
.gis-ranking th[aria-sort=ascending]::after{content:" ▲";} .gis-ranking th[aria-sort=descending]::after{content:" ▼";}
.gis-popup table{border-collapse:collapse;font-size:12px;} .gis-popup th{text-align:left;padding-right:8px;white-space:nowrap;color:#444;vertical-align:top;}
.gis-popup td{padding:1px 0;} .gis-warn{color:#b2182b;}
.gis-top-pane{position:absolute;left:0;top:0;} .gis-top-pane .leaflet-popup{pointer-events:auto;}
.leaflet-tooltip.gis-label{background:rgba(255,255,255,.8);border:1px solid #777;box-shadow:none;font:bold 11px sans-serif;padding:0 3px;}
.leaflet-tooltip.gis-label::before{display:none;}
.gis-search{background:#fff;padding:4px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);} .gis-search input{width:150px;}
.gis-search-msg{color:#b2182b;font-size:12px;}
.gis-north{background:rgba(255,255,255,.85);border-radius:4px;padding:2px;}
.gis-collapse{float:right;margin-left:8px;font-size:12px;} .gis-collapsed>:not(.gis-collapse){display:none;}
.gis-titlebar,.gis-print-only{display:none;} body:has(#gis-ranking) .leaflet-control-minimap{display:none;}
@media (max-width:700px){
 .gis-titlebar{display:flex;align-items:center;gap:6px;position:fixed;top:0;left:0;right:0;height:40px;z-index:1100;background:#fff;
  padding:0 8px;box-shadow:0 1px 3px rgba(0,0,0,.3);font:14px "Noto Sans CJK SC","Microsoft YaHei",sans-serif;}
 .gis-title{flex:1;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;}
 .leaflet-container .leaflet-top{top:40px;} .leaflet-container .leaflet-control-minimap{display:none;}
 .gis-frame{display:none;} .gis-drawer-open .gis-frame{display:block;position:fixed;left:0;right:0;bottom:0;max-height:38vh;overflow:auto;
  z-index:1100;background:#fff;box-shadow:0 -2px 6px rgba(0,0,0,.3);}
 .gis-frame .gis-panel{position:static;max-width:none;max-height:none;width:auto !important;box-shadow:none;border-bottom:1px solid #ddd;}
 .gis-header h1{display:none;} .gis-search input{width:110px;}
}
@media print{
 @page{size:A4 landscape;margin:10mm;}
 html,body{height:auto !important;overflow:visible !important;}
 body{display:flex;flex-direction:column;}
 .gis-titlebar{display:flex;order:0;justify-content:space-between;font:bold 16pt "Noto Sans CJK SC",sans-serif;margin-bottom:4mm;}
 .gis-print-only{display:inline;font-weight:normal;font-size:10pt;} #gis-drawer-toggle{display:none;}
 .folium-map{order:1;position:relative !important;height:120mm !important;width:100% !important;border:1px solid #333;}
 .gis-frame{order:2;display:flex !important;flex-wrap:wrap;gap:4mm;position:static;margin-top:4mm;}
 .gis-panel{position:static !important;max-width:none !important;max-height:none !important;width:auto !important;box-shadow:none;border:1px solid #999;overflow:visible;}
 .gis-frame .gis-ranking,.gis-years,.gis-nav,.gis-search,.gis-collapse{display:none !important;}
 .gis-collapsed>:not(.gis-collapse){display:block;}
 .leaflet-control-container .leaflet-control{display:none !important;}
 .leaflet-control-container .leaflet-control-scale,.leaflet-control-container .gis-north{display:block !important;}
 .gis-top-pane{display:none;}
}
</style>"""


def _titlebar(title: str) -> str:
    """The phone's title bar with the drawer button, and the print title with date and north arrow."""
    return (f'<div class="gis-titlebar"><b class="gis-title">{title}</b><span class="gis-print-only" id="gis-print-date"></span>'
            '<button type="button" id="gis-drawer-toggle" aria-controls="gis-frame" aria-expanded="false">图例与数据</button></div>')


def _choice_text(answer: DensityAnswer) -> str:
    t, q = answer.target, answer.question
    nature = f",{t.nature}" if t.nature else ""
    return (f"数据年份 {q.year} · 指标 {NUMERATORS[q.numerator].label_zh} / {BASIS_LABELS_ZH[q.basis]} · "
            f"目标 {t.value:g} {_esc(t.unit)}({t.year}年{_esc(nature)};口径 {BASIS_LABELS_ZH[t.basis]};"
            f"来源 {_esc(source_zh(t.source))})")


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
                f"已改用公布值 {t.value:g} {_esc(t.unit)}(来源 {_esc(source_zh(t.source))});"
                "请管理员运行 gis-service qa 查看并修正该目标。</div>")
    return out


def graded(answer: DensityAnswer) -> bool:
    """Whether the answer is graded against its target: only a numerator the target measures
    (a tax density against an output target is shown, never coloured by attainment)."""
    return answer.question.numerator == answer.target.metric


def _sources_text(answer: DensityAnswer) -> str:
    """Every source of the answer by document title and section (the stored text names files)."""
    sources = [answer.meta["sources"]["target"], *answer.meta["sources"]["figures_and_areas"]]
    shown = sorted({source_zh(s) for s in sources if s and "EPSG" not in s and "∩" not in s})
    return "；".join(_esc(s) for s in shown)


def _legend(answer: DensityAnswer, extra: str = "") -> str:
    if graded(answer):
        head = "<b>达标率(地均产值 ÷ 目标)</b>"
        rows = "".join(f'<div><i style="background:{c}"></i>{label}</div>' for _, c, label in styles.ATTAINMENT_CLASSES)
    else:
        head = "<b>不作达标评价</b>"
        rows = (f'<div><i style="background:{styles.UNGRADED_COLOUR}"></i>有数据(指标与目标不同,不评级)</div>')
    return (
        f'<div class="gis-panel gis-legend" id="gis-legend">{head}'
        f"<div>{_choice_text(answer)}</div>{rows}"
        f'<div><i style="background:{styles.NO_DATA_COLOUR}"></i>无数据</div>'
        '<div><i class="dash"></i>虚线边界:近似边界(据四至推算,非测绘)</div>'
        f"{_land_note(answer)}{_comparability_note(answer)}{extra}"
        f'<div class="gis-sources">资料来源:{_sources_text(answer)}</div></div>'
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
    reason_txt = f"({_esc(missing_reason_zh(reason))})" if isinstance(reason, str) and reason else ""
    t = answer.target
    boundary_source = source_zh(f"{row.get('source_document') or ''} {row.get('source_section') or ''}")
    return (
        f'<div class="gis-popup"><h4 style="margin:0 0 4px 0">{_esc(row.get("unit_name"))}</h4><table>'
        f"<tr><th>四至</th><td>{_esc(row.get('sizhi_text'))}</td></tr>{side_rows}"
        f"<tr><th>管辖面积(公布)</th><td>{_fmt(row.get('published_area_km2'), 2, 'km²')}</td></tr>"
        f"<tr><th>量算面积(EPSG:4549)</th><td>{measured}</td></tr>"
        f"<tr><th>{num_label}</th><td>{_fmt(row.get('value_yi_yuan'), 2, '亿元')}</td></tr>"
        f"{density_rows}"
        f"<tr><th>目标</th><td>{t.value:g} {_esc(t.unit)}({t.year}年,{BASIS_LABELS_ZH[t.basis]})</td></tr>"
        f"<tr><th>达标率</th><td>{_attainment_text(row, answer)}{reason_txt}</td></tr>"
        f"<tr><th>差距</th><td>{_fmt(row.get('gap_yi_per_km2'), 2, '亿元/km²') if graded(answer) else '不评级'}</td></tr>"
        f"<tr><th>状态</th><td>{_esc(status_text(row, answer))}</td></tr>"
        f"<tr><th>数据年份</th><td>{_esc(_year(row.get('figure_year')))}</td></tr>"
        f"<tr><th>数据来源</th><td>{_esc(source_zh(row.get('numerator_source')))}</td></tr>"
        f"<tr><th>面积来源</th><td>{_esc(basis_source_zh(row.get('basis_source'), q.basis))}</td></tr>"
        f"{'<tr><th>演示数据</th><td class=gis-warn>是(合成数据,非真实)</td></tr>' if row.get('uses_synthetic_data') else ''}"
        f"<tr><th>边界来源</th><td>{_esc(boundary_source)}</td></tr>"
        f"<tr><th>几何质量</th><td{' class=gis-warn' if approx else ''}>{styles.quality_zh(row.get('geometry_quality'))}</td></tr>"
        f"</table>{_comparability_note(answer)}</div>"
    )


def _year(value: object) -> object:
    """A year as written (pandas keeps a column with a missing year as floats: 2020.0)."""
    return int(value) if isinstance(value, int | float | np.integer | np.floating) and not pd.isna(value) else value


def status_text(row: pd.Series, answer: DensityAnswer) -> str:
    """The status shown: the answer's, or 不评级 when the numerator is not the target's."""
    if not graded(answer):
        return "不评级(指标与目标不同)" if not pd.isna(row.get("density_yi_per_km2")) else "无数据"
    return str(row.get("status") or "无数据")


def _attainment_text(row: pd.Series, answer: DensityAnswer) -> str:
    return _fmt(row.get("attainment_pct"), 1, "%") if graded(answer) else "不评级"


def park_fill(row: pd.Series, answer: DensityAnswer) -> str:
    """Fill colour of a park: attainment class, or one neutral colour when not graded."""
    if not graded(answer):
        return styles.NO_DATA_COLOUR if pd.isna(row.get("density_yi_per_km2")) else styles.UNGRADED_COLOUR
    return styles.attainment_colour(row.get("attainment_pct"))


def park_label(row: pd.Series, answer: DensityAnswer) -> str:
    """The label on a park: "19% · 未达标", or the density when not graded."""
    if pd.isna(row.get("density_yi_per_km2")):
        return "无数据"
    if not graded(answer):
        return f"{row['density_yi_per_km2']:,.1f} 亿元/km² · 不评级"
    return f"{row['attainment_pct']:.0f}% · {row.get('status')}" if not pd.isna(row.get("attainment_pct")) else str(row.get("status"))


def _park_answer_columns(parks: gpd.GeoDataFrame, answer: DensityAnswer) -> dict[str, list[str]]:
    """What a park feature shows of the answer: colour, status, density and attainment text,
    label, search code, popup."""
    rows = [r for _, r in parks.iterrows()]
    return {
        "fill": [park_fill(r, answer) for r in rows],
        "status": [status_text(r, answer) for r in rows],
        "density_text": [_fmt(v, 2, "亿元/km²") for v in parks["density_yi_per_km2"]],
        "attainment_text": [_attainment_text(r, answer) for r in rows],
        "label": [park_label(r, answer) for r in rows],
        "code": [str(c) if isinstance(c, str) else "" for c in parks.get("unit_code", pd.Series([None] * len(parks)))],
        "popup_html": [park_popup_html(r, answer) for r in rows],
    }


PARK_FIELDS = ["unit_id", "name", "geometry_quality", "fill", "status", "density_text", "attainment_text", "label",
               "code", "popup_html"]


def _parks_layer(m: folium.Map, parks: gpd.GeoDataFrame, name: str, fill_opacity: float = 0.7, *,
                 outline_only: bool = False) -> folium.GeoJson:
    """The parks, coloured by ``fill``, with name, density, 达标率 and status tooltips and the
    ``popup_html`` popup (columns of ``parks``).  ``outline_only``: a parent park drawn as its
    edge (above its blocks, clickable on the edge, tinting nothing).  The page script labels
    and searches the layers recorded on ``m._gis_parks``."""
    data = _geojson_data(parks, [c for c in PARK_FIELDS if c in parks.columns])
    if outline_only:
        style = lambda f: {**styles.outline(f["properties"]["geometry_quality"], "#252525", 3.5), "fill": False}
    else:
        style = lambda f: {**styles.park_style(f["properties"]["fill"], f["properties"]["geometry_quality"]),
                           "fillOpacity": fill_opacity}
    fields = [f for f in ("name", "density_text", "attainment_text", "status") if f in parks.columns]
    aliases = {"name": "名称", "density_text": "地均产值", "attainment_text": "达标率", "status": "状态"}
    layer = folium.GeoJson(
        data,
        name=name,
        style_function=style,
        highlight_function=lambda f: {"weight": 5},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases[f] for f in fields], pane="gisTips"),
        popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False, max_width=460, pane="gisPopups",
                                  autoPanPaddingTopLeft=[10, 10]),
        pane="gisParent" if outline_only else "gisParks",
    )
    layer.add_to(m)
    m._gis_parks = [*getattr(m, "_gis_parks", []), layer]  # type: ignore[attr-defined]
    return layer


def _add_parks(m: folium.Map, parks: gpd.GeoDataFrame, answer: DensityAnswer, name: str,
               fill_opacity: float = 0.7) -> folium.GeoJson:
    shown = parks.assign(name=parks["unit_name"], **_park_answer_columns(parks, answer))
    return _parks_layer(m, shown, name, fill_opacity)


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


def _nav(answer: DensityAnswer, park_id: int | None) -> str:
    """Links out of the page: downloads of the same rows, the land-intensity view of the year, and
    on a park page back to the overview and to the park's 四至 check."""
    q = answer.question
    query = f"year={q.year}&numerator={q.numerator}&basis={q.basis}&level=park"
    links = [(f'下载:<a class="gis-download" href="/downloads/metrics.csv?{query}">CSV</a> | '
              f'<a class="gis-download" href="/downloads/metrics.xlsx?{query}">XLSX</a> | '
              '<a class="gis-download" href="/downloads/layers.gpkg">GeoPackage</a>'),
             f'<a href="/maps/intensity?year={q.year}">集约利用评价</a>']
    if park_id is not None:
        links = [f'<a href="/?year={q.year}&numerator={q.numerator}&basis={q.basis}">← 返回总览</a>',
                 f'<a href="/parks/{park_id}/sizhi/verify">四至核查结果</a>', *links]
    return '<div class="gis-nav">' + " · ".join(links) + "</div>"


def _header(title: str, answer: DensityAnswer, options: MapOptions, *, park_links: pd.DataFrame | None = None,
            base: str = "/", no_data_anywhere: bool = False, park_id: int | None = None, note: str = "",
            extra: str = "") -> str:
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
    # first in the h1, which the phone title bar shows (cut at its width) and <title> repeats
    synthetic = "演示数据 · " if answer.meta["uses_synthetic_data"] else ""
    return (f'<div class="gis-panel gis-header" id="gis-header"><h1>{synthetic}{_esc(title)}</h1>'
            f"<div>{_choice_text(answer)}</div>{_land_note(answer)}{note}{empty_note}"
            f"<div>{_basis_links(answer, base)}</div>{extra}<div>{crs_note} · {variants}</div>{_nav(answer, park_id)}{links}</div>")


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
    header = sheet.head + _header(f"{row.unit_name}", answer, options, base=f"/maps/parks/{park_id}", park_id=int(row["unit_id"]))
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
        name=name, style_function=lambda f: styles.parcel_style(f["properties"]["land_use_class"]), pane="gisLand",
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
