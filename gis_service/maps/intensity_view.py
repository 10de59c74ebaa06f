"""The 集约利用 view: parks, or zones, coloured by one land-intensity indicator (``/maps/intensity``).

Draws :func:`gis_service.answers.intensity.answer_intensity` rows (nothing computed here) on the
parks' boundaries in force (level ``park``) or on the zones (level ``zone``: one layer per kind,
三片, 一廊九区功能区, G60科创走廊, the first shown; each zone is measured on its overlap with the
parks, which the header says), with every indicator, the zone type, the 集约度 score and the
sources in the popup.  Built on :mod:`gis_service.maps.build`'s page helpers (basemaps, the
safe-text rule :func:`~gis_service.maps.build.page_text` for every stored text, the finish).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import folium
import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.intensity import (
    IntensityAnswer,
    IntensityQuestion,
    answer_intensity,
)
from gis_service.answers.parks import park_frame
from gis_service.answers.vocabulary import LEVEL_LABELS_ZH as KIND_LABELS_ZH
from gis_service.errors import InputError
from gis_service.maps import styles
from gis_service.maps.build import (
    MapOptions,
    _base_map,
    _display,
    _finish,
    _fmt,
    _geojson_data,
    page_text,
)
from gis_service.metrics.intensity import (
    INDICATORS,
    LEVEL_LABELS_ZH,
    PARK_LEVEL,
    ZONE_LEVEL,
    check_level,
)
from gis_service.store.readers import read_zones

_BY_KEY = {i.key: i for i in INDICATORS}
#: five classes, light to dark (ColorBrewer YlGnBu); no value: grey
_RAMP = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
_NO_DATA = "#bdbdbd"
#: what the view can colour by: every indicator and the 集约度 score
CHOICES: dict[str, tuple[str, str]] = {**{i.key: (i.label_zh, i.unit) for i in INDICATORS}, "intensity_score": ("集约度", "分")}


def check_indicator(indicator: str) -> str:
    """``indicator`` if the view can colour by it, else an InputError listing the choices."""
    if indicator not in CHOICES:
        raise InputError(f"indicator: unknown indicator {indicator!r}; indicators: {', '.join(CHOICES)}")
    return indicator


def _classes(values: pd.Series) -> tuple[list[str], list[float]]:
    """Colour of each value by equal-count classes of the values present; the class breaks."""
    present = pd.to_numeric(values, errors="coerce")
    known = present.dropna()
    if known.empty:
        return [_NO_DATA] * len(values), []
    breaks = sorted(set(known.quantile([0.2, 0.4, 0.6, 0.8]).tolist()))
    colours = [_NO_DATA if math.isnan(v) else _RAMP[min(sum(v > b for b in breaks), len(_RAMP) - 1)] for v in present]
    return colours, breaks


def _selected(row: pd.Series, answer: IntensityAnswer, indicator: str) -> str:
    """The coloured indicator explained: its definition, numerator and denominator, and why it
    is missing or needs checking."""
    if indicator not in _BY_KEY:
        return ""
    found = answer.details[(answer.details["unit_id"] == row["unit_id"]) & (answer.details["indicator"] == indicator)]
    if found.empty:
        return ""
    d = found.iloc[0]
    parts = [f"<b>{page_text(d['label_zh'])}</b> = {page_text(d['definition_zh'])}",
             f"分子:{page_text(d['numerator_label'])} {_fmt(d['numerator_value'], 2, d['numerator_unit'])}",
             f"分母:{page_text(d['denominator_label'])} {_fmt(d['denominator_value'], 2, d['denominator_unit'])}"]
    if isinstance(d["missing_reason"], str) and d["missing_reason"]:
        parts.append(f'<span class="gis-warn">缺失原因:{page_text(d["missing_reason"])}</span>')
    if isinstance(d["check_zh"], str) and d["check_zh"]:
        parts.append(f'<span class="gis-warn">需核对:{page_text(d["check_zh"])}</span>')
    if not d["confirmed"]:
        parts.append("指标定义未与规程原文核对")
    return '<div class="gis-selected">' + "<br>".join(parts) + "</div>"


def _popup(row: pd.Series, answer: IntensityAnswer, indicator: str = "") -> str:
    cells = "".join(
        f"<tr><th>{page_text(i.label_zh)}</th><td>{_fmt(row.get(i.key), 2, i.unit)}</td></tr>" for i in INDICATORS
    )
    score = _fmt(row.get("intensity_score"), 1, "分")
    partial = row.get("partial_score")
    if row.get("intensity_score") is None and isinstance(partial, float) and not math.isnan(partial):
        score += f"(部分指标得分 {partial:.1f} 分,覆盖权重 {row.get('weight_covered_pct'):g}%,不排名)"
    example = "(示例配置,非官方)" if answer.meta["scores"]["is_example"] else ""
    return (f'<div class="gis-popup"><b>{page_text(row["unit_name"])}</b>{_selected(row, answer, indicator)}<table>{cells}'
            + ("<tr><th>演示数据</th><td class=gis-warn>是(合成数据,非真实)</td></tr>" if row.get("uses_synthetic_data") in (True, 1) else "")
            + f"<tr><th>开发区类型</th><td>{page_text(row.get('zone_type') or '未定')}</td></tr>"
            f"<tr><th>集约度{example}</th><td>{score};排名 {page_text(row.get('rank') or '—')}</td></tr></table>"
            f"<div>土地:{page_text(answer.meta['vintage']['built_up_land'].get('label_zh', ''))}</div>"
            f"<div>建筑物:{page_text((answer.meta['vintage']['buildings'] or {}).get('source_document', '未导入'))}</div></div>")


def build_intensity_map(engine: Engine, year: int, indicator: str = "floor_area_ratio",
                        options: MapOptions = MapOptions(), level: str = PARK_LEVEL) -> str:
    """The 集约利用 page for ``year`` coloured by ``indicator`` (an indicator key or
    ``intensity_score``), for the parks or the zones (``level``)."""
    check_indicator(indicator)
    answer = answer_intensity(engine, IntensityQuestion(year=year, level=check_level(level)))
    units = _unit_frame(engine, year, level, answer)
    label, unit = CHOICES[indicator]
    colours, breaks = _classes(units[indicator])
    shown = _display(gpd.GeoDataFrame(units.assign(fill=colours), geometry="geometry", crs=units.crs),
                     options.overview_tolerance_m, options)
    shown = shown.assign(
        value_text=[_fmt(v, 2, unit) for v in shown[indicator]],
        popup_html=[_popup(r, answer, indicator) for _, r in shown.iterrows()],
    )
    bounds = tuple(shown.total_bounds) if not shown.empty else None
    m = _base_map(bounds, options)  # type: ignore[arg-type]
    header = _header(answer, indicator, year, level, empty=shown.empty)
    if shown.empty:  # no park boundary in force that year (or no zone meets one): a page that says so
        return _finish(m, options, header, _legend(label, unit, breaks))
    for number, (layer_name, layer) in enumerate(_layers(shown, level)):
        data = _geojson_data(layer, ["unit_id", "unit_name", "geometry_quality", "fill", "value_text", "popup_html"])
        folium.GeoJson(
            data, name=f"{page_text(layer_name)} · {page_text(label)}", show=number == 0,
            style_function=lambda f: {**styles.park_style(f["properties"]["fill"], f["properties"]["geometry_quality"]),
                                      "fillOpacity": 0.75},
            highlight_function=lambda f: {"weight": 4},
            # the page frame's panes: tooltips and popups above every panel, units in the parks' pane
            tooltip=folium.GeoJsonTooltip(fields=["unit_name", "value_text"], aliases=["名称", page_text(label)], pane="gisTips"),
            popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False, max_width=460, pane="gisPopups"),
            pane="gisParks",
        ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return _finish(m, options, header, _legend(label, unit, breaks))


def _unit_frame(engine: Engine, year: int, level: str, answer: IntensityAnswer) -> gpd.GeoDataFrame:
    """The units drawn with their answer rows: every park (with its boundary in force, a park
    without a row shows no data), or the zones the answer measured (those meeting the parks)."""
    rows = answer.rows.drop(columns=["unit_name"])
    if level == PARK_LEVEL:
        frame = park_frame(engine, year).merge(rows, on="unit_id", how="left")
        return frame.rename(columns={"name": "unit_name"})
    zones = read_zones(engine)[["zone_id", "name", "kind", "geometry_quality", "geometry"]]
    zones = zones.rename(columns={"zone_id": "unit_id", "name": "unit_name", "kind": "zone_kind"})
    return zones.merge(rows, on="unit_id", how="inner")


def _layers(shown: gpd.GeoDataFrame, level: str) -> list[tuple[str, gpd.GeoDataFrame]]:
    """One layer for the parks; one per zone kind for the zones (三片 first: it is shown)."""
    if level == PARK_LEVEL:
        return [("园区", shown)]
    order = [k for k in ("pian", "corridor_area", "corridor") if k in set(shown["zone_kind"])]
    order += sorted(set(shown["zone_kind"]) - set(order))
    return [(KIND_LABELS_ZH.get(kind, kind), shown[shown["zone_kind"] == kind]) for kind in order]


def _header(answer: IntensityAnswer, indicator: str, year: int, level: str, *, empty: bool = False) -> str:
    def link(text: str, **query: object) -> str:
        return f'<a href="?{page_text(urlencode({"indicator": indicator, "year": year, "level": level, **query}))}">{page_text(text)}</a>'

    indicators = " · ".join(f"<b>{page_text(lab)}</b>" if key == indicator else link(lab, indicator=key)
                            for key, (lab, _) in CHOICES.items())
    levels = " · ".join(f"<b>{page_text(LEVEL_LABELS_ZH[lv])}</b>" if lv == level else link(LEVEL_LABELS_ZH[lv], level=lv)
                        for lv in (PARK_LEVEL, ZONE_LEVEL))
    unconfirmed = "指标定义尚未全部与规程原文逐条核对(每项指标的核对情况见弹窗与数据下载)"
    # first in the h1, which the phone title bar shows (cut at its width) and <title> repeats
    synthetic = "演示数据 · " if answer.meta["uses_synthetic_data"] else ""
    none_drawn = "该年份无园区边界" if level == PARK_LEVEL else "该年份没有与园区边界相交的片区、功能区"
    return (f'<div class="gis-panel gis-header"><h1>{synthetic}开发区土地集约利用评价 {year} 年</h1>'
            f"<div>{page_text(answer.meta['procedure'])};{page_text(unconfirmed)}</div>"
            f"<div>评价单元:{levels}</div>"
            + ("<div>片区、功能区按其与园区边界的重叠部分计算;各类片区分图层显示(右上角图层控件切换)</div>"
               if level == ZONE_LEVEL else "")
            + f"<div>选择指标:{indicators}</div>"
            + (f'<div class="gis-warn">{none_drawn}</div>' if empty else "")
            + ('<div class="gis-warn gis-synthetic">含演示数据(合成):部分土地或建筑物来自演示用合成数据,并非真实调查。</div>'
               if answer.meta["uses_synthetic_data"] else "")
            + f"<div class=\"gis-warn\">{page_text(answer.meta['scores']['label'])}</div></div>")


def _break_decimals(breaks: list[float]) -> int:
    """The fewest decimals (2 to 6) at which neighbouring class breaks read differently."""
    for decimals in range(2, 7):
        shown = [f"{b:.{decimals}f}" for b in breaks]
        if len(set(shown)) == len(shown):
            return decimals
    return 6


def _legend(label: str, unit: str, breaks: list[float]) -> str:
    edges = [-math.inf, *breaks, math.inf]
    d = _break_decimals(breaks)
    items = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        text = ("≤ " + f"{hi:,.{d}f}" if lo == -math.inf else "> " + f"{lo:,.{d}f}" if hi == math.inf
                else f"{lo:,.{d}f} – {hi:,.{d}f}") if breaks else "全部"
        items.append(f'<div><i style="background:{_RAMP[min(i, len(_RAMP) - 1)]}"></i>{page_text(text)}</div>')
    items.append(f'<div><i style="background:{_NO_DATA}"></i>无数据(缺失原因见弹窗与 /metrics/intensity)</div>')
    return (f'<div class="gis-panel gis-legend"><b>{page_text(label)}' + (f"({page_text(unit)})" if unit else "")
            + "</b>" + "".join(items) + "</div>")
