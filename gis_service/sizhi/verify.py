"""Check a drawn park boundary against its 四至 over a roads layer.

For each side the boundary arc facing that direction (see
:func:`gis_service.sizhi.geometry.side_arcs`) is compared with the side's features,
offsets applied: *coverage* is the share of the arc's length within ``tolerance_m``
of any of them, *max distance* the farthest the arc strays from them.

Status of a side (thresholds are keyword arguments of :func:`verify`):

- ``pass`` (通过): coverage ≥ ``pass_pct`` (80 %);
- ``warn`` (存疑): coverage ≥ ``warn_pct`` (50 %), or ≥ ``partial_warn_pct`` (25 %)
  when some features of the side could not be located (unnamed or missing), since
  they may bound the rest of the arc;
- ``fail`` (不符): below that;
- ``unverifiable`` (无法核验): no feature of the side could be located (only 河道,
  开发边界…, or all missing from the layer), or the side is not described.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis_service.coords.crs import AREA_CRS
from gis_service.sizhi.errors import SizhiVerifyError
from gis_service.sizhi.geometry import ResolvedFeature, check_lonlat, max_distance, resolve, roads_projected, side_arcs, to_projected
from gis_service.sizhi.lexicon import CHAR_OF_SIDE
from gis_service.sizhi.model import SIDES, Part, Sizhi

STATUS_LABELS = {"pass": "通过", "warn": "存疑", "fail": "不符", "unverifiable": "无法核验"}
_RANK = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class FeatureCheck:
    """One feature of a side: was it found in the roads layer, and as what."""

    name: str
    kind: str
    offset: dict[str, Any] | None
    status: str  # found | missing | unnamed
    matched_names: tuple[str, ...]
    approximate: bool
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "offset": self.offset,
            "status": self.status,
            "found": self.status == "found",
            "matched_names": list(self.matched_names),
            "approximate": self.approximate,
            "note": self.note,
        }


@dataclass(frozen=True)
class SideReport:
    """Verification of one side of one part."""

    side: str
    status: str
    coverage_pct: float | None
    max_distance_m: float | None
    boundary_length_m: float
    features: tuple[FeatureCheck, ...]
    reason: str

    @property
    def missing(self) -> list[str]:
        return [f.name for f in self.features if f.status == "missing"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "side_label": f"{CHAR_OF_SIDE[self.side]}至",
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "coverage_pct": None if self.coverage_pct is None else round(self.coverage_pct, 1),
            "max_distance_m": None if self.max_distance_m is None else round(self.max_distance_m, 1),
            "boundary_length_m": round(self.boundary_length_m, 1),
            "found": [f.name for f in self.features if f.status == "found"],
            "missing": self.missing,
            "unverifiable": [f.name for f in self.features if f.status == "unnamed"],
            "features": [f.to_dict() for f in self.features],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PartReport:
    """Verification of one part against one polygon of the boundary."""

    label: str | None
    polygon_index: int | None
    sides: dict[str, SideReport]

    @property
    def status(self) -> str:
        return overall_status(s.status for s in self.sides.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "polygon_index": self.polygon_index,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "sides": {side: report.to_dict() for side, report in self.sides.items()},
        }


@dataclass(frozen=True)
class VerifyReport:
    """Result of :func:`verify`; ``to_dict()`` is JSON-able (print with ensure_ascii=False)."""

    tolerance_m: float
    parts: tuple[PartReport, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        return overall_status(p.status for p in self.parts)

    def side(self, side: str, part: int = 0) -> SideReport:
        """Report of ``side`` in part number ``part``."""
        return self.parts[part].sides[side]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "tolerance_m": self.tolerance_m,
            "crs": AREA_CRS,
            "parts": [p.to_dict() for p in self.parts],
            "notes": list(self.notes),
        }


def overall_status(statuses: Any) -> str:
    """Worst verifiable status; ``unverifiable`` only when nothing could be checked."""
    checked = [s for s in statuses if s != "unverifiable"]
    if not checked:
        return "unverifiable"
    return max(checked, key=lambda s: _RANK[s])


def _polygons(boundary: BaseGeometry) -> list[Polygon]:
    if isinstance(boundary, Polygon):
        polys = [boundary]
    elif isinstance(boundary, MultiPolygon):
        polys = list(boundary.geoms)
    else:
        raise SizhiVerifyError(f"boundary must be a Polygon or MultiPolygon, got {getattr(boundary, 'geom_type', type(boundary).__name__)}")
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        raise SizhiVerifyError("boundary is empty (边界为空)")
    return polys


def _check_side(side: str, arc: BaseGeometry, resolved: list[ResolvedFeature], tolerance_m: float, thresholds: tuple[float, float, float]) -> SideReport:
    pass_pct, warn_pct, partial_warn_pct = thresholds
    checks = tuple(
        FeatureCheck(
            name=r.segment.name,
            kind=r.segment.kind,
            offset=None if r.segment.offset is None else r.segment.offset.to_dict(),
            status=r.status,
            matched_names=r.matched_names,
            approximate=r.approximate,
            note=r.note,
        )
        for r in resolved
    )
    length = float(arc.length)
    if not resolved:
        return SideReport(side, "unverifiable", None, None, length, checks, "四至未描述该侧 (side not described)")
    lines = [r.line for r in resolved if r.line is not None]
    if not lines:
        return SideReport(side, "unverifiable", None, None, length, checks, "该侧要素均无法在道路图层中定位 (no feature of this side could be located)")
    if length == 0:
        return SideReport(side, "fail", 0.0, None, 0.0, checks, "边界没有朝向该侧的部分 (no boundary faces this side)")
    target = shapely.union_all(lines)
    covered = arc.intersection(target.buffer(tolerance_m)).length
    coverage = 100.0 * covered / length
    distance = max_distance(arc, target)
    incomplete = len(lines) < len(resolved)
    if coverage >= pass_pct:
        status = "pass"
    elif coverage >= (partial_warn_pct if incomplete else warn_pct):
        status = "warn"
    else:
        status = "fail"
    reason = f"{coverage:.1f}% 的边界在要素 {tolerance_m:g} 米以内 (within tolerance), 最大偏离 {distance:.0f} 米"
    if incomplete:
        reason += "; 部分要素未能定位 (some features not located)"
    return SideReport(side, status, coverage, distance, length, checks, reason)


def _check_part(part: Part, arcs: dict[str, BaseGeometry], resolved: dict[str, list[ResolvedFeature]], tolerance_m: float, thresholds: tuple[float, float, float], index: int | None) -> PartReport:
    sides = {side: _check_side(side, arcs[side], resolved[side], tolerance_m, thresholds) for side in SIDES}
    return PartReport(label=part.label, polygon_index=index, sides=sides)


def _score(report: PartReport) -> float:
    values = [s.coverage_pct for s in report.sides.values() if s.coverage_pct is not None]
    return sum(values) / len(values) if values else -1.0


def verify(
    boundary: BaseGeometry,
    sizhi: Sizhi,
    roads: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 150.0,
    pass_pct: float = 80.0,
    warn_pct: float = 50.0,
    partial_warn_pct: float = 25.0,
) -> VerifyReport:
    """Check a park boundary against its 四至.

    Parameters
    ----------
    boundary
        The park's Polygon or MultiPolygon in EPSG:4326.
    sizhi
        Its parsed 四至 (:func:`gis_service.sizhi.parse`).
    roads
        Lines with ``name`` (and ``kind``) columns, EPSG:4326.
    tolerance_m
        Distance in metres within which the boundary counts as following a feature.
    pass_pct, warn_pct, partial_warn_pct
        Coverage thresholds in percent (see the module docstring).

    Returns
    -------
    VerifyReport
        Per part and side: features found/missing/unnamed, coverage %, max distance
        (m, EPSG:4549), status.  With several parts, each part is checked against the
        polygon it fits best; with one part, against all polygons together.
    """
    if tolerance_m <= 0:
        raise SizhiVerifyError(f"tolerance must be positive, got {tolerance_m}")
    polys = _polygons(boundary)
    check_lonlat(boundary)
    polys = [to_projected(p) for p in polys]
    layer = roads_projected(roads)
    thresholds = (pass_pct, warn_pct, partial_warn_pct)
    notes: list[str] = []
    arcs_per_poly = [side_arcs(p) for p in polys]
    reports: list[PartReport] = []
    used: set[int] = set()
    for part in sizhi.parts:
        resolved = {side: [resolve(seg, layer) for seg in part.side(side)] for side in SIDES}
        if len(sizhi.parts) == 1 or len(polys) == 1:
            merged = {side: _merge_lines([a[side] for a in arcs_per_poly]) for side in SIDES}
            reports.append(_check_part(part, merged, resolved, tolerance_m, thresholds, None if len(polys) > 1 else 0))
            continue
        candidates = [
            _check_part(part, arcs_per_poly[i], resolved, tolerance_m, thresholds, i) for i in range(len(polys)) if i not in used
        ] or [_check_part(part, arcs_per_poly[i], resolved, tolerance_m, thresholds, i) for i in range(len(polys))]
        best = max(candidates, key=_score)
        used.add(best.polygon_index if best.polygon_index is not None else -1)
        reports.append(best)
    if len(sizhi.parts) > 1 and len(polys) < len(sizhi.parts):
        notes.append(f"四至有 {len(sizhi.parts)} 部分,边界只有 {len(polys)} 个多边形 (fewer polygons than parts)")
    return VerifyReport(tolerance_m=tolerance_m, parts=tuple(reports), notes=tuple(notes))


def _merge_lines(lines: list[BaseGeometry]) -> BaseGeometry:
    lines = [line for line in lines if not line.is_empty]
    if len(lines) == 1:
        return lines[0]
    return MultiLineString([list(line.coords) for line in lines]) if lines else MultiLineString()
