"""Build a park boundary from its 四至 over a roads layer.

Method (all in EPSG:4549, metres)
---------------------------------
The boundary is traced as a ring, going clockwise round the area: the east side
from its north end to its south end, then the south side westwards, the west side
northwards and the north side eastwards, each side's features one after the other.

1. Each feature is looked up in the roads layer (:func:`match_features`), its pieces
   joined into one line, moved by its offset ("文汇路北80米" → 文汇路 translated 80 m
   north) and prolonged by ``extend_m`` at both ends, so that roads which stop just
   short of each other still meet.
2. Consecutive features meet at a corner: the intersection of their lines (of
   several, the one nearest the others' centre).  The same feature written twice in a
   row, even across sides ("西至北松公路,北至北松公路"), is one stretch of the ring.
3. The ring is the stretch of each line between its two corners; the polygon is the
   face it encloses.  Written chains may run either way along their side, so both
   orders of each multi-feature side are tried and the closed, simple ring whose
   features lie on their stated sides of the area (east features east of its centre …)
   is kept.  This closes staircase sides such as 松江工业区西区's east side, which a
   single face of the line arrangement would not.

It fails with :class:`SizhiBuildError` naming the side and feature when a feature is
missing from the layer or unnamed (河道, 开发边界 without a named line), when two
consecutive features do not meet (the sides do not close) or when no order of the
chains gives a simple ring.  A development boundary named after a feature
("G60高速开发边界") is approximated by that feature when the layer lacks it.

The result is approximate geometry by construction (centrelines, translated offsets,
approximate distances) and is flagged so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.ops import substring

from gis_service.coords.crs import AREA_CRS, STORED_CRS
from gis_service.sizhi.errors import SizhiBuildError
from gis_service.sizhi.geometry import (
    extend_line,
    point_list,
    resolve,
    roads_projected,
    single_line,
    to_storage,
)
from gis_service.sizhi.lexicon import CHAR_OF_SIDE
from gis_service.sizhi.model import SIDES, Part, Segment, Sizhi

_SIDE_VECTOR = {"east": (1.0, 0.0), "west": (-1.0, 0.0), "north": (0.0, 1.0), "south": (0.0, -1.0)}


@dataclass(frozen=True)
class SideBound:
    """What bounded one stretch of a built boundary."""

    side: str
    name: str
    kind: str
    offset: dict[str, Any] | None
    matched_names: tuple[str, ...]
    approximate: bool
    length_m: float
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "name": self.name,
            "kind": self.kind,
            "offset": self.offset,
            "matched_names": list(self.matched_names),
            "approximate": self.approximate,
            "length_m": round(self.length_m, 1),
            "note": self.note,
        }


@dataclass(frozen=True)
class PartBuild:
    """The built polygon of one part (EPSG:4326) and what bounded each side."""

    label: str | None
    polygon: Polygon
    area_km2: float
    sides: dict[str, tuple[SideBound, ...]]
    polygon_projected: Polygon = field(repr=False, compare=False, default_factory=Polygon)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "area_km2": round(self.area_km2, 4),
            "sides": {side: [b.to_dict() for b in bounds] for side, bounds in self.sides.items()},
        }


@dataclass(frozen=True)
class BuildResult:
    """A boundary built from a 四至.

    ``polygon`` is a MultiPolygon in EPSG:4326; ``area_km2`` is computed in EPSG:4549.
    ``approximate`` is always True: the geometry comes from road centrelines and
    stated offsets, not from a survey.
    """

    polygon: MultiPolygon
    area_km2: float
    parts: tuple[PartBuild, ...]
    approximate: bool = True
    notes: tuple[str, ...] = field(default=())

    def to_dict(self, *, with_geometry: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "area_km2": round(self.area_km2, 4),
            "area_crs": AREA_CRS,
            "crs": STORED_CRS,
            "approximate": self.approximate,
            "parts": [p.to_dict() for p in self.parts],
            "notes": list(self.notes),
        }
        if with_geometry:
            out["geometry"] = mapping(self.polygon)
        return out

    def to_geojson(self, **properties: Any) -> dict[str, Any]:
        """A GeoJSON FeatureCollection: one feature per part, flagged approximate."""
        features = []
        for part in self.parts:
            props = {
                "label": part.label,
                "area_km2": round(part.area_km2, 4),
                "geometry_quality": "approximate",
                "method": "四至构建 (built from 四至 over road centrelines)",
                **properties,
            }
            features.append({"type": "Feature", "properties": props, "geometry": mapping(part.polygon)})
        return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class _Entry:
    """One stretch of the ring: a located feature, possibly spanning two sides."""

    sides: tuple[str, ...]
    segment: Segment
    line: LineString
    matched_names: tuple[str, ...]
    approximate: bool
    note: str | None

    @property
    def key(self) -> tuple[str, Any]:
        return (self.segment.name, self.segment.offset)


def _entries(part: Part, layer: gpd.GeoDataFrame, reverse: dict[str, bool]) -> list[_Entry]:
    entries: list[_Entry] = []
    for side in SIDES:
        segs = list(part.side(side))
        if reverse.get(side):
            segs.reverse()
        for seg in segs:
            found = resolve(seg, layer)
            label = f"{CHAR_OF_SIDE[side]}至"
            if found.status == "unnamed":
                raise SizhiBuildError(
                    f"{label}的“{seg.name}”是无名要素,无法在道路图层中定位 (unnamed feature cannot be located)",
                    side=side,
                    feature=seg.name,
                )
            if found.line is None:
                raise SizhiBuildError(
                    f"{label}的“{seg.name}”不在道路图层中 (feature missing from the roads layer)",
                    side=side,
                    feature=seg.name,
                )
            entry = _Entry((side,), seg, single_line(found.line), found.matched_names, found.approximate, found.note)
            if entries and entries[-1].key == entry.key:
                last = entries[-1]
                entries[-1] = _Entry(tuple(dict.fromkeys(last.sides + (side,))), last.segment, last.line, last.matched_names, last.approximate, last.note)
            else:
                entries.append(entry)
    if len(entries) > 1 and entries[0].key == entries[-1].key:
        last = entries.pop()
        first = entries[0]
        entries[0] = _Entry(tuple(dict.fromkeys(last.sides + first.sides)), first.segment, first.line, first.matched_names, first.approximate, first.note)
    return entries


def _corners(entries: list[_Entry], lines: list[LineString]) -> list[Point]:
    n = len(lines)
    candidates: list[list[Point]] = []
    for k in range(n):
        a, b = entries[k], entries[(k + 1) % n]
        points = point_list(lines[k].intersection(lines[(k + 1) % n]))
        if not points:
            raise SizhiBuildError(
                f"“{a.segment.name}”与“{b.segment.name}”不相交,四至不闭合 (these features do not meet: the sides do not close)",
                side=b.sides[0],
                feature=b.segment.name,
            )
        candidates.append(points)
    ref = np.mean([[p.x, p.y] for pts in candidates for p in pts], axis=0)
    chosen: list[Point] = []
    for _ in range(3):  # settle on the mutually closest corners
        chosen = [min(pts, key=lambda p: float(np.hypot(p.x - ref[0], p.y - ref[1]))) for pts in candidates]
        ref = np.mean([[p.x, p.y] for p in chosen], axis=0)
    return chosen


def _trace(entries: list[_Entry], extend_m: float) -> tuple[Polygon, list[LineString]]:
    lines = [extend_line(e.line, extend_m) for e in entries]
    corners = _corners(entries, lines)
    n = len(entries)
    stretches: list[LineString] = []
    coords: list[tuple[float, float]] = []
    for k in range(n):
        start, end = corners[k - 1], corners[k]
        line = lines[k]
        piece = substring(line, line.project(start), line.project(end))
        if isinstance(piece, Point) or piece.is_empty:
            piece = LineString([start, end])
        stretches.append(piece)
        for xy in piece.coords:
            if not coords or np.hypot(coords[-1][0] - xy[0], coords[-1][1] - xy[1]) > 1e-6:
                coords.append((xy[0], xy[1]))
    if len(coords) < 3:
        raise SizhiBuildError("边界退化为一条线 (the boundary collapses to a line)")
    return Polygon(coords), stretches


def _side_score(entries: list[_Entry], stretches: list[LineString], polygon: Polygon) -> int:
    """How many stretches lie on the side of the area their 四至 side names."""
    centre = polygon.centroid
    score = 0
    for entry, stretch in zip(entries, stretches, strict=True):
        mid = stretch.interpolate(0.5, normalized=True)
        ux, uy = _SIDE_VECTOR[entry.sides[0]]
        if (mid.x - centre.x) * ux + (mid.y - centre.y) * uy > 0:
            score += 1
    return score


def _build_part(part: Part, layer: gpd.GeoDataFrame, extend_m: float) -> PartBuild:
    present = [side for side in SIDES if part.side(side)]
    if not present:
        raise SizhiBuildError("该部分没有东南西北四至 (the part names no east/south/west/north side)")
    flippable = [side for side in present if len(part.side(side)) > 1]
    best: tuple[int, float, Polygon, list[_Entry], list[LineString]] | None = None
    first_error: SizhiBuildError | None = None
    for flips in itertools.product((False, True), repeat=len(flippable)):
        reverse = dict(zip(flippable, flips, strict=True))
        entries = _entries(part, layer, reverse)
        if len(entries) < 3:
            raise SizhiBuildError(
                f"只有 {len(entries)} 条不同的边界线,四至不闭合 (only {len(entries)} distinct bounding lines: the sides do not close)"
            )
        try:
            polygon, stretches = _trace(entries, extend_m)
        except SizhiBuildError as exc:
            first_error = first_error or exc
            continue
        if not polygon.is_valid or polygon.area <= 0:
            first_error = first_error or SizhiBuildError("边界自相交 (the traced boundary crosses itself)")
            continue
        score = _side_score(entries, stretches, polygon)
        if best is None or score > best[0]:
            best = (score, polygon.area, polygon, entries, stretches)
    if best is None:
        assert first_error is not None
        raise first_error
    _, area, polygon, entries, stretches = best
    sides: dict[str, list[SideBound]] = {side: [] for side in SIDES}
    for entry, stretch in zip(entries, stretches, strict=True):
        for side in entry.sides:
            seg = entry.segment
            sides[side].append(
                SideBound(
                    side=side,
                    name=seg.name,
                    kind=seg.kind,
                    offset=None if seg.offset is None else seg.offset.to_dict(),
                    matched_names=entry.matched_names,
                    approximate=entry.approximate,
                    length_m=float(stretch.length),
                    note=entry.note,
                )
            )
    return PartBuild(
        label=part.label,
        polygon=to_storage(polygon),
        area_km2=area / 1e6,
        sides={side: tuple(bounds) for side, bounds in sides.items()},
        polygon_projected=polygon,
    )


def build(sizhi: Sizhi, roads: gpd.GeoDataFrame, *, extend_m: float = 500.0) -> BuildResult:
    """Build the boundary a 四至 describes.

    Parameters
    ----------
    sizhi
        Parsed 四至 (:func:`gis_service.sizhi.parse`).
    roads
        Lines with ``name`` (and ``kind``) columns in EPSG:4326.
    extend_m
        Metres by which every feature line is prolonged at both ends before corners
        are sought.

    Returns
    -------
    BuildResult
        MultiPolygon (EPSG:4326), area in km² (EPSG:4549), and per part and side the
        features that bounded it.

    Raises
    ------
    SizhiBuildError
        When a feature is missing or unnamed, or the sides do not close.
    """
    layer = roads_projected(roads)
    parts = tuple(_build_part(part, layer, extend_m) for part in sizhi.parts)
    projected = shapely.union_all([p.polygon_projected for p in parts])
    area_km2 = float(projected.area) / 1e6
    union = to_storage(projected)
    multi = union if isinstance(union, MultiPolygon) else MultiPolygon([union])
    notes = ["由四至和道路中心线构建的近似边界,非测绘成果 (approximate: built from 四至 over road centrelines)"]
    notes += sorted({b.note for p in parts for bounds in p.sides.values() for b in bounds if b.note})
    return BuildResult(polygon=multi, area_km2=area_km2, parts=parts, notes=tuple(notes))

