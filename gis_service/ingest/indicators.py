"""Importing yearly figures (指标) from a planning office's or park's CSV/XLSX file.

Wide (one column per metric, unit in the header) and long (指标, 数值, 单位) tables are
accepted.  Each value is converted to the catalogue's unit for its metric; when it was
converted, the value and unit as given are recorded in the indicator's note
(``原值 36000 万元``).  An empty cell is a figure that was not published: it is skipped,
never stored as 0.

The steps, one module each: the header and layout
(:mod:`~gis_service.ingest.indicator_header`), the rows
(:mod:`~gis_service.ingest.indicator_rows`), the values, their units and plausibility
(:mod:`~gis_service.ingest.indicator_values`), the write and its audit rows
(:mod:`~gis_service.ingest.indicator_store`); :func:`import_indicators` runs them.

Everything is checked before anything is written; the write is one transaction (upserts
bump ``indicator.version``), with one audit row per inserted or changed indicator (before
and after) plus one ``import`` row summarising the file (none when nothing changed).
:func:`write_indicator_file` is the one write path of figures from a file, whatever the route
(indicator import, layer import, sample load).  A 备注 or 来源章节 column that the file lacks
means "not given": the stored note and section are kept; an empty cell in a present column
clears them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine

from gis_service import audit
from gis_service.ingest.database_errors import database_errors
from gis_service.ingest.catalog import read_metric_catalogue
from gis_service.ingest.indicator_header import analyse_header, metric_names
from gis_service.ingest.indicator_records import IndicatorImportResult, IndicatorRecord
from gis_service.ingest.indicator_rows import read_records
from gis_service.ingest.indicator_store import delete_blank, write_record
from gis_service.ingest.indicator_values import check_densities, figure_of
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.tables import read_table


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
    DatabaseUnavailableError
        The database became unavailable during the import (HTTP 503): nothing to fix in the
        file, retry later.
    """
    path = Path(path)
    # What the database refuses that the validation did not foresee: named by file and line,
    # without internals; an outage is DatabaseUnavailableError (see ingest.database_errors).
    with database_errors(path.name), engine.begin() as conn:
        result = write_indicator_file(conn, path, actor=actor, source_document=source_document,
                                      source_section=source_section, limits=limits, metrics_file=metrics_file,
                                      sheet=sheet, authorize=authorize)
        if result.changed:  # an import that changes nothing leaves no trace
            audit.record(conn, actor=actor, action="import", table_name="indicator", row_id=None, before=None,
                         after={**result.to_dict(), "source_document": source_document})
    return result


def write_indicator_file(
    conn: Connection,
    path: Path,
    *,
    actor: str | None,
    source_document: str | None = None,
    source_section: str | None = None,
    limits: ImportLimits | None = None,
    metrics_file: Path | None = None,
    sheet: str | None = None,
    authorize: Callable[[list[IndicatorRecord]], None] | None = None,
    replace: bool = False,
) -> IndicatorImportResult:
    """The one write path of figures from a file, in the caller's transaction.

    Every route that writes figures from a file comes here: ``/imports/indicators`` and
    ``import indicators`` (:func:`import_indicators`), ``/imports/layers/indicators`` and
    ``import layer indicators`` (:func:`~gis_service.ingest.boundaries.import_layer`) and the
    sample dataset (:func:`~gis_service.ingest.loader.load_sample`).  Each figure is validated,
    converted and density-checked (with the stored figures of its scope and year) before
    anything is written, then upserted with one audit row per change (none when ``actor`` is
    ``None``: only the sample dataset's initial load).  No summary ``import`` row: the caller's.

    ``replace`` makes the file authoritative for every cell it names, and only those: a cell
    left empty (or marked not published) deletes the stored figure of that scope, year,
    metric and projection; figures the file does not name are never touched.
    """
    limits = limits or ImportLimits()
    table = read_table(path, limits, sheet=sheet)
    names = metric_names(read_metric_catalogue(metrics_file))
    columns = analyse_header(table, names)
    result = IndicatorImportResult(file=path.name)
    with database_errors(table.label):
        records = read_records(conn, table, columns, names, result, limits=limits,
                               source_document=source_document, source_section=source_section)
        check_densities(conn, [figure_of(r) for r in records])
        if authorize is not None:
            authorize(records)
        result.records = records
        for record in records:
            with database_errors(record.where):
                write_record(conn, record, result, actor=actor)
        if replace:
            given = {r.key for r in records}
            for blank in result.blanks:
                if blank.key not in given:
                    with database_errors(blank.where):
                        delete_blank(conn, blank, result, actor=actor)
    return result
