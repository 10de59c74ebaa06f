"""Land-intensity indicators of development zones (开发区土地集约利用评价), per park / block / zone.

Source: 《开发区土地集约利用评价规程》 TD/T 1029 (2014 trial edition, 自然资源部/原国土资源部),
evaluation indicator system (评价指标体系, 第5章 and 附录 A 指标解释与计算方法) and the yearly
开发区土地集约利用监测统计 tables.

What was confirmed, and where (read this before trusting a number)
    The procedure's own text (TD/T 1029-2014, 附录 A) could not be read through the project's
    search tool: no indicator is confirmed against the procedure text.  Five definitions were
    read in documents that quote it (authority: "a document quoting the procedure"); each
    indicator's ``confirmed_by`` says where, ``differs_zh`` how the platform's computation
    departs from what was read (such an indicator is not counted as confirmed), and the
    answer's ``meta.unconfirmed_definitions`` lists every indicator not confirmed:

    - 综合容积率 and 建筑密度: 《开发区土地集约利用程度评价与潜力测算要点解读》 (安徽省土地勘测
      规划院, training slides on the procedure, section 评价指标体系; read as a search excerpt
      without address, the indicator names garbled but the formulas legible): 已建成城镇建设用地
      总建筑面积 / 已建成城镇建设用地面积, and 已建成城镇建设用地建筑基底总面积 / 已建成城镇
      建设用地面积; numerators from 开发区建筑工程状况统计表 (表 E.7), denominators from 土地利用
      状况统计表 (表 E.3).  The code computes these: confirmed.
    - 工业用地率: baike.kuaiji.com/v17324647.html (词条 工业用地率, in the procedure's wording:
      已建成城镇建设用地范围内工矿仓储用地面积与已建成城镇建设用地面积之比, %) and the 自然资源部
      daily-word item translated at a9909.cn/2022/07/20/Word-rate-of-industrial-land/ (same text);
      the slides above give 已建成的工矿仓储用地面积 / 已建成城镇建设用地面积 (表 E.3).
    - 工业用地综合容积率: baike.kuaiji.com/v16334651.html (词条 工业用地综合容积率: 工矿仓储用地上
      的总建筑面积与工矿仓储用地面积之比, 无量纲); the slides: 已建成工矿仓储用地总建筑面积 /
      已建成工矿仓储用地面积 (表 E.7 / 表 E.3).
    - 工业用地建筑系数: guoturen.com/wenti-4372.html (名词解释: 工矿仓储用地上的建筑物构筑物基底
      面积、露天堆场和露天操作场地的总面积与工矿仓储用地面积之比, %).
    These three use 工矿仓储用地 (工业 + 采矿 + 仓储, the 06 class of GB/T 21010-2007), and so
    does this module (:data:`INDUSTRIAL_STORAGE_CLASSES`: the platform's ``industrial``,
    ``mining`` and ``logistics_warehouse`` classes, i.e. 三调 0601, 0602, 0508; 国土空间
    1001, 1002, 1101): 工业用地率 and 工业用地综合容积率 are confirmed as read; 工业用地建筑系数
    still differs (构筑物, 露天堆场 and 露天操作场地 are not held).  The density answer's
    "industrial land" stays the industrial class alone (its target is defined on it).

    Not confirmed (read only as names, units or partial evidence): 土地开发率, 土地供应率, 土地
    建成率 (a 广东省自然资源厅 note on the 2019 监测统计, nr.gd.gov.cn post_2906675, says only that
    可开发 ⊇ 已开发 ⊇ 已供应 ⊇ 已建成; the slides name the quantities of 表 E.3/E.4 but their
    order is not legible), the three 投入产出 indicators (names and 万元/公顷 in the national
    通报), 人口密度, 土地闲置率, 闲置土地处置率 and the 工业主导型/产城融合型 rule.  For these the
    formulas follow common practice and one independent implementation (an open-source
    evaluation web client) as before; the critique 胡石元 等, 测绘地理信息 2019, 44(3):103-108
    names the indicator families only.

Differences from the procedure, forced by the data the platform holds (stated in each row)
    - 已建成城镇建设用地 is the platform's one definition of built-up land: survey patches of
      建设用地 in the snapshot in force (:mod:`gis_service.metrics.land_layers`);
    - 已达到供地条件的土地 is not in any land layer: it is a yearly figure
      (``land_ready_for_supply``, 公顷); without it 土地开发率 and 土地供应率 are missing;
    - 土地开发率's denominator is the measured area of the boundary (不可建设土地 is not held);
    - 工业用地建筑系数 counts building footprints only (露天堆场、露天操作场地 are not held).

Yearly figures and zones
    Investment, industrial tax, tax, population and land ready for supply are park figures of
    the metric catalogue: the one that counts is the latest at or before the year, and two of
    one metric for one park in one year are refused (DuplicateUnitError naming metric, park and
    year: 422 over the API, exit status 2 in the CLI) by the density answer's own check
    (:func:`~gis_service.metrics.density.refuse_two_figures`).
    Level ``zone`` means every zone of table ``zone`` (片 of 三片, areas of 一廊九区, the 走廊:
    all kinds in one table), each measured on its overlap with the parks' boundaries.  A zone's
    figures are apportioned from the (leaf) parks in it kind by kind, with the density answer's
    shares and fallback (:func:`~gis_service.metrics.apportion.park_zone_shares`): a park's share
    of supplied industrial land in the zone, its boundary-area share when it has none.  So a
    zone's tax here equals the density answer's zone row at ``level`` = the zone's kind (on its
    default apportioning land; a density question on industrial or built-up land apportions by
    that land instead).  Each value's source lists the parks, shares and methods; a zone where
    any of its parks lacks the figure has none, the reason naming the park (a partial sum is
    never shown as a total).

Buildings
    A building counts in a unit by the share of its footprint inside the unit (footprint and
    floor area × share): a building across a park boundary is split, never counted twice nor
    dropped.  It counts on industrial land when a point on its surface lies on an industrial
    patch of the snapshot in force.  Floor area is 建筑面积 as delivered, else footprint × 层数
    (flagged estimated, and the count of estimated buildings is shown).

Both levels in one pass
    Parks, blocks and zones overlap, so measuring unit by unit walked each record once per unit
    it lies in.  The units' boundaries cut the plane into cells (:mod:`gis_service.metrics.cells`),
    each wholly inside or outside every unit; land records and buildings are measured once per
    cell and a unit's sums are the sums over its cells.  The zones' shares of each park (for the
    figures) are summed from the same cells: supplied industrial land with the density answer's
    filter (``_IS_SUPPLIED``), then :func:`~gis_service.metrics.apportion.park_zone_shares`.
    :func:`measure_intensity_levels` answers both levels; the answer keeps both until the data
    changes, so asking for one level after the other measures once.  Every read of one answer (land
    and buildings in force, the three measuring statements, figures, apportioning inputs, idle
    reviews, names) sees one snapshot of the data, on whichever connection it runs
    (:mod:`gis_service.metrics.snapshot_reads`): a write committed meanwhile shows in the next
    answer, never in part of this one.

Areas are measured in EPSG:4549 by PostGIS (the same land filters as
:mod:`gis_service.metrics.postgis`).  A missing input gives a missing indicator with the
reason (never 0).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, TextClause, text

from gis_service.coords.crs import AREA_CRS, AREA_SRID, STORED_SRID
from gis_service.errors import InputError
from gis_service.metrics.apportion import SHARE_COLUMNS, park_zone_shares
from gis_service.metrics.bases import (
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.cells import unit_cells
from gis_service.metrics.density import refuse_two_figures
from gis_service.metrics.errors import OverlappingZonesError
from gis_service.metrics.gc_pause import gc_paused
from gis_service.metrics.postgis import (
    _IN_SNAPSHOT,
    _IS_BUILT,
    _IS_SUPPLIED,
    IS_SUPPLIED_ANY_USE,
    check_zones_do_not_overlap,
)
from gis_service.metrics.snapshot_reads import (
    fetch_packed,
    fetch_rows,
    in_snapshot,
    side_by_side,
    snapshot_transaction,
    spare_connections,
)
from gis_service.metrics.units import count_factor, money_factor_to_yi
from gis_service.metrics.vintage import latest_at_or_before
from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.idle_coverage import RECORD_COMMAND, IdleCoverage, idle_coverage
from gis_service.store.land import LandInForce, land_in_force
from gis_service.store.readers import read_parks, read_zones

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
    "industrial_land_ha": ("已建成工矿仓储用地面积", "公顷"),
    "residential_land_ha": ("住宅用地面积", "公顷"),
    "floor_area_m2": ("总建筑面积", "m²"),
    "footprint_m2": ("建筑基底总面积", "m²"),
    "industrial_floor_area_m2": ("工矿仓储用地上总建筑面积", "m²"),
    "industrial_footprint_m2": ("工矿仓储用地上建筑物基底面积", "m²"),
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
    note_zh: str = ""
    #: where the definition was read: document, section, and authority ("procedure text" or
    #: "a document quoting the procedure"); empty when it was not read anywhere
    confirmed_by: str = ""
    #: how the platform's computation departs from the definition read (empty when it does not)
    differs_zh: str = ""

    @property
    def confirmed(self) -> bool:
        """The definition was read in a document and the code computes exactly that."""
        return bool(self.confirmed_by) and not self.differs_zh


#: where definitions were read (module docstring): authority level and the quoting documents
_QUOTING = "a document quoting the procedure"
_SLIDES = (f"{_QUOTING}: 《开发区土地集约利用程度评价与潜力测算要点解读》(安徽省土地勘测规划院), 评价指标体系"
           " (search excerpt without address; formulas legible, indicator names garbled)")

#: 工矿仓储用地 (the procedure's "industrial land"): the platform's classes of GB/T 21010-2007's 06
INDUSTRIAL_STORAGE_CLASSES: tuple[str, ...] = ("industrial", "mining", "logistics_warehouse")
_IND_STORAGE_NOTE = "工矿仓储用地 = 工业、采矿、物流仓储用地(三调 0601、0602、0508;国土空间 1001、1002、1101)"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("land_development_rate_pct", "土地开发率", "土地利用状况", "%", "land_ready_ha", "unit_area_ha", 100.0,
              "已达到供地条件的土地面积 / 开发区土地总面积 × 100%",
              note_zh="分母为边界量算面积(平台未存不可建设土地)"),
    Indicator("land_supply_rate_pct", "土地供应率", "土地利用状况", "%", "supplied_land_ha", "land_ready_ha", 100.0,
              "已供应国有建设用地面积 / 已达到供地条件的土地面积 × 100%"),
    Indicator("land_built_rate_pct", "土地建成率", "土地利用状况", "%", "built_up_land_ha", "supplied_land_ha", 100.0,
              "已建成城镇建设用地面积 / 已供应国有建设用地面积 × 100%"),
    Indicator("industrial_land_share_pct", "工业用地率", "用地结构", "%", "industrial_land_ha", "built_up_land_ha", 100.0,
              "已建成工矿仓储用地面积 / 已建成城镇建设用地面积 × 100%", note_zh=_IND_STORAGE_NOTE,
              confirmed_by=f"{_QUOTING}: baike.kuaiji.com/v17324647.html 词条 工业用地率; 自然资源部 每日一词 "
                           f"(a9909.cn/2022/07/20/Word-rate-of-industrial-land/); {_SLIDES}"),
    Indicator("floor_area_ratio", "综合容积率", "土地利用强度", "", "floor_area_m2", "built_up_land_ha", 1e-4,
              "总建筑面积 / 已建成城镇建设用地面积",
              confirmed_by=f"{_SLIDES}: 已建成城镇建设用地总建筑面积 (表E.7) / 已建成城镇建设用地面积 (表E.3)"),
    Indicator("building_density_pct", "建筑密度", "土地利用强度", "%", "footprint_m2", "built_up_land_ha", 1e-2,
              "建筑基底总面积 / 已建成城镇建设用地面积 × 100%",
              confirmed_by=f"{_SLIDES}: 已建成城镇建设用地建筑基底总面积 (表E.7) / 已建成城镇建设用地面积 (表E.3)"),
    Indicator("industrial_floor_area_ratio", "工业用地综合容积率", "土地利用强度", "", "industrial_floor_area_m2",
              "industrial_land_ha", 1e-4, "工矿仓储用地上总建筑面积 / 已建成工矿仓储用地面积", note_zh=_IND_STORAGE_NOTE,
              confirmed_by=f"{_QUOTING}: baike.kuaiji.com/v16334651.html 词条 工业用地综合容积率; {_SLIDES}"),
    Indicator("industrial_building_coverage_pct", "工业用地建筑系数", "土地利用强度", "%", "industrial_footprint_m2",
              "industrial_land_ha", 1e-2,
              "工矿仓储用地上建筑物、构筑物基底及露天堆场、操作场地面积 / 已建成工矿仓储用地面积 × 100%",
              note_zh="只计建筑物基底(平台未存构筑物、露天堆场、操作场地)",
              confirmed_by=f"{_QUOTING}: guoturen.com/wenti-4372.html 名词解释 工业用地建筑系数",
              differs_zh="规程口径含构筑物基底、露天堆场和露天操作场地;平台只计工矿仓储用地上的建筑物基底"),
    Indicator("investment_intensity_wan_per_ha", "工业用地固定资产投入强度", "产业用地投入产出效益", "万元/公顷",
              "investment_wan", "industrial_land_ha", 1.0, "工业(物流)企业累计固定资产投资总额 / 已建成工矿仓储用地面积"),
    Indicator("industrial_tax_per_ha_wan", "工业用地地均税收", "产业用地投入产出效益", "万元/公顷",
              "industrial_tax_wan", "industrial_land_ha", 1.0, "工业(物流)企业税收总额 / 已建成工矿仓储用地面积"),
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
#: 工矿仓储 patches of the snapshot in force (the partial GiST index of migration 0007 holds these classes)
_IS_INDUSTRIAL_STORAGE = (f"(p.land_use_class IN ({', '.join(repr(c) for c in INDUSTRIAL_STORAGE_CLASSES)})"
                          f" AND p.layer = :land_use_layer AND {_IN_SNAPSHOT})")
_IS_RESIDENTIAL = f"(p.land_use_class = 'residential' AND p.layer = :land_use_layer AND {_IN_SNAPSHOT})"
_IS_IDLE = f"({IS_SUPPLIED_ANY_USE} AND p.idle_status IS NOT NULL AND p.idle_year <= :year)"

#: the units of both levels: park boundaries in force (level ``park``) and the zones that meet
#: their union (level ``zone``, each measured on that overlap: its area is the overlap's); the
#: geometries are the boundaries as stored (the cells, :mod:`gis_service.metrics.cells`, clip
#: the zones to the parks)
_UNITS_SQL = text(
    f"""
WITH inforce AS (
    SELECT pb.id, pb.park_id, pb.geom FROM park_boundary pb WHERE {in_force_sql("pb")}
),
parks AS (SELECT ST_Union(geom) AS geom FROM inforce)
SELECT 'park' AS level, b.park_id AS unit_id, b.id AS boundary_id, ST_AsBinary(b.geom) AS wkb,
       ST_Area(ST_Transform(b.geom, {AREA_SRID})) AS unit_m2
FROM inforce b
UNION ALL
SELECT 'zone', z.id, NULL::int, ST_AsBinary(z.geom),
       ST_Area(ST_Transform(ST_Multi(ST_CollectionExtract(ST_Intersection(z.geom, a.geom), 3)), {AREA_SRID}))
FROM zone z, parks a
WHERE z.geom IS NOT NULL AND a.geom IS NOT NULL AND ST_Intersects(z.geom, a.geom)
ORDER BY 1, 2
"""
)

#: the cells (statement parameters), each cut to at most 128 vertices: tight boxes for the index
#: scan, small geometries to prepare (MATERIALIZED: the same geometry object meets every record,
#: so PostGIS prepares it once)
_PIECES_CTE = f"""
pieces AS MATERIALIZED (
    SELECT c.cell_id, ST_Subdivide(ST_GeomFromWKB(c.wkb, {STORED_SRID}), 128) AS geom
    FROM unnest(CAST(:cell_ids AS int[]), CAST(:cell_wkb AS bytea[])) AS c(cell_id, wkb)
)"""

#: per unit of both levels: the land sums (records wholly inside a cell count whole, the rest by
#: intersection), summed per cell, then over each unit's cells (:mod:`gis_service.metrics.cells`)
_LAND_SQL = text(
    f"""
WITH {_PIECES_CTE},
membership AS (
    SELECT * FROM unnest(CAST(:member_cell AS int[]), CAST(:member_level AS text[]), CAST(:member_unit AS int[]))
        AS m(cell_id, level, unit_id)
    UNION ALL  -- and each cell on its own (level 'cell'): the zones' shares of each park are summed from them
    SELECT c, 'cell', c FROM unnest(CAST(:cell_ids AS int[])) AS c
),
land AS MATERIALIZED (
    -- materialized: the areas are computed in the join, piece by piece, where ST_ContainsProperly
    -- meets the same piece geometry and PostGIS prepares it once
    SELECT f.cell_id, p.source_document, p.is_synthetic,
           COALESCE({_IS_BUILT}, false) AS is_built, COALESCE({_IS_INDUSTRIAL_STORAGE}, false) AS is_ind,
           COALESCE({_IS_RESIDENTIAL}, false) AS is_res, COALESCE({IS_SUPPLIED_ANY_USE}, false) AS is_sup,
           COALESCE({_IS_IDLE}, false) AS is_idle_found, p.idle_status, COALESCE({_IS_SUPPLIED}, false) AS is_sup_ind,
           CASE WHEN ST_ContainsProperly(f.geom, p.geom) THEN p.area_m2
                ELSE ST_Area(ST_Transform(ST_Intersection(f.geom, p.geom), {AREA_SRID})) END AS a
    FROM pieces f JOIN land_parcel p ON f.geom && p.geom
    WHERE ({_IS_BUILT} OR {_IS_INDUSTRIAL_STORAGE} OR {_IS_RESIDENTIAL} OR {IS_SUPPLIED_ANY_USE}) AND ST_Intersects(f.geom, p.geom)
),
cell_doc AS (
    -- summed per cell and source document first, from the narrow materialized rows
    SELECT cell_id, source_document,
           SUM(a) FILTER (WHERE is_built) AS built_m2, SUM(a) FILTER (WHERE is_ind) AS ind_m2,
           SUM(a) FILTER (WHERE is_res) AS res_m2, SUM(a) FILTER (WHERE is_sup) AS sup_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'idle') AS idle_m2,
           SUM(a) FILTER (WHERE is_idle_found AND idle_status = 'disposed') AS disposed_m2,
           SUM(a) FILTER (WHERE is_idle_found) AS idle_found_m2, SUM(a) FILTER (WHERE is_sup_ind) AS sup_ind_m2,
           bool_or(is_synthetic) AS synthetic
    FROM land GROUP BY cell_id, source_document
),
unit_doc AS (
    SELECT m.level, m.unit_id, d.source_document,
           SUM(built_m2) AS built_m2, SUM(ind_m2) AS ind_m2, SUM(res_m2) AS res_m2, SUM(sup_m2) AS sup_m2,
           SUM(idle_m2) AS idle_m2, SUM(disposed_m2) AS disposed_m2, SUM(idle_found_m2) AS idle_found_m2,
           SUM(sup_ind_m2) AS sup_ind_m2, bool_or(synthetic) AS synthetic
    FROM cell_doc d JOIN membership m ON m.cell_id = d.cell_id
    GROUP BY m.level, m.unit_id, d.source_document
)
SELECT level, unit_id, SUM(built_m2) AS built_m2, SUM(ind_m2) AS ind_m2, SUM(res_m2) AS res_m2, SUM(sup_m2) AS sup_m2,
       SUM(idle_m2) AS idle_m2, SUM(disposed_m2) AS disposed_m2, SUM(idle_found_m2) AS idle_found_m2,
       SUM(sup_ind_m2) AS sup_ind_m2, bool_or(synthetic) AS land_synthetic,
       string_agg(source_document, '; ' ORDER BY source_document) AS land_sources
FROM unit_doc GROUP BY level, unit_id
"""
)

#: per cell piece and building: the share of its footprint inside the cell (NaN for a footprint
#: of 0 m², left out of the sums), its anchor (``building.anchor`` = ST_PointOnSurface(geom),
#: stored by migration 0007) and whether the anchor lies in the piece; numbers only, packed by
#: the server into one bytea of big-endian float8 (:data:`_PIECE_COLUMNS` per row): no Python
#: object per row (:func:`_fetch_packed`)
_BUILDINGS_SQL = text(
    f"""
WITH {_PIECES_CTE},
piece AS (
    SELECT f.cell_id, b.id, b.footprint_m2, b.floor_area_m2, b.floor_area_estimated,
           COALESCE(CASE WHEN ST_ContainsProperly(f.geom, b.geom) THEN 1.0
                         ELSE ST_Area(ST_Transform(ST_Intersection(f.geom, b.geom), {AREA_SRID})) / NULLIF(b.footprint_m2, 0) END,
                    'NaN') AS share,
           ST_X(b.anchor) AS x, ST_Y(b.anchor) AS y, ST_Intersects(f.geom, b.anchor) AS anchor_in
    FROM pieces f JOIN building b ON b.import_id = :building_import AND f.geom && b.geom
    WHERE ST_Intersects(f.geom, b.geom)
)
SELECT string_agg(
    float8send(cell_id) || float8send(id) || float8send(COALESCE(footprint_m2, 'NaN')) || float8send(floor_area_m2)
    || float8send(floor_area_estimated::int) || float8send(share) || float8send(COALESCE(x, 'NaN'))
    || float8send(COALESCE(y, 'NaN')) || float8send(COALESCE(anchor_in, false)::int), ''::bytea)
FROM piece
"""
)

#: the industrial parcels in force that may hold an anchor lying in a cell: those meeting a cell
#: piece (through the partial GiST index of industrial parcels, migration 0007); a parcel met by
#: two pieces comes twice: harmless, the test is "on any industrial parcel"
_INDUSTRIAL_IN_CELLS_SQL = text(
    f"""
WITH {_PIECES_CTE}
SELECT ST_AsBinary(p.geom)
FROM pieces f JOIN land_parcel p ON p.geom && f.geom AND {_IS_INDUSTRIAL_STORAGE}
WHERE ST_Intersects(f.geom, p.geom)
"""
)

#: the industrial parcels in force around anchors lying in no cell: those meeting a box around them
_INDUSTRIAL_AROUND_SQL = text(
    f"""
SELECT ST_AsBinary(p.geom)
FROM unnest(CAST(:xmin AS float8[]), CAST(:ymin AS float8[]), CAST(:xmax AS float8[]), CAST(:ymax AS float8[])) AS x(x0, y0, x1, y1)
JOIN land_parcel p ON p.geom && ST_MakeEnvelope(x.x0, x.y0, x.x1, x.y1, 4326) AND {_IS_INDUSTRIAL_STORAGE}
"""
)

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
SELECT i.park_id AS unit_id, p.code AS park_code, p.name AS park_name, i.year, i.metric_code, i.value::float8 AS value,
       i.unit, i.source_document, i.source_section
FROM indicator i JOIN park p ON p.id = i.park_id
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


def buildings_in_force(bind: Engine | Connection, year: int) -> dict[str, Any] | None:
    """The buildings import that counts for ``year``: the latest at or before it (or ``None``)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return buildings_in_force(conn, year)
    row = bind.execute(_BUILDINGS_IN_FORCE_SQL, {"year": year}).mappings().first()
    return dict(row) if row else None


def measure_intensity(engine: Engine, *, year: int, level: str = PARK_LEVEL) -> IntensityResult:
    """Every indicator for every unit of ``level`` in ``year`` (both levels are measured in one pass:
    :func:`measure_intensity_levels`)."""
    return measure_intensity_levels(engine, year=year)[check_level(level)]


def measure_intensity_levels(engine: Engine, *, year: int) -> dict[str, IntensityResult]:
    """Every indicator for every unit of both levels in ``year`` (the one core function).

    One pass over the land and the buildings for the parks and the zones together: each record
    is measured once per cell of the units' arrangement (:mod:`gis_service.metrics.cells`), not
    once per unit it lies in.  The cyclic garbage collector waits until it ends
    (:mod:`gis_service.metrics.gc_pause`).
    """
    with gc_paused():
        return _measure_levels(engine, year)


def _measure_levels(engine: Engine, year: int) -> dict[str, IntensityResult]:
    # every read of the answer in one snapshot: the main transaction's, shared by the others
    with snapshot_transaction(engine) as (conn, snapshot):
        land = land_in_force(conn, year)
        buildings = buildings_in_force(conn, year)
        # the figures, apportioning inputs, reviews and names beside the land and buildings
        # (which take 3 connections)
        (raw, supplied), context = side_by_side(
            engine, conn, snapshot, 4, lambda: _measure(engine, conn, snapshot, year, land, buildings),
            lambda c: _Context.read(c, year))
    figures = {PARK_LEVEL: context.park_figures,
               ZONE_LEVEL: _zone_level_figures(context.apportioning, context.park_figures, supplied)}
    vintage = _vintage(year, land, buildings)
    out = {}
    for level in LEVELS:
        quantities, sources, reasons = _quantities(raw[level], figures[level], land, buildings, level, idle=context.idle)
        details = _details(raw[level], quantities, sources, reasons)
        rows = _rows(raw[level], context.names[level], details, year, level, buildings)
        out[level] = IntensityResult(rows=rows, details=details, vintage=vintage)
    return out


@dataclass(frozen=True)
class _Context:
    """What an answer reads besides the measured land and buildings."""

    park_figures: dict[tuple[int, str], Figure]
    apportioning: Apportioning
    idle: IdleCoverage
    names: dict[str, pd.DataFrame]

    @classmethod
    def read(cls, conn: Connection, year: int) -> _Context:
        return cls(_park_figures(conn, year), _apportioning(conn, year), idle_coverage(conn, year),
                   {level: _unit_names(conn, level) for level in LEVELS})


def measure_quantities(engine: Engine, *, year: int) -> dict[str, pd.DataFrame]:
    """Per level, the measured quantities of each unit (area, land sums, building sums) before
    any indicator is formed: what ``bench/intensity.py`` checks against its reference query."""
    with snapshot_transaction(engine) as (conn, snapshot):
        return _measure(engine, conn, snapshot, year, land_in_force(conn, year), buildings_in_force(conn, year))[0]


def _measure(engine: Engine, conn: Connection, snapshot: str, year: int, land: LandInForce,
             buildings: dict[str, Any] | None) -> tuple[dict[str, pd.DataFrame], SuppliedByCell]:
    """Per level, one row per unit: its area and boundary, the land sums, the building sums; and
    the supplied industrial land of each cell (the zones' shares of the parks are summed from it).
    ``conn`` is in ``snapshot``'s transaction; the other connections read in that snapshot."""
    params: dict[str, Any] = {
        "on": boundary_date(year),
        "building_import": buildings["id"] if buildings else None,
        **land.sql_params([INDUSTRIAL_LAND, BUILT_UP_LAND, SUPPLIED_INDUSTRIAL_LAND]),
        "year": year,
    }
    units = _units(conn, params)
    cells = unit_cells(units, within=PARK_LEVEL)
    params |= {**cells.sql_params(), "member_cell": cells.membership["cell_id"].tolist(),
               "member_level": cells.membership["level"].tolist(), "member_unit": cells.membership["unit_id"].tolist()}
    sums, bld = _land_and_buildings(engine, conn, snapshot, params, cells.membership)
    per_cell = sums.loc[sums["level"] == "cell"]
    supplied = SuppliedByCell(cells.membership, pd.Series(per_cell["sup_ind_m2"].to_numpy(dtype=float),
                                                          index=per_cell["unit_id"].to_numpy(dtype=np.int64)))
    return {level: _level_frame(units, sums, bld, level) for level in LEVELS}, supplied


_LAND_SUMS = ("built_m2", "ind_m2", "res_m2", "sup_m2", "idle_m2", "disposed_m2", "idle_found_m2")


def _units(conn: Connection, params: dict[str, Any]) -> pd.DataFrame:
    """The units of both levels: ``level``, ``unit_id``, ``boundary_id`` (``None`` for a zone),
    ``unit_m2`` (EPSG:4549) and ``geometry`` (shapely, EPSG:4326)."""
    rows = conn.execute(_UNITS_SQL, params).all()
    return pd.DataFrame({
        "level": pd.Series([r.level for r in rows], dtype=object),
        "unit_id": pd.Series([int(r.unit_id) for r in rows], dtype="int64"),
        "boundary_id": pd.Series([r.boundary_id for r in rows], dtype=object),
        "unit_m2": pd.Series([float(r.unit_m2) for r in rows], dtype="float64"),
        "geometry": pd.Series(list(shapely.from_wkb([bytes(r.wkb) for r in rows])), dtype=object),
    })


def _land_sums(conn: Connection, params: dict[str, Any]) -> pd.DataFrame:
    columns = ["level", "unit_id", *_LAND_SUMS, "sup_ind_m2", "land_synthetic", "land_sources"]
    rows = conn.execute(_LAND_SQL, params).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=columns)


def _level_frame(units: pd.DataFrame, sums: pd.DataFrame, bld: pd.DataFrame, level: str) -> pd.DataFrame:
    """The units of ``level`` with their land sums (0 where no record counts) and building sums."""
    frame = units.loc[units["level"] == level, ["unit_id", "boundary_id", "unit_m2"]].reset_index(drop=True)
    if frame.empty:
        return frame
    land = sums.loc[sums["level"] == level].drop(columns="level")
    frame = frame.merge(land, on="unit_id", how="left")
    frame = frame.fillna({c: 0.0 for c in _LAND_SUMS}).astype({c: "float64" for c in _LAND_SUMS})
    frame["land_synthetic"] = frame["land_synthetic"].astype(object).where(frame["land_synthetic"].notna(), False).astype(bool)
    frame["land_sources"] = frame["land_sources"].astype(object).where(frame["land_sources"].notna(), None)
    built = bld.loc[bld["level"] == level].drop(columns="level").set_index("unit_id")
    return frame.join(built, on="unit_id").fillna({c: 0 for c in _BUILDING_SUMS}).astype(
        {c: "int64" for c in _BUILDING_COUNTS})


def _land_and_buildings(engine: Engine, conn: Connection, snapshot: str, params: dict[str, Any],
                        membership: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The land sums (on ``conn``), and the building sums per unit (:func:`_buildings_on_land`).

    Three statements: the land sums, the buildings, the industrial parcels meeting the cells.
    With two connections to spare they run side by side, the other two on connections of their
    own that see ``conn``'s ``snapshot`` (at 1M, 0.5–0.7 s, 0.5 s and 0.2 s: on two cores the
    third fills the gaps of the other two); else one after the other on ``conn``."""
    def industrial_on(c: Connection) -> np.ndarray:
        return _industrial_parcels(c, _INDUSTRIAL_IN_CELLS_SQL, params)

    if spare_connections(engine) < 2:
        return _land_sums(conn, params), _buildings_on_land(conn, params, lambda: industrial_on(conn), membership)
    with ThreadPoolExecutor(max_workers=2) as pool:
        industrial = pool.submit(in_snapshot, engine, snapshot, industrial_on)
        buildings = pool.submit(in_snapshot, engine, snapshot,
                                lambda c: _buildings_on_land(c, params, industrial.result, membership))
        return _land_sums(conn, params), buildings.result()


def _buildings_on_land(conn: Connection, params: dict[str, Any], industrial: Callable[[], np.ndarray],
                       membership: pd.DataFrame) -> pd.DataFrame:
    """The building sums per unit (:func:`_building_sums`) of the buildings' pieces
    (:func:`_building_pieces`), each known on 工矿仓储 land or not (``on_ind``,
    :func:`_on_industrial_land`); ``industrial`` gives the 工矿仓储 parcels meeting the cells,
    anchors in no cell fetch theirs on ``conn``.  Summed on this thread: the land sums usually
    take longer."""
    pieces = _building_pieces(conn, params)
    pieces["on_ind"] = _on_industrial_land(pieces, industrial(), lambda xy: _industrial_around(conn, xy, params))
    return _building_sums(pieces, membership)


def _building_pieces(conn: Connection, params: dict[str, Any]) -> pd.DataFrame:
    """Each building's piece in each cell: its share of the footprint, its anchor, whether the
    anchor lies in the piece."""
    return pd.DataFrame(fetch_packed(conn, _BUILDINGS_SQL, params, len(_PIECE_COLUMNS)), columns=_PIECE_COLUMNS)


_PIECE_COLUMNS = ["cell_id", "building_id", "footprint_m2", "floor_area_m2", "floor_area_estimated", "share", "x", "y",
                  "anchor_in"]
_BUILDING_COUNTS = ("n_buildings", "n_estimated", "n_split")
_BUILDING_SUMS = ("floor_m2", "foot_m2", "ind_floor_m2", "ind_foot_m2", *_BUILDING_COUNTS)


def _building_sums(pieces: pd.DataFrame, membership: pd.DataFrame) -> pd.DataFrame:
    """Per unit of each level (``level``, ``unit_id``): floor area and footprint counted by the
    share inside, on industrial land or not; how many buildings, how many estimated, how many
    split by the unit's edge.

    A building in one cell (nearly all) is summed per cell, then the cells' sums per unit.  One
    across cells counts once per unit: its pieces' shares in the unit's cells added up."""
    keys = membership.astype({"cell_id": "int64", "unit_id": "int64"})
    pieces = pieces.astype({"cell_id": "int64"})
    across = pieces["building_id"].duplicated(keep=False).to_numpy()
    per_cell = _building_parts(pieces.loc[~across], ["cell_id"]).groupby("cell_id").sum(min_count=0)
    parts = [keys.merge(per_cell, left_on="cell_id", right_index=True).drop(columns="cell_id")]
    split = pieces.loc[across].merge(keys, on="cell_id")
    if not split.empty:
        groups = split.drop(columns="cell_id").groupby(["level", "unit_id", "building_id"], sort=False)
        summed = groups.first()
        summed["share"] = groups["share"].sum(min_count=1)  # NaN stays NaN (a footprint of 0 m²)
        parts.append(_building_parts(summed.reset_index(), ["level", "unit_id"]))
    return pd.concat(parts, ignore_index=True).groupby(["level", "unit_id"], as_index=False).sum(min_count=0)


def _building_parts(bld: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per building (row of ``bld``) and its ``keys``: what it adds to the building sums."""
    share = bld["share"]  # NaN where the footprint is 0 m²: left out of the sums, as SQL's NULL was
    floor, foot = bld["floor_area_m2"] * share, bld["footprint_m2"] * share
    on_ind = bld["on_ind"].astype(bool)
    return pd.DataFrame({
        **{k: bld[k] for k in keys}, "floor_m2": floor, "foot_m2": foot,
        "ind_floor_m2": floor.where(on_ind), "ind_foot_m2": foot.where(on_ind),
        "n_buildings": 1, "n_estimated": bld["floor_area_estimated"].astype("int64"),
        "n_split": (share < 0.999999).astype("int64"),
    })


def _industrial_parcels(conn: Connection, statement: TextClause, params: dict[str, Any]) -> np.ndarray:
    """The 工矿仓储 parcels in force that ``statement`` selects, as shapely geometries."""
    rows = fetch_rows(conn, statement, params)
    return shapely.from_wkb([r[0] for r in rows]) if rows else np.empty(0, dtype=object)


def _industrial_around(conn: Connection, xy: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The 工矿仓储 parcels in force meeting any of the points ``xy`` (rows x, y)."""
    points = {"xmin": xy[:, 0].tolist(), "ymin": xy[:, 1].tolist(), "xmax": xy[:, 0].tolist(), "ymax": xy[:, 1].tolist()}
    return _industrial_parcels(conn, _INDUSTRIAL_AROUND_SQL, {**params, **points})


def _on_industrial_land(pieces: pd.DataFrame, industrial: np.ndarray,
                        fetch_around: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Whether each building's anchor lies on a 工矿仓储 parcel in force (ST_Intersects
    semantics, boundary included).  One spatial join in memory (an STRtree over the industrial
    parcels) instead of one index probe of ``land_parcel`` per building, which cost ~0.05 ms
    each: 3 s for the 64 000 buildings of the parks at 1M.

    ``industrial`` are the parcels meeting the cells' pieces: every parcel holding an anchor
    that lies in a piece.  An anchor lies in a piece exactly when it lies in one of the pieces
    its building meets (the anchor is on the building), which the buildings statement tells
    (``anchor_in``).  An anchor in no piece (a building across the parks' edge whose anchor
    lies outside) gets the parcels around it from ``fetch_around``."""
    if pieces.empty:
        return np.zeros(0, dtype=bool)
    anchors = shapely.points(pieces["x"].to_numpy(), pieces["y"].to_numpy())
    in_a_piece = pieces.groupby("building_id", sort=False)["anchor_in"].transform("max").to_numpy() > 0
    if not in_a_piece.all():
        industrial = np.concatenate([industrial, fetch_around(pieces.loc[~in_a_piece, ["x", "y"]].to_numpy())])
    on_ind = np.zeros(len(pieces), dtype=bool)
    if len(industrial):
        on_ind[shapely.STRtree(industrial).query(anchors, predicate="intersects")[0]] = True
    return on_ind


def _unit_names(conn: Connection, level: str) -> pd.DataFrame:
    return pd.DataFrame([dict(r) for r in conn.execute(_UNIT_NAMES_SQL[level]).mappings()])


@dataclass(frozen=True)
class Figure:
    """A yearly figure of one unit in its quantity's unit (万元, 万人, 公顷), with its source,
    or ``None`` with the reason."""

    value: float | None
    source: str = ""
    reason: str = ""


#: the parks' share of each zone: the density answer's shares and fallback
#: (:func:`~gis_service.metrics.apportion.park_zone_shares`), on its default apportioning land
ZONE_SHARE_BASIS = SUPPLIED_INDUSTRIAL_LAND


def _park_figures(conn: Connection, year: int) -> dict[tuple[int, str], Figure]:
    """Each park's figures (``(park_id, metric) -> Figure``): the one that counts for ``year``
    (latest at or before it; two in one year refused by the density answer's check,
    :func:`~gis_service.metrics.density.refuse_two_figures`)."""
    rows = conn.execute(_FIGURES_SQL, {"codes": list(FIGURE_METRICS.values()), "year": year}).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows])
    if frame.empty:
        return {}
    frame = latest_at_or_before(frame, year, keys=["unit_id", "metric_code"])
    names = {int(u): f"{c} {n}" for u, c, n in zip(frame["unit_id"], frame["park_code"], frame["park_name"])}
    refuse_two_figures(frame, unit_word="park", names=names)
    return {(int(r["unit_id"]), str(r["metric_code"])): _park_figure(r) for r in frame.to_dict("records")}


def _zone_level_figures(apportioning: Apportioning, parks: Mapping[tuple[int, str], Figure],
                        supplied: SuppliedByCell) -> dict[tuple[int, str], Figure]:
    """Each zone's figures, apportioned from the parks that lie in it (:func:`_zone_figures`)."""
    if not parks:  # no park figure at all: nothing to apportion
        return {}
    shares = _park_shares_in_zones(apportioning, supplied)
    return {**_zone_figures(shares, parks), **_blocked_zone_figures(apportioning.blocked)}


def _park_figure(row: Mapping[str, Any]) -> Figure:
    metric, year = str(row["metric_code"]), int(row["year"])
    where = f"figure {metric} of park {row['park_code']} ({year})"
    value = _figure_value(metric, float(row["value"]), str(row["unit"]), where)
    source = f"{row['source_document'] or ''} {row['source_section'] or ''}".strip() or "unsourced"
    return Figure(value, f"{metric} {year} 年: {source}")


@dataclass(frozen=True)
class SuppliedByCell:
    """Supplied industrial land (m², EPSG:4549) of each cell (``m2`` by cell id) and the units
    each cell lies in (:data:`gis_service.metrics.cells.MEMBERSHIP_COLUMNS`)."""

    membership: pd.DataFrame
    m2: pd.Series

    def pieces(self, park_ids: Sequence[int], zones: pd.DataFrame) -> pd.DataFrame:
        """Rows as :func:`~gis_service.metrics.postgis.parcel_piece_areas` gives the density
        answer: each park's total (``is_park_total``) and its piece in each of ``zones``
        (``zone_id``, ``name``) that it shares a cell with, with ``supplied_industrial_land_m2``."""
        m = self.membership
        in_park = m.loc[(m["level"] == PARK_LEVEL) & m["unit_id"].isin(list(park_ids)), ["cell_id", "unit_id"]]
        in_zone = m.loc[(m["level"] == ZONE_LEVEL) & m["unit_id"].isin(zones["zone_id"].tolist()), ["cell_id", "unit_id"]]
        in_park = in_park.rename(columns={"unit_id": "park_id"})
        both = in_park.merge(in_zone.rename(columns={"unit_id": "zone_id"}), on="cell_id")
        column = f"{ZONE_SHARE_BASIS}_m2"
        totals = (in_park.assign(**{column: self._areas(in_park["cell_id"])})
                  .groupby("park_id", as_index=False)[column].sum().assign(zone_id=None, is_park_total=True))
        parts = (both.assign(**{column: self._areas(both["cell_id"])})
                 .groupby(["park_id", "zone_id"], as_index=False)[column].sum().assign(is_park_total=False))
        names = dict(zip(zones["zone_id"].astype(int), zones["name"]))
        frame = pd.concat([totals, parts], ignore_index=True)
        return frame.assign(zone_name=frame["zone_id"].map(names))  # a park's total has no zone: NaN

    def _areas(self, cell_ids: pd.Series) -> np.ndarray:
        return self.m2.reindex(cell_ids.to_numpy()).fillna(0.0).to_numpy()  # a cell without such land: 0 m²


@dataclass(frozen=True)
class Apportioning:
    """What apportioning the parks' figures to the zones reads besides the measured land: the
    leaf parks with the boundary in force (the density answer's park set: a zone's parks are
    the same in both), the zones with a geometry, and the zones whose kind has overlapping
    zones, each with the reason (the density answer refuses that kind)."""

    parks: pd.DataFrame
    zones: pd.DataFrame
    blocked: dict[int, str]


def _apportioning(conn: Connection, year: int) -> Apportioning:
    """:class:`Apportioning` for ``year`` (read beside the measurement: it needs none of it)."""
    from gis_service.answers.inputs import leaf_parks, units_from_parks

    parks = leaf_parks(units_from_parks(read_parks(conn, year=year)))
    zones = read_zones(conn)
    zones = zones[zones.geometry.notna() & ~zones.geometry.is_empty]
    blocked: dict[int, str] = {}
    if parks.empty or zones.empty:
        return Apportioning(parks, zones, blocked)
    for kind in dict.fromkeys(zones["kind"]):
        try:
            check_zones_do_not_overlap(conn, kind)
        except OverlappingZonesError as exc:
            blocked |= {int(z): str(exc) for z in zones.loc[zones["kind"] == kind, "zone_id"]}
    return Apportioning(parks, zones, blocked)


def _park_shares_in_zones(apportioning: Apportioning, supplied: SuppliedByCell) -> pd.DataFrame:
    """Share of each leaf park in each zone of table ``zone``, kind by kind (zones of one kind
    partition space; zones of different kinds overlap and are apportioned apart), as the density
    answer's zone levels take them (:func:`~gis_service.metrics.apportion.park_zone_shares`):
    shares of supplied industrial land (the density answer's filter, measured in this answer's
    pass over the cells: the same land, not a second query per kind), boundary-area share for a
    park without such land.

    Columns of :func:`~gis_service.metrics.apportion.park_zone_shares` plus ``park_name``; none
    for the zones of a kind whose zones overlap (``apportioning.blocked``): their figures cannot
    be apportioned, their land and buildings still are measured."""
    parks, zones, blocked = apportioning.parks, apportioning.zones, apportioning.blocked
    if parks.empty or zones.empty:
        return pd.DataFrame(columns=[*SHARE_COLUMNS, "park_name"])
    frames = [pd.DataFrame(columns=SHARE_COLUMNS)]
    for kind in dict.fromkeys(zones["kind"]):
        of_kind = zones[(zones["kind"] == kind) & ~zones["zone_id"].astype(int).isin(list(blocked))]
        if of_kind.empty:
            continue
        pieces = supplied.pieces(parks["unit_id"].astype(int).tolist(), of_kind)
        frames.append(park_zone_shares(pieces, basis=ZONE_SHARE_BASIS, parks=parks, zones=of_kind))
    shares = pd.concat(frames, ignore_index=True)
    names = {int(u): f"{n} ({c})" for u, n, c in zip(parks["unit_id"], parks["unit_name"], parks["unit_code"])}
    return shares.assign(park_name=shares["unit_id"].map(lambda u: names[int(u)]))


def _zone_figures(shares: pd.DataFrame, parks: Mapping[tuple[int, str], Figure]) -> dict[tuple[int, str], Figure]:
    """Each zone's figures: the share-weighted sum of the figures of every park in it; missing,
    naming the parks, when any of them lacks the figure (a partial sum is not a total)."""
    out: dict[tuple[int, str], Figure] = {}
    for zone_id, group in shares.groupby("zone_id", sort=False):
        members = list(zip(group["unit_id"].astype(int), group["share"].astype(float),
                           group["share_method"], group["park_name"]))
        for metric in FIGURE_METRICS.values():
            out[(int(zone_id), metric)] = _apportioned(metric, members, parks)
    return out


def _blocked_zone_figures(blocked: Mapping[int, str]) -> dict[tuple[int, str], Figure]:
    """Missing figures, with the overlap as the reason, for the zones of a kind that overlap."""
    return {(zone_id, metric): Figure(None, reason=f"同类片区边界重叠,{_metric_label(metric)}无法分摊({why})")
            for zone_id, why in blocked.items() for metric in FIGURE_METRICS.values()}


def _apportioned(metric: str, members: list[tuple[int, float, str, str]], parks: Mapping[tuple[int, str], Figure]) -> Figure:
    lacking = [name for park, _, _, name in members if (park, metric) not in parks]
    if lacking:
        return Figure(None, reason=(f"区内园区 {'、'.join(lacking)} 缺少{_metric_label(metric)}({metric});片区数值是区内"
                                    "全部园区按份额分摊之和,不以部分园区之和代替"))
    parts = [(share, parks[(park, metric)], method, name) for park, share, method, name in members]
    total = sum(share * float(fig.value) for share, fig, _, _ in parts)  # type: ignore[arg-type]
    terms = "; ".join(f"{name} share {share:.3f} [{method}] × {fig.value:g} ({fig.source})"
                      for share, fig, method, name in parts)
    return Figure(total, f"按园区份额分摊(同密度答案): {terms}")


def _metric_label(metric: str) -> str:
    """The Chinese name of a figure's metric (``industrial_tax`` → 工业(物流)企业税收总额)."""
    key = next((k for k, m in FIGURE_METRICS.items() if m == metric), None)
    return QUANTITIES[key][0] if key else metric


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
    raw: pd.DataFrame, figures: Mapping[tuple[int, str], Figure], land: LandInForce,
    buildings: dict[str, Any] | None, level: str, *, idle: IdleCoverage | None = None,
) -> tuple[dict[tuple[int, str], float | None], dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """Each unit's quantities (``(unit_id, key) -> value``), their sources, and why one is missing
    (the idle-land ones also where no 闲置土地调查认定 covers the unit: :func:`_idle_cover`)."""
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
        idle_cover, idle_reason = _idle_cover(idle or IdleCoverage(), r, level, land.year)
        values[(uid, "unit_area_ha")] = float(r["unit_m2"]) / 1e4
        sources[(uid, "unit_area_ha")] = f"边界量算面积 ({AREA_CRS})" + (f", park_boundary {r['boundary_id']}" if r["boundary_id"] else "")
        for key, (col, label) in land_cols.items():
            reason = layer_reason[key] or (idle_reason if key in IDLE_QUANTITIES else "")
            if reason:
                values[(uid, key)], reasons[(uid, key)] = None, reason
            else:
                values[(uid, key)] = float(r[col]) / 1e4
                sources[(uid, key)] = f"{label} ∩ 边界, {AREA_CRS} [{r['land_sources'] or '无地块'}]" + (
                    f"; {idle_cover}" if key in IDLE_QUANTITIES else "")
        for key, col in bld_cols.items():
            if buildings is None:
                values[(uid, key)] = None
                reasons[(uid, key)] = f"{land.year} 年及以前未导入建筑物(gis-service import buildings)"
            else:
                values[(uid, key)] = float(r[col])
                est = f"; {int(r['n_estimated'])} 栋建筑面积按基底×层数估算" if r["n_estimated"] else ""
                sources[(uid, key)] = bld_source + est
        for key, metric in FIGURE_METRICS.items():
            values[(uid, key)], sources[(uid, key)], reason = _figure_quantity(figures, uid, metric, level)
            if reason:
                reasons[(uid, key)] = reason
    return values, sources, reasons


IDLE_QUANTITIES = frozenset({"idle_land_ha", "idle_disposed_ha", "idle_found_ha"})


def _idle_cover(idle: IdleCoverage, row: Mapping[str, Any], level: str, year: int) -> tuple[str, str]:
    """``(what covers the unit, "")`` or ``("", why not)``: a 闲置土地调查认定 covers a unit when a
    review made by ``year`` covers it (the district's; a park's covers the park and its blocks;
    a zone only the district's), or a finding made by then lies on a supply record inside it
    (the identification touched it).  Uncovered, the idle quantities are missing: an unchecked
    unit is not a unit without idle land.  Covered and nothing idle, the rate is a recorded 0 %."""
    review = idle.source_for(int(row["unit_id"]), park_level=level == PARK_LEVEL)
    if review:
        return review, ""
    if float(row["idle_found_m2"]) > 0:
        return "闲置土地认定结果记在本单元内的供地记录上", ""
    scope = "全区或本园区(区块含所属园区)" if level == PARK_LEVEL else "全区(片区、功能区只认全区的认定)"
    return "", (f"{year} 年及以前{scope}未录入闲置土地调查认定({RECORD_COMMAND}),本单元供地记录上也无闲置土地"
                "认定结果;未认定不等于没有闲置土地")


def _figure_quantity(
    figures: Mapping[tuple[int, str], Figure], uid: int, metric: str, level: str
) -> tuple[float | None, str, str]:
    fig = figures.get((uid, metric))
    if fig is None:
        if level != PARK_LEVEL:
            return None, "", (f"无可分摊的园区数据:区内无现行边界的园区,或指标库中没有任何园区的{_metric_label(metric)}"
                              f"({metric})")
        return None, "", f"指标库中无本园区该年及以前的{_metric_label(metric)}({metric};gis-service import indicators)"
    return fig.value, fig.source, fig.reason


def _layer_reason(land: LandInForce, basis: str, *, need_supply: bool = False) -> str:
    layer = land.layer_for(basis)
    if layer is None:
        return f"{land.year} 年无可用的土地数据(无现行土地利用现状调查快照 / 无供地记录;{basis})"
    if need_supply and layer != "supply":
        return "闲置土地认定记在供地记录上,尚未导入供地记录(gis-service import supply)"
    return ""


# --------------------------------------------------------------------------- indicators
DETAIL_COLUMNS = [
    "unit_id", "indicator", "label_zh", "family_zh", "value", "unit",
    "numerator", "numerator_label", "numerator_value", "numerator_unit", "numerator_source",
    "denominator", "denominator_label", "denominator_value", "denominator_unit", "denominator_source",
    "definition_zh", "note_zh", "confirmed", "missing_reason", "check_zh",
]


def consistency_check(ind: Indicator, value: float | None) -> str | None:
    """A warning when a share (every ``%`` indicator is a part over its whole) exceeds 100 %:
    the inputs disagree (e.g. supply records hold only industrial land while built-up land
    counts every use); the value is shown as computed, never capped."""
    if value is None or ind.unit != "%" or value <= 100 + 1e-9:
        return None
    return (f"{QUANTITIES[ind.numerator][0]}大于{QUANTITIES[ind.denominator][0]}(比率 {value:.1f}%):"
            "两项输入口径或完整性不一致(例如供地记录只含部分用途或年份),请核对后再使用")


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
                "missing_reason": reason, "check_zh": consistency_check(ind, value),
            })
    return pd.DataFrame(out, columns=DETAIL_COLUMNS)


def indicator_value(
    ind: Indicator, num: float | None, den: float | None, num_reason: str | None = None, den_reason: str | None = None
) -> tuple[float | None, str | None]:
    """``num / den × factor``, or ``None`` with the reason (a missing input or a zero denominator)."""
    if num is None:
        return None, f"{QUANTITIES[ind.numerator][0]}缺失:{num_reason or '无输入'}"
    if den is None:
        return None, f"{QUANTITIES[ind.denominator][0]}缺失:{den_reason or '无输入'}"
    if den <= 0:
        return None, f"本单元{QUANTITIES[ind.denominator][0]}为 0,无法计算"
    return num / den * ind.factor, None


# --------------------------------------------------------------------------- rows, type, scores
def _rows(raw: pd.DataFrame, names: pd.DataFrame, details: pd.DataFrame, year: int, level: str,
          buildings: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per unit; ``uses_synthetic_data`` when any land record or building it counts is
    synthetic (演示数据)."""
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
    synthetic_buildings = bool(buildings and buildings.get("is_synthetic"))
    base["uses_synthetic_data"] = (raw["land_synthetic"].astype(bool)
                                   | (synthetic_buildings & (raw["n_buildings"] > 0))).to_numpy()
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
    ``score_missing`` (indicators weighted but missing), ``partial_score``, ``weight_covered_pct``
    and ``rank`` (1 = most intensive).

    The 集约度 score (``intensity_score``) exists only when every weighted indicator is present:
    a mean over the indicators that happen to be present would rank a park with no tax figure
    above one that has a poor tax figure.  The mean over the present ones is kept apart as
    ``partial_score`` with the share of the weight it covers, and is never ranked.
    """
    out = rows.copy()
    types, reasons, subs, scores, missing, partial, covered = [], [], [], [], [], [], []
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
        mean = acc / total_w if total_w > 0 else None
        partial.append(mean)
        all_w = sum(float(spec["weight"]) for spec in table.values())
        covered.append(round(total_w / all_w * 100, 1) if all_w > 0 else None)
        scores.append(mean if table and not lost else None)
        missing.append(lost if table else ["zone type undetermined: no weights apply"])
    out["zone_type"], out["zone_type_reason"], out["sub_scores"] = types, reasons, subs
    out["intensity_score"], out["score_missing"] = scores, missing
    out["partial_score"], out["weight_covered_pct"] = partial, covered
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
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
