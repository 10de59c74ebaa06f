"""The district overview: where every park stands, at a glance.

The page is laid out once per version of the layers it draws (district, towns, zones, park
boundaries and 四至), with slots where the answer goes; each answer fills them
(:func:`_fill_slots`).  The ranking panel shows the answer's rows — the rows of
``/metrics/density`` for the same question — and the default basis is the target's when any
park has data on it, else the nearest basis with data, said in one sentence.
"""

from __future__ import annotations

import dataclasses
import json
import re

import folium
import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers import DensityAnswer, DensityQuestion, answer_density
from gis_service.answers.inputs import read_park_figures
from gis_service.answers.parks import park_frame, with_answer
from gis_service.errors import NotFoundError
from gis_service.maps import styles
from gis_service.maps.parcel_tiles import add_parcel_tiles
from gis_service.maps.build import (
    MapOptions,
    _base_map,
    _display,
    _esc,
    _finish,
    _fit,
    _fmt,
    _geojson_data,
    _header,
    _legend,
    _park_answer_columns,
    _parks_layer,
    graded,
    page_text,
    status_text,
)
from gis_service.metrics.bases import (
    BASIS_LABELS_ZH,
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    MEASURED_AREA,
    PARCEL_BASES,
    PUBLISHED_AREA,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.targets import basis_relation_zh
from gis_service.store import read_district, read_towns, read_zones
from gis_service.store.versions import DataMemo

#: display frames (simplified, GCJ-02 on Amap) of the layers under the parks and of the park
#: boundaries, kept until those layers change: a new figure or parcel does not redo them
_REFERENCE_TABLES = ("district", "town", "zone", "zone_town")
_PARK_TABLES = ("park", "park_boundary", "sizhi")
_REFERENCE_FRAMES = DataMemo(max_entries=16, tables=_REFERENCE_TABLES)
_PARK_FRAMES = DataMemo(max_entries=16, tables=_PARK_TABLES)
#: zones drawn from planning text (not surveyed) are captioned as schematic
_ZONE_LAYERS = (("pian", "三片"), ("corridor", "G60科创走廊"), ("corridor_area", "一廊九区 功能区"))
SCHEMATIC_ZH = "示意范围(据规划文字与近似道路推算,非法定边界)"
TOWN_CAPTION_ZH = "非法定界线(按镇、街道驻地近似划分,仅供定位)"
#: when the target's basis has no data: the bases tried next, nearest to supplied industrial land first
FALLBACK_BASES = (INDUSTRIAL_LAND, BUILT_UP_LAND, PUBLISHED_AREA, MEASURED_AREA)


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


def _caption(quality: str | None, caption: str) -> str:
    return styles.quality_zh(quality) if quality == "surveyed" else caption


def _reference_layers(engine: Engine, options: MapOptions) -> tuple[folium.Map, gpd.GeoDataFrame]:
    """The overview's map with the district, towns and zones laid out (no parks yet), and the
    district shown (its extent frames the map; empty when none is loaded)."""
    frames = _reference_frames(engine, options)
    district, towns = frames["district"], frames["towns"]
    m = _base_map(tuple(district.total_bounds) if not district.empty else None, options)  # type: ignore[arg-type]
    if not district.empty:
        folium.GeoJson(_geojson_data(district, ["name"]), name="松江区界", style_function=lambda f: styles.DISTRICT_STYLE,
                       tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["名称"], pane="gisTips"),
                       pane="gisReference").add_to(m)
    if not towns.empty:
        towns = towns.assign(caption=[_caption(q, TOWN_CAPTION_ZH) for q in towns["geometry_quality"]])
        folium.GeoJson(
            _geojson_data(towns, ["name", "kind", "pian", "geometry_quality", "caption"]), name="镇、街道(非法定界线)",
            style_function=lambda f: {**styles.TOWN_STYLE, **styles.outline(f["properties"]["geometry_quality"], "#737373", 1)},
            tooltip=folium.GeoJsonTooltip(fields=["name", "kind", "pian", "caption"], aliases=["名称", "类型", "所属片区", "界线"],
                                          pane="gisTips"),
            pane="gisReference",
        ).add_to(m)
    for kind, label in _ZONE_LAYERS:
        subset = frames[kind]
        if subset.empty:
            continue
        subset = subset.assign(quality_text=[_caption(q, SCHEMATIC_ZH) for q in subset["geometry_quality"]])
        folium.GeoJson(
            _geojson_data(subset, ["name", "kind", "geometry_quality", "quality_text"]), name=f"{label}(示意范围)",
            style_function=lambda f: styles.zone_style(f["properties"]["kind"], f["properties"]["geometry_quality"]),
            tooltip=folium.GeoJsonTooltip(fields=["name", "quality_text"], aliases=["名称", "范围"], pane="gisTips"),
            show=kind != "corridor_area", pane="gisZones",
        ).add_to(m)
    return m, district


# ----------------------------------------------------------------------------- the question shown
@dataclasses.dataclass(frozen=True)
class Shown:
    """The answer the overview shows, and why its basis when it is not the target's."""

    answer: DensityAnswer
    basis_note: str = ""
    basis_chosen: bool = False  # the user asked for this basis (links keep it)


def _has_data(answer: DensityAnswer) -> bool:
    return bool(answer.rows["density_yi_per_km2"].notna().any())


def shown_answer(engine: Engine, question: DensityQuestion) -> Shown:
    """The answer for ``question``; without a basis, the target's basis when any park has data
    on it, else the first of :data:`FALLBACK_BASES` with data, with one sentence saying so."""
    answer = answer_density(engine, question)
    if question.basis is not None:
        return Shown(answer, basis_chosen=True)
    if _has_data(answer):
        return Shown(answer)
    wanted = answer.question.basis
    for basis in (b for b in FALLBACK_BASES if b != wanted):
        other = answer_density(engine, dataclasses.replace(question, basis=basis))
        if _has_data(other):
            return Shown(other, basis_note=_fallback_note(wanted, basis))
    return Shown(answer)


def _fallback_note(wanted: str, basis: str) -> str:
    how = ("导入供地记录后即按目标口径显示:gis-service import supply 文件 --source 来源"
           if wanted == SUPPLIED_INDUSTRIAL_LAND else
           "导入相应土地数据后即按目标口径显示:gis-service import landuse|supply|parcels"
           if wanted in PARCEL_BASES else "")
    return (f'<div class="gis-warn gis-basis-note">目标口径“{BASIS_LABELS_ZH[wanted]}”下尚无任何园区数据,'
            f"本图暂按“{BASIS_LABELS_ZH[basis]}”计算:{basis_relation_zh(basis, wanted)}。{how}。</div>")


# ----------------------------------------------------------------------------- the page
#: the overview page without its answer, kept until the layers it draws change: a new figure
#: or parcel only refills its slots (:func:`_fill_slots`)
_OVERVIEW_PAGES = DataMemo(max_entries=16, tables=(*_REFERENCE_TABLES, *_PARK_TABLES))
_SLOT = "@@gis-slot-{}@@"
_SLOT_FIELDS = ("fill", "status", "density_text", "attainment_text", "label", "code", "popup_html")
_TEXT_FIELDS = ("status", "density_text", "attainment_text", "label", "code")  # text (escaped), not HTML
_PAGE_SLOTS = ("header", "legend", "title")
_SLOTS = re.compile(r'"@@gis-slot-([a-z_]+-\d+)@@"|@@gis-slot-(header|legend|title)@@')
OVERVIEW_TITLE = "松江区产业园区地均产值总览"
_PARKS_LAYER_NAME = "园区(按达标率着色)"
_PARENT_LAYER_NAME = "上级园区(总范围,仅边线)"


def build_overview(engine: Engine, question: DensityQuestion, options: MapOptions = MapOptions()) -> str:
    """HTML of the district overview for ``question`` (year, numerator/basis, target).

    After a new figure or parcel the page costs the answer and a few milliseconds (the
    skeleton is kept per version of the layers it draws).
    """
    shown = shown_answer(engine, question)
    year = shown.answer.question.year
    page = _OVERVIEW_PAGES.get_or_compute(engine, ("overview", year, options),
                                          lambda: _overview_skeleton(engine, year, options))
    parks = with_answer(_park_display_frame(engine, year, options), shown.answer)
    return _fill_slots(page, parks, shown, _years_with_data(engine, shown.answer.question.numerator), options)


def _parents(parks: gpd.GeoDataFrame) -> pd.Series:
    """True for a park other parks lie in (张江高新区松江园 over its blocks)."""
    return parks["unit_id"].isin(set(parks["parent_id"].dropna().astype(int)))


def _overview_skeleton(engine: Engine, year: int, options: MapOptions) -> str:
    """The overview page with the parks laid out and a slot for each value the answer gives."""
    m, district = _reference_layers(engine, options)
    parks = _park_display_frame(engine, year, options)
    if district.empty:
        if parks.empty:
            raise NotFoundError("no district or park geometry is loaded; run `gis-service load-sample` first")
        _fit(m, tuple(parks.total_bounds))  # type: ignore[arg-type]
    slots = {field: [_SLOT.format(f"{field}-{i}") for i in range(len(parks))] for field in _SLOT_FIELDS}
    slotted = parks.assign(**slots)
    parent = _parents(parks).to_numpy()
    _parks_layer(m, slotted[~parent], _PARKS_LAYER_NAME)
    if parent.any():
        _parks_layer(m, slotted[parent], _PARENT_LAYER_NAME, outline_only=True)
    add_parcel_tiles(m, show=False, pane="gisLand")  # every parcel at any count, a switch in the layer control
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return _finish(m, options, _SLOT.format("header"), _SLOT.format("legend"), title=_SLOT.format("title"))


#: the year switch's years, kept until the figures change
_YEARS = DataMemo(max_entries=16, tables=("indicator",))


def _years_with_data(engine: Engine, numerator: str) -> list[int]:
    """The years with a park figure of ``numerator`` (the year switch)."""
    def compute() -> list[int]:
        figures = read_park_figures(engine)
        return sorted({int(y) for y in figures.loc[figures["metric_code"] == numerator, "year"]})

    return _YEARS.get_or_compute(engine, ("years", numerator), compute)  # type: ignore[no-any-return]


def _fill_slots(page: str, parks: gpd.GeoDataFrame, shown: Shown, years: list[int], options: MapOptions) -> str:
    """The skeleton with the answer's values: JSON slots take JSON strings encoded as jinja's
    ``tojson`` encodes them (safe inside a script), the header and legend slots HTML."""
    answer = shown.answer
    values = {f"{field}-{i}": _script_json(page_text(v) if field in _TEXT_FIELDS else v)
              for field, column in _park_answer_columns(parks, answer).items() for i, v in enumerate(column)}
    values["header"] = _header(OVERVIEW_TITLE, answer, options, park_links=parks[["unit_id", "unit_name"]],
                               no_data_anywhere=not _has_data(answer), note=shown.basis_note,
                               extra=_year_links(answer, years, shown.basis_chosen)) + ranking_panel(answer)
    values["legend"] = _legend(answer)
    # the title bar and <title> say what the h1 says: 演示数据 first when the answer uses it
    values["title"] = ("演示数据 · " if answer.meta["uses_synthetic_data"] else "") + OVERVIEW_TITLE
    return _SLOTS.sub(lambda m: values[m.group(1) or m.group(2)], page)


def _script_json(value: object) -> str:
    """``value`` as JSON safe inside a <script> (as jinja's tojson writes it)."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("'", "\\u0027"))


def _year_links(answer: DensityAnswer, years: list[int], basis_chosen: bool) -> str:
    """The year switch: every year with a figure of the numerator, the current one in bold."""
    q = answer.question
    basis = f"&basis={q.basis}" if basis_chosen else ""
    links = [f"<b>{y}</b>" if y == q.year else f'<a href="/?year={y}&numerator={q.numerator}{basis}">{y}</a>' for y in years]
    return '<div class="gis-years">年份:' + " | ".join(links) + "</div>" if links else ""


# ----------------------------------------------------------------------------- ranking
RANKING_COLUMNS = ("名称", "地均产值(亿元/km²)", "达标率", "差距(亿元/km²)", "状态", "口径")


def ranking_panel(answer: DensityAnswer) -> str:
    """Every unit of the answer (the rows of ``/metrics/density``, in its order), sortable."""
    q = answer.question
    heads = "".join(f'<th data-col="{i}"{" data-num=1" if i in (1, 2, 3) else ""}>{h}</th>'
                    for i, h in enumerate(RANKING_COLUMNS))
    body = "".join(_ranking_row(r, answer) for _, r in answer.rows.iterrows())
    return (f'<div class="gis-panel gis-ranking" id="gis-ranking"><b>排名({_esc(q.year)} 年,'
            f"{_esc(BASIS_LABELS_ZH[q.basis])};点击表头排序)</b>"
            f'<table class="gis-sortable"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>')


def _ranking_row(row: pd.Series, answer: DensityAnswer) -> str:
    def cell(text: str, sort: object) -> str:
        value = "" if sort is None or (isinstance(sort, float) and pd.isna(sort)) else sort
        return f'<td data-v="{page_text(value)}">{text}</td>'

    density, pct, gap = row.get("density_yi_per_km2"), row.get("attainment_pct"), row.get("gap_yi_per_km2")
    rated = graded(answer)
    return (f'<tr data-unit="{int(row["unit_id"])}">'
            + cell(_esc(row.get("unit_name")), row.get("unit_name"))
            + cell(_fmt(density, 2), density)
            + cell(_fmt(pct, 1, "%") if rated else "不评级", pct if rated else None)
            + cell(_fmt(gap, 2) if rated else "不评级", gap if rated else None)
            + cell(_esc(status_text(row, answer)), status_text(row, answer))
            + cell(_esc(row.get("basis_label")), row.get("basis_label")) + "</tr>")
