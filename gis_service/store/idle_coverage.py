"""Which units a 闲置土地调查认定 (idle-land identification) covers in a year: read for the
land-intensity answer's 土地闲置率 and 闲置土地处置率 (written by
:func:`gis_service.ingest.idle_reviews.record_idle_review`, table ``idle_land_review``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

#: the command that records a review (named in the intensity answer's missing reasons)
RECORD_COMMAND = "gis-service import idle-review"

@dataclass(frozen=True)
class IdleCoverage:
    """Which units a 闲置土地调查认定 made by a year covers, with the source of the one that counts.

    ``district``: the latest district-wide review; ``parks``: park id -> the latest review of
    that park or of its parent park (a block is covered by its park's review).  Each entry is
    ``(year, specificity, source text)``; the latest wins, and the more specific in one year."""

    district: tuple[int, int, str] | None = None
    parks: dict[int, tuple[int, int, str]] = field(default_factory=dict)

    def source_for(self, unit_id: int, *, park_level: bool) -> str | None:
        """The source of the review covering the unit (a zone: district-wide reviews only), or ``None``."""
        found = [c for c in (self.district, self.parks.get(unit_id) if park_level else None) if c is not None]
        return max(found)[2] if found else None


_COVERAGE_SQL = text(
    """
SELECT r.year, r.park_id, COALESCE(p.name, '全区') AS scope_zh, r.source_document, r.source_section,
       u.id AS unit_id, (u.id = r.park_id) AS own
FROM idle_land_review r
LEFT JOIN park p ON p.id = r.park_id
LEFT JOIN park u ON u.id = r.park_id OR u.parent_id = r.park_id
WHERE r.year <= :year
"""
)


def idle_coverage(bind: Engine | Connection, year: int) -> IdleCoverage:
    """The reviews made in or before ``year`` and the parks (blocks included) they cover (one small query)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return idle_coverage(conn, year)
    rows = bind.execute(_COVERAGE_SQL, {"year": year}).mappings().all()
    district: tuple[int, int, str] | None = None
    parks: dict[int, tuple[int, int, str]] = {}
    for r in rows:
        section = f" {r['source_section']}" if r["source_section"] else ""
        entry_source = f"闲置土地调查认定 {r['year']} 年({r['scope_zh']}):{r['source_document']}{section}"
        if r["park_id"] is None:
            district = max(filter(None, [district, (int(r["year"]), 0, entry_source)]))
        elif r["unit_id"] is not None:
            uid = int(r["unit_id"])
            parks[uid] = max(filter(None, [parks.get(uid), (int(r["year"]), 2 if r["own"] else 1, entry_source)]))
    return IdleCoverage(district, parks)
