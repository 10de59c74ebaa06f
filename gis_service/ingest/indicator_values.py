"""An indicator value in the catalogue's unit, and whether it is plausible.

:func:`checked_value` converts a figure to the catalogue's unit for its metric (亿元/万元/元,
km²/公顷/亩, 人/万人, 家...) with :func:`gis_service.metrics.units.conversion_factor` and
checks its sign and bounds (:mod:`gis_service.ingest.plausibility`); when it was converted,
the value and unit as given are recorded in the note (``原值 36000 万元``).
:func:`check_densities` refuses an output over an area of the same scope and year that no
park can have (a unit slip).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from gis_service.ingest.catalog import Metric
from gis_service.ingest.errors import ImplausibleValueError, NegativeValueError, UnitMismatchError, UnknownUnitError
from gis_service.ingest.indicator_records import IndicatorRecord
from gis_service.ingest.plausibility import MAX_OUTPUT_DENSITY_YI_PER_KM2, MAY_BE_NEGATIVE, bounds_for
from gis_service.ingest.sources import parse_number
from gis_service.metrics.units import conversion_factor

#: Money metrics checked against an area of the same scope and year (density plausibility).
_OUTPUT_METRICS = ("output", "revenue", "output_above_scale")
_AREA_METRICS = ("jurisdiction_area", "published_area", "industrial_land_area", "land_area")


def canonical_unit(metric: Metric) -> str:
    """The unit a metric is stored in: the catalogue's unit (the first of "人 or 万人")."""
    return metric.unit.split(" or ")[0].strip()


def checked_value(metric: Metric, raw: str, unit: str | None, note: str | None, spot: str) -> dict[str, Any]:
    """Value converted to the catalogue unit (``value``, ``unit``, ``note``); checks sign and bounds."""
    number = parse_number(raw, where=spot.rsplit(": ", 1)[0], column=spot.rsplit(": ", 1)[1])
    assert number is not None and unit is not None
    target = canonical_unit(metric)
    try:
        factor = conversion_factor(unit, target, where=spot)
    except UnitMismatchError as exc:
        raise UnitMismatchError(f"{spot}: unit {unit!r} does not match metric {metric.code} ({metric.name_zh}, {target})") from exc
    except UnknownUnitError as exc:
        raise UnknownUnitError(f"{spot}: unknown unit {unit!r} for metric {metric.code} ({target})") from exc
    value = Decimal(f"{number * factor:.12g}")  # 12 significant digits: no float residue (3.6, not 3.6000000000000005)
    if value < 0 and metric.code not in MAY_BE_NEGATIVE:
        raise NegativeValueError(f"{spot}: negative value {raw} {unit} ({metric.name_zh} cannot be negative)")
    bounds = bounds_for(metric.code, target)
    if not bounds.low <= value <= bounds.high:
        raise ImplausibleValueError(
            f"{spot}: implausible value {raw} {unit} = {value} {target}: {bounds.why} "
            f"(plausible {bounds.low:g}..{bounds.high:g} {target}, gis_service/ingest/plausibility.py)"
        )
    recorded = f"原值 {raw} {unit}" if unit != target else None
    merged = "; ".join(x for x in (note, recorded) if x) or None
    return {"value": value, "unit": target, "note": merged}


def check_densities(label: str, records: list[IndicatorRecord]) -> None:
    """Refuse an output over an area of the same scope and year above the plausible density."""
    groups: dict[tuple[str, int, int, bool], dict[str, IndicatorRecord]] = defaultdict(dict)
    for r in records:
        groups[(r.scope_type, r.scope_id, r.year, r.is_projection)][r.metric_code] = r
    for figures in groups.values():
        for money_code in _OUTPUT_METRICS:
            money = figures.get(money_code)
            if money is None:
                continue
            for area_code in _AREA_METRICS:
                area = figures.get(area_code)
                if area is None:
                    continue
                area_km2 = float(area.value) * conversion_factor(area.unit, "km²")
                if area_km2 <= 0 or float(money.value) / area_km2 > MAX_OUTPUT_DENSITY_YI_PER_KM2:
                    density = "infinite" if area_km2 <= 0 else f"{float(money.value) / area_km2:,.0f}"
                    raise ImplausibleValueError(
                        f"{money.where}: {money.scope_code} {money.year}: {money_code} {money.value} 亿元 over "
                        f"{area_code} {area_km2:g} km² ({area.where}) is {density} 亿元/km², above the plausible "
                        f"{MAX_OUTPUT_DENSITY_YI_PER_KM2:g} 亿元/km² (a unit slip?)"
                    )
