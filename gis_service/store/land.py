"""The land in force for a year: which survey snapshot, whether supply records or a register.

The snapshot in force in year *Y* is the survey import of the latest year at or before *Y*
(one snapshot per year; a year imported again replaces its snapshot).  Supply records and
the register are not versioned by import: a supplied parcel counts from its contract year
(see :mod:`gis_service.metrics.land_layers` for which layer makes which basis).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from gis_service.metrics.land_layers import (
    LAYER_LABELS_ZH,
    REGISTER,
    SUPPLY,
    SURVEY,
    serving_layer,
)

_IN_FORCE_SQL = text(
    """
SELECT (SELECT row_to_json(s) FROM (
            SELECT id, year, source_document, code_system, file_name, is_synthetic
            FROM land_import WHERE kind = 'survey' AND year <= :year ORDER BY year DESC LIMIT 1) s) AS survey,
       EXISTS (SELECT 1 FROM land_parcel WHERE layer = 'supply') AS has_supply,
       EXISTS (SELECT 1 FROM land_parcel WHERE layer = 'register') AS has_register,
       (SELECT string_agg(DISTINCT source_document, '; ') FROM land_import WHERE kind = 'supply') AS supply_sources
"""
)


@dataclass(frozen=True)
class LandInForce:
    """The land records that count for ``year`` (see the module docstring)."""

    year: int
    survey: dict[str, Any] | None  # the snapshot in force: id, year, source_document, code_system...
    has_supply: bool
    has_register: bool
    supply_sources: str | None = None

    @property
    def present(self) -> frozenset[str]:
        layers = {SURVEY} if self.survey else set()
        layers |= {SUPPLY} if self.has_supply else set()
        layers |= {REGISTER} if self.has_register else set()
        return frozenset(layers)

    @property
    def survey_import_id(self) -> int | None:
        return int(self.survey["id"]) if self.survey else None

    def layer_for(self, basis: str) -> str | None:
        """The layer that makes ``basis`` this year (``None``: no land data for it)."""
        return serving_layer(basis, self.present)

    def sql_params(self, bases: list[str]) -> dict[str, object]:
        """Bound parameters of the land filters in :mod:`gis_service.metrics.postgis`."""
        from gis_service.metrics.bases import (
            BUILT_UP_LAND,
            INDUSTRIAL_LAND,
            SUPPLIED_INDUSTRIAL_LAND,
        )

        return {
            "survey_import": self.survey_import_id,
            "land_use_layer": self.layer_for(INDUSTRIAL_LAND),
            "built_layer": self.layer_for(BUILT_UP_LAND),
            "supplied_layer": self.layer_for(SUPPLIED_INDUSTRIAL_LAND),
            "year_end": dt.date(self.year, 12, 31),
            "cover_layers": sorted({layer for b in bases if (layer := self.layer_for(b))}),
        }

    def describe(self, basis: str) -> dict[str, object]:
        """What made ``basis`` this year, for the answer's meta (and its Chinese label)."""
        layer = self.layer_for(basis)
        out: dict[str, object] = {"layer": layer, "layer_label_zh": LAYER_LABELS_ZH.get(layer or "", "无土地数据")}
        if layer == SURVEY and self.survey:
            out["snapshot"] = dict(self.survey)
            out["label_zh"] = f"{self.survey['year']} 年{LAYER_LABELS_ZH[SURVEY]}({self.survey['source_document']})"
        elif layer == SUPPLY:
            out["sources"] = self.supply_sources
            out["label_zh"] = f"{LAYER_LABELS_ZH[SUPPLY]}:{self.year} 年底前签订合同且未收回的工业用地({self.supply_sources})"
        elif layer == REGISTER:
            out["label_zh"] = LAYER_LABELS_ZH[REGISTER]
        else:
            out["label_zh"] = "无土地数据"
        return out


def land_in_force(bind: Engine | Connection, year: int) -> LandInForce:
    """Which land records count for ``year``: one small query."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return land_in_force(conn, year)
    row = bind.execute(_IN_FORCE_SQL, {"year": year}).mappings().one()
    return LandInForce(year, row["survey"], bool(row["has_supply"]), bool(row["has_register"]), row["supply_sources"])


_IMPORTS_SQL = text(
    """
SELECT i.id, i.kind, i.year, i.source_document, i.file_name, i.layer_name, i.driver, i.code_system, i.crs,
       i.encoding, i.feature_count, i.area_by_class, i.report, i.is_synthetic, i.imported_by, i.imported_at,
       (SELECT count(*) FROM land_parcel p WHERE p.import_id = i.id) AS features_stored
FROM land_import i
ORDER BY i.kind, i.year NULLS LAST, i.imported_at
"""
)


def read_land_imports(bind: Engine | Connection) -> list[dict[str, Any]]:
    """Every land import: kind, year, source, file, code system, CRS, encoding, counts, area by class.

    ``features_stored`` may be below ``feature_count`` for supply imports whose records a
    later import replaced (by 电子监管号).
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return read_land_imports(conn)
    rows = [dict(row) for row in bind.execute(_IMPORTS_SQL).mappings()]
    return [{**row, "imported_at": row["imported_at"].isoformat()} for row in rows]
