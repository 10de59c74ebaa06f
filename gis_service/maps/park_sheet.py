"""The park page as a working sheet: the 四至 check drawn on the map, the area flag, neighbours,
a link back, and two tools in the page — 合规审查 (draw or upload a boundary and check it against
a 四至 text) and 情景测算 (what-if).

Nothing is computed here that the service does not answer elsewhere: the 四至 check is
:func:`gis_service.sizhi.stored.verify_stored_park` (as ``GET /parks/{id}/sizhi/verify`` and the
CLI), the side arcs are :func:`gis_service.sizhi.geometry.side_arcs` (what ``verify`` measures),
and the page's script posts to ``POST /sizhi/verify`` and ``POST /metrics/whatif`` (nothing is
stored).  Stored text enters the page only through :func:`gis_service.maps.build.page_text`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from gis_service.answers import DensityAnswer
from gis_service.coords import wgs84_to_gcj02
from gis_service.coords.crs import to_area_crs
from gis_service.errors import InputError, NotFoundError

# page_text, the one escape; build calls add_sheet, so the cycle is resolved at call time
from gis_service.maps import build as _build
from gis_service.metrics.bases import BASIS_LABELS_ZH
from gis_service.metrics.density import NUMERATORS
from gis_service.qa import AREA_TOLERANCE
from gis_service.sizhi.geometry import side_arcs, to_projected, to_storage
from gis_service.sizhi.stored import verify_stored_park
from gis_service.sizhi.verify import STATUS_LABELS, VerifyReport, _merge_lines

#: measured vs published area: the page flags a park beyond the data check's tolerance (an
#: officer should see a boundary that does not match its published 管辖面积 at a glance)
AREA_FLAG_PCT = AREA_TOLERANCE * 100
#: parks within this distance (m, EPSG:4549) of the park's boundary are listed as neighbours
NEIGHBOUR_RADIUS_M = 3000.0
MAX_NEIGHBOURS = 8
STATUS_COLOURS = {"pass": "#1a9850", "warn": "#f46d43", "fail": "#d73027", "unverifiable": "#737373"}
SCRIPT = "park_sheet/park_sheet.js"
SIDE_CHECK_LAYER = "四至核查(边界各侧)"
_SIDE_ORDER = ("east", "south", "west", "north")


@dataclass(frozen=True)
class Sheet:
    """What the park page gets: ``top`` (links, area flag) above the figures, ``sections``
    (四至 check, tools, neighbours) below them, and ``head`` (its script and style), put before the header."""

    top: str
    sections: str
    head: str


def _esc(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return _build.page_text(value)  # the one escape of the map pages


def _num(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def add_sheet(m: folium.Map, engine: Engine, row: pd.Series, figures: gpd.GeoDataFrame, answer: DensityAnswer,
              options: Any) -> Sheet:
    """Draw the 四至 check on ``m`` and return the sheet's HTML for the park ``row``."""
    q = answer.question
    query = f"year={q.year}&numerator={q.numerator}&basis={q.basis}"
    park_id = int(row["unit_id"])
    top = (f'<div class="gis-sheet-links"><a id="gis-back" href="/?{query}">← 返回总览</a> · '
           f'<a href="/parks/{park_id}/sizhi/verify">四至核查数据(JSON)</a></div>{area_flag_html(row)}')
    sections = (sizhi_check(m, engine, row, int(q.year), options) + review_tool(row, options, f"/maps/parks/{park_id}?{query}")
                + whatif_tool(row, answer) + neighbours_html(figures, row, query))
    panel = (f'<div id="gis-sheet" data-map="{m.get_name()}" data-park-id="{park_id}" data-year="{q.year}" '
             f'data-numerator="{_esc(q.numerator)}" data-basis="{_esc(q.basis)}" data-target="{_esc(q.target or "")}">'
             f"{sections}</div>")
    head = f'<script src="{options.static_prefix}/{SCRIPT}" defer></script>{_CSS}'
    return Sheet(top=top, sections=panel, head=head)


#: while a boundary is drawn, clicks on the park, parcels and labels go to the map (a vertex),
#: not to their popups; the sheet's tables stay readable in the 430 px figures panel
_CSS = """<style>
.gis-drawing .leaflet-interactive{pointer-events:none!important}
.gis-drawing{cursor:crosshair!important}
.gis-sheet-section{margin-top:6px;border-top:1px solid #ddd;padding-top:4px}
.gis-sheet-section summary{cursor:pointer;font-weight:bold}
.gis-sizhi-table{border-collapse:collapse;font-size:12px;width:100%}
.gis-sizhi-table th,.gis-sizhi-table td{border-bottom:1px solid #eee;padding:1px 3px;text-align:left;vertical-align:top}
.gis-sizhi-table tr>th:first-child{white-space:nowrap}
.gis-whatif-table{border-collapse:collapse;font-size:12px;margin-top:4px}
.gis-whatif-table th,.gis-whatif-table td{padding:1px 8px 1px 0;text-align:left}
.gis-file-button{display:inline-block;padding:1px 8px;border:1px solid #767676;border-radius:2px;background:#efefef;cursor:pointer}
.gis-area-flag{margin:4px 0;padding:3px 6px;border:1px solid #b2182b;background:#fde0dd}
</style>"""


# ----------------------------------------------------------------------------- area flag
def area_difference_pct(row: pd.Series) -> float | None:
    """Measured (EPSG:4549) minus published area, in per cent of the published area."""
    published, measured = _num(row.get("published_area_km2")), _num(row.get("measured_area_km2"))
    if published is None or measured is None or published <= 0:
        return None
    return (measured / published - 1.0) * 100.0


def area_flag_html(row: pd.Series) -> str:
    """A warning when the measured and published areas differ by more than :data:`AREA_FLAG_PCT`."""
    diff = area_difference_pct(row)
    if diff is None:
        return ""
    published, measured = float(row["published_area_km2"]), float(row["measured_area_km2"])
    text = f"量算面积 {measured:.2f} km² 比公布面积 {published:.2f} km² {'大' if diff > 0 else '小'} {abs(diff):.1f}%"
    if abs(diff) <= AREA_FLAG_PCT:
        return f'<div class="gis-area-check" data-diff-pct="{diff:.1f}">{text}(相差在 {AREA_FLAG_PCT:g}% 以内)。</div>'
    return (f'<div class="gis-warn gis-area-flag" data-diff-pct="{diff:.1f}"><b>面积不符:</b>{text},'
            f"相差超过 {AREA_FLAG_PCT:g}%:请核实边界或公布面积的口径。</div>")


# ----------------------------------------------------------------------------- 四至 check
def sizhi_check(m: folium.Map, engine: Engine, row: pd.Series, year: int, options: Any) -> str:
    """The stored park's 四至 check (the API's and the CLI's function) drawn side by side on
    ``m`` and tabulated; a sentence when there is no 四至 to check."""
    try:
        _, report = verify_stored_park(engine, int(row["unit_id"]), year=year)
    except (NotFoundError, InputError) as exc:
        reason = "未存储四至,无法核查" if "四至" in str(exc) else "无法核查"
        return f'<details class="gis-sheet-section" id="gis-sizhi-check" open><summary>四至核查:{reason}</summary></details>'
    arcs = side_arc_frame(row.geometry, report)
    if not arcs.empty:
        shown = wgs84_to_gcj02(arcs) if options.gcj02 else arcs
        folium.GeoJson(
            shown.__geo_interface__, name=SIDE_CHECK_LAYER,
            style_function=lambda f: {"color": f["properties"]["colour"], "weight": 6, "opacity": 0.85},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(m)
    return _check_table(report)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons ``verify`` checks, in its order (empty and zero-area parts dropped)."""
    polys = [geom] if isinstance(geom, Polygon) else list(geom.geoms) if isinstance(geom, MultiPolygon) else []
    return [p for p in polys if not p.is_empty and p.area > 0]


def side_arc_frame(geom: BaseGeometry, report: VerifyReport) -> gpd.GeoDataFrame:
    """One line per part and side: the boundary arc ``verify`` measured (EPSG:4326), its
    status, colour and a Chinese label (result, coverage, distance, found and missing)."""
    polys = [to_projected(p) for p in _polygons(geom)]
    arcs_per_poly = [side_arcs(p) for p in polys]
    records: list[dict[str, Any]] = []
    for part in report.parts:
        if part.polygon_index is None or len(polys) == 1:
            arcs = {s: _merge_lines([a[s] for a in arcs_per_poly]) for s in _SIDE_ORDER}
        else:
            arcs = arcs_per_poly[part.polygon_index]
        for side in _SIDE_ORDER:
            arc, checked = arcs[side], part.sides[side].to_dict()
            if arc.is_empty:
                continue
            prefix = f"{part.label}:" if part.label else ""
            label = f"{prefix}{checked['side_label']} · {_side_result(checked)}"
            records.append({"side": side, "status": checked["status"], "colour": STATUS_COLOURS[checked["status"]],
                            "label": _esc(label), "geometry": to_storage(arc)})
    return gpd.GeoDataFrame(records, geometry="geometry", crs=4326) if records else gpd.GeoDataFrame(
        {"geometry": []}, geometry="geometry", crs=4326)


def _side_result(side: dict[str, Any]) -> str:
    out = side["status_label"]
    if side["coverage_pct"] is not None:
        out += f" · 覆盖 {side['coverage_pct']:.1f}%"
    if side["max_distance_m"] is not None:
        out += f" · 最大偏离 {side['max_distance_m']:.0f} 米"
    if side["found"]:
        out += " · 已找到:" + "、".join(dict.fromkeys(side["found"]))
    if side["missing"]:
        out += " · 未找到:" + "、".join(dict.fromkeys(side["missing"]))
    return out


def _check_table(report: VerifyReport) -> str:
    rows = []
    for part in report.to_dict()["parts"]:
        prefix = f"{_esc(part['label'])}:" if part["label"] else ""
        for side in _SIDE_ORDER:
            s = part["sides"][side]
            coverage = "—" if s["coverage_pct"] is None else f"{s['coverage_pct']:.1f}%"
            distance = "—" if s["max_distance_m"] is None else f"{s['max_distance_m']:.0f} 米"
            found = "、".join(_esc(n) for n in dict.fromkeys(s["found"])) or "—"
            missing = "、".join(_esc(n) for n in dict.fromkeys(s["missing"])) or "—"
            rows.append(f'<tr data-side="{side}" data-status="{s["status"]}"><th>{prefix}{s["side_label"]}</th>'
                        f'<td style="color:{STATUS_COLOURS[s["status"]]}">{s["status_label"]}</td>'
                        f"<td>{coverage}</td><td>{distance}</td><td>{found}</td><td class=gis-missing>{missing}</td></tr>")
    legend = " ".join(f'<span style="color:{c}">━ {STATUS_LABELS[k]}</span>' for k, c in STATUS_COLOURS.items())
    return (f'<details class="gis-sheet-section" id="gis-sizhi-check" open data-status="{report.status}">'
            f"<summary>四至核查:{STATUS_LABELS[report.status]}(容差 {report.tolerance_m:g} 米)</summary>"
            '<table class="gis-sizhi-table"><tr><th>侧</th><th>结果</th><th>覆盖</th><th>最大偏离</th>'
            f"<th>已找到</th><th>未找到</th></tr>{''.join(rows)}</table>"
            f"<div>地图线色:{legend}</div></details>")


# ----------------------------------------------------------------------------- tools
def review_tool(row: pd.Series, options: Any, wgs84_page: str) -> str:
    """合规审查: a boundary drawn on the map or uploaded as GeoJSON, checked against a 四至
    text by ``POST /sizhi/verify`` (the API's check) in the page's script; on the 高德 page a
    link to ``wgs84_page``, the same page on the WGS84 basemaps."""
    if options.gcj02:  # drawn points would be GCJ-02; the check takes WGS84
        return ('<details class="gis-sheet-section" id="gis-review"><summary>合规审查</summary>'
                f'<div>高德底图的坐标为 GCJ-02,请在<a href="{wgs84_page}">标准底图(WGS84)页面</a>绘制或上传边界。</div></details>')
    text = row.get("sizhi_text")
    return (
        '<details class="gis-sheet-section" id="gis-review"><summary>合规审查:绘制或上传边界,核对四至</summary>'
        '<label>四至文本<br><textarea id="gis-review-text" rows="3" style="width:100%">'
        f"{'' if not isinstance(text, str) else _esc(text)}</textarea></label>"
        '<div><label>容差(米) <input id="gis-review-tol" type="number" value="150" min="1" max="5000" style="width:5em">'
        "</label></div>"
        '<div><button type="button" id="gis-draw-start">开始绘制</button> '
        '<button type="button" id="gis-draw-finish" disabled>完成绘制</button> '
        '<button type="button" id="gis-draw-clear">清除</button></div>'
        '<div class="gis-draw-hint">在地图上逐点单击添加顶点(至少 3 个),再点“完成绘制”。</div>'
        # the file input is hidden behind a Chinese button: its own caption is the browser's language
        '<div>或上传 GeoJSON(WGS84):<label class="gis-file-button">选择文件<input type="file" id="gis-review-file" '
        'accept=".geojson,.json,application/geo+json,application/json" style="display:none"></label> '
        '<span id="gis-review-file-name">未选择文件</span></div>'
        '<div><button type="button" id="gis-review-run">核查</button> <span id="gis-review-state"></span></div>'
        '<div id="gis-review-result" aria-live="polite"></div></details>'
    )


def whatif_tool(row: pd.Series, answer: DensityAnswer) -> str:
    """情景测算: the park's figure, its area on the page's basis and land released, answered by
    ``POST /metrics/whatif`` (the API's what-if, nothing stored) as the inputs change."""
    q = answer.question
    numerator = NUMERATORS[q.numerator]
    money = numerator.kind == "money"
    unit = "亿元" if money else ("家" if q.numerator == "enterprises" else "人")
    value = _num(row.get("value_yi_yuan" if money else "value_count"))
    area = _num(row.get("area_km2"))
    basis = BASIS_LABELS_ZH[q.basis]
    density = _num(row.get("density_yi_per_km2" if money else "count_per_km2"))
    pct, gap = _num(row.get("attainment_pct")), _num(row.get("gap_yi_per_km2"))
    per_km2 = " 亿元/km²" if money else f" {unit}/km²"
    now = {"density": (density, "无数据" if density is None else f"{density:.2f}{per_km2}"),
           "attainment": (pct, "—" if pct is None else f"{pct:.1f}%"),
           "gap": (gap, "—" if gap is None else f"{gap:.2f} 亿元/km²"),
           "status": (row.get("status"), _esc(row.get("status")))}
    cells = "".join(
        f'<tr data-key="{key}"><th>{label}</th><td class="gis-base">{now[key][1]}</td><td class="gis-scen">—</td></tr>'
        for key, label in (("density", "地均" + numerator.label_zh.split("(")[0]), ("attainment", "达标率"),
                           ("gap", "差距"), ("status", "状态")))
    return (
        f'<details class="gis-sheet-section" id="gis-whatif" data-unit="{unit}" data-money="{int(money)}" '
        f'data-value-label="{numerator.label_zh.split("(")[0]}" data-area-label="{basis}面积">'
        "<summary>情景测算(不保存):改产值或用地,即时看达标</summary>"
        f'<div>口径:{basis};目标 {answer.target.value:g} {_esc(answer.target.unit)}</div>'
        f'<div><label>{_esc(numerator.label_zh)}({unit}) <input id="gis-whatif-value" type="number" step="any" min="0" '
        f'value="{"" if value is None else f"{value:g}"}" style="width:7em"></label></div>'
        f'<div><label>{basis}面积(km²) <input id="gis-whatif-area" type="number" step="any" min="0" '
        f'value="{"" if area is None else f"{area:g}"}" style="width:7em"></label></div>'
        '<div><label>释放土地(km²) <input id="gis-whatif-release" type="number" step="any" min="0" value="0" '
        'style="width:7em"></label></div>'
        '<table class="gis-whatif-table"><tr><th></th><th>现状</th><th>情景</th></tr>'
        f'{cells}</table><div id="gis-whatif-state" aria-live="polite"></div></details>'
    )


# ----------------------------------------------------------------------------- neighbours
def neighbours_html(figures: gpd.GeoDataFrame, row: pd.Series, query: str) -> str:
    """Parks within :data:`NEIGHBOUR_RADIUS_M` of this one (and its parent or blocks), nearest
    first, each a link to its page with its 达标率 and status."""
    others = figures[(figures["unit_id"] != row["unit_id"]) & figures.geometry.notna() & ~figures.geometry.is_empty]
    if others.empty or row.geometry is None:
        return ""
    park = to_area_crs(gpd.GeoSeries([row.geometry], crs=figures.crs)).iloc[0]
    distance = to_area_crs(others.geometry).distance(park)
    related = (others["unit_id"] == row.get("parent_id")) | (others["parent_id"] == row["unit_id"])
    chosen = others.assign(distance_m=distance)[(distance <= NEIGHBOUR_RADIUS_M) | related]
    chosen = chosen.sort_values("distance_m").head(MAX_NEIGHBOURS)
    if chosen.empty:
        return ""
    items = []
    for r in chosen.itertuples():
        if r.unit_id == row.get("parent_id"):
            where = "所属园区"
        elif r.parent_id == row["unit_id"]:
            where = "下属区块"
        else:
            where = "相邻" if r.distance_m < 1 else f"相距 {r.distance_m / 1000:.1f} km"
        pct = _num(r.attainment_pct)
        items.append(f'<li data-park-id="{int(r.unit_id)}"><a href="/maps/parks/{int(r.unit_id)}?{query}">'
                     f"{_esc(r.unit_name)}</a> · {where} · 达标率 {'—' if pct is None else f'{pct:.1f}%'} · "
                     f"{_esc(r.status)}</li>")
    return (f'<details class="gis-sheet-section" id="gis-neighbours" open><summary>相邻园区({len(items)})</summary>'
            f'<ul style="margin:2px 0;padding-left:18px">{"".join(items)}</ul></details>')
