"""Recognising the layout and the columns of an indicator table (CSV/XLSX).

Two layouts (header names in Chinese or English, see :data:`FIELD_ALIASES`):

- wide: one row per park and year, one column per metric with its unit in the header,
  e.g. ``园区, 年份, 产值(亿元), 税收(万元), 面积(公顷), 注册企业数(家), 来源``;
- long: one row per figure, ``园区, 年份, 指标, 数值, 单位[, 来源, 备注]``.

A metric is named by its code or its Chinese name in the metric catalogue
(``data/layers/metrics.csv``), or by one of :data:`METRIC_ALIASES`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from gis_service.ingest.catalog import Metric
from gis_service.ingest.errors import UnitMismatchError, UnknownReferenceError, UnknownUnitError
from gis_service.ingest.indicator_values import canonical_unit
from gis_service.ingest.tables import Table, normalise_header
from gis_service.metrics.units import unit_kind

#: Recognised non-metric columns: field -> accepted header names (compared after NFKC, case-folded).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "park": ("park", "park_code", "park_name", "园区", "园区名称", "园区代码", "园区编码", "区块"),
    "scope_type": ("scope_type", "范围类型"),
    "scope_code": ("scope_code", "范围代码"),
    "year": ("year", "年份", "年度"),
    "metric": ("metric", "metric_code", "指标", "指标代码", "指标名称"),
    "value": ("value", "数值", "值"),
    "unit": ("unit", "单位"),
    "is_projection": ("is_projection", "预测", "是否预测"),
    "source_document": ("source_document", "来源", "来源文件", "资料来源"),
    "source_section": ("source_section", "来源章节", "章节"),
    "note": ("note", "备注"),
}
#: Header names for metrics besides the catalogue's code and Chinese name (short forms).
METRIC_ALIASES: dict[str, str] = {
    "面积": "jurisdiction_area",
    "园区面积": "jurisdiction_area",
    "工业总产值": "output",
    "员工": "employees",
    "员工数": "employees",
    "从业人员": "employees",
    "企业数": "enterprises",
}
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\((?P<unit>[^()]*)\)$")
_FIELD_BY_NAME = {name.casefold(): key for key, names in FIELD_ALIASES.items() for name in names}


@dataclass(frozen=True)
class Column:
    """One header column: a field (park, year, ...) or a metric, with the unit given in the header."""

    index: int
    field: str | None = None  # a FIELD_ALIASES key, or None for a metric column
    metric: Metric | None = None
    unit: str | None = None  # unit given in the header


def metric_names(catalogue: dict[str, Metric]) -> dict[str, Metric]:
    """Every name a metric may have in a header: code, Chinese name, its short form, an alias."""
    names: dict[str, Metric] = {}
    short: dict[str, list[Metric]] = defaultdict(list)
    for metric in catalogue.values():
        names[metric.code.casefold()] = metric
        names[normalise_header(metric.name_zh)] = metric
        match = _HEADER_UNIT.match(normalise_header(metric.name_zh))
        if match:
            short[match["name"]].append(metric)
    for name, metrics in short.items():
        if len(metrics) == 1:  # an ambiguous short name is no name
            names.setdefault(name, metrics[0])
    for alias, code in METRIC_ALIASES.items():
        if code in catalogue:
            names.setdefault(alias, catalogue[code])
    return names


def analyse_header(table: Table, names: dict[str, Metric]) -> list[Column]:
    """The columns of ``table``; refuses a header with no layout, both layouts, or a metric without unit."""
    columns: list[Column] = []
    for index, header in enumerate(table.header):
        columns.append(_column(table.label, index, header, names))
    fields = {c.field for c in columns if c.field}
    wide = [c for c in columns if c.metric is not None]
    long = {"metric", "value"} <= fields
    if wide and long:
        raise UnknownReferenceError(f"{table.label}: both metric columns and 指标/数值 columns; use one layout")
    if not wide and not long:
        raise UnknownReferenceError(
            f"{table.label}: no metric columns (e.g. 产值(亿元)) and no 指标 + 数值 columns; header is {', '.join(table.header)}"
        )
    if "year" not in fields:
        raise UnknownReferenceError(f"{table.label}: no 年份 (year) column")
    if "park" not in fields and not {"scope_type", "scope_code"} <= fields:
        raise UnknownReferenceError(f"{table.label}: no 园区 (park) column, nor scope_type + scope_code columns")
    for c in wide:
        if c.unit is None:
            raise UnitMismatchError(
                f"{table.label}: column {table.header[c.index]!r} gives no unit: write it as "
                f"{table.header[c.index]}({canonical_unit(c.metric)})"  # type: ignore[arg-type]
            )
    return columns


def _column(label: str, index: int, header: str, names: dict[str, Metric]) -> Column:
    if header.casefold() in _FIELD_BY_NAME:
        return Column(index, field=_FIELD_BY_NAME[header.casefold()])
    metric = names.get(header) or names.get(header.casefold())
    if metric is not None:
        return Column(index, metric=metric)
    match = _HEADER_UNIT.match(header)
    if match:
        name, unit = match["name"], match["unit"]
        if unit_kind(unit) is None:
            raise UnknownUnitError(f"{label}: column {header!r}: unknown unit {unit!r}")
        if _FIELD_BY_NAME.get(name.casefold()) == "value":
            return Column(index, field="value", unit=unit)
        metric = names.get(name) or names.get(name.casefold())
        if metric is not None:
            return Column(index, metric=metric, unit=unit)
    raise UnknownReferenceError(
        f"{label}: column {header!r} is neither a field (园区, 年份, 指标, 数值, 单位, 来源, 备注...) "
        "nor a metric of the catalogue (metrics.csv)"
    )
