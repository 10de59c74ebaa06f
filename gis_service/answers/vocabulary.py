"""The one vocabulary of every answer: level names, basis names and row keys.

The CLI's ``--json``, the REST API, the CSV/XLSX downloads and the Python frames all use
these names, so a row means the same thing wherever it is read.

Levels (the units a density is given for):

=================  ==============================================================
``park``           every park: the seven blocks (园区区块) and their parent park
``town``           towns (镇) and sub-districts (街道), from the parks apportioned to them
``pian``           the three 片 of 三片 (each a union of towns, 001 四(二)3)
``corridor_area``  the nine function areas of 一廊九区 (G60 科创走廊, 001 footnote 3)
``corridor``       the G60 科创走廊 itself
=================  ==============================================================
"""

from __future__ import annotations

from gis_service.errors import InputError
from gis_service.metrics.density import NUMERATORS

PARK = "park"
TOWN = "town"
#: levels whose units are zones of one kind (the ``zone`` table's ``kind``)
ZONE_LEVELS: tuple[str, ...] = ("pian", "corridor_area", "corridor")
#: levels whose figures are apportioned from the parks inside them
AREA_LEVELS: tuple[str, ...] = (TOWN, *ZONE_LEVELS)
LEVELS: tuple[str, ...] = (PARK, *AREA_LEVELS)

LEVEL_LABELS_ZH: dict[str, str] = {
    PARK: "园区",
    TOWN: "镇、街道",
    "pian": "三片",
    "corridor_area": "一廊九区功能区",
    "corridor": "G60科创走廊",
}

#: the keys of an answer row, in order (CLI JSON, API JSON, CSV/XLSX headers, frames)
ROW_COLUMNS: list[str] = [
    "unit_id",
    "unit_code",
    "unit_name",
    "level",
    "year",
    "figure_year",
    "numerator",
    "numerator_label",
    "basis",
    "basis_label",
    "value_yi_yuan",
    "value_count",
    "area_km2",
    "area_mu",
    "published_area_km2",
    "measured_area_km2",
    "density_on_published_area_yi_per_km2",
    "density_on_measured_area_yi_per_km2",
    "density_yi_per_km2",
    "mu_jun_wan_per_mu",
    "count_per_km2",
    "target_yi_per_km2",
    "target_year",
    "attainment_pct",
    "gap_yi_per_km2",
    "extra_output_yi_yuan",
    "land_to_release_km2",
    "cagr_needed_pct",
    "status",
    "comparable_with_target",
    "numerator_source",
    "basis_source",
    "target_source",
    "boundary_version",
    "uses_synthetic_data",
    "is_approximate",
    "missing_reason",
    "contributing_units",
    "missing_units",
    "share_method",
    "scenario_changes",
]

#: integer-valued row keys (JSON integers, not floats)
INTEGER_COLUMNS: frozenset[str] = frozenset({"unit_id", "year", "figure_year", "target_year", "boundary_version"})
#: yes/no row keys
FLAG_COLUMNS: frozenset[str] = frozenset({"comparable_with_target", "uses_synthetic_data", "is_approximate"})
#: text row keys (every other key not listed here is a number)
TEXT_COLUMNS: frozenset[str] = frozenset({
    "unit_code", "unit_name", "level", "numerator", "numerator_label", "basis", "basis_label", "status",
    "numerator_source", "basis_source", "target_source", "missing_reason", "contributing_units", "missing_units",
    "share_method", "scenario_changes",
})


def check_level(level: str) -> str:
    """``level`` if it is one of :data:`LEVELS`, else an InputError listing them."""
    if level not in LEVELS:
        raise InputError(f"level: unknown level {level!r}; levels: {', '.join(LEVELS)}")
    return level


def check_numerator(numerator: str) -> str:
    """``numerator`` if the engine knows it, else an InputError listing them."""
    if numerator not in NUMERATORS:
        raise InputError(f"numerator: unknown metric {numerator!r}; numerators: {', '.join(NUMERATORS)}")
    return numerator
