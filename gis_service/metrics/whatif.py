"""What-if scenarios: change a unit's figure or area and recompute everything from it.

A scenario is a list of :class:`Change`.  Each acts on one unit's numerator figure (e.g. the
output of a park, 亿元) or one of its base areas (e.g. supplied industrial land, km²):

- ``mode="set"``: the figure becomes ``value`` (in ``unit``);
- ``mode="add"``: ``value`` (in ``unit``, may be negative) is added: ``-0.3 km²`` releases land;
- ``mode="scale"``: the figure grows by ``value`` per cent (``unit`` is ``%``): ``+10 %``.

Changes are applied to the figures of :func:`~gis_service.metrics.density.unit_figures` and to
a bases frame, *before* densities are computed, so a scenario goes through the same density,
target and zone functions as the baseline.  Changed rows say so in their sources
(:data:`SCENARIO_SOURCE`) and in ``scenario_changes``.  Nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gis_service.errors import InputError
from gis_service.metrics.apportion import aggregate_to_zones
from gis_service.metrics.bases import ALL_BASES, BASES_COLUMNS
from gis_service.metrics.density import DEFAULT_NUMERATORS, NUMERATORS, divide_by_bases, unit_figures
from gis_service.metrics.errors import NegativeValueError
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
from gis_service.metrics.units import area_factor_to_km2, count_factor, money_factor_to_yi

SCENARIO_SOURCE = "what-if scenario (not a published figure)"
ChangeMode = Literal["set", "add", "scale"]
CHANGE_MODES: tuple[str, ...] = ("set", "add", "scale")
_PERCENT_UNITS = ("%", "％", "pct", "percent")


@dataclass(frozen=True)
class Change:
    """Change ``field`` of ``unit_id`` by ``value`` in ``unit`` (see the module for ``mode``).

    ``field`` is a numerator code (``output``, ``tax``…; 亿元/万元/元 or 人/家) or a basis name
    (``supplied_industrial_land``…; km²/公顷/亩).
    """

    unit_id: object
    field: str
    value: float
    unit: str
    mode: ChangeMode = "set"

    def __post_init__(self) -> None:
        where = f"what-if change of unit {self.unit_id!r}"
        if self.field not in NUMERATORS and self.field not in ALL_BASES:
            known = ", ".join([*NUMERATORS, *ALL_BASES])
            raise InputError(f"{where}: unknown field {self.field!r}; fields: {known}")
        if self.mode not in CHANGE_MODES:
            raise InputError(f"{where}: unknown mode {self.mode!r}; modes: {', '.join(CHANGE_MODES)}")
        if not np.isfinite(self.value):
            raise InputError(f"{where}: {self.field} value must be a finite number, got {self.value}")
        if self.mode == "set" and self.value < 0:
            raise NegativeValueError(f"{where}: negative {self.field} {self.value}")
        if self.mode == "scale" and self.unit not in _PERCENT_UNITS:
            raise InputError(f"{where}: a relative change is in %, got unit {self.unit!r}")

    def describe(self) -> str:
        """``output+10%``, ``supplied_industrial_land-0.3 km²``, ``output=160 亿元``."""
        if self.mode == "scale":
            return f"{self.field}{self.value:+g}%"
        sign = "=" if self.mode == "set" else ("+" if self.value >= 0 else "")
        return f"{self.field}{sign}{self.value:g} {self.unit}"


def _canonical_factor(change: Change) -> float:
    """Factor from ``change.unit`` to the engine's units (亿元, items, km²)."""
    where = f"what-if change of unit {change.unit_id!r}"
    if change.field in ALL_BASES:
        return area_factor_to_km2(change.unit, where=where)
    if NUMERATORS[change.field].kind == "money":
        return money_factor_to_yi(change.unit, where=where)
    return count_factor(change.unit, where=where)


def _changed(current: float, change: Change) -> float:
    """The new value (canonical units) of a figure now ``current`` (NaN when missing)."""
    if change.mode == "set":
        return change.value * _canonical_factor(change)
    if np.isnan(current):
        raise InputError(
            f"what-if change of unit {change.unit_id!r}: no {change.field} figure to change "
            f"({change.describe()}); set it instead"
        )
    new = current * (1 + change.value / 100) if change.mode == "scale" else current + change.value * _canonical_factor(change)
    if new < 0:
        raise NegativeValueError(
            f"what-if change of unit {change.unit_id!r}: {change.describe()} makes {change.field} negative ({new:g})"
        )
    return float(new)


def apply_changes(
    figures: pd.DataFrame, bases: pd.DataFrame, changes: Sequence[Change]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of ``figures`` (:func:`unit_figures` rows) and ``bases`` with ``changes`` applied.

    Changes apply in order (two changes of one figure compound).  Raises InputError naming
    the change for an unknown unit, a relative change of a missing figure, or a result < 0.
    """
    fig = figures.copy()
    bas = bases.copy()
    known_units = set(fig["unit_id"]) | set(bas["unit_id"])
    for change in changes:
        if change.unit_id not in known_units:
            raise InputError(f"what-if change: unknown unit {change.unit_id!r}")
        if change.field in NUMERATORS:
            hit = (fig["unit_id"] == change.unit_id).to_numpy() & (fig["numerator"] == change.field).to_numpy()
            if not hit.any():
                raise InputError(f"what-if change of unit {change.unit_id!r}: {change.field} is not in this answer")
            current = float(fig.loc[hit, "value_canonical"].astype(float).iloc[0])
            fig.loc[hit, "value_canonical"] = _changed(current, change)
            fig.loc[hit, "numerator_source"] = SCENARIO_SOURCE
        else:
            bas = _change_area(bas, change)
    return fig, bas


def _change_area(bases: pd.DataFrame, change: Change) -> pd.DataFrame:
    hit = (bases["unit_id"] == change.unit_id).to_numpy() & (bases["basis"] == change.field).to_numpy()
    current = float(bases.loc[hit, "area_km2"].astype(float).iloc[0]) if hit.any() else np.nan
    area = _changed(current, change)
    if hit.any():
        bases = bases.copy()
        bases.loc[hit, "area_km2"] = area
        bases.loc[hit, "basis_source"] = SCENARIO_SOURCE
        return bases
    row = dict.fromkeys(BASES_COLUMNS, pd.NA) | {
        "unit_id": change.unit_id,
        "basis": change.field,
        "area_km2": area,
        "basis_source": SCENARIO_SOURCE,
        "is_synthetic": False,
        "is_approximate": False,
    }
    return pd.concat([bases, pd.DataFrame([row], columns=bases.columns)], ignore_index=True)


def describe_changes(table: pd.DataFrame, changes: Sequence[Change]) -> pd.Series:
    """Per row of ``table`` (``unit_id``), the changes made to its unit (``""`` when none)."""
    described: dict[object, list[str]] = {}
    for c in changes:
        described.setdefault(c.unit_id, []).append(c.describe())
    return table["unit_id"].map(lambda u: "; ".join(described.get(u, [])))


@dataclass(frozen=True)
class WhatIfResult:
    """Baseline and scenario tables (unit level, against the target; zone level if shares given)."""

    baseline: pd.DataFrame
    scenario: pd.DataFrame
    baseline_zones: pd.DataFrame | None
    scenario_zones: pd.DataFrame | None


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
    """Frames in, baseline and scenario out: the analyst's form of the service's what-if
    (:func:`gis_service.answers.answer_whatif` asks the database for the same inputs)."""
    figures = unit_figures(units, indicators, year=year, numerators=numerators)
    chosen = list(dict.fromkeys(bases["basis"]))
    new_figures, new_bases = apply_changes(figures, bases, changes)
    base_table = divide_by_bases(figures, bases, basis=chosen)
    scen_table = divide_by_bases(new_figures, new_bases, basis=chosen)
    scen_table["scenario_changes"] = describe_changes(scen_table, changes)
    base_zones = aggregate_to_zones(base_table, shares) if shares is not None else None
    scen_zones = aggregate_to_zones(scen_table.drop(columns="scenario_changes"), shares) if shares is not None else None
    return WhatIfResult(
        baseline=against_target(base_table, target, thresholds=thresholds),
        scenario=against_target(scen_table, target, thresholds=thresholds),
        baseline_zones=against_target(base_zones, target, thresholds=thresholds) if base_zones is not None else None,
        scenario_zones=against_target(scen_zones, target, thresholds=thresholds) if scen_zones is not None else None,
    )
