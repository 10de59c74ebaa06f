"""Densities against a plan target: attainment, gap, what closes it, growth needed, status.

The default target is 001 表1 #9: 工业园区单位土地产值(已供应工业用地), 80 亿元/km² in 2025,
预期性 (indicative), whose basis is *supplied industrial land* (已供应工业用地).  Any target
row (``target`` table, or built by hand) can be used through :class:`TargetSpec`.

Status classes (labels shown to users): 达标 (attained), 接近 (close: attainment at or above
the ``near`` threshold), 未达标 (not attained), 无数据 (no data).

A density over another basis than the target's (e.g. output over 管辖面积 against a target
on 已供应工业用地) is compared by :func:`compare_with_target` as a *reference* only, flagged
``comparable_with_target = False`` and labelled 口径不同 (different basis).  Only some bases
bound the density on supplied industrial land (:func:`basis_relation_zh`): the measured
boundary area and the industrial land inside it contain the supplied industrial land, so a
density over them is a lower bound; built-up land (which leaves out supplied land not yet
built and takes in other uses) and the published 管辖面积 (another source than the land
measured inside the stored boundary) give a different figure, neither higher nor lower.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gis_service.errors import InputError
from gis_service.metrics.bases import (
    BASIS_LABELS_ZH,
    INDUSTRIAL_LAND,
    MEASURED_AREA,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
)
from gis_service.metrics.density import NUMERATORS
from gis_service.metrics.errors import NegativeValueError
from gis_service.metrics.units import density_factor_to_yi_per_km2

ATTAINED = "达标"
NEAR = "接近"
NOT_ATTAINED = "未达标"
NO_DATA = "无数据"
#: label of a comparison over another basis than the target's
DIFFERENT_BASIS_ZH = "口径不同"


class TargetUnusableError(InputError):
    """A stored target that cannot be compared with a density; the message names it and why."""


@dataclass(frozen=True)
class TargetSpec:
    """A density target: ``value`` in ``unit`` (亿元/km², 万元/亩...) for ``metric`` over ``basis``.

    ``value_yi_per_km2`` is the value converted to 亿元/km² (raises UnknownUnitError for a
    unit that is not money per area).
    """

    value: float
    unit: str
    year: int
    basis: str
    metric: str
    source: str
    code: str | None = None
    name: str | None = None
    nature: str | None = None
    #: why this target stands in for the one asked (e.g. the stored default is unusable)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_basis(self.basis)
        if self.metric not in NUMERATORS:
            raise InputError(f"target {self.code or self.name}: unknown metric {self.metric!r}")
        if not np.isfinite(self.value) or self.value <= 0:
            raise NegativeValueError(f"target {self.code or self.name}: value must be > 0, got {self.value}")
        self.value_yi_per_km2  # validates the unit now, not at first use

    @property
    def value_yi_per_km2(self) -> float:
        return float(self.value) * density_factor_to_yi_per_km2(self.unit, where=f"target {self.code or self.name}")

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, metric: str | None = None) -> TargetSpec:
        """Build from a ``target`` table row (a dict or a Series from ``read_targets``).

        ``metric`` overrides the row's ``metric_code`` (e.g. when the target's metric code
        differs from the numerator codes of :data:`~gis_service.metrics.density.NUMERATORS`).
        A row whose ``value`` is missing (a target published only as text) is rejected.
        """
        value = row.get("value")
        if value is None or (isinstance(value, float) and np.isnan(value)):
            raise InputError(
                f"target {row.get('code')!r} has no numeric value ({row.get('value_text')!r}); cannot compare"
            )
        basis = row.get("basis")
        if not basis:
            raise InputError(f"target {row.get('code')!r} names no basis (denominator)")
        source = f"{row.get('source_document') or ''} {row.get('source_section') or ''}".strip()
        return cls(
            value=float(value),
            unit=str(row["unit"]),
            year=int(row["year"]),
            basis=str(basis),
            metric=metric or str(row["metric_code"]),
            source=source or "unsourced",
            code=row.get("code"),
            name=row.get("name"),
            nature=row.get("nature"),
        )


def target_numerator(metric_code: str, code: str) -> str:
    """The numerator a target's metric is about: ``output_density_supplied_industrial`` → ``output``."""
    money = [n for n, spec in NUMERATORS.items() if spec.kind == "money"]  # a target is in 亿元/km²
    if metric_code in money:
        return metric_code
    for candidate in sorted(money, key=len, reverse=True):
        if metric_code.startswith(candidate + "_"):
            return candidate
    raise TargetUnusableError(
        f"target {code!r}: its metric {metric_code!r} is not a money density of {', '.join(money)}"
    )


def density_target(row: Mapping[str, Any]) -> TargetSpec:
    """The stored ``target`` row as a density target, or :class:`TargetUnusableError` saying why not.

    The one rule of what a density target is (numeric value > 0, a basis the engine computes,
    a metric that is a density of a known numerator, a money-per-area unit): the reads apply
    it to stored rows, the writes to a target on a basis before storing it.
    """
    clean = {k: None if _missing(v) else v for k, v in row.items()}  # NaN (pandas) -> None
    code = clean.get("code")
    try:
        return TargetSpec.from_row(clean, metric=target_numerator(str(clean.get("metric_code")), str(code)))
    except TargetUnusableError:
        raise
    except InputError as exc:
        raise TargetUnusableError(f"target {code!r} cannot be compared with a density: {exc}") from None


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


#: 001 表1 #9: 80 亿元/km² on supplied industrial land by 2025 (预期性)
DEFAULT_TARGET = TargetSpec(
    value=80.0,
    unit="亿元/km²",
    year=2025,
    basis=SUPPLIED_INDUSTRIAL_LAND,
    metric="output",
    source="001_13d6efb69ed95403.txt 表1 #9",
    code="t001_09",  # the code of this row in data/layers/targets.csv
    name="工业园区单位土地产值(已供应工业用地)",
    nature="预期性",
)


@dataclass(frozen=True)
class Thresholds:
    """Attainment thresholds, as fractions of the target: ≥ ``attained`` → 达标, ≥ ``near`` → 接近."""

    attained: float = 1.0
    near: float = 0.9

    def __post_init__(self) -> None:
        if not 0 < self.near <= self.attained:
            raise InputError(f"thresholds must satisfy 0 < near ≤ attained, got {self.near}, {self.attained}")


def against_target(
    density: pd.DataFrame, target: TargetSpec = DEFAULT_TARGET, *, thresholds: Thresholds = Thresholds()
) -> pd.DataFrame:
    """Compare the rows of a density table that match the target's metric and basis.

    Adds, per unit (all money in 亿元, areas in km², densities in 亿元/km²):

    - ``target_yi_per_km2``, ``target_year``, ``target_source``;
    - ``attainment_pct``: density / target × 100;
    - ``gap_yi_per_km2``: target − density when below target, else 0;
    - ``extra_output_yi_yuan``: gap × area, the output that closes the gap on today's land;
    - ``land_to_release_km2``: area − output / target, the land to give up at today's output
      (0 when attained);
    - ``cagr_needed_pct``: (target / density)^(1 / (target year − year)) − 1, the compound
      annual growth of the density from the data year to the target year (missing when the
      data year is not before the target year; 0 when attained);
    - ``status``: 达标 / 接近 / 未达标 / 无数据.

    Raises :class:`InputError` when the table has no row of the target's metric and basis.
    """
    return _compared(density, target, thresholds=thresholds)


def _compared(
    density: pd.DataFrame, target: TargetSpec, *, thresholds: Thresholds, extra: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """:func:`against_target` with ``extra`` columns set (built in one frame: the tables are small)."""
    chosen = (density["numerator"].to_numpy() == target.metric) & (density["basis"].to_numpy() == target.basis)
    if not chosen.any():
        raise InputError(
            f"the density table has no {target.metric} over {target.basis}; "
            f"compute it first (target {target.code or target.name} is on {target.basis})"
        )
    rows = density[chosen].reset_index(drop=True)
    goal = target.value_yi_per_km2
    d = rows["density_yi_per_km2"].to_numpy(dtype=float, na_value=np.nan)
    area = rows["area_km2"].to_numpy(dtype=float, na_value=np.nan)
    value = rows["value_yi_yuan"].to_numpy(dtype=float, na_value=np.nan)
    # the growth needed runs from the year the figure comes from, not the year asked
    year_column = "figure_year" if "figure_year" in rows.columns else "year"
    years = pd.to_numeric(rows[year_column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    gap = np.where(np.isnan(d), np.nan, np.maximum(goal - d, 0.0))
    horizon = target.year - years
    with np.errstate(divide="ignore", invalid="ignore"):
        cagr = np.where(
            (horizon > 0) & (d > 0), (np.power(goal / d, 1.0 / np.where(horizon > 0, horizon, 1)) - 1.0) * 100, np.nan
        )
    cagr = np.where(np.isnan(d), np.nan, np.where(d >= goal, 0.0, cagr))
    added = pd.DataFrame(
        {
            "target_yi_per_km2": goal,
            "target_year": target.year,
            "target_source": target.source,
            "attainment_pct": d / goal * 100.0,
            "gap_yi_per_km2": gap,
            "extra_output_yi_yuan": gap * area,
            "land_to_release_km2": np.where(np.isnan(d), np.nan, np.maximum(area - value / goal, 0.0)),
            "cagr_needed_pct": cagr,
            "status": classify_status(d / goal, thresholds),
            **(extra or {}),
        },
        index=rows.index,
    )
    # one concat, not a column-by-column assignment: these tables are small and on the answer's path
    return pd.concat([rows.drop(columns=rows.columns.intersection(added.columns)), added], axis=1)


def classify_status(ratio: np.ndarray, thresholds: Thresholds = Thresholds()) -> np.ndarray:
    """达标 / 接近 / 未达标 / 无数据 for attainment ratios (density / target; NaN = no data)."""
    r = np.asarray(ratio, dtype=float)
    return np.select(
        [np.isnan(r), r >= thresholds.attained, r >= thresholds.near],
        [NO_DATA, ATTAINED, NEAR],
        default=NOT_ATTAINED,
    ).astype(object)


def compare_with_target(
    density: pd.DataFrame,
    target: TargetSpec,
    *,
    numerator: str | None = None,
    basis: str | None = None,
    thresholds: Thresholds = Thresholds(),
) -> pd.DataFrame:
    """:func:`against_target` for ``numerator`` over ``basis`` (default: the target's own).

    Over the target's own numerator and basis this is the comparison the target defines
    (``comparable_with_target`` True).  Over another basis the same target value is applied
    as a reference: ``comparable_with_target`` is False and ``target_source`` says 口径不同.
    """
    numerator = numerator or target.metric
    basis = basis or target.basis
    own = numerator == target.metric and basis == target.basis
    applied = target if own else dataclasses.replace(target, metric=numerator, basis=basis)
    extra: dict[str, object] = {"comparable_with_target": own}
    if not own:
        extra["target_source"] = f"{target.source} ({comparability_note_zh(numerator, basis, target)})"
    return _compared(density, applied, thresholds=thresholds, extra=extra)


#: bases that contain the supplied industrial land of a park (inside its stored boundary)
_CONTAINS_SUPPLIED_LAND = (MEASURED_AREA, INDUSTRIAL_LAND)


def basis_relation_zh(basis: str, target_basis: str) -> str:
    """How a density over ``basis`` relates to one over ``target_basis`` (Chinese, one phrase)."""
    if basis == target_basis:
        return "与目标口径相同"
    if target_basis == SUPPLIED_INDUSTRIAL_LAND and basis in _CONTAINS_SUPPLIED_LAND:
        return f"{BASIS_LABELS_ZH[basis]}包含已供应工业用地,所得地均值与达标率为下限"
    return f"{BASIS_LABELS_ZH[basis]}与{BASIS_LABELS_ZH[target_basis]}口径不同,地均值既非上限也非下限"


def comparability_note_zh(numerator: str, basis: str, target: TargetSpec) -> str:
    """The one sentence every face shows when a density is not on the target's own terms."""
    if numerator != target.metric:
        return (f"{DIFFERENT_BASIS_ZH}:目标指标为{NUMERATORS[target.metric].label_zh},此处为"
                f"{NUMERATORS[numerator].label_zh},不作达标评价")
    if basis != target.basis:
        return (f"{DIFFERENT_BASIS_ZH}:目标以{BASIS_LABELS_ZH[target.basis]}为基数,此处为"
                f"{BASIS_LABELS_ZH[basis]};{basis_relation_zh(basis, target.basis)},达标率仅供参考")
    return ""
