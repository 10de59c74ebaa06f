"""Reading the rows of an indicator table into validated figures (:class:`IndicatorRecord`).

Each row gives a scope (a park by code or name, or ``scope_type`` + ``scope_code``), a year
inside the plan period, a source, and one figure per metric column (wide layout) or one
figure (long layout).  An empty cell, or one of :data:`MISSING_MARKERS`, is a figure that was
not published: it is skipped, never stored as 0 (and noted in ``result.blanks``: an import with
``replace`` deletes the stored figure of such a cell).  A figure given twice is refused.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from gis_service.ingest.catalog import Metric
from gis_service.ingest.errors import DuplicateIdError, UnitMismatchError, UnknownReferenceError, YearOutOfRangeError
from gis_service.ingest.indicator_header import Column
from gis_service.ingest.indicator_records import BlankFigure, IndicatorImportResult, IndicatorRecord
from gis_service.ingest.indicator_values import canonical_unit, checked_value
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.sources import SCOPE_TYPES, parse_bool, parse_int
from gis_service.ingest.tables import Table, TableRow, normalise_header
from gis_service.ingest.upserts import park_lookup

#: Cells that mean "not published" (skipped, never stored as 0), besides an empty cell.
MISSING_MARKERS = frozenset({"-", "—", "–", "/", "n/a", "na", "无数据", "未公布"})


def read_records(
    conn: Connection,
    table: Table,
    columns: list[Column],
    names: dict[str, Metric],
    result: IndicatorImportResult,
    *,
    limits: ImportLimits,
    source_document: str | None,
    source_section: str | None,
) -> list[IndicatorRecord]:
    """The figures of ``table``, validated and converted; counts skipped and converted cells in ``result``."""
    parks = park_lookup(conn)
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
        # the file's section applies to rows that take the file's document
        section_given = "source_section" in by_field or (source_section is not None and cell("source_document") is None)
        section = cell("source_section") or (source_section if cell("source_document") is None else None)
        for metric, raw_value, unit, column_name in _figures(row, columns, by_field, names, where):
            if raw_value is None or raw_value.casefold() in MISSING_MARKERS:
                result.skipped_empty += 1
                result.blanks.append(BlankFigure(where=f"{where}: {column_name}", scope_type=scope_type,
                                                 scope_code=scope_code, scope_id=scope_id, year=year,
                                                 metric_code=metric.code, is_projection=projection))
                continue
            spot = f"{where}: {column_name}"
            record = IndicatorRecord(
                where=where, scope_type=scope_type, scope_code=scope_code, scope_id=scope_id, year=year,
                metric_code=metric.code, is_projection=projection, source_document=doc, source_section=section,
                original=f"{raw_value} {unit}" if unit else raw_value,
                note_given="note" in by_field, section_given=section_given,
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


def _cells(row: TableRow, by_field: dict[str | None, Column]):  # type: ignore[no-untyped-def]
    def cell(name: str) -> str | None:
        column = by_field.get(name)
        return None if column is None else row.cells[column.index]

    return cell


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
    row: TableRow, columns: list[Column], by_field: dict[str | None, Column], names: dict[str, Metric], where: str
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
