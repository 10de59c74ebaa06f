"""Writing validated figures to ``indicator``, each change with its audit row.

A figure is upserted by its natural key (scope, year, metric, projection) with
:data:`~gis_service.ingest.upserts.UPSERT_INDICATOR_SQL`: an unchanged figure is not
touched; a changed one gets ``version + 1`` and an audit row with the row before and after.
A note or source section the file does not give keeps the stored one (:func:`_provenance`).
Under ``replace``, a cell the file leaves empty deletes the stored figure (:func:`delete_blank`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

from gis_service import audit
from gis_service.ingest.indicator_records import BlankFigure, IndicatorImportResult, IndicatorRecord
from gis_service.ingest.indicator_values import join_notes, without_original
from gis_service.ingest.sources import SCOPE_TYPES
from gis_service.ingest.upserts import UPSERT_INDICATOR_SQL

_KEY_SQL = """
    SELECT id, value, unit, note, source_document, source_section, version FROM indicator
    WHERE COALESCE(district_id, 0) = COALESCE(:district_id, 0) AND COALESCE(town_id, 0) = COALESCE(:town_id, 0)
      AND COALESCE(zone_id, 0) = COALESCE(:zone_id, 0) AND COALESCE(park_id, 0) = COALESCE(:park_id, 0)
      AND year = :year AND metric_code = :metric AND is_projection = :proj
    FOR UPDATE
"""


def _provenance(record: IndicatorRecord, before: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """Note and section to store: the file's, or the stored ones where the file gives none.

    A note not given keeps the stored note (its "原值 …" part follows the value as given now);
    a section not given keeps the stored section while the source document stays the same.
    """
    note, section = record.note, record.source_section
    if before is not None and not record.note_given:
        note = join_notes(without_original(before["note"]), record.note)  # record.note: only "原值 …" here
    if before is not None and not record.section_given and before["source_document"] == record.source_document:
        section = before["source_section"]
    return note, section


def _params(record: IndicatorRecord | BlankFigure) -> dict[str, Any]:
    ids = {f"{s}_id": (record.scope_id if s == record.scope_type else None) for s in SCOPE_TYPES}
    return {**ids, "year": record.year, "metric": record.metric_code, "proj": record.is_projection}


def write_record(conn: Connection, record: IndicatorRecord, result: IndicatorImportResult, *, actor: str | None) -> None:
    """Upsert one figure; count it in ``result`` and audit it when it was inserted or changed.

    ``actor`` ``None`` writes no audit row: only the sample dataset's initial load (``load-sample``).
    """
    key = _params(record)
    before = conn.execute(text(_KEY_SQL), key).mappings().first()
    note, section = _provenance(record, before)
    params = {**key, "value": record.value, "unit": record.unit, "note": note, "doc": record.source_document,
              "sec": section}
    returned = conn.execute(text(UPSERT_INDICATOR_SQL), params).first()
    if returned is None:
        result.unchanged += 1
        return
    after = {"scope_type": record.scope_type, "scope_code": record.scope_code, "year": record.year,
             "metric_code": record.metric_code, "is_projection": record.is_projection, "value": record.value,
             "unit": record.unit, "note": note, "source_document": record.source_document,
             "source_section": section, "version": returned.version, "as_given": record.original,
             "line": record.where}
    if returned.inserted:
        result.inserted += 1
    else:
        result.updated += 1
    if actor is not None:
        audit.record(conn, actor=actor, action="insert" if returned.inserted else "update", table_name="indicator",
                     row_id=returned.id, before=None if before is None else dict(before), after=after)


def delete_blank(conn: Connection, blank: BlankFigure, result: IndicatorImportResult, *, actor: str | None) -> None:
    """Delete the stored figure of a cell the file leaves empty (``replace``); audit it."""
    before = conn.execute(text(_KEY_SQL), _params(blank)).mappings().first()
    if before is None:
        return
    conn.execute(text("DELETE FROM indicator WHERE id = :id"), {"id": before["id"]})
    result.deleted += 1
    if actor is not None:
        audit.record(conn, actor=actor, action="delete", table_name="indicator", row_id=before["id"],
                     before={**dict(before), "scope_type": blank.scope_type, "scope_code": blank.scope_code,
                             "year": blank.year, "metric_code": blank.metric_code,
                             "is_projection": blank.is_projection, "line": blank.where},
                     after=None)
