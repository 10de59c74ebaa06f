"""The one check of a plan target before it is stored: every write path calls :func:`check_target`.

``PUT /targets/{code}`` and :func:`gis_service.edits.put_target` (the Python API), and the CSV
import of the ``targets`` layer (``gis-service import targets``, ``load-sample``) run the same
rule, so nothing can store a row the reads would have to refuse:

- ``scope``, ``name``, ``metric_code``, ``unit`` and ``source_document`` are given;
- ``metric_code`` is in the metric catalogue (``metrics.csv``); ``nature`` is empty or one of
  :data:`~gis_service.ingest.sources.TARGET_NATURES` (预期性 expected / 约束性 binding);
- ``basis`` is empty or one of :data:`~gis_service.metrics.bases.TARGET_BASES`;
- ``value`` or ``value_text`` is given; ``value`` and ``base_value`` are finite; ``value`` > 0
  (a growth or reduction rate the catalogue allows to be negative may be any finite number);
- a target on a basis the engine computes is a density target and must pass the reads' own
  rule (:func:`~gis_service.metrics.targets.density_target`: a numeric value, a metric that is
  a density of a known numerator, a money-per-area unit); any other target's unit converts to
  its metric's catalogue unit, as an imported figure's does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gis_service.errors import InputError
from gis_service.ingest.catalog import Metric
from gis_service.ingest.indicator_values import canonical_unit
from gis_service.ingest.plausibility import MAY_BE_NEGATIVE
from gis_service.ingest.sources import TARGET_NATURES, check_choice
from gis_service.metrics.bases import ALL_BASES, TARGET_BASES
from gis_service.metrics.errors import UnitMismatchError, UnknownUnitError
from gis_service.metrics.targets import TargetSpec, TargetUnusableError, target_numerator
from gis_service.metrics.units import conversion_factor

REQUIRED = ("scope", "name", "metric_code", "unit", "source_document")


def check_target(target: Mapping[str, Any], *, where: str, catalogue: Mapping[str, Metric]) -> None:
    """Raise :class:`InputError` naming ``where`` and the field when ``target`` may not be stored.

    ``target`` has the columns of the ``target`` table (``code``, ``metric_code``, ``basis``,
    ``value``, ``unit``...); ``catalogue`` is the metric catalogue the figures are checked against.
    """
    for name in REQUIRED:
        if not str(target.get(name) or "").strip():
            raise InputError(f"{where}: {name} is empty")
    nature = target.get("nature") or None
    if nature is not None:
        check_choice(nature, TARGET_NATURES, where=where, column="nature")
    metric = catalogue.get(str(target["metric_code"]))
    if metric is None:
        raise InputError(f"{where}: metric_code {target['metric_code']!r} is not in the metric catalogue (metrics.csv)")
    _check_numbers(target, where, metric)
    basis = target.get("basis") or None
    if basis is not None and basis not in TARGET_BASES:
        raise InputError(f"{where}: basis {basis!r} is unknown; bases: {', '.join(TARGET_BASES)}")
    if basis in ALL_BASES:
        _check_density(target, where)
    else:
        _check_unit(target, where, metric)


def _check_numbers(target: Mapping[str, Any], where: str, metric: Metric) -> None:
    value = target.get("value")
    if value is None and not target.get("value_text"):
        raise InputError(f"{where}: give value or value_text (a target published as text, e.g. ≥500)")
    for name in ("value", "base_value"):
        number = target.get(name)
        if number is not None and not math.isfinite(float(number)):
            raise InputError(f"{where}: {name}: not a finite number ({number})")
    if value is not None and float(value) <= 0 and metric.code not in MAY_BE_NEGATIVE:
        raise InputError(f"{where}: value must be > 0 for {metric.code} ({metric.name_zh}), got {value}")


def _check_density(target: Mapping[str, Any], where: str) -> None:
    """The reads' rule (:func:`density_target`, its two steps), each refusal named by field."""
    if target.get("value") is None:
        raise InputError(f"{where}: value: a target on basis {target['basis']!r} is compared with densities; "
                         f"give a number (value_text alone cannot be compared)")
    try:
        numerator = target_numerator(str(target["metric_code"]), str(target.get("code")))
    except TargetUnusableError as exc:
        raise InputError(f"{where}: metric_code: {exc}") from None
    try:
        TargetSpec.from_row(target, metric=numerator)
    except UnknownUnitError as exc:
        raise InputError(f"{where}: unit: a target on a basis is a density (money per area): {exc}") from None
    except InputError as exc:
        raise InputError(f"{where}: value: {exc}") from None


def _check_unit(target: Mapping[str, Any], where: str, metric: Metric) -> None:
    expected = canonical_unit(metric)
    try:
        conversion_factor(str(target["unit"]), expected)
    except (UnitMismatchError, UnknownUnitError) as exc:
        raise InputError(f"{where}: unit {target['unit']!r} does not fit metric {metric.code} "
                         f"({metric.name_zh}, {expected}): {exc}") from None
