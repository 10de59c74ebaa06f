"""An indicator value in the catalogue's unit, and whether it is plausible.

:func:`checked_value` converts a figure to the catalogue's unit for its metric (亿元/万元/元,
km²/公顷/亩, 人/万人, 家...) with :func:`gis_service.metrics.units.conversion_factor` and
checks its sign and bounds (:mod:`gis_service.ingest.plausibility`); when it was converted,
the value and unit as given are recorded in the note (``原值 36000 万元``).
:func:`check_densities` refuses an output over an area of the same scope and year that no
park can have (a unit slip), the figures written checked together with the stored ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from gis_service.ingest.catalog import Metric
from gis_service.ingest.errors import ImplausibleValueError, NegativeValueError, UnitMismatchError, UnknownUnitError
from gis_service.ingest.indicator_records import IndicatorRecord
from gis_service.ingest.plausibility import MAX_OUTPUT_DENSITY_YI_PER_KM2, MAY_BE_NEGATIVE, bounds_for
from gis_service.ingest.sources import SCOPE_TYPES, parse_number
from gis_service.metrics.units import conversion_factor, unit_kind

#: Money metrics checked against an area of the same scope and year (density plausibility).
_OUTPUT_METRICS = ("output", "revenue", "output_above_scale")
_AREA_METRICS = ("jurisdiction_area", "published_area", "industrial_land_area", "land_area")
#: How a note records the value and unit as given when the value was converted.
ORIGINAL_PREFIX = "原值 "


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
    recorded = f"{ORIGINAL_PREFIX}{raw} {unit}" if unit != target else None
    return {"value": value, "unit": target, "note": join_notes(note, recorded)}


def without_original(note: str | None) -> str | None:
    """A note without the "原值 …" part recorded by an earlier conversion (it described an earlier value)."""
    if not note:
        return None
    kept = [part for part in note.split("; ") if not part.startswith(ORIGINAL_PREFIX)]
    return "; ".join(kept) or None


def join_notes(*parts: str | None) -> str | None:
    """Notes joined with "; " (empty parts left out); ``None`` when nothing is left."""
    return "; ".join(p for p in parts if p) or None


@dataclass(frozen=True)
class Figure:
    """A figure as the density check sees it: where it comes from, its scope, year, metric and value."""

    where: str
    scope_type: str
    scope_id: int
    scope_code: str
    year: int
    is_projection: bool
    metric_code: str
    value: float
    unit: str

    @property
    def group(self) -> tuple[str, int, int, bool]:
        return (self.scope_type, self.scope_id, self.year, self.is_projection)


def figure_of(record: IndicatorRecord) -> Figure:
    return Figure(record.where, record.scope_type, record.scope_id, record.scope_code, record.year,
                  record.is_projection, record.metric_code, float(record.value), record.unit)


_STORED_SQL = """
    SELECT id, district_id, town_id, zone_id, park_id, year, is_projection, metric_code, value, unit
    FROM indicator
    WHERE metric_code = ANY(:metrics) AND year = :year AND is_projection = :proj
      AND COALESCE(district_id, 0) = COALESCE(:district_id, 0) AND COALESCE(town_id, 0) = COALESCE(:town_id, 0)
      AND COALESCE(zone_id, 0) = COALESCE(:zone_id, 0) AND COALESCE(park_id, 0) = COALESCE(:park_id, 0)
"""


def _stored(conn: Connection, group: tuple[str, int, int, bool], code: str) -> list[Figure]:
    scope_type, scope_id, year, proj = group
    ids = {f"{s}_id": (scope_id if s == scope_type else None) for s in SCOPE_TYPES}
    rows = conn.execute(text(_STORED_SQL), {**ids, "year": year, "proj": proj,
                                            "metrics": [*_OUTPUT_METRICS, *_AREA_METRICS]})
    # a stored unit of the wrong kind (written before imports were validated) is not compared
    known = [r for r in rows if unit_kind(r.unit) == ("money" if r.metric_code in _OUTPUT_METRICS else "area")]
    return [Figure(f"stored indicator {r.id}", scope_type, scope_id, code, year, proj, r.metric_code,
                   float(r.value), r.unit) for r in known]


def check_densities(conn: Connection, figures: list[Figure]) -> None:
    """Refuse an output over an area of the same scope, year and projection above the plausible density.

    The figures to write are checked together with the stored figures of their scope and year
    (a figure to write replaces the stored one of its metric): a 管辖面积 of 1e-9 km² under a
    stored output is refused as much as one given with its output in the same file.
    """
    groups: dict[tuple[str, int, int, bool], dict[str, Figure]] = defaultdict(dict)
    for f in figures:
        groups[f.group][f.metric_code] = f
    for group, given in groups.items():
        if not any(code in given for code in (*_OUTPUT_METRICS, *_AREA_METRICS)):
            continue
        code = next(iter(given.values())).scope_code
        merged = {f.metric_code: f for f in _stored(conn, group, code)} | given
        _check_group(merged, given)


def _check_group(merged: dict[str, Figure], given: dict[str, Figure]) -> None:
    for money_code in _OUTPUT_METRICS:
        money = merged.get(money_code)
        if money is None:
            continue
        for area_code in _AREA_METRICS:
            area = merged.get(area_code)
            if area is None or (money_code not in given and area_code not in given):
                continue  # two stored figures: not this write's doing
            area_km2 = area.value * conversion_factor(area.unit, "km²")
            money_yi = money.value * conversion_factor(money.unit, "亿元")
            if area_km2 <= 0 or money_yi / area_km2 > MAX_OUTPUT_DENSITY_YI_PER_KM2:
                density = "infinite" if area_km2 <= 0 else f"{money_yi / area_km2:,.0f}"
                spot = (area if area_code in given and money_code not in given else money).where
                money_where = "" if spot == money.where else f" ({money.where})"
                raise ImplausibleValueError(
                    f"{spot}: {money.scope_code} {money.year}: {money_code} {money_yi:g} 亿元{money_where} over "
                    f"{area_code} {area_km2:g} km² ({area.where}) is {density} 亿元/km², above the plausible "
                    f"{MAX_OUTPUT_DENSITY_YI_PER_KM2:g} 亿元/km² (a unit slip?)"
                )
