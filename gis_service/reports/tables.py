"""The tables of a briefing report: targets, values, gaps, classes, sources (Chinese headers).

Everything is computed by the shared loaders and the metrics engine (the same functions
the maps and the API call); this module only selects rows, renames columns into Chinese
and records where each figure comes from.  A figure that is missing stays empty with the
reason, and a density on a basis other than the target's own is labelled as not
comparable (口径不同).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.maps.figures import latest_year, level_density, level_units, resolve_target
from gis_service.metrics.bases import ALL_BASES, BASIS_LABELS_ZH, MEASURED_AREA, PUBLISHED_AREA
from gis_service.metrics.density import NUMERATORS
from gis_service.metrics.classify import ScoreIndicator, mu_jun_classes, mu_jun_frame
from gis_service.metrics.targets import NO_DATA, TargetSpec, against_target
from gis_service.store.parks import find_park
from gis_service.store.readers import read_indicators, read_sizhi, read_targets

#: numerators shown in the values table (metric code -> Chinese header with unit).
#: Employees are left out: the whole park's figure is published in 万人, a unit the
#: metrics engine does not convert yet (it raises rather than guess).
VALUE_NUMERATORS: dict[str, str] = {
    "output": "产值(亿元)",
    "tax": "税收(亿元)",
    "enterprises": "注册企业(家)",
}
#: the weighting of the report's 亩均 classification: (numerator, weight, Chinese label)
CLASS_WEIGHTING: tuple[tuple[str, float, str], ...] = (("output", 0.6, "亩均产值"), ("tax", 0.4, "亩均税收"))
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
    units = level_units(engine, "park", year)
    density = level_density(engine, units, level="park", year=year, numerators=list(VALUE_NUMERATORS))
    gaps = against_target_on_every_basis(density, target)
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
        "分类": _classes_table(density, units, highlight=None if chosen is None else chosen["unit_id"]),
        "来源": _sources_table(engine, density[density["unit_id"].isin(keep)], target, year),
    }
    name = "松江区" if chosen is None else str(chosen["unit_name"])
    notes = [APPROXIMATE_NOTE_ZH]
    if map_basis != target.basis:
        notes.append(
            f"地图按{BASIS_LABELS_ZH[map_basis]}计算达标率,与目标口径({BASIS_LABELS_ZH[target.basis]})不同,仅供参考。"
        )
    return ReportData(
        title=f"{name}产业园区地均产值简报",
        scope="district" if chosen is None else str(chosen["code"]),
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
def against_target_on_every_basis(density: pd.DataFrame, target: TargetSpec) -> pd.DataFrame:
    """:func:`~gis_service.metrics.against_target` repeated on every basis of ``density``.

    The target's own basis is always included (with 无数据 rows when it has no area, e.g.
    no parcels); other bases only when some unit has an area on them.  ``comparable`` is
    True on the target's own basis only: elsewhere the comparison is indicative.
    """
    frames = []
    for basis in ALL_BASES:
        rows = density[(density["basis"] == basis) & (density["numerator"] == target.metric)]
        if basis != target.basis and rows["area_km2"].notna().sum() == 0:
            continue
        compared = against_target(density, dataclasses.replace(target, basis=basis))
        compared["comparable"] = basis == target.basis
        frames.append(compared)
    return pd.concat(frames, ignore_index=True)


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
    meta = units.set_index("unit_id")[["unit_name", "code", "kind", "geometry_quality"]]
    table = meta.join(values).join(areas).loc[lambda f: f.index.isin(density["unit_id"])]
    table["kind"] = table["kind"].map({"park": "园区", "block": "区块"}).fillna(table["kind"])
    table["geometry_quality"] = table["geometry_quality"].map(_quality_zh)
    table = table.rename(columns={"unit_name": "园区", "code": "代码", "kind": "类型", "geometry_quality": "边界"})
    return table.reset_index(drop=True)


def _gap_table(gaps: pd.DataFrame, target: TargetSpec) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "园区": gaps["unit_name"],
            "口径": gaps["basis"].map(BASIS_LABELS_ZH),
            "与目标口径一致": gaps["comparable"].map({True: "是", False: "否(仅供参考)"}),
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


def class_indicators(density: pd.DataFrame, *, basis: str = PUBLISHED_AREA) -> tuple[pd.DataFrame, list[ScoreIndicator]]:
    """The wide 亩均 frame of the park blocks and the report's scored indicators.

    Benchmarks are the mean of the blocks' own 亩均 figures in the year (so a score of 1
    is an average block); weights are :data:`CLASS_WEIGHTING`.
    """
    numerators = [code for code, _, _ in CLASS_WEIGHTING]
    wide = mu_jun_frame(density, basis=basis, numerators=numerators)
    indicators = []
    for code, weight, label in CLASS_WEIGHTING:
        column = f"mu_jun_{code}_wan_per_mu"
        mean = pd.to_numeric(wide[column], errors="coerce").mean()
        if pd.notna(mean) and mean > 0:
            indicators.append(ScoreIndicator(column, weight, float(mean), label, "万元/亩"))
    return wide, indicators


def _classes_table(density: pd.DataFrame, units: gpd.GeoDataFrame, *, highlight: object | None) -> pd.DataFrame:
    blocks = units[units["kind"] == "block"]["unit_id"] if (units["kind"] == "block").any() else units["unit_id"]
    wide, indicators = class_indicators(density[density["unit_id"].isin(blocks)])
    names = units.set_index("unit_id")["unit_name"]
    if not indicators:
        return pd.DataFrame({"园区": names.loc[blocks].to_numpy(), "等级": NO_DATA})
    classes = mu_jun_classes(wide, indicators).merge(wide, on="unit_id")
    table = pd.DataFrame({"园区": classes["unit_id"].map(names)})
    for ind in indicators:
        table[f"{ind.label_zh}(万元/亩,管辖面积)"] = classes[ind.column]
        table[f"{ind.label_zh}权重"] = ind.weight
    table["得分"] = classes["score"]
    table["排名"] = classes["rank"]
    table["等级"] = classes["class"]
    labels = {ind.column: ind.label_zh for ind in indicators}
    table["缺项"] = classes["indicators_missing"].map(
        lambda text: "、".join(labels.get(c.strip(), c.strip()) for c in str(text).split(",") if c.strip())
    )
    table["本报告园区"] = classes["unit_id"].eq(highlight) if highlight is not None else False
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
