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
    # Whether the file gives a note / a source section (a column, or a section for the whole file).
    # One that is not given keeps the stored one: a missing column means "not given", never "none";
    # an empty cell in a present column means "none" and clears it.
    note_given: bool = True
    section_given: bool = True

    @property
    def key(self) -> tuple[str, int, int, str, bool]:
        return (self.scope_type, self.scope_id, self.year, self.metric_code, self.is_projection)


@dataclass(frozen=True)
class BlankFigure:
    """A cell of the file left empty (or marked not published): skipped, or deleted under ``replace``."""

    where: str
    scope_type: str
    scope_code: str
    scope_id: int
    year: int
    metric_code: str
    is_projection: bool

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
    deleted: int = 0
    records: list[IndicatorRecord] = field(default_factory=list)
    blanks: list[BlankFigure] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "deleted": self.deleted, "skipped_empty": self.skipped_empty, "converted": self.converted,
                "figures": len(self.records)}
