"""What-if scenarios: change output, area or supplied land for some units and recompute all.

A scenario is a list of :class:`Change`; each sets one numerator figure (e.g. the output of a
park in 亿元) or one base area (e.g. its supplied industrial land in km²) for the year.  The
baseline and the scenario go through the same functions (density, target, zones), and the
scenario rows say which figures were changed (``scenario_changes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from gis_service.errors import InputError
from gis_service.metrics.apportion import aggregate_to_zones
from gis_service.metrics.bases import ALL_BASES, BASES_COLUMNS
from gis_service.metrics.density import DEFAULT_NUMERATORS, NUMERATORS, density_table
from gis_service.metrics.errors import NegativeValueError
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
from gis_service.metrics.units import area_factor_to_km2

SCENARIO_SOURCE = "what-if scenario (not a published figure)"


@dataclass(frozen=True)
class Change:
    """Set ``field`` of ``unit_id`` to ``value`` in ``unit``.

    ``field`` is a numerator code (``output``, ``tax``... value in 亿元/万元/元 or 人/家) or a
    basis name (``supplied_industrial_land``... value in km²/公顷/亩).
    """

    unit_id: object
    field: str
    value: float
    unit: str

    def __post_init__(self) -> None:
        if self.field not in NUMERATORS and self.field not in ALL_BASES:
            raise InputError(f"what-if change of unit {self.unit_id!r}: unknown field {self.field!r}")
        if self.value < 0:
            raise NegativeValueError(f"what-if change of unit {self.unit_id!r}: negative {self.field} {self.value}")


@dataclass(frozen=True)
class WhatIfResult:
    """Baseline and scenario tables (unit level, against the target; zone level if shares given)."""

    baseline: pd.DataFrame
    scenario: pd.DataFrame
    baseline_zones: pd.DataFrame | None
    scenario_zones: pd.DataFrame | None


def apply_changes(
    indicators: pd.DataFrame, bases: pd.DataFrame, changes: Sequence[Change], *, year: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return copies of ``indicators`` and ``bases`` with the changes applied for ``year``."""
    ind = indicators.copy()
    bas = bases.copy()
    known_units = set(bas["unit_id"]) | set(ind["unit_id"])
    for change in changes:
        if change.unit_id not in known_units:
            raise InputError(f"what-if change: unknown unit {change.unit_id!r}")
        if change.field in NUMERATORS:
            hit = (ind["unit_id"] == change.unit_id) & (ind["metric_code"] == change.field) & (ind["year"] == year)
            ind = ind[~hit]
            row = {
                "unit_id": change.unit_id,
                "year": year,
                "metric_code": change.field,
                "value": change.value,
                "unit": change.unit,
                "source_document": SCENARIO_SOURCE,
                "source_section": "",
            }
            ind = pd.concat([ind, pd.DataFrame([row])], ignore_index=True)
        else:
            area = change.value * area_factor_to_km2(change.unit, where=f"what-if change of {change.unit_id!r}")
            hit = (bas["unit_id"] == change.unit_id) & (bas["basis"] == change.field)
            if hit.any():
                bas.loc[hit, "area_km2"] = area
                bas.loc[hit, "basis_source"] = SCENARIO_SOURCE
            else:
                row = dict.fromkeys(BASES_COLUMNS, pd.NA) | {
                    "unit_id": change.unit_id,
                    "basis": change.field,
                    "area_km2": area,
                    "basis_source": SCENARIO_SOURCE,
                    "is_synthetic": False,
                    "is_approximate": False,
                }
                bas = pd.concat([bas, pd.DataFrame([row])], ignore_index=True)
    return ind, bas


def what_if(
    units: pd.DataFrame,
    indicators: pd.DataFrame,
    bases: pd.DataFrame,
    changes: Sequence[Change],
    *,
    year: int,
    target: TargetSpec = DEFAULT_TARGET,
    thresholds: Thresholds = Thresholds(),
    numerators: Sequence[str] = DEFAULT_NUMERATORS,
    shares: pd.DataFrame | None = None,
) -> WhatIfResult:
    """Recompute densities, target attainment (and zone totals) with and without ``changes``."""
    new_ind, new_bases = apply_changes(indicators, bases, changes, year=year)
    base_table = density_table(units, indicators, bases, year=year, numerators=numerators)
    scen_table = density_table(units, new_ind, new_bases, year=year, numerators=numerators)
    described = {}
    for c in changes:
        described.setdefault(c.unit_id, []).append(f"{c.field}={c.value} {c.unit}")
    scen_table["scenario_changes"] = scen_table["unit_id"].map(lambda u: "; ".join(described.get(u, [])))
    base_zones = aggregate_to_zones(base_table, shares) if shares is not None else None
    scen_zones = aggregate_to_zones(scen_table.drop(columns="scenario_changes"), shares) if shares is not None else None
    return WhatIfResult(
        baseline=against_target(base_table, target, thresholds=thresholds),
        scenario=against_target(scen_table, target, thresholds=thresholds),
        baseline_zones=against_target(base_zones, target, thresholds=thresholds) if base_zones is not None else None,
        scenario_zones=against_target(scen_zones, target, thresholds=thresholds) if scen_zones is not None else None,
    )
