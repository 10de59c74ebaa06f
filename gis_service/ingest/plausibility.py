"""Plausibility bounds of imported figures: the one place where they are defined.

A figure outside its bounds is refused (:class:`~gis_service.ingest.errors.ImplausibleValueError`)
rather than stored: such values are almost always a unit slip (万元 typed as 亿元) or a
typing error.  Bounds are in the metric's canonical unit (the ``unit`` column of the
metric catalogue, ``data/layers/metrics.csv``) and are deliberately generous: they catch
orders of magnitude, not judgements.

Reference points (shared/DOMAIN.md; 003/004 in shared/seeds):

- the largest block of 张江高新区松江园 had an output of 165 亿元 (2020, 004 附件) and the
  whole 松江园 a 四上 revenue of 1274.61 亿元 (004 表1); Shanghai's entire industrial output
  is of the order of 40,000 亿元, so one park above 10,000 亿元 is not plausible;
- Shanghai's industrial parks produce 76.7 亿元/km² (2020, 003) and the 2025 target is 80
  (001 表1 #9): a density above 1,000 亿元/km² is not plausible;
- Songjiang district is about 604.64 km²: no park or town is larger than 700 km².

Only the metrics listed in :data:`MAY_BE_NEGATIVE` may be negative (a loss, a decline).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """Inclusive bounds of a plausible value in the metric's canonical unit."""

    low: float
    high: float
    why: str


#: Bounds of specific metrics, by metric code.
METRIC_BOUNDS: dict[str, Bounds] = {
    "output": Bounds(0, 10_000, "one park's output above 10,000 亿元 (Shanghai's industry is ~40,000 亿元)"),
    "output_above_scale": Bounds(0, 20_000, "a district's above-scale output above 20,000 亿元"),
    "revenue": Bounds(0, 20_000, "revenue above 20,000 亿元"),
    "tax": Bounds(0, 2_000, "tax above 2,000 亿元"),
    "profit": Bounds(-2_000, 2_000, "profit beyond ±2,000 亿元"),
    "employees": Bounds(0, 2_000_000, "more than 2 million employees"),
    "enterprises": Bounds(0, 200_000, "more than 200,000 registered enterprises"),
    "jurisdiction_area": Bounds(0, 700, "larger than Songjiang district (604.64 km²)"),
    "published_area": Bounds(0, 700, "larger than Songjiang district (604.64 km²)"),
    "industrial_land_area": Bounds(0, 700, "larger than Songjiang district (604.64 km²)"),
    "land_area": Bounds(0, 70_000, "larger than Songjiang district (60,464 公顷)"),
    "output_above_scale_growth_pct": Bounds(-100, 100, "a yearly growth beyond ±100 %"),
    "industrial_fai_growth_pct": Bounds(-100, 100, "a yearly growth beyond ±100 %"),
    "energy_intensity_reduction_pct": Bounds(-100, 100, "a change beyond ±100 %"),
}

#: Bounds by canonical unit, for metrics without their own entry.
UNIT_BOUNDS: dict[str, Bounds] = {
    "亿元": Bounds(0, 20_000, "above 20,000 亿元"),
    "亿美元": Bounds(0, 3_000, "above 3,000 亿美元"),
    "亿元/km²": Bounds(0, 1_000, "a density above 1,000 亿元/km² (Shanghai's parks: 76.7, 003)"),
    "km²": Bounds(0, 700, "larger than Songjiang district (604.64 km²)"),
    "公顷": Bounds(0, 70_000, "larger than Songjiang district (60,464 公顷)"),
    "%": Bounds(0, 100, "a share outside 0-100 %"),
    "家": Bounds(0, 200_000, "more than 200,000"),
    "个": Bounds(0, 100_000, "more than 100,000"),
    "件": Bounds(0, 1_000_000, "more than 1,000,000"),
    "人": Bounds(0, 2_000_000, "more than 2 million persons"),
    "位": Bounds(0, 1_000, "more than 1,000 per 1,000 staff"),
}

#: Metrics whose value may be negative.
MAY_BE_NEGATIVE = frozenset(
    {"profit", "output_above_scale_growth_pct", "industrial_fai_growth_pct", "energy_intensity_reduction_pct"}
)

#: An output (or revenue) over an area of the same scope and year above this density is refused.
MAX_OUTPUT_DENSITY_YI_PER_KM2 = 1_000.0

_FALLBACK = Bounds(0, 1e12, "beyond 10^12")


def bounds_for(metric_code: str, canonical_unit: str) -> Bounds:
    """The plausibility bounds of a metric (its own, else its unit's, else only non-negative)."""
    return METRIC_BOUNDS.get(metric_code) or UNIT_BOUNDS.get(canonical_unit) or _FALLBACK
