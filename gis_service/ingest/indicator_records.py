"""The data of an indicator import: one validated figure, and what the import did."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


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
