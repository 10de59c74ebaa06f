"""Geometry shared by verify and build.  All work is in EPSG:4549 (metres).

EPSG:4549 is :data:`gis_service.coords.crs.AREA_CRS` (CGCS2000 / 3-degree Gauss-Kruger
CM 120E, which covers Songjiang); x is easting, y northing (axis order forced to x, y).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import linemerge

from gis_service.coords.crs import STORED_CRS, from_area_crs, to_area_crs
from gis_service.errors import InputError
from gis_service.ingest.limits import SHANGHAI_EXTENT
from gis_service.sizhi.matching import match_features
from gis_service.sizhi.model import Offset, Segment

_UNIT = {"east": (1.0, 0.0), "west": (-1.0, 0.0), "north": (0.0, 1.0), "south": (0.0, -1.0)}


def to_projected(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4326 (lon, lat) → EPSG:4549 metres."""
    return to_area_crs(geom, STORED_CRS)


def to_storage(geom: BaseGeometry) -> BaseGeometry:
    """EPSG:4549 metres → EPSG:4326 (lon, lat)."""
    return from_area_crs(geom, STORED_CRS)


def check_lonlat(geom: BaseGeometry, extent: tuple[float, float, float, float] = SHANGHAI_EXTENT, *,
                 what: str = "boundary") -> None:
    """Raise :class:`InputError` (naming ``what``) unless every coordinate of ``geom`` is a finite
    EPSG:4326 lon/lat inside ``extent`` (lon_min, lat_min, lon_max, lat_max).

    Checked before any GEOS operation: projected (metre) or huge coordinates project to infinite
    EPSG:4549 ones, on which GEOS fails, and a polygon far outside the zone of EPSG:4549 would be
    densified (every 10 m) into millions of points.
    """
    coords = shapely.get_coordinates(geom)
    lon_min, lat_min, lon_max, lat_max = extent
    inside = np.isfinite(coords).all(axis=1)
    inside[inside] = ((coords[inside, 0] >= lon_min) & (coords[inside, 0] <= lon_max)
                      & (coords[inside, 1] >= lat_min) & (coords[inside, 1] <= lat_max))
    if inside.all():
        return
    i = int(np.argmin(inside))
    x, y = (float(v) for v in coords[i])
    projected = not (abs(x) <= 180 and abs(y) <= 90)
    hint = "; these look like projected coordinates (metres?), not degrees" if projected else ""
    raise InputError(
        f"{what}: coordinate {i} ({x:g}, {y:g}) is not an EPSG:4326 lon/lat inside the accepted area "
        f"lon {lon_min:g}..{lon_max:g}, lat {lat_min:g}..{lat_max:g}{hint} (坐标须为上海范围内的经纬度)"
    )


def roads_projected(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate a roads layer and return it in EPSG:4549.

    The layer needs ``name`` and ``geometry`` columns (``kind`` is optional) and line
    geometries.  A layer without a CRS is taken to be EPSG:4326, the storage CRS.
    """
    if not isinstance(roads, gpd.GeoDataFrame):
        raise InputError(f"roads must be a GeoDataFrame, got {type(roads).__name__}")
    if "name" not in roads.columns:
        raise InputError("roads layer has no 'name' column (道路图层缺少 name 列)")
    layer = roads[~roads.geometry.isna() & ~roads.geometry.is_empty]
    bad = layer[~layer.geom_type.isin(["LineString", "MultiLineString"])]
    if len(bad):
        first = bad.index[0]
        raise InputError(f"roads row {first!r} ({bad.iloc[0]['name']!r}) is a {bad.iloc[0].geometry.geom_type}, not a line")
    return to_area_crs(layer, STORED_CRS)


def single_line(geom: BaseGeometry) -> LineString:
    """One LineString through all pieces of a (Multi)LineString.

    Pieces that do not touch are chained greedily by nearest ends and bridged with a
    straight segment: road layers often store a road in several pieces.
    """
    merged = linemerge(geom) if isinstance(geom, MultiLineString) else geom
    if isinstance(merged, LineString):
        return merged
    pieces = sorted((list(p.coords) for p in merged.geoms), key=lambda c: -LineString(c).length)
    chain = pieces.pop(0)
    while pieces:
        best: tuple[float, int, bool, bool] | None = None
        for i, coords in enumerate(pieces):
            for at_end in (True, False):
                anchor = np.array(chain[-1] if at_end else chain[0])
                for reverse in (False, True):
                    c = coords[::-1] if reverse else coords
                    joint = np.array(c[0] if at_end else c[-1])
                    d = float(np.hypot(*(anchor - joint)))
                    if best is None or d < best[0]:
                        best = (d, i, at_end, reverse)
        assert best is not None
        _, i, at_end, reverse = best
        coords = pieces.pop(i)
        coords = coords[::-1] if reverse else coords
        chain = chain + coords if at_end else coords + chain
    return LineString(chain)


def extend_line(line: LineString, meters: float) -> LineString:
    """``line`` prolonged by ``meters`` at both ends along its end segments."""
    coords = np.asarray(line.coords, dtype=float)
    if meters <= 0 or len(coords) < 2:
        return line

    def prolong(end: np.ndarray, inner: np.ndarray) -> np.ndarray:
        direction = end - inner
        norm = float(np.hypot(*direction[:2]))
        return end if norm == 0 else end + direction / norm * meters

    start = prolong(coords[0], coords[1])
    finish = prolong(coords[-1], coords[-2])
    return LineString(np.vstack([start, coords, finish]))


def apply_offset(geom: BaseGeometry, offset: Offset | None) -> BaseGeometry:
    """The line ``offset.meters`` to the ``offset.direction`` of ``geom`` (a translation).

    "文汇路北80米" is 文汇路 moved 80 m north.  Without a distance ("以北") the feature
    itself bounds the area, so the geometry is returned unchanged.
    """
    if offset is None or not offset.meters:
        return geom
    ux, uy = _UNIT[offset.direction]
    return shapely.affinity.translate(geom, xoff=ux * offset.meters, yoff=uy * offset.meters)


@dataclass(frozen=True)
class ResolvedFeature:
    """A segment located in the roads layer (EPSG:4549)."""

    segment: Segment
    line: BaseGeometry | None
    matched_names: tuple[str, ...]
    approximate: bool
    status: str  # "found" | "missing" | "unnamed"
    note: str | None = None


def resolve(segment: Segment, roads_4549: gpd.GeoDataFrame) -> ResolvedFeature:
    """Locate ``segment`` in the projected roads layer and apply its offset.

    Generic features (河道, 开发边界) cannot be located and come back ``unnamed``.  A
    development boundary named after a feature ("G60高速开发边界") that the layer does
    not carry is approximated by that feature and flagged ``approximate``.
    """
    seg = segment
    rows = match_features(seg.name, roads_4549, seg.aliases) if not seg.unnamed else roads_4549.iloc[0:0]
    approximate, note = False, None
    if rows.empty and seg.along:
        rows = match_features(seg.along, roads_4549)
        approximate = not rows.empty
        note = f"以“{seg.along}”近似“{seg.name}” (approximated by {seg.along})" if approximate else None
    if seg.unnamed and rows.empty:
        return ResolvedFeature(seg, None, (), False, "unnamed", "无名要素,道路图层无法定位 (unnamed feature)")
    if rows.empty:
        return ResolvedFeature(seg, None, (), False, "missing", "道路图层中没有该要素 (not in the roads layer)")
    merged = shapely.union_all(rows.geometry.to_numpy())
    lines = shapely.line_merge(merged) if merged.geom_type == "MultiLineString" else merged
    line = apply_offset(lines, seg.offset)
    approximate = approximate or bool(seg.offset and seg.offset.approx)
    names = tuple(dict.fromkeys(str(n) for n in rows["name"]))
    return ResolvedFeature(seg, line, names, approximate, "found", note)


def side_arcs(polygon: shapely.Polygon, step_m: float = 10.0) -> dict[str, LineString]:
    """Split a polygon's exterior into the parts facing east, south, west and north.

    The four "corners" are the ring's extreme points towards NE (max x+y), SE (max
    x−y), SW (min x+y) and NW (min x−y).  Walking the ring clockwise, the east side
    runs NE→SE, the south side SE→SW, the west side SW→NW and the north side NW→NE,
    which is how a 四至 assigns a staircase edge to the side it belongs to.
    """
    ring = orient(polygon, sign=-1.0).exterior
    ring = shapely.segmentize(ring, step_m)
    pts = np.asarray(ring.coords)[:-1, :2]
    n = len(pts)
    s, d = pts[:, 0] + pts[:, 1], pts[:, 0] - pts[:, 1]
    corners = {"ne": int(np.argmax(s)), "se": int(np.argmax(d)), "sw": int(np.argmin(s)), "nw": int(np.argmin(d))}

    def walk(a: int, b: int) -> LineString:
        idx = [a]
        i = a
        while i != b:
            i = (i + 1) % n
            idx.append(i)
        if len(idx) < 2:
            return LineString()
        return LineString(pts[idx])

    return {
        "east": walk(corners["ne"], corners["se"]),
        "south": walk(corners["se"], corners["sw"]),
        "west": walk(corners["sw"], corners["nw"]),
        "north": walk(corners["nw"], corners["ne"]),
    }


def max_distance(line: BaseGeometry, target: BaseGeometry, step_m: float = 5.0) -> float:
    """Largest distance (m) from a point of ``line`` (sampled every ``step_m``) to ``target``."""
    dense = shapely.segmentize(line, step_m)
    coords = shapely.get_coordinates(dense)
    if len(coords) == 0:
        return float("nan")
    return float(shapely.distance(shapely.points(coords), target).max())


def point_list(geom: BaseGeometry) -> list[Point]:
    """Points of an intersection result (points, or the ends of overlapping lines)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Point):
        return [geom]
    if isinstance(geom, LineString):
        return [Point(geom.coords[0]), Point(geom.coords[-1])]
    out: list[Point] = []
    for part in getattr(geom, "geoms", []):
        out.extend(point_list(part))
    return out
