"""Idle-land identifications (闲置土地调查认定) carried out: ``gis-service import idle-review`` and
``POST /land/idle-reviews`` write through :func:`record_idle_review`, ``gis-service import
idle-reviews`` and ``GET /land/idle-reviews`` read through :func:`idle_reviews`.

A finding of idle land is a flag on a supply record (:func:`gis_service.ingest.buildings.set_idle_status`);
a review that found nothing idle leaves no flag, so the review itself is recorded: a year, a scope
(a park, its blocks included, or the whole district 全区) and its source (table ``idle_land_review``,
migration 0008).  The land-intensity answer computes 土地闲置率 and 闲置土地处置率 for a unit only
where an identification covers it (:func:`gis_service.store.idle_coverage.idle_coverage`); otherwise they are missing, never 0.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, text

from gis_service import audit
from gis_service.errors import InputError

#: the years a review may be recorded for (as the idle findings, ``PUT /land/supply/{no}/idle``)
MIN_YEAR, MAX_YEAR = 1990, 2100
#: the longest source text stored (as every other source of the write routes)
MAX_SOURCE_LENGTH = 500
DISTRICT_ZH = "全区"


def _checked(year: int, source_document: str, source_section: str | None) -> tuple[int, str, str | None]:
    """The year, source and section as stored, or an InputError naming the field."""
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"year: {year!r} is not a plausible year of a 闲置土地调查认定 ({MIN_YEAR}–{MAX_YEAR})")
    source = (source_document or "").strip()
    if not source:
        raise InputError("source_document: the source document of the 闲置土地调查认定 is required (it is blank)")
    section = (source_section or "").strip() or None
    for name, value in (("source_document", source), ("source_section", section)):
        if value is not None and len(value) > MAX_SOURCE_LENGTH:
            raise InputError(f"{name}: {len(value)} characters; at most {MAX_SOURCE_LENGTH}")
    return year, source, section


def _park(conn: Connection, park_code: str | None) -> tuple[int | None, str]:
    """The park's id and name (``None, 全区`` for the whole district); an unknown code is refused by name."""
    if park_code is None:
        return None, DISTRICT_ZH
    row = conn.execute(text("SELECT id, name FROM park WHERE code = :code"), {"code": park_code}).first()
    if row is None:
        raise InputError(f"park: unknown park code {park_code!r}")
    return int(row.id), str(row.name)


_UPSERT_SQL = text(
    "INSERT INTO idle_land_review (year, park_id, source_document, source_section, recorded_by)"
    " VALUES (:year, :park, :source, :section, :actor)"
    " ON CONFLICT (year, park_id) DO UPDATE SET source_document = EXCLUDED.source_document,"
    " source_section = EXCLUDED.source_section, recorded_by = EXCLUDED.recorded_by, recorded_at = now()"
    " RETURNING id"
)


def record_idle_review(
    engine: Engine, *, year: int, park_code: str | None, source_document: str, source_section: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Record that a 闲置土地调查认定 was carried out for ``year`` over the park ``park_code``
    (its blocks included) or, with ``None``, the whole district; recording the same year and
    scope again replaces its source.  One transaction, audited; returns the stored review."""
    year, source, section = _checked(year, source_document, source_section)
    with engine.begin() as conn:
        park_id, _ = _park(conn, park_code)
        before = conn.execute(
            text("SELECT id, source_document, source_section, recorded_by FROM idle_land_review"
                 " WHERE year = :year AND park_id IS NOT DISTINCT FROM :park FOR UPDATE"),
            {"year": year, "park": park_id},
        ).mappings().first()
        review_id = conn.execute(_UPSERT_SQL, {"year": year, "park": park_id, "source": source, "section": section,
                                               "actor": actor}).scalar_one()
        after = {"year": year, "park_code": park_code, "source_document": source, "source_section": section}
        audit.record(conn, actor=actor, action="record_idle_review", table_name="idle_land_review", row_id=review_id,
                     before=dict(before) if before else None, after=after)
        stored = _read(conn, {"id": review_id})
    return {**stored[0], "replaced": before is not None}


_READ_SQL = """
SELECT r.id, r.year, p.code AS park_code, COALESCE(p.name, '全区') AS scope_zh, r.source_document, r.source_section,
       r.recorded_at, r.recorded_by
FROM idle_land_review r LEFT JOIN park p ON p.id = r.park_id
WHERE (CAST(:year AS int) IS NULL OR r.year = :year) AND (CAST(:id AS int) IS NULL OR r.id = :id)
ORDER BY r.year, p.code NULLS FIRST
"""


def _read(conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = conn.execute(text(_READ_SQL), {"year": None, "id": None, **params}).mappings().all()
    return [{**dict(r), "recorded_at": r["recorded_at"].isoformat(timespec="seconds")} for r in rows]


def idle_reviews(engine: Engine, year: int | None = None) -> list[dict[str, Any]]:
    """The recorded reviews (of ``year``, or all), by year then scope (全区 first):
    ``id, year, park_code (None: 全区), scope_zh, source_document, source_section, recorded_at, recorded_by``."""
    with engine.connect() as conn:
        return _read(conn, {"year": year})
