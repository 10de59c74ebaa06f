"""Writing rows by their natural key, and counting what a write did.

The layer writers (:mod:`~gis_service.ingest.geo_layers`, :mod:`~gis_service.ingest.csv_layers`)
and the indicator importer upsert each row by its natural key with
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <something changed>``: an unchanged row is not
touched and keeps its id.  :class:`LayerResult` counts the rows inserted, updated, left
unchanged and deleted; :func:`park_lookup` resolves a park's natural key (code or name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from gis_service.ingest.tables import normalise_header


@dataclass
class LayerResult:
    """What loading one layer file did."""

    layer: str
    file: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    #: rows of the file deliberately not written, each with why (e.g. a newer stored boundary version)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


def count_upsert(result: LayerResult, returned: Any) -> None:
    """Tally an ``INSERT ... ON CONFLICT DO UPDATE ... WHERE changed RETURNING inserted``."""
    row = returned.first()
    if row is None:
        result.unchanged += 1
    elif row.inserted:
        result.inserted += 1
    else:
        result.updated += 1


def delete_missing(conn: Connection, result: LayerResult, table: str, key: str, keep: list[Any]) -> None:
    """Delete the rows of ``table`` whose natural ``key`` is not in ``keep`` (``replace=True``).

    ``table`` and ``key`` are constants of the layer writers, never user input.
    """
    deleted = conn.execute(
        text(f"DELETE FROM {table} WHERE NOT ({key} = ANY(:keep))"), {"keep": keep}
    ).rowcount
    result.deleted += deleted


def park_lookup(conn: Connection) -> dict[str, tuple[str, int]]:
    """Park code and name (both accepted, the name compared normalised) -> (code, id)."""
    lookup: dict[str, tuple[str, int]] = {}
    for park_id, code, name in conn.execute(text("SELECT id, code, name FROM park ORDER BY id")):
        lookup[code] = (code, park_id)
        lookup.setdefault(normalise_header(name), (code, park_id))
    return lookup


#: Upsert of one indicator by its natural key (scope, year, metric, projection): an unchanged
#: row is not touched; a changed one gets ``version + 1`` (optimistic concurrency).
UPSERT_INDICATOR_SQL = """
            INSERT INTO indicator (district_id, town_id, zone_id, park_id, year, metric_code, value, unit,
                                   is_projection, note, source_document, source_section)
            VALUES (:district_id, :town_id, :zone_id, :park_id, :year, :metric, :value, :unit, :proj, :note, :doc, :sec)
            ON CONFLICT (COALESCE(district_id, 0), COALESCE(town_id, 0), COALESCE(zone_id, 0), COALESCE(park_id, 0),
                         year, metric_code, is_projection)
            DO UPDATE SET value = EXCLUDED.value, unit = EXCLUDED.unit, note = EXCLUDED.note,
                source_document = EXCLUDED.source_document, source_section = EXCLUDED.source_section,
                version = indicator.version + 1, updated_at = now()
            WHERE (indicator.value, indicator.unit, indicator.note, indicator.source_document, indicator.source_section)
                  IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.note, EXCLUDED.source_document,
                  EXCLUDED.source_section)
            RETURNING id, (xmax = 0) AS inserted, version
"""
