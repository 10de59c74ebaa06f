"""The tables of a briefing report: targets, values, gaps, classes, sources (Chinese headers).

Everything is computed by the shared loaders and the metrics engine (the same functions
the maps and the API call); this module only selects rows, renames columns into Chinese
and records where each figure comes from.  A figure that is missing stays empty with the
reason, and a density on a basis other than the target's own is labelled as not
comparable (口径不同).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers import DensityQuestion, answer_classes, answer_density, latest_year, resolve_target
from gis_service.answers.classes import ClassesAnswer
from gis_service.answers.inputs import units_from_parks
from gis_service.metrics.bases import ALL_BASES, BASIS_LABELS_ZH, MEASURED_AREA, PUBLISHED_AREA
from gis_service.metrics.density import NUMERATORS
from gis_service.metrics.targets import NO_DATA, TargetSpec, basis_relation_zh
from gis_service.reports.intensity_sheet import SHEET_NAME as INTENSITY_SHEET
from gis_service.reports.intensity_sheet import intensity_sheet
from gis_service.store.parks import find_park
from gis_service.store.readers import read_indicators, read_parks, read_sizhi, read_targets

#: numerators shown in the values table (metric code -> Chinese header with unit).
#: Employees are left out: the whole park's figure is published in 万人, a unit the
#: metrics engine does not convert yet (it raises rather than guess).
VALUE_NUMERATORS: dict[str, str] = {
    "output": "产值(亿元)",
    "tax": "税收(亿元)",
    "enterprises": "注册企业(家)",
}
APPROXIMATE_NOTE_ZH = (
    "注:园区边界据四至文字与近似道路中心线推算,为近似几何,非测绘成果;量算面积仅供参考。"
    "目标(80亿元/平方公里)按已供应工业用地计,样例数据无地块,按管辖面积或量算面积计算的地均产值口径不同,仅供参考。"
)


@dataclass
class ReportData:
    """What a report shows: its scope, year, target, the park frame for the map and the tables.

    ``tables`` maps sheet names (Chinese, ≤ 31 characters) to frames with Chinese headers.
    ``parks`` is a GeoDataFrame (EPSG:4326) of the parks shown, with ``attainment_pct`` and
    ``status`` on ``map_basis``.
    """

    title: str
    scope: str  # "district" or the park's code
    year: int
    generated: dt.date
    target: TargetSpec
    map_basis: str
    parks: gpd.GeoDataFrame
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    sizhi_text: str | None = None  # the park's 四至 as published (park reports)

    @property
    def comparable(self) -> bool:
        """True when the map's basis is the target's own basis (like-for-like comparison)."""
        return self.map_basis == self.target.basis


def build_report_data(
    engine: Engine,
    *,
    park: int | str | None = None,
    year: int | None = None,
    basis: str | None = None,
    today: dt.date | None = None,
) -> ReportData:
    """Compute the report of the whole district (``park=None``) or of one park.

    Every figure is an answer of :func:`gis_service.answers.answer_density` (one per basis and
    numerator shown) or :func:`~gis_service.answers.answer_classes`: the report shows the
    rows the API and the CLI give for the same questions.

    Parameters
    ----------
    park
        Park id, code (``sj_lingang``) or name; ``None`` for the district report.
    year
        Data year; ``None`` takes the latest year with park output figures.
    basis
        Basis of the map's colours.  ``None``: the target's basis when any park has an
        area on it, else 管辖面积 (published area), else the measured boundary area.
    today
        Date printed on the report (default: today).
    """
    year = year if year is not None else latest_year(engine)
    target = resolve_target(engine, None)
    units = units_from_parks(read_parks(engine, year=year))
    gaps = against_target_on_every_basis(engine, year=year, target=target)
    density = pd.concat([gaps, *_value_rows(engine, year, target)], ignore_index=True)
    map_basis = basis or _default_map_basis(gaps, target)
    chosen = None if park is None else find_park(units, park)
    keep = units["unit_id"] if chosen is None else pd.Series([chosen["unit_id"]])
    shown = units[units["unit_id"].isin(keep)]
    on_map = gaps[gaps["basis"] == map_basis].set_index("unit_id")
    parks = shown.assign(
        attainment_pct=shown["unit_id"].map(on_map["attainment_pct"]),
        density_yi_per_km2=shown["unit_id"].map(on_map["density_yi_per_km2"]),
        status=shown["unit_id"].map(on_map["status"]).fillna(NO_DATA),
    )
    tables = {
        "目标": _targets_table(engine, target, district=chosen is None),
        "数值": _values_table(density[density["unit_id"].isin(keep)], units),
        "差距": _gap_table(gaps[gaps["unit_id"].isin(keep)], target),
        "分类": _classes_table(answer_classes(engine, year=year), highlight=None if chosen is None else chosen["unit_id"]),
        "来源": _sources_table(engine, density[density["unit_id"].isin(keep)], target, year),
        INTENSITY_SHEET: intensity_sheet(engine, year, set(keep)),
    }
    name = "松江区" if chosen is None else str(chosen["unit_name"])
    notes = [APPROXIMATE_NOTE_ZH]
    if map_basis != target.basis:
        notes.append(
            f"地图按{BASIS_LABELS_ZH[map_basis]}计算达标率,与目标口径({BASIS_LABELS_ZH[target.basis]})不同,"
            f"{basis_relation_zh(map_basis, target.basis)},仅供参考。"
        )
    return ReportData(
        title=f"{name}产业园区地均产值简报",
        scope="district" if chosen is None else str(chosen["unit_code"]),
        year=year,
        generated=today or dt.date.today(),
        target=target,
        map_basis=map_basis,
        parks=parks,
        tables=tables,
        notes=notes,
        sizhi_text=None if chosen is None else _sizhi_text(engine, chosen["unit_id"]),
    )


# ----------------------------------------------------------------------------- pieces
def against_target_on_every_basis(engine: Engine, *, year: int, target: TargetSpec) -> pd.DataFrame:
    """The park answers of the target's numerator on every basis, stacked.

    The target's own basis is always included (with 无数据 rows when it has no area, e.g.
    no parcels); other bases only when some park has an area on them.
    ``comparable_with_target`` is True on the target's own basis only.
    """
    frames = []
    for basis in ALL_BASES:
        rows = answer_density(engine, DensityQuestion(year=year, numerator=target.metric, basis=basis, target=target.code)).rows
        if basis == target.basis or rows["area_km2"].notna().any():
            frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def _value_rows(engine: Engine, year: int, target: TargetSpec) -> list[pd.DataFrame]:
    """The answers that carry the other numerators of the values table (on the target's basis)."""
    return [
        answer_density(engine, DensityQuestion(year=year, numerator=code, basis=target.basis, target=target.code)).rows
        for code in VALUE_NUMERATORS
        if code != target.metric
    ]


def _default_map_basis(gaps: pd.DataFrame, target: TargetSpec) -> str:
    for basis in (target.basis, PUBLISHED_AREA, MEASURED_AREA):
        rows = gaps[gaps["basis"] == basis]
        if rows["density_yi_per_km2"].notna().any():
            return basis
    return target.basis


def _targets_table(engine: Engine, target: TargetSpec, *, district: bool) -> pd.DataFrame:
    targets = read_targets(engine)
    if not district:  # a park report shows the density targets and baselines only
        targets = targets[targets["unit"].astype(str).str.contains("/km²", regex=False)]
    if targets.empty:
        targets = pd.DataFrame(
            [{"code": target.code, "name": target.name, "value": target.value, "value_text": None, "unit": target.unit,
              "year": target.year, "basis": target.basis, "nature": target.nature, "source_document": target.source,
              "source_section": ""}]
        )
    return pd.DataFrame(
        {
            "编号": targets["code"],
            "指标": targets["name"],
            "目标值": targets["value"],
            "目标(文字)": targets["value_text"],
            "单位": targets["unit"],
            "年份": targets["year"],
            "口径": targets["basis"].map(lambda b: BASIS_LABELS_ZH.get(b, b) if isinstance(b, str) else None),
            "性质": targets["nature"],
            "本报告采用": _is_target(targets, target),
            "来源文件": targets["source_document"],
            "章节": targets["source_section"],
        }
    ).reset_index(drop=True)


def _values_table(density: pd.DataFrame, units: gpd.GeoDataFrame) -> pd.DataFrame:
    first = density.drop_duplicates(["unit_id", "numerator"]).copy()
    first["value"] = first["value_yi_yuan"].where(first["value_yi_yuan"].notna(), first["value_count"])
    values = first.pivot(index="unit_id", columns="numerator", values="value").reindex(columns=list(VALUE_NUMERATORS))
    values.columns = [VALUE_NUMERATORS[c] for c in values.columns]
    areas = density.drop_duplicates(["unit_id", "basis"]).pivot(index="unit_id", columns="basis", values="area_km2")
    areas = areas.reindex(columns=[b for b in ALL_BASES if b in areas.columns and areas[b].notna().any()])
    areas.columns = [f"{BASIS_LABELS_ZH[b]}(km²)" for b in areas.columns]
    meta = units.set_index("unit_id")[["unit_name", "unit_code", "kind", "geometry_quality"]]
    table = meta.join(values).join(areas).loc[lambda f: f.index.isin(density["unit_id"])]
    table["kind"] = table["kind"].map({"park": "园区", "block": "区块"}).fillna(table["kind"])
    table["geometry_quality"] = table["geometry_quality"].map(_quality_zh)
    table = table.rename(columns={"unit_name": "园区", "unit_code": "代码", "kind": "类型", "geometry_quality": "边界"})
    return table.reset_index(drop=True)


def _gap_table(gaps: pd.DataFrame, target: TargetSpec) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "园区": gaps["unit_name"],
            "口径": gaps["basis"].map(BASIS_LABELS_ZH),
            "与目标口径一致": gaps["comparable_with_target"].map({True: "是", False: "否(仅供参考)"}),
            "产值(亿元)": gaps["value_yi_yuan"],
            "面积(km²)": gaps["area_km2"],
            "地均产值(亿元/km²)": gaps["density_yi_per_km2"],
            f"目标({target.year}年,亿元/km²)": gaps["target_yi_per_km2"],
            "达标率(%)": gaps["attainment_pct"],
            "差距(亿元/km²)": gaps["gap_yi_per_km2"],
            "需增产值(亿元)": gaps["extra_output_yi_yuan"],
            "或需减少用地(km²)": gaps["land_to_release_km2"],
            "所需年均增速(%)": gaps["cagr_needed_pct"],
            "状态": gaps["status"],
            "合成数据": gaps["uses_synthetic_data"].map({True: "是(合成数据)", False: ""}),
            "缺失原因": gaps["missing_reason"].map(missing_reason_zh),
        }
    ).reset_index(drop=True)


def _classes_table(answer: ClassesAnswer, *, highlight: object | None) -> pd.DataFrame:
    rows = answer.rows
    basis = BASIS_LABELS_ZH[answer.scheme.basis]
    table = pd.DataFrame({"园区": rows["unit_name"]})
    for ind in answer.scheme.indicators:
        table[f"{ind.label_zh}(万元/亩,{basis})"] = rows[ind.column]
        table[f"{ind.label_zh}权重"] = ind.weight
    table["得分"] = rows["score"]
    table["排名"] = rows["rank"]
    table["等级"] = rows["class"]
    labels = {ind.column: ind.label_zh for ind in answer.scheme.indicators}
    table["缺项"] = rows["indicators_missing"].map(
        lambda text: "、".join(labels.get(c.strip(), c.strip()) for c in str(text).split(",") if c.strip())
    )
    table["本报告园区"] = rows["unit_id"].eq(highlight) if highlight is not None else False
    return table.sort_values(["排名", "园区"], na_position="last").reset_index(drop=True)


def _sources_table(engine: Engine, density: pd.DataFrame, target: TargetSpec, year: int) -> pd.DataFrame:
    unit_ids = set(density["unit_id"])
    indicators = read_indicators(engine, year=year)
    used = indicators[
        indicators["park_id"].isin(unit_ids)
        & indicators["metric_code"].isin([*VALUE_NUMERATORS, "jurisdiction_area", "published_area"])
        & ~indicators["is_projection"].astype(bool)
    ]
    rows = [
        {
            "项目": f"{r.scope_name} {_metric_zh(str(r.metric_code))}",
            "数值": r.value,
            "单位": r.unit,
            "来源文件": r.source_document,
            "章节": r.source_section,
            "备注": r.note,
        }
        for r in used.itertuples()
    ]
    rows.append({"项目": f"目标 {target.name}", "数值": target.value, "单位": target.unit, "来源文件": target.source,
                 "章节": "", "备注": f"{target.nature or ''} {target.year}年"})
    measured = density[(density["basis"] == MEASURED_AREA)].drop_duplicates("unit_id")
    for r in measured.itertuples():
        rows.append({"项目": f"{r.unit_name} 边界量算面积", "数值": r.area_km2, "单位": "km²", "来源文件": r.basis_source,
                     "章节": "", "备注": "近似边界,EPSG:4549 量算" if r.is_approximate else "EPSG:4549 量算"})
    return pd.DataFrame(rows, columns=["项目", "数值", "单位", "来源文件", "章节", "备注"])


def _sizhi_text(engine: Engine, park_id: object) -> str | None:
    sizhi = read_sizhi(engine)
    rows = sizhi[sizhi["park_id"] == park_id]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return f"{row['raw_text']}({row['source_document']} {row['source_section']})"


def missing_reason_zh(reason: object) -> object:
    """Chinese wording of the engine's ``missing_reason`` (``no output figure`` -> 无产值数据)."""
    if not isinstance(reason, str) or not reason:
        return None
    text = reason
    for code, numerator in sorted(NUMERATORS.items(), key=lambda item: -len(item[0])):
        text = text.replace(f"no {code} figure", f"无{numerator.label_zh}数据")
    # longest names first: "industrial_land" is part of "supplied_industrial_land"
    for basis, label in sorted(BASIS_LABELS_ZH.items(), key=lambda item: -len(item[0])):
        text = text.replace(f"no {basis} area", f"无{label}面积").replace(f"{basis} area is 0", f"{label}面积为0")
    return text.replace(" and ", "、")


def _metric_zh(code: str) -> str:
    if code in NUMERATORS:
        return NUMERATORS[code].label_zh
    return {"jurisdiction_area": "管辖面积", "published_area": "公布面积"}.get(code, code)


def _is_target(targets: pd.DataFrame, target: TargetSpec) -> pd.Series:
    """Rows of the target table that are the report's target (same code, or same value/basis/year)."""
    same_code = targets["code"] == target.code
    same_figure = (
        (targets["basis"] == target.basis) & (targets["value"] == target.value) & (targets["year"] == target.year)
    )
    return same_code | same_figure


def _quality_zh(quality: object) -> str:
    return {"surveyed": "测绘", "approximate": "近似(非测绘)", "synthetic": "合成数据"}.get(str(quality), "无边界")
