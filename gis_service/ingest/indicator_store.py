"""Writing validated figures to ``indicator``, each change with its audit row.

A figure is upserted by its natural key (scope, year, metric, projection) with
:data:`~gis_service.ingest.upserts.UPSERT_INDICATOR_SQL`: an unchanged figure is not
touched; a changed one gets ``version + 1`` and an audit row with the row before and after.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from gis_service import audit
from gis_service.ingest.indicator_records import IndicatorImportResult, IndicatorRecord
from gis_service.ingest.sources import SCOPE_TYPES
from gis_service.ingest.upserts import UPSERT_INDICATOR_SQL

_KEY_SQL = """
    SELECT id, value, unit, note, source_document, source_section, version FROM indicator
    WHERE COALESCE(district_id, 0) = COALESCE(:district_id, 0) AND COALESCE(town_id, 0) = COALESCE(:town_id, 0)
      AND COALESCE(zone_id, 0) = COALESCE(:zone_id, 0) AND COALESCE(park_id, 0) = COALESCE(:park_id, 0)
      AND year = :year AND metric_code = :metric AND is_projection = :proj
    FOR UPDATE
"""


def write_record(conn: Connection, record: IndicatorRecord, result: IndicatorImportResult, *, actor: str) -> None:
    """Upsert one figure; count it in ``result`` and audit it when it was inserted or changed."""
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
