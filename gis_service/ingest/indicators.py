"""Importing yearly figures (指标) from a planning office's or park's CSV/XLSX file.

Two layouts are accepted (header names in Chinese or English, see :data:`FIELD_ALIASES`):

- wide: one row per park and year, one column per metric with its unit in the header,
  e.g. ``园区, 年份, 产值(亿元), 税收(万元), 面积(公顷), 注册企业数(家), 来源``;
- long: one row per figure, ``园区, 年份, 指标, 数值, 单位[, 来源, 备注]``.

A metric is named by its code or its Chinese name in the metric catalogue
(``data/layers/metrics.csv``), or by one of :data:`METRIC_ALIASES`.  Each value is converted
to the catalogue's unit for the metric (亿元/万元/元, km²/公顷/亩, 人/万人, 家...) with
:func:`gis_service.metrics.units.conversion_factor`; when it was converted, the value and unit
as given are recorded in the indicator's note (``原值 36000 万元``).

Everything is checked before anything is written; the write is one transaction (upserts
bump ``indicator.version``), with one audit row per inserted or changed indicator (before
and after) plus one ``import`` row summarising the file (none when nothing changed).  An empty cell is a figure that was
not published: it is skipped, never stored as 0.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gis_service import audit
from gis_service.errors import InputError
from gis_service.ingest.catalog import Metric, read_metric_catalogue
from gis_service.ingest.errors import (
    DuplicateIdError,
    ImplausibleValueError,
    NegativeValueError,
    UnitMismatchError,
    UnknownReferenceError,
    UnknownUnitError,
    YearOutOfRangeError,
)
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.loader import UPSERT_INDICATOR_SQL
from gis_service.ingest.plausibility import MAX_OUTPUT_DENSITY_YI_PER_KM2, MAY_BE_NEGATIVE, bounds_for
from gis_service.ingest.sources import SCOPE_TYPES, parse_bool, parse_int, parse_number
from gis_service.ingest.tables import Table, TableRow, normalise_header, read_table
from gis_service.metrics.units import conversion_factor, unit_kind

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
#: Cells that mean "not published" (skipped, never stored as 0), besides an empty cell.
MISSING_MARKERS = frozenset({"-", "—", "–", "/", "n/a", "na", "无数据", "未公布"})
#: Money metrics checked against an area of the same scope and year (density plausibility).
_OUTPUT_METRICS = ("output", "revenue", "output_above_scale")
_AREA_METRICS = ("jurisdiction_area", "published_area", "industrial_land_area", "land_area")
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\((?P<unit>[^()]*)\)$")
_FIELD_BY_NAME = {name.casefold(): key for key, names in FIELD_ALIASES.items() for name in names}


@dataclass(frozen=True)
class _Column:
    index: int
    field: str | None = None  # a FIELD_ALIASES key, or None for a metric column
    metric: Metric | None = None
    unit: str | None = None  # unit given in the header


@dataclass(frozen=True)
class IndicatorRecord:
    """One validated figure, in the catalogue's unit, ready to write."""

    where: str
    scope_type: str
    scope_code: str
    scope_id: int
    year: int
    metric_code: str
    value: Decimal
    unit: str
    is_projection: bool
    note: str | None
    source_document: str
    source_section: str | None
    original: str  # value and unit as given

    @property
    def key(self) -> tuple[str, int, int, str, bool]:
        return (self.scope_type, self.scope_id, self.year, self.metric_code, self.is_projection)


@dataclass
class IndicatorImportResult:
    """What an indicator import did (counts) and the figures it read."""

    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_empty: int = 0
    converted: int = 0
    records: list[IndicatorRecord] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "skipped_empty": self.skipped_empty, "converted": self.converted, "figures": len(self.records)}


def canonical_unit(metric: Metric) -> str:
    """The unit a metric is stored in: the catalogue's unit (the first of "人 or 万人")."""
    return metric.unit.split(" or ")[0].strip()


def import_indicators(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    source_document: str | None = None,
    source_section: str | None = None,
    limits: ImportLimits | None = None,
    metrics_file: Path | None = None,
    sheet: str | None = None,
    authorize: Callable[[list[IndicatorRecord]], None] | None = None,
) -> IndicatorImportResult:
    """Validate and upsert the figures of a CSV/XLSX file in one transaction.

    Parameters
    ----------
    engine
        Engine on a migrated database with the parks (and other scopes) loaded.
    path
        ``.csv`` (UTF-8 or GB18030) or ``.xlsx`` (first sheet, or ``sheet``).
    actor
        Who imports (recorded in the audit log).
    source_document, source_section
        Source of rows without a 来源 column value (every figure needs a source).
    limits
        Upload limits and plan period (default: :class:`ImportLimits` from the environment).
    metrics_file
        Metric catalogue (default: ``data/layers/metrics.csv``).
    authorize
        Called with the validated figures before anything is written (e.g. the API checks that a
        park manager submits only its own parks); whatever it raises aborts the import.

    Raises
    ------
    InputError
        The subclasses of :mod:`gis_service.ingest.errors` (non-numeric, negative or
        implausible value, unknown park/metric/unit, unit of the wrong kind, year outside
        the plan period, duplicate figure) or :class:`~gis_service.errors.PayloadTooLargeError`,
        naming the file, the line and the reason.  Nothing is written.
    """
    limits = limits or ImportLimits()
    path = Path(path)
    table = read_table(path, limits, sheet=sheet)
    catalogue = read_metric_catalogue(metrics_file)
    names = _metric_names(catalogue)
    columns = _analyse_header(table, names)
    result = IndicatorImportResult(file=path.name)
    try:
        with engine.begin() as conn:
            records = _records(conn, table, columns, names, result, limits=limits,
                               source_document=source_document, source_section=source_section)
            _check_densities(table.label, records)
            if authorize is not None:
                authorize(records)
            result.records = records
            for record in records:
                _write(conn, record, result, actor=actor)
            if result.changed:  # an import that changes nothing leaves no trace
                audit.record(conn, actor=actor, action="import", table_name="indicator", row_id=None, before=None,
                             after={**result.to_dict(), "source_document": source_document})
    except DBAPIError as exc:  # a constraint the validation did not foresee: no internals to the user
        reason = getattr(getattr(exc.orig, "diag", None), "message_primary", None) or str(exc.orig)
        raise InputError(f"{table.label}: rejected by the database: {reason}") from exc
    return result


# ----------------------------------------------------------------------------- header
def _metric_names(catalogue: dict[str, Metric]) -> dict[str, Metric]:
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


def _analyse_header(table: Table, names: dict[str, Metric]) -> list[_Column]:
    columns: list[_Column] = []
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


def _column(label: str, index: int, header: str, names: dict[str, Metric]) -> _Column:
    if header.casefold() in _FIELD_BY_NAME:
        return _Column(index, field=_FIELD_BY_NAME[header.casefold()])
    metric = names.get(header) or names.get(header.casefold())
    if metric is not None:
        return _Column(index, metric=metric)
    match = _HEADER_UNIT.match(header)
    if match:
        name, unit = match["name"], match["unit"]
        if unit_kind(unit) is None:
            raise UnknownUnitError(f"{label}: column {header!r}: unknown unit {unit!r}")
        if _FIELD_BY_NAME.get(name.casefold()) == "value":
            return _Column(index, field="value", unit=unit)
        metric = names.get(name) or names.get(name.casefold())
        if metric is not None:
            return _Column(index, metric=metric, unit=unit)
    raise UnknownReferenceError(
        f"{label}: column {header!r} is neither a field (园区, 年份, 指标, 数值, 单位, 来源, 备注...) "
        "nor a metric of the catalogue (metrics.csv)"
    )


# ----------------------------------------------------------------------------- rows
def _records(
    conn: Connection,
    table: Table,
    columns: list[_Column],
    names: dict[str, Metric],
    result: IndicatorImportResult,
    *,
    limits: ImportLimits,
    source_document: str | None,
    source_section: str | None,
) -> list[IndicatorRecord]:
    parks = _park_lookup(conn)
    by_field = {c.field: c for c in columns if c.field}
    records: list[IndicatorRecord] = []
    seen: dict[tuple[str, int, int, str, bool], str] = {}
    for row in table.rows:
        where = f"{table.label}: {row.where}"
        cell = _cells(row, by_field)
        scope_type, scope_code, scope_id = _scope(conn, cell, parks, where)
        year = parse_int(cell("year"), where=where, column="年份 year")
        if year is None:
            raise YearOutOfRangeError(f"{where}: 年份 (year) is empty")
        if not limits.plan_year_min <= year <= limits.plan_year_max:
            raise YearOutOfRangeError(
                f"{where}: year {year} is outside the plan period {limits.plan_year_min}-{limits.plan_year_max}"
            )
        projection = parse_bool(cell("is_projection"), where=where, column="is_projection")
        doc = cell("source_document") or source_document
        if doc is None:
            raise UnknownReferenceError(f"{where}: no source: fill the 来源 column or give source_document")
        section = cell("source_section") or (source_section if cell("source_document") is None else None)
        for metric, raw_value, unit, column_name in _figures(row, columns, by_field, names, where):
            if raw_value is None or raw_value.casefold() in MISSING_MARKERS:
                result.skipped_empty += 1
                continue
            spot = f"{where}: {column_name}"
            record = IndicatorRecord(
                where=where, scope_type=scope_type, scope_code=scope_code, scope_id=scope_id, year=year,
                metric_code=metric.code, is_projection=projection, source_document=doc, source_section=section,
                original=f"{raw_value} {unit}" if unit else raw_value,
                **checked_value(metric, raw_value, unit, cell("note"), spot),
            )
            if record.key in seen:
                raise DuplicateIdError(
                    f"{spot}: {scope_code} {year} {metric.code} is already given at {seen[record.key]}"
                )
            seen[record.key] = row.where
            if record.unit != unit:
                result.converted += 1
            records.append(record)
    return records


def _cells(row: TableRow, by_field: dict[str | None, _Column]):  # type: ignore[no-untyped-def]
    def cell(name: str) -> str | None:
        column = by_field.get(name)
        return None if column is None else row.cells[column.index]

    return cell


def _park_lookup(conn: Connection) -> dict[str, tuple[str, int]]:
    """Park code and name (both accepted) -> (code, id)."""
    lookup: dict[str, tuple[str, int]] = {}
    for park_id, code, name in conn.execute(text("SELECT id, code, name FROM park ORDER BY id")):
        lookup[code] = (code, park_id)
        lookup.setdefault(normalise_header(name), (code, park_id))
    return lookup


_SCOPE_SQL = {
    "district": "SELECT adcode, id FROM district WHERE adcode = :c OR name = :c",
    "town": "SELECT name, id FROM town WHERE name = :c",
    "zone": "SELECT code, id FROM zone WHERE code = :c OR name = :c",
}


def _scope(conn: Connection, cell, parks: dict[str, tuple[str, int]], where: str) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    scope_type = cell("scope_type") or "park"
    if scope_type not in SCOPE_TYPES:
        raise UnknownReferenceError(f"{where}: scope_type {scope_type!r} is not one of {', '.join(SCOPE_TYPES)}")
    code = cell("park") if scope_type == "park" and cell("park") else cell("scope_code")
    if code is None:
        raise UnknownReferenceError(f"{where}: 园区 (park) is empty")
    if scope_type == "park":
        found = parks.get(code) or parks.get(normalise_header(code))
        if found is None:
            known = ", ".join(sorted({c for c, _ in parks.values()})) or "none loaded"
            raise UnknownReferenceError(f"{where}: unknown park {code!r} (neither a park code nor a name; codes: {known})")
        return "park", found[0], found[1]
    row = conn.execute(text(_SCOPE_SQL[scope_type]), {"c": code}).first()
    if row is None:
        raise UnknownReferenceError(f"{where}: unknown {scope_type} {code!r}")
    return scope_type, str(row[0]), int(row[1])


def _figures(  # type: ignore[no-untyped-def]
    row: TableRow, columns: list[_Column], by_field: dict[str | None, _Column], names: dict[str, Metric], where: str
):
    """(metric, value text, unit, column name) for each figure of a row."""
    wide = [c for c in columns if c.metric is not None]
    if wide:
        for c in wide:
            yield c.metric, row.cells[c.index], c.unit, c.metric.code  # type: ignore[union-attr]
        return
    metric_text = row.cells[by_field["metric"].index]
    value_column = by_field["value"]
    value = row.cells[value_column.index]
    if metric_text is None:
        if value is None:
            return
        raise UnknownReferenceError(f"{where}: 指标 (metric) is empty")
    metric = names.get(normalise_header(metric_text)) or names.get(normalise_header(metric_text).casefold())
    if metric is None:
        raise UnknownReferenceError(f"{where}: metric {metric_text!r} is not in the metric catalogue (metrics.csv)")
    unit_column = by_field.get("unit")
    unit = (row.cells[unit_column.index] if unit_column is not None else None) or value_column.unit
    if unit is None and value is not None:
        raise UnitMismatchError(f"{where}: {metric.code}: no unit (fill the 单位 column, e.g. {canonical_unit(metric)})")
    yield metric, value, unit, metric.code


def checked_value(metric: Metric, raw: str, unit: str | None, note: str | None, spot: str) -> dict[str, Any]:
    """Value converted to the catalogue unit (``value``, ``unit``, ``note``); checks sign and bounds."""
    number = parse_number(raw, where=spot.rsplit(": ", 1)[0], column=spot.rsplit(": ", 1)[1])
    assert number is not None and unit is not None
    target = canonical_unit(metric)
    try:
        factor = conversion_factor(unit, target, where=spot)
    except UnitMismatchError as exc:
        raise UnitMismatchError(f"{spot}: unit {unit!r} does not match metric {metric.code} ({metric.name_zh}, {target})") from exc
    except UnknownUnitError as exc:
        raise UnknownUnitError(f"{spot}: unknown unit {unit!r} for metric {metric.code} ({target})") from exc
    value = Decimal(f"{number * factor:.12g}")  # 12 significant digits: no float residue (3.6, not 3.6000000000000005)
    if value < 0 and metric.code not in MAY_BE_NEGATIVE:
        raise NegativeValueError(f"{spot}: negative value {raw} {unit} ({metric.name_zh} cannot be negative)")
    bounds = bounds_for(metric.code, target)
    if not bounds.low <= value <= bounds.high:
        raise ImplausibleValueError(
            f"{spot}: implausible value {raw} {unit} = {value} {target}: {bounds.why} "
            f"(plausible {bounds.low:g}..{bounds.high:g} {target}, gis_service/ingest/plausibility.py)"
        )
    recorded = f"原值 {raw} {unit}" if unit != target else None
    merged = "; ".join(x for x in (note, recorded) if x) or None
    return {"value": value, "unit": target, "note": merged}


def _check_densities(label: str, records: list[IndicatorRecord]) -> None:
    """Refuse an output over an area of the same scope and year above the plausible density."""
    groups: dict[tuple[str, int, int, bool], dict[str, IndicatorRecord]] = defaultdict(dict)
    for r in records:
        groups[(r.scope_type, r.scope_id, r.year, r.is_projection)][r.metric_code] = r
    for figures in groups.values():
        for money_code in _OUTPUT_METRICS:
            money = figures.get(money_code)
            if money is None:
                continue
            for area_code in _AREA_METRICS:
                area = figures.get(area_code)
                if area is None:
                    continue
                area_km2 = float(area.value) * conversion_factor(area.unit, "km²")
                if area_km2 <= 0 or float(money.value) / area_km2 > MAX_OUTPUT_DENSITY_YI_PER_KM2:
                    density = "infinite" if area_km2 <= 0 else f"{float(money.value) / area_km2:,.0f}"
                    raise ImplausibleValueError(
                        f"{money.where}: {money.scope_code} {money.year}: {money_code} {money.value} 亿元 over "
                        f"{area_code} {area_km2:g} km² ({area.where}) is {density} 亿元/km², above the plausible "
                        f"{MAX_OUTPUT_DENSITY_YI_PER_KM2:g} 亿元/km² (a unit slip?)"
                    )


# ----------------------------------------------------------------------------- write
_KEY_SQL = """
    SELECT id, value, unit, note, source_document, source_section, version FROM indicator
    WHERE COALESCE(district_id, 0) = COALESCE(:district_id, 0) AND COALESCE(town_id, 0) = COALESCE(:town_id, 0)
      AND COALESCE(zone_id, 0) = COALESCE(:zone_id, 0) AND COALESCE(park_id, 0) = COALESCE(:park_id, 0)
      AND year = :year AND metric_code = :metric AND is_projection = :proj
    FOR UPDATE
"""


def _write(conn: Connection, record: IndicatorRecord, result: IndicatorImportResult, *, actor: str) -> None:
    ids = {f"{s}_id": (record.scope_id if s == record.scope_type else None) for s in SCOPE_TYPES}
    params = {**ids, "year": record.year, "metric": record.metric_code, "value": record.value, "unit": record.unit,
              "proj": record.is_projection, "note": record.note, "doc": record.source_document,
              "sec": record.source_section}
    before = conn.execute(text(_KEY_SQL), params).mappings().first()
    returned = conn.execute(text(UPSERT_INDICATOR_SQL), params).first()
    if returned is None:
        result.unchanged += 1
        return
    after = {"scope_type": record.scope_type, "scope_code": record.scope_code, "year": record.year,
             "metric_code": record.metric_code, "is_projection": record.is_projection, "value": record.value,
             "unit": record.unit, "note": record.note, "source_document": record.source_document,
             "source_section": record.source_section, "version": returned.version, "as_given": record.original,
             "line": record.where}
    if returned.inserted:
        result.inserted += 1
    else:
        result.updated += 1
    audit.record(conn, actor=actor, action="insert" if returned.inserted else "update", table_name="indicator",
                 row_id=returned.id, before=None if before is None else dict(before), after=after)
