"""What a land import did, as the CLI prints it, the API returns it and ``qa`` lists it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LandImportReport:
    """One import of land data: what was read, how, and what changed.

    ``features_before``/``features_after`` count the rows of the same kind the import
    replaces (the survey year, the register, the supply records): re-importing the same
    file leaves them equal.
    """

    kind: str  # survey | supply | register
    import_id: int
    file: str
    layer: str
    driver: str
    source_document: str
    year: int | None
    code_system: str | None
    code_system_evidence: str | None
    crs: str
    crs_evidence: str
    encoding: str | None
    encoding_evidence: str
    features: int
    features_before: int
    features_after: int
    area_by_class_km2: dict[str, float]
    repaired: int = 0
    is_synthetic: bool = False
    overlap_pairs: int = 0  # survey: pairs of patches overlapping by more than 1 m²
    overlaps: list[dict[str, Any]] = field(default_factory=list)  # the first of them, largest first
    area_mismatch_count: int = 0  # supply: records whose stated 面积(公顷) is > 5 % off the measured area
    area_mismatches: list[dict[str, Any]] = field(default_factory=list)  # the first of them
    replaced_records: int = 0  # supply: 电子监管号 already stored, replaced
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _where(self) -> str:
        return self.file if f"layer {self.layer}" in self.file else f"{self.file} 图层 {self.layer}"

    def summary_zh(self) -> str:
        """One line in Chinese for the CLI and the data page."""
        what = {"survey": f"{self.year} 年土地利用现状调查", "supply": "供地记录", "register": "地块登记"}[self.kind]
        industrial = self.area_by_class_km2.get("industrial")
        tail = f",工业用地 {industrial:.3f} km²" if industrial is not None else ""
        return (
            f"{what}:导入 {self.features:,} 个要素({self._where()},{self.crs},编码 {self.encoding or '—'})"
            f",替换前 {self.features_before:,} → 替换后 {self.features_after:,}{tail}"
        )
