"""The 集约利用 sheet of the park and district reports, laid out like the 监测统计 tables.

One block of rows per park: 指标类别, 指标, 单位, 现状值, then the numerator and the denominator
(name, value, unit), the sources and, for a missing value, why; closed by the zone type, the
集约度 score (example configuration, said so) and the rank.  The rows are those of
:func:`gis_service.answers.intensity.answer_intensity`: nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.intensity import IntensityAnswer, IntensityQuestion, answer_intensity

SHEET_NAME = "集约利用"
COLUMNS = ["园区", "指标类别", "指标", "单位", "现状值", "计算方法", "分子", "分子值", "分子单位", "分母", "分母值",
           "分母单位", "来源", "缺失原因", "核对提示", "合成数据"]


def intensity_sheet(engine: Engine, year: int, unit_ids: Collection[object] | None = None) -> pd.DataFrame:
    """The sheet for the parks ``unit_ids`` (all when ``None``) in ``year``."""
    return intensity_sheet_of(answer_intensity(engine, IntensityQuestion(year=year)), unit_ids)


def intensity_sheet_of(answer: IntensityAnswer, unit_ids: Collection[object] | None = None) -> pd.DataFrame:
    rows = answer.rows if unit_ids is None else answer.rows[answer.rows["unit_id"].isin(list(unit_ids))]
    details = answer.details.set_index(["unit_id", "indicator"])
    example = "(示例配置,非官方)" if answer.meta["scores"]["is_example"] else ""
    out: list[dict[str, object]] = []
    for r in rows.to_dict("records"):
        uid = int(r["unit_id"])
        for d in details.loc[uid].reset_index().to_dict("records"):
            sources = "; ".join(s for s in (d["numerator_source"], d["denominator_source"]) if isinstance(s, str) and s)
            out.append({"园区": r["unit_name"], "指标类别": d["family_zh"], "指标": d["label_zh"], "单位": d["unit"],
                        "现状值": d["value"], "计算方法": d["definition_zh"], "分子": d["numerator_label"],
                        "分子值": d["numerator_value"], "分子单位": d["numerator_unit"], "分母": d["denominator_label"],
                        "分母值": d["denominator_value"], "分母单位": d["denominator_unit"], "来源": sources,
                        "缺失原因": d["missing_reason"], "核对提示": d["check_zh"],
                        "合成数据": "是(演示数据,非真实)" if r["uses_synthetic_data"] else ""})
        for label, value, unit in (("开发区类型", r["zone_type"] or "未定", ""), (f"集约度{example}", r["intensity_score"], "分"),
                                   ("排名", r["rank"], ""),
                                   ("部分指标得分(缺指标,不排名)", None if r["intensity_score"] is not None else r["partial_score"],
                                    f"分(覆盖权重 {r['weight_covered_pct']}%)")):
            out.append({"园区": r["unit_name"], "指标类别": "评价", "指标": label, "单位": unit, "现状值": value,
                        "计算方法": r["zone_type_reason"] if label == "开发区类型" else answer.meta["scores"]["method"]})
    return pd.DataFrame(out, columns=COLUMNS)


def intensity_download_table(answer: IntensityAnswer) -> pd.DataFrame:
    """The answer's rows for the CSV/XLSX downloads (the keys of ``/metrics/intensity``)."""
    rows = answer.rows.copy()
    rows["sub_scores"] = rows["sub_scores"].map(lambda v: "; ".join(f"{k}={s:.1f}" for k, s in (v or {}).items()))
    rows["score_missing"] = rows["score_missing"].map(lambda v: ", ".join(v or []))
    return rows
