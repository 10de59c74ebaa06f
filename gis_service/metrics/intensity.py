"""Land-intensity indicators of development zones (开发区土地集约利用评价), per park / block / zone.

Source: 《开发区土地集约利用评价规程》 TD/T 1029 (2014 trial edition, 自然资源部/原国土资源部),
evaluation indicator system (评价指标体系, 第5章 and 附录 A 指标解释与计算方法) and the yearly
开发区土地集约利用监测统计 tables.

What was confirmed, and how (read this before trusting a number)
    The procedure text itself could not be retrieved through the project's search tool (only
    its title and a critique of its indicator system, 胡石元 等, 《基于WSR框架的〈开发区土地集约
    利用评价规程〉指标体系分析》, 测绘地理信息 2019, 44(3):103-108, which names the indicator
    families).  The formulas below follow the procedure as commonly implemented and were
    cross-checked against one independent public implementation of the 监测统计 calculation
    (an open-source evaluation web client: 土地供应率 = 已供应国有建设用地 / 已达到供地条件土地,
    土地建成率 = 已建成城镇建设用地 / 已供应国有建设用地, 工业用地率 = 工矿仓储用地 / 已建成城镇
    建设用地, 综合容积率 and 建筑密度 on 已建成城镇建设用地, 工业用地 indicators on 工业用地,
    土地闲置率 = 闲置土地 / 已供应, type rule 工业用地率 > 30 % 且 住宅用地率 < 25 % → 工业主导型).
    None of them is confirmed against the procedure's own section text: every indicator carries
    ``confirmed=False`` and is listed in the answer's ``meta.unconfirmed_definitions``.

Differences from the procedure, forced by the data the platform holds (stated in each row)
    - 已建成城镇建设用地 is the platform's one definition of built-up land: survey patches of
      建设用地 in the snapshot in force (:mod:`gis_service.metrics.land_layers`);
    - 工业用地 is the platform's industrial class (三调 0601 / 国土空间 1001), not 工矿仓储
      (仓储 and 采矿 are not counted);
    - 已达到供地条件的土地 is not in any land layer: it is a yearly figure
      (``land_ready_for_supply``, 公顷); without it 土地开发率 and 土地供应率 are missing;
    - 土地开发率's denominator is the measured area of the boundary (不可建设土地 is not held);
    - 工业用地建筑系数 counts building footprints only (露天堆场、露天操作场地 are not held).

Buildings
    A building counts in a unit by the share of its footprint inside the unit (footprint and
    floor area × share): a building across a park boundary is split, never counted twice nor
    dropped.  It counts on industrial land when a point on its surface lies on an industrial
    patch of the snapshot in force.  Floor area is 建筑面积 as delivered, else footprint × 层数
    (flagged estimated, and the count of estimated buildings is shown).

Areas are measured in EPSG:4549 by PostGIS (the same land filters as
:mod:`gis_service.metrics.postgis`).  A missing input gives a missing indicator with the
reason (never 0).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, TextClause, text

from gis_service.coords.crs import AREA_CRS, AREA_SRID
from gis_service.errors import InputError
from gis_service.metrics.bases import BUILT_UP_LAND, INDUSTRIAL_LAND, SUPPLIED_INDUSTRIAL_LAND
from gis_service.metrics.postgis import _IN_SNAPSHOT, _IS_BUILT, _IS_INDUSTRIAL, _SESSION_SQL, IS_SUPPLIED_ANY_USE
from gis_service.metrics.units import count_factor, money_factor_to_yi
from gis_service.metrics.vintage import latest_at_or_before
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.land import LandInForce, land_in_force

PARK_LEVEL = "park"
ZONE_LEVEL = "zone"
LEVELS: tuple[str, ...] = (PARK_LEVEL, ZONE_LEVEL)
LEVEL_LABELS_ZH = {PARK_LEVEL: "园区(含区块)", ZONE_LEVEL: "片区、功能区"}

PROCEDURE = "《开发区土地集约利用评价规程》TD/T 1029-2014(试行)"
_SECTION = "评价指标体系(第5章、附录A 指标解释与计算方法)"

#: the scoring configuration shipped as an EXAMPLE (示例, 非官方)
DEFAULT_SCORES_FILE = Path(__file__).with_name("intensity_scores.example.json")

# --------------------------------------------------------------------------- quantities
#: the inputs every indicator is made of: key -> (Chinese label, unit)
QUANTITIES: dict[str, tuple[str, str]] = {
    "unit_area_ha": ("开发区土地总面积(边界量算)", "公顷"),
    "land_ready_ha": ("已达到供地条件的土地面积", "公顷"),
    "supplied_land_ha": ("已供应国有建设用地面积", "公顷"),
    "built_up_land_ha": ("已建成城镇建设用地面积", "公顷"),
    "industrial_land_ha": ("已建成工业用地面积", "公顷"),
    "residential_land_ha": ("住宅用地面积", "公顷"),
    "floor_area_m2": ("总建筑面积", "m²"),
    "footprint_m2": ("建筑基底总面积", "m²"),
    "industrial_floor_area_m2": ("工业用地上总建筑面积", "m²"),
    "industrial_footprint_m2": ("工业用地上建筑物基底面积", "m²"),
    "investment_wan": ("工业(物流)企业累计固定资产投资总额", "万元"),
    "industrial_tax_wan": ("工业(物流)企业税收总额", "万元"),
    "tax_wan": ("二三产业税收总额", "万元"),
    "population_wan": ("常住人口", "万人"),
    "idle_land_ha": ("闲置土地面积(已认定未处置)", "公顷"),
    "idle_disposed_ha": ("已处置闲置土地面积", "公顷"),
    "idle_found_ha": ("认定闲置土地总面积", "公顷"),
}

#: yearly figures (metric catalogue codes) behind the figure quantities
FIGURE_METRICS: dict[str, str] = {
    "land_ready_ha": "land_ready_for_supply",
    "investment_wan": "industrial_fixed_assets_cumulative",
    "industrial_tax_wan": "industrial_tax",
    "tax_wan": "tax",
    "population_wan": "resident_population",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``value = numerator / denominator × factor`` in ``unit``."""

    key: str
    label_zh: str
    family_zh: str
    unit: str
    numerator: str
    denominator: str
    factor: float
    definition_zh: str
    higher_is_better: bool = True
    confirmed: bool = False  # see the module docstring: no definition is confirmed against the text
    note_zh: str = ""


INDICATORS: tuple[Indicator, ...] = (
    Indicator("land_development_rate_pct", "土地开发率", "土地利用状况", "%", "land_ready_ha", "unit_area_ha", 100.0,
              "已达到供地条件的土地面积 / 开发区土地总面积 × 100%",
              note_zh="分母为边界量算面积(平台未存不可建设土地)"),
    Indicator("land_supply_rate_pct", "土地供应率", "土地利用状况", "%", "supplied_land_ha", "land_ready_ha", 100.0,
              "已供应国有建设用地面积 / 已达到供地条件的土地面积 × 100%"),
    Indicator("land_built_rate_pct", "土地建成率", "土地利用状况", "%", "built_up_land_ha", "supplied_land_ha", 100.0,
              "已建成城镇建设用地面积 / 已供应国有建设用地面积 × 100%"),
    Indicator("industrial_land_share_pct", "工业用地率", "用地结构", "%", "industrial_land_ha", "built_up_land_ha", 100.0,
              "工业用地面积 / 已建成城镇建设用地面积 × 100%", note_zh="工业用地为三调0601/国土空间1001,不含仓储、采矿"),
    Indicator("floor_area_ratio", "综合容积率", "土地利用强度", "", "floor_area_m2", "built_up_land_ha", 1e-4,
              "总建筑面积 / 已建成城镇建设用地面积"),
    Indicator("building_density_pct", "建筑密度", "土地利用强度", "%", "footprint_m2", "built_up_land_ha", 1e-2,
              "建筑基底总面积 / 已建成城镇建设用地面积 × 100%"),
    Indicator("industrial_floor_area_ratio", "工业用地综合容积率", "土地利用强度", "", "industrial_floor_area_m2",
              "industrial_land_ha", 1e-4, "工业用地上总建筑面积 / 已建成工业用地面积"),
    Indicator("industrial_building_coverage_pct", "工业用地建筑系数", "土地利用强度", "%", "industrial_footprint_m2",
              "industrial_land_ha", 1e-2, "工业用地上建筑物、构筑物基底及露天堆场、操作场地面积 / 已建成工业用地面积 × 100%",
              note_zh="只计建筑物基底(平台未存露天堆场、操作场地)"),
    Indicator("investment_intensity_wan_per_ha", "工业用地固定资产投入强度", "产业用地投入产出效益", "万元/公顷",
              "investment_wan", "industrial_land_ha", 1.0, "工业(物流)企业累计固定资产投资总额 / 已建成工业用地面积"),
    Indicator("industrial_tax_per_ha_wan", "工业用地地均税收", "产业用地投入产出效益", "万元/公顷",
              "industrial_tax_wan", "industrial_land_ha", 1.0, "工业(物流)企业税收总额 / 已建成工业用地面积"),
    Indicator("tax_per_ha_wan", "综合地均税收", "产业用地投入产出效益", "万元/公顷", "tax_wan", "built_up_land_ha", 1.0,
              "二三产业税收总额 / 已建成城镇建设用地面积", note_zh="税收取指标目录 tax(税收)"),
    Indicator("population_density_per_km2", "人口密度", "人口", "万人/km²", "population_wan", "built_up_land_ha", 100.0,
              "常住人口 / 已建成城镇建设用地面积(产城融合型)"),
    Indicator("idle_land_rate_pct", "土地闲置率", "管理绩效", "%", "idle_land_ha", "supplied_land_ha", 100.0,
              "闲置土地面积 / 已供应国有建设用地面积 × 100%", higher_is_better=False),
    Indicator("idle_land_disposal_rate_pct", "闲置土地处置率", "管理绩效", "%", "idle_disposed_ha", "idle_found_ha", 100.0,
              "已处置闲置土地面积 / 认定闲置土地总面积 × 100%"),
)
INDICATOR_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS)
_BY_KEY = {i.key: i for i in INDICATORS}
FLOOR_AREA_QUANTITIES = frozenset({"floor_area_m2", "footprint_m2", "industrial_floor_area_m2", "industrial_footprint_m2"})

# --------------------------------------------------------------------------- SQL
_IS_RESIDENTIAL = f"(p.land_use_class = 'residential' AND p.layer = :land_use_layer AND {_IN_SNAPSHOT})"
_IS_IDLE = f"({IS_SUPPLIED_ANY_USE} AND p.idle_status IS NOT NULL AND p.idle_year <= :year)"

#: the units of a level: park boundaries in force, or zones ∩ the union of the boundaries
#: (MATERIALIZED: the same geometry object meets every record, so PostGIS prepares it once)
_UNITS_CTE = f"""
inforce AS (
    SELECT pb.id, pb.park_id, pb.geom FROM park_boundary pb WHERE {in_force_sql("pb")}
),
units AS MATERIALIZED (
    SELECT b.park_id AS unit_id, b.id AS boundary_id, b.geom FROM inforce b WHERE :level = 'park'
    UNION ALL
    SELECT z.id, NULL::int, ST_Multi(ST_CollectionExtract(ST_Intersection(z.geom, a.geom), 3))
    FROM zone z, (SELECT ST_Union(geom) AS geom FROM inforce) a
    WHERE :level = 'zone' AND z.geom IS NOT NULL AND a.geom IS NOT NULL AND ST_Intersects(z.geom, a.geom)
)"""

#: per unit: its area and the land sums (records wholly inside count whole, the rest by intersection)
_INTENSITY_SQL = text(
    f"""
WITH {_UNITS_CTE},
land AS MATERIALIZED (
    -- materialized: the areas are computed in the join, unit by unit, where ST_ContainsProperly
    -- meets the same unit geometry and PostGIS prepares it once (inlined, the planner sorted
    -- the joined rows first and the areas were computed on copies, unprepared)
    SELECT u.unit_id, p.source_document,
           COALESCE({_IS_BUILT}, false) AS is_built, COALESCE({_IS_INDUSTRIAL}, false) AS is_ind,
           COALESCE({_IS_RESIDENTIAL}, false) AS is_res, COALESCE({IS_SUPPLIED_ANY_USE}, false) AS is_sup,
           COALESCE({_IS_IDLE}, false) AS is_idle_found, p.idle_status,
           CASE WHEN ST_ContainsProperly(u.geom, p.geom) THEN p.area_m2
                ELSE ST_Area(ST_Transform(ST_Intersection(u.geom, p.geom), {AREA_SRID})) END AS a
    FROM units u JOIN land_parcel p ON u.geom && p.geom
    WHERE ({_IS_BUILT} OR {_IS_INDUSTRIAL} OR {_IS_RESIDENTIAL} OR {IS_SUPPLIED_ANY_USE}) AND ST_Intersects(u.geom, p.geom)
),
land_doc AS (
    -- summed per unit and source document first, from the narrow materialized rows: the
    -- DISTINCT list of documents had sorted every wide joined record (on disk at 1M records)
    SELECT unit_id, source_document,
           SUM(a) FILTER (WHERE is_built) AS built_m2, SUM(a) FILTER (WHERE is_ind) AS ind_m2,
           SUM(a) FILTER (WHERE is_res) AS res_m2, SUM(a) FILTER (WHERE is_sup) AS sup_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'idle') AS idle_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'disposed') AS disposed_m2,
           SUM(a) FILTER (WHERE is_idle_found) AS idle_found_m2
    FROM land GROUP BY unit_id, source_document
),
land_sum AS (
    SELECT unit_id, SUM(built_m2) AS built_m2, SUM(ind_m2) AS ind_m2, SUM(res_m2) AS res_m2, SUM(sup_m2) AS sup_m2,
           SUM(idle_m2) AS idle_m2, SUM(disposed_m2) AS disposed_m2, SUM(idle_found_m2) AS idle_found_m2,
           string_agg(source_document, '; ' ORDER BY source_document) AS land_sources
    FROM land_doc GROUP BY unit_id
)
SELECT u.unit_id, u.boundary_id, ST_Area(ST_Transform(u.geom, {AREA_SRID})) AS unit_m2,
       COALESCE(l.built_m2, 0) AS built_m2, COALESCE(l.ind_m2, 0) AS ind_m2, COALESCE(l.res_m2, 0) AS res_m2,
       COALESCE(l.sup_m2, 0) AS sup_m2, COALESCE(l.idle_m2, 0) AS idle_m2, COALESCE(l.disposed_m2, 0) AS disposed_m2,
       COALESCE(l.idle_found_m2, 0) AS idle_found_m2, l.land_sources
FROM units u LEFT JOIN land_sum l ON l.unit_id = u.unit_id
ORDER BY u.unit_id
"""
)

#: per unit and building: the share of its footprint inside the unit (NaN for a footprint of
#: 0 m², left out of the sums), and its anchor (``building.anchor`` = ST_PointOnSurface(geom),
#: stored by migration 0007); numbers only, fetched as one array
_BUILDINGS_SQL = text(
    f"""
WITH {_UNITS_CTE}
SELECT u.unit_id, b.footprint_m2, b.floor_area_m2, b.floor_area_estimated::int,
       COALESCE(CASE WHEN ST_ContainsProperly(u.geom, b.geom) THEN 1.0
                     ELSE ST_Area(ST_Transform(ST_Intersection(u.geom, b.geom), {AREA_SRID})) / NULLIF(b.footprint_m2, 0) END,
                'NaN') AS share,
       ST_X(b.anchor) AS x, ST_Y(b.anchor) AS y
FROM units u JOIN building b ON b.import_id = :building_import AND u.geom && b.geom
WHERE ST_Intersects(u.geom, b.geom)
"""
)

#: the industrial parcels in force that may hold an anchor: those meeting a box around anchors
#: (through the partial GiST index of industrial parcels, migration 0007)
_INDUSTRIAL_AROUND_SQL = text(
    f"""
SELECT ST_AsBinary(p.geom)
FROM unnest(CAST(:xmin AS float8[]), CAST(:ymin AS float8[]), CAST(:xmax AS float8[]), CAST(:ymax AS float8[])) AS x(x0, y0, x1, y1)
JOIN land_parcel p ON p.geom && ST_MakeEnvelope(x.x0, x.y0, x.x1, x.y1, 4326) AND {_IS_INDUSTRIAL}
"""
)  # a parcel met by two boxes comes twice: harmless, the test is "on any industrial parcel"

_BUILDINGS_IN_FORCE_SQL = text(
    "SELECT id, year, source_document, file_name, feature_count, estimated_count, is_synthetic"
    " FROM building_import WHERE year <= :year ORDER BY year DESC LIMIT 1"
)

_UNIT_NAMES_SQL = {
    PARK_LEVEL: text("SELECT id AS unit_id, code AS unit_code, name AS unit_name, kind::text AS unit_kind, parent_id FROM park"),
    ZONE_LEVEL: text("SELECT id AS unit_id, code AS unit_code, name AS unit_name, kind::text AS unit_kind, NULL::int AS parent_id FROM zone"),
}

_FIGURES_SQL = text(
    """
SELECT i.park_id AS unit_id, i.year, i.metric_code, i.value::float8 AS value, i.unit, i.source_document, i.source_section
FROM indicator i
WHERE i.park_id IS NOT NULL AND NOT COALESCE(i.is_projection, false) AND i.metric_code = ANY(:codes) AND i.year <= :year
"""
)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class IntensityResult:
    """Per-unit rows (``rows``: one per unit, a column per indicator), the long ``details``
    (one per unit and indicator: value, numerator, denominator, units, sources, reason)
    and ``vintage`` (which land snapshot, which buildings year, which supply records)."""

    rows: pd.DataFrame
    details: pd.DataFrame
    vintage: dict[str, Any]


def check_level(level: str) -> str:
    """``level`` if it is ``park`` or ``zone``, else an InputError naming the parameter."""
    if level not in LEVELS:
        raise InputError(f"level: unknown level {level!r}; levels: {', '.join(LEVELS)}")
    return level


def buildings_in_force(engine: Engine, year: int) -> dict[str, Any] | None:
    """The buildings import that counts for ``year``: the latest at or before it (or ``None``)."""
    with engine.connect() as conn:
        row = conn.execute(_BUILDINGS_IN_FORCE_SQL, {"year": year}).mappings().first()
    return dict(row) if row else None


def measure_intensity(engine: Engine, *, year: int, level: str = PARK_LEVEL) -> IntensityResult:
    """Every indicator for every unit of ``level`` in ``year`` (the one core function)."""
    check_level(level)
    land = land_in_force(engine, year)
    buildings = buildings_in_force(engine, year)
    raw = _measure(engine, year, level, land, buildings)
    names = _unit_names(engine, level)
    figures = _figures(engine, year) if level == PARK_LEVEL else pd.DataFrame()
    vintage = _vintage(year, land, buildings)
    quantities, sources, reasons = _quantities(raw, figures, land, buildings, level)
    details = _details(raw, quantities, sources, reasons)
    rows = _rows(raw, names, details, year, level)
    return IntensityResult(rows=rows, details=details, vintage=vintage)


def _measure(engine: Engine, year: int, level: str, land: LandInForce, buildings: dict[str, Any] | None) -> pd.DataFrame:
    params = {
        "on": boundary_date(year),
        "level": level,
        "building_import": buildings["id"] if buildings else None,
        **land.sql_params([INDUSTRIAL_LAND, BUILT_UP_LAND, SUPPLIED_INDUSTRIAL_LAND]),
        "year": year,
    }
    # one snapshot for the three statements, as the one statement they replace had
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(_SESSION_SQL)
        units = pd.DataFrame([dict(r) for r in conn.execute(_INTENSITY_SQL, params).mappings()])
        if units.empty:
            return units
        bld = pd.DataFrame(_fetch_numbers(conn, _BUILDINGS_SQL, params, len(_BUILDING_COLUMNS)), columns=_BUILDING_COLUMNS)
        bld["on_ind"] = _on_industrial_land(conn, bld, params)
    return units.join(_building_sums(bld), on="unit_id").fillna(
        {c: 0 for c in _BUILDING_SUMS}).astype({c: "int64" for c in _BUILDING_COUNTS})


_BUILDING_COLUMNS = ["unit_id", "footprint_m2", "floor_area_m2", "floor_area_estimated", "share", "x", "y"]
_BUILDING_COUNTS = ("n_buildings", "n_estimated", "n_split")
_BUILDING_SUMS = ("floor_m2", "foot_m2", "ind_floor_m2", "ind_foot_m2", *_BUILDING_COUNTS)


def _fetch_all(conn: Connection, statement: TextClause, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows as plain tuples, in the binary protocol, on ``conn``'s transaction: for tens of
    thousands of rows, parsing text numbers and making a SQLAlchemy Row of each cost more
    than the query itself."""
    compiled = statement.compile(dialect=conn.dialect)
    with conn.connection.driver_connection.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.construct_params(params))
        return cursor.fetchall()  # type: ignore[no-any-return]


def _fetch_numbers(conn: Connection, statement: TextClause, params: dict[str, Any], width: int) -> np.ndarray:
    """A statement's rows of numbers as one float64 array (``width`` columns)."""
    rows = _fetch_all(conn, statement, params)
    return np.array(rows, dtype=np.float64) if rows else np.empty((0, width))


def _on_industrial_land(conn: Connection, bld: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    """Whether each building's anchor lies on an industrial parcel in force (ST_Intersects
    semantics, boundary included).  One spatial join in memory (an STRtree over the industrial
    parcels around each unit's anchors) instead of one index probe of ``land_parcel`` per
    building, which cost ~0.05 ms each: 3 s for the 64 000 buildings of the parks at 1M."""
    on_ind = np.zeros(len(bld), dtype=bool)
    if bld.empty:
        return on_ind
    box = bld.groupby("unit_id").agg(xmin=("x", "min"), ymin=("y", "min"), xmax=("x", "max"), ymax=("y", "max"))
    rows = _fetch_all(conn, _INDUSTRIAL_AROUND_SQL, {**params, **{k: box[k].tolist() for k in box.columns}})
    if not rows:
        return on_ind
    tree = shapely.STRtree(shapely.from_wkb([r[0] for r in rows]))
    hits = tree.query(shapely.points(bld["x"].to_numpy(), bld["y"].to_numpy()), predicate="intersects")
    on_ind[hits[0]] = True
    return on_ind


def _building_sums(bld: pd.DataFrame) -> pd.DataFrame:
    """Per unit: floor area and footprint counted by the share inside, on industrial land or
    not; how many buildings, how many estimated, how many split by the boundary."""
    share = bld["share"]  # NaN where the footprint is 0 m²: left out of the sums, as SQL's NULL was
    floor, foot = bld["floor_area_m2"] * share, bld["footprint_m2"] * share
    parts = pd.DataFrame({
        "unit_id": bld["unit_id"].astype("int64"), "floor_m2": floor, "foot_m2": foot,
        "ind_floor_m2": floor.where(bld["on_ind"]), "ind_foot_m2": foot.where(bld["on_ind"]),
        "n_buildings": 1, "n_estimated": bld["floor_area_estimated"].astype("int64"),
        "n_split": (share < 0.999999).astype("int64"),
    })
    return parts.groupby("unit_id").sum(min_count=0)


def _unit_names(engine: Engine, level: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame([dict(r) for r in conn.execute(_UNIT_NAMES_SQL[level]).mappings()])


def _figures(engine: Engine, year: int) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(_FIGURES_SQL, {"codes": list(FIGURE_METRICS.values()), "year": year}).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    if frame.empty:
        return frame
    return latest_at_or_before(frame, year, keys=["unit_id", "metric_code"])


def _figure_value(metric: str, value: float, unit: str, where: str) -> float:
    """A figure in the quantity's unit: 万元 for money, 万人 for people, 公顷 for land."""
    if metric == "resident_population":
        return value * count_factor(unit, where=where) / 1e4
    if metric == "land_ready_for_supply":
        factors = {"公顷": 1.0, "ha": 1.0, "hm²": 1.0, "km²": 100.0, "平方公里": 100.0, "亩": 1 / 15, "m²": 1e-4}
        if unit not in factors:
            raise InputError(f"{where}: unknown area unit {unit!r}; expected 公顷, km², 亩 or m²")
        return value * factors[unit]
    return value * money_factor_to_yi(unit, where=where) * 1e4


# --------------------------------------------------------------------------- quantities
def _quantities(
    raw: pd.DataFrame, figures: pd.DataFrame, land: LandInForce, buildings: dict[str, Any] | None, level: str
) -> tuple[dict[tuple[int, str], float | None], dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """Each unit's quantities (``(unit_id, key) -> value``), their sources, and why one is missing."""
    values: dict[tuple[int, str], float | None] = {}
    sources: dict[tuple[int, str], str] = {}
    reasons: dict[tuple[int, str], str] = {}
    layer_reason = {
        "built_up_land_ha": _layer_reason(land, BUILT_UP_LAND),
        "industrial_land_ha": _layer_reason(land, INDUSTRIAL_LAND),
        "residential_land_ha": _layer_reason(land, INDUSTRIAL_LAND),
        "supplied_land_ha": _layer_reason(land, SUPPLIED_INDUSTRIAL_LAND),
        "idle_land_ha": _layer_reason(land, SUPPLIED_INDUSTRIAL_LAND, need_supply=True),
        "idle_disposed_ha": _layer_reason(land, SUPPLIED_INDUSTRIAL_LAND, need_supply=True),
        "idle_found_ha": _layer_reason(land, SUPPLIED_INDUSTRIAL_LAND, need_supply=True),
    }
    snapshot = land.describe(BUILT_UP_LAND).get("label_zh", "")
    supply = (f"供地记录:{land.year} 年底前签订合同且未收回的供地,各用途({land.supply_sources})"
              if land.layer_for(SUPPLIED_INDUSTRIAL_LAND) == "supply" else land.describe(SUPPLIED_INDUSTRIAL_LAND)["label_zh"])
    land_cols = {"built_up_land_ha": ("built_m2", snapshot), "industrial_land_ha": ("ind_m2", snapshot),
                 "residential_land_ha": ("res_m2", snapshot), "supplied_land_ha": ("sup_m2", supply),
                 "idle_land_ha": ("idle_m2", supply), "idle_disposed_ha": ("disposed_m2", supply),
                 "idle_found_ha": ("idle_found_m2", supply)}
    bld_cols = {"floor_area_m2": "floor_m2", "footprint_m2": "foot_m2",
                "industrial_floor_area_m2": "ind_floor_m2", "industrial_footprint_m2": "ind_foot_m2"}
    bld_source = (f"建筑物 {buildings['year']} 年 ({buildings['source_document']}; {buildings['file_name']}), "
                  f"跨界建筑按基底面积占比计入" if buildings else "")
    for r in raw.to_dict("records"):
        uid = int(r["unit_id"])
        values[(uid, "unit_area_ha")] = float(r["unit_m2"]) / 1e4
        sources[(uid, "unit_area_ha")] = f"边界量算面积 ({AREA_CRS})" + (f", park_boundary {r['boundary_id']}" if r["boundary_id"] else "")
        for key, (col, label) in land_cols.items():
            if layer_reason[key]:
                values[(uid, key)], reasons[(uid, key)] = None, layer_reason[key]
            else:
                values[(uid, key)] = float(r[col]) / 1e4
                sources[(uid, key)] = f"{label} ∩ 边界, {AREA_CRS} [{r['land_sources'] or '无地块'}]"
        for key, col in bld_cols.items():
            if buildings is None:
                values[(uid, key)] = None
                reasons[(uid, key)] = f"no buildings imported for {land.year} or earlier (gis-service import buildings)"
            else:
                values[(uid, key)] = float(r[col])
                est = f"; {int(r['n_estimated'])} 栋建筑面积按基底×层数估算" if r["n_estimated"] else ""
                sources[(uid, key)] = bld_source + est
        for key, metric in FIGURE_METRICS.items():
            values[(uid, key)], sources[(uid, key)], reason = _figure_quantity(figures, uid, metric, level)
            if reason:
                reasons[(uid, key)] = reason
    return values, sources, reasons


def _figure_quantity(figures: pd.DataFrame, uid: int, metric: str, level: str) -> tuple[float | None, str, str]:
    if level != PARK_LEVEL:
        return None, "", f"figure {metric!r} is published per park; zone figures are not apportioned for intensity"
    rows = figures[(figures["unit_id"] == uid) & (figures["metric_code"] == metric)] if not figures.empty else figures
    if rows.empty:
        return None, "", f"no figure {metric!r} for this park in the metric catalogue at or before the year"
    row = rows.iloc[-1]
    where = f"figure {metric} of park {uid} ({int(row['year'])})"
    value = _figure_value(metric, float(row["value"]), str(row["unit"]), where)
    source = f"{row['source_document'] or ''} {row['source_section'] or ''}".strip() or "unsourced"
    return value, f"{metric} {int(row['year'])} 年: {source}", ""


def _layer_reason(land: LandInForce, basis: str, *, need_supply: bool = False) -> str:
    layer = land.layer_for(basis)
    if layer is None:
        return f"no land records for {basis} in {land.year} (no land-use snapshot in force / no supply records)"
    if need_supply and layer != "supply":
        return "idle land is flagged on supply records (闲置土地认定); no supply records are loaded"
    return ""


# --------------------------------------------------------------------------- indicators
DETAIL_COLUMNS = [
    "unit_id", "indicator", "label_zh", "family_zh", "value", "unit",
    "numerator", "numerator_label", "numerator_value", "numerator_unit", "numerator_source",
    "denominator", "denominator_label", "denominator_value", "denominator_unit", "denominator_source",
    "definition_zh", "note_zh", "confirmed", "missing_reason",
]


def _details(raw: pd.DataFrame, values: Mapping, sources: Mapping, reasons: Mapping) -> pd.DataFrame:
    out = []
    for uid in raw["unit_id"].astype(int) if not raw.empty else []:
        for ind in INDICATORS:
            num, den = values.get((uid, ind.numerator)), values.get((uid, ind.denominator))
            value, reason = indicator_value(ind, num, den, reasons.get((uid, ind.numerator)), reasons.get((uid, ind.denominator)))
            out.append({
                "unit_id": uid, "indicator": ind.key, "label_zh": ind.label_zh, "family_zh": ind.family_zh,
                "value": value, "unit": ind.unit,
                "numerator": ind.numerator, "numerator_label": QUANTITIES[ind.numerator][0], "numerator_value": num,
                "numerator_unit": QUANTITIES[ind.numerator][1], "numerator_source": sources.get((uid, ind.numerator)),
                "denominator": ind.denominator, "denominator_label": QUANTITIES[ind.denominator][0],
                "denominator_value": den, "denominator_unit": QUANTITIES[ind.denominator][1],
                "denominator_source": sources.get((uid, ind.denominator)),
                "definition_zh": ind.definition_zh, "note_zh": ind.note_zh, "confirmed": ind.confirmed,
                "missing_reason": reason,
            })
    return pd.DataFrame(out, columns=DETAIL_COLUMNS)


def indicator_value(
    ind: Indicator, num: float | None, den: float | None, num_reason: str | None = None, den_reason: str | None = None
) -> tuple[float | None, str | None]:
    """``num / den × factor``, or ``None`` with the reason (a missing input or a zero denominator)."""
    if num is None:
        return None, f"{QUANTITIES[ind.numerator][0]} missing: {num_reason or 'no input'}"
    if den is None:
        return None, f"{QUANTITIES[ind.denominator][0]} missing: {den_reason or 'no input'}"
    if den <= 0:
        return None, f"{QUANTITIES[ind.denominator][0]} is 0 in this unit"
    return num / den * ind.factor, None


# --------------------------------------------------------------------------- rows, type, scores
def _rows(raw: pd.DataFrame, names: pd.DataFrame, details: pd.DataFrame, year: int, level: str) -> pd.DataFrame:
    if raw.empty:
        return pd.DataFrame(columns=["unit_id", "unit_code", "unit_name", "unit_kind", "level", "year", *INDICATOR_KEYS])
    wide = details.pivot(index="unit_id", columns="indicator", values="value").reindex(columns=list(INDICATOR_KEYS))
    base = raw[["unit_id", "boundary_id", "n_buildings", "n_estimated", "n_split"]].copy()
    base["unit_id"] = base["unit_id"].astype(int)
    base = base.merge(names, on="unit_id", how="left")
    base["level"] = level
    base["year"] = year
    res = (raw["res_m2"].astype(float) / raw["built_m2"].astype(float).where(raw["built_m2"] > 0)) * 100
    base["residential_land_share_pct"] = res.to_numpy()
    rows = base.merge(wide.reset_index(), on="unit_id", how="left")
    return rows.astype(object).where(rows.notna(), None)


@dataclass(frozen=True)
class ScoreConfig:
    """Ideal values and weights per zone type, and the type rule: data set by the evaluator."""

    label: str
    is_example: bool
    type_rule: dict[str, Any]
    weights: dict[str, dict[str, dict[str, float]]]  # zone type -> indicator -> {weight, ideal}
    source: str


def load_score_config(path: Path | None = None) -> ScoreConfig:
    """The scoring configuration (default: the shipped EXAMPLE, 示例, 非官方)."""
    path = path or DEFAULT_SCORES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read the intensity score configuration: {exc}") from exc
    for kind, table in data["weights"].items():
        for key, spec in table.items():
            if key not in _BY_KEY:
                raise InputError(f"{path.name}: weights.{kind}: unknown indicator {key!r}")
            if not (float(spec["weight"]) >= 0 and float(spec["ideal"]) > 0):
                raise InputError(f"{path.name}: weights.{kind}.{key}: weight must be >= 0 and ideal > 0")
    return ScoreConfig(data["label"], bool(data["is_example"]), data["type_rule"], data["weights"], str(path.name))


INDUSTRIAL_TYPE = "工业主导型"
MIXED_TYPE = "产城融合型"


def zone_type(industrial_pct: float | None, residential_pct: float | None, rule: Mapping[str, Any]) -> tuple[str | None, str]:
    """工业主导型 / 产城融合型 from the land structure (thresholds from the configuration)."""
    if industrial_pct is None or residential_pct is None:
        return None, "工业用地率或住宅用地率缺失"
    ind_min, res_min = float(rule["industrial_share_above_pct"]), float(rule["residential_share_at_least_pct"])
    if industrial_pct > ind_min and residential_pct < res_min:
        return INDUSTRIAL_TYPE, f"工业用地率 {industrial_pct:.1f}% > {ind_min:g}% 且住宅用地率 {residential_pct:.1f}% < {res_min:g}%"
    if industrial_pct <= ind_min and residential_pct >= res_min:
        return MIXED_TYPE, f"工业用地率 {industrial_pct:.1f}% ≤ {ind_min:g}% 且住宅用地率 {residential_pct:.1f}% ≥ {res_min:g}%"
    return None, f"工业用地率 {industrial_pct:.1f}%、住宅用地率 {residential_pct:.1f}% 不满足任一类型条件"


def sub_score(ind: Indicator, value: float, ideal: float) -> float:
    """Attainment of the ideal value (理想值法), 0–100: value/ideal, or ideal/value when lower is better."""
    if ind.higher_is_better:
        return min(value / ideal, 1.0) * 100.0
    return 100.0 if value <= ideal else min(ideal / value, 1.0) * 100.0


def score_rows(rows: pd.DataFrame, config: ScoreConfig) -> pd.DataFrame:
    """``rows`` with ``zone_type``, ``zone_type_reason``, ``sub_scores`` (dict), ``intensity_score``,
    ``score_missing`` (indicators weighted but missing) and ``rank`` (1 = most intensive)."""
    out = rows.copy()
    types, reasons, subs, scores, missing = [], [], [], [], []
    for r in out.to_dict("records"):
        kind, why = zone_type(r.get("industrial_land_share_pct"), r.get("residential_land_share_pct"), config.type_rule)
        types.append(kind)
        reasons.append(why)
        table = config.weights.get(kind or "", {})
        got, lost, total_w, acc = {}, [], 0.0, 0.0
        for key, spec in table.items():
            v = r.get(key)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                lost.append(key)
                continue
            s = sub_score(_BY_KEY[key], float(v), float(spec["ideal"]))
            got[key] = s
            total_w += float(spec["weight"])
            acc += float(spec["weight"]) * s
        subs.append(got)
        scores.append(acc / total_w if total_w > 0 else None)
        missing.append(lost if table else ["zone type undetermined: no weights apply"])
    out["zone_type"], out["zone_type_reason"], out["sub_scores"] = types, reasons, subs
    out["intensity_score"], out["score_missing"] = scores, missing
    ranked = pd.Series([s if s is not None else math.nan for s in scores], index=out.index).rank(ascending=False, method="min")
    out["rank"] = [int(x) if not math.isnan(x) else None for x in ranked]
    return out


def _vintage(year: int, land: LandInForce, buildings: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "year": year,
        "boundaries_on": boundary_date(year).isoformat(),
        "land_snapshot": land.survey,
        "built_up_land": land.describe(BUILT_UP_LAND),
        "supplied_land": land.describe(SUPPLIED_INDUSTRIAL_LAND),
        "buildings": buildings,
        "area_crs": AREA_CRS,
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
