"""Overlaps between the patches of a land-use survey snapshot, which must be a partition.

Two patches of one snapshot may share edges, never ground.  Candidates come from an STRtree
over the patches' bounding boxes shrunk by about 1 cm, so neighbours whose boxes merely touch
(a grid of parcels, a street block) are not candidates; a candidate pair overlaps when the
interiors meet in an area (DE-9IM ``2********``) and the shared area, measured in EPSG:4549,
exceeds the tolerance (1 m²: digitising slivers below it are not reported).

A survey's patches usually form a clean *coverage*: neighbours share their edges vertex for
vertex.  :class:`PartitionCheck` proves that, chunk by chunk while the patches stream past, at
a fraction of the pairwise test's cost (1M patches: ~3 s instead of ~30 s); only when it
cannot prove it does the import run :func:`partition_overlaps` over all patches, so the
answer is the same either way (see :class:`PartitionCheck` for the argument).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gis_service.coords.crs import STORED_CRS, projected_areas_m2

#: overlaps up to this area (m², EPSG:4549) are digitising slivers, not reported
OVERLAP_TOLERANCE_M2 = 1.0
#: bounding boxes are shrunk by this much (degrees, about 1 cm) before the candidate search
_SHRINK_DEG = 1e-7
#: how far (degrees², ~0.1 m² in Songjiang) the two area sums of :class:`PartitionCheck` may differ by rounding
_AREA_SLACK_DEG2 = 1e-11


@dataclass(frozen=True)
class Overlaps:
    """Pairs of patches (positions) whose shared ground exceeds the tolerance."""

    first: np.ndarray
    second: np.ndarray
    area_m2: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    @classmethod
    def none(cls) -> Overlaps:
        empty = np.zeros(0, dtype=np.intp)
        return cls(empty, empty.copy(), np.zeros(0))


def partition_overlaps(geoms: np.ndarray, *, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> Overlaps:
    """Overlapping pairs among ``geoms`` (EPSG:4326 polygons), largest first."""
    bounds = shapely.bounds(geoms)
    shrink = np.minimum(_SHRINK_DEG, np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 4)
    boxes = shapely.box(bounds[:, 0] + shrink, bounds[:, 1] + shrink, bounds[:, 2] - shrink, bounds[:, 3] - shrink)
    first, second = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    del boxes, bounds, shrink
    keep = first < second
    first, second = first[keep], second[keep]
    if len(first):
        meet = shapely.relate_pattern(geoms[first], geoms[second], "2********")
        first, second = first[meet], second[meet]
    area = projected_areas_m2(shapely.intersection(geoms[first], geoms[second]), STORED_CRS) if len(first) else np.zeros(0)
    big = area > tolerance_m2
    order = np.argsort(-area[big], kind="stable")
    return Overlaps(first[big][order], second[big][order], area[big][order])


class PartitionCheck:
    """Proves, chunk by chunk, that polygons form a coverage without overlaps.

    Feed it every chunk of polygons (:meth:`add`, any order, each polygon once), then ask
    :meth:`proven`.  ``True`` means no two of the polygons share any area, so
    :func:`partition_overlaps` would find nothing; ``False`` means only that the proof did
    not go through (the polygons may still not overlap): run :func:`partition_overlaps`.

    The argument.  Orient every ring so that its polygon lies on its left (shells
    counter-clockwise, holes clockwise); then the number of polygons covering a point,
    ``w(x)``, is the winding number of the sum of all these directed segments.  A segment
    and the same segment reversed (two neighbours sharing an edge, vertex for vertex) cancel
    in that sum, so ``w`` is also the winding number of the *remaining* segments ``C``.
    :meth:`add` cancels such pairs as the chunks come (comparing coordinates exactly) and
    keeps the rest; a segment found twice in the same direction, or three times, ends the
    proof.  At the end, if ``C`` is exactly the oriented boundary of a valid (Multi)Polygon
    ``R`` (built from ``C`` by GEOS and compared segment by segment), ``w`` is 1 inside
    ``R`` and 0 outside: no point is covered twice.  A ring oriented the wrong way would
    change the signed area of ``C`` by twice its area; the signed area of ``C`` must equal
    the sum of the polygons' areas within rounding (``_AREA_SLACK_DEG2``, ~0.1 m²), so a
    ring that could still be misread is smaller than that, and so would be any overlap it hid:
    far below the 1 m² tolerance.  Anything unexpected (a part that is not a polygon, crossing
    segments, GEOS refusing the linework) ends the proof, never the import.
    """

    def __init__(self) -> None:
        self._ok = True
        self._area_parts: list[float] = []
        # the segments not cancelled yet: canonical ends (lo.x, lo.y, hi.x, hi.y) with lo < hi,
        # whether the polygon is on the left going lo → hi, and the segment's hash
        self._ends = np.zeros((0, 4))
        self._forward = np.zeros(0, dtype=bool)
        self._key = np.zeros(0, dtype=np.uint64)

    @property
    def open_segments(self) -> int:
        """Segments not (yet) cancelled by a neighbour's."""
        return len(self._key)

    def add(self, geoms: np.ndarray, wkb: pa.Array | None = None) -> None:
        """Take the next polygons (Polygon/MultiPolygon, valid, 2D), and optionally their
        little-endian (E)WKB (``wkb``, Arrow binary, one value per polygon: read instead of
        the geometries where a polygon has one ring)."""
        if not self._ok or len(geoms) == 0:
            return
        try:
            self._add(geoms, wkb)
        except Exception:  # noqa: BLE001 (the proof is a shortcut: anything unexpected ends it)
            self._give_up()

    def _add(self, geoms: np.ndarray, wkb: pa.Array | None) -> None:
        self._area_parts.append(float(np.sum(shapely.area(geoms))))
        segments = _directed_segments(geoms, wkb)
        if segments is None:
            self._give_up()
            return
        ends, forward = segments
        key = np.concatenate([self._key, _segment_keys(ends)])
        ends = np.concatenate([self._ends, ends])
        forward = np.concatenate([self._forward, forward])
        codes, uniques = pd.factorize(key)  # codes numbered in order of first appearance
        counts = np.bincount(codes, minlength=len(uniques))
        if counts.max(initial=0) > 2:
            self._give_up()  # three or more segments share a key
            return
        is_first = np.ones(len(codes), dtype=bool)
        is_first[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
        first = np.flatnonzero(is_first)  # first[c]: where code c appears first
        second = np.flatnonzero(~is_first)  # where a code appears again (the second and last time)
        a = first[codes[second]]
        if not ((ends[a] == ends[second]).all() and (forward[a] != forward[second]).all()):
            self._give_up()  # the same segment twice one way (an overlap), or a hash collision
            return
        keep = first[counts == 1]
        self._ends, self._forward, self._key = ends[keep], forward[keep], key[keep]

    def proven(self) -> bool:
        """Whether the polygons added are proven not to overlap (see the class)."""
        try:
            return self._proven()
        except Exception:  # noqa: BLE001 (see add)
            return False

    def _proven(self) -> bool:
        if not self._ok:
            return False
        if not self._area_parts:
            return True
        if len(self._key) < 3:
            return False
        lo, hi = self._ends[:, :2], self._ends[:, 2:]
        start = np.where(self._forward[:, None], lo, hi)
        end = np.where(self._forward[:, None], hi, lo)
        origin = start[0]
        a, b = start - origin, end - origin
        signed_area = float(np.sum(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1])) / 2
        if abs(signed_area - math.fsum(self._area_parts)) > _AREA_SLACK_DEG2:
            return False
        lines = shapely.linestrings(np.stack([start, end], axis=1))
        area = shapely.build_area(shapely.multilinestrings(lines))  # (GEOS may refuse crossing segments)
        if shapely.get_type_id(area) not in (3, 6) or shapely.is_empty(area) or not shapely.is_valid(area):
            return False
        boundary = _directed_segments(np.array([shapely.orient_polygons(area)]))
        if boundary is None or len(boundary[1]) != len(self._key):
            return False
        mine = np.column_stack([self._ends, self._forward])
        theirs = np.column_stack([boundary[0], boundary[1]])
        return bool(np.array_equal(_sorted_rows(mine), _sorted_rows(theirs)))

    def _give_up(self) -> None:
        self._ok = False
        self._ends, self._forward, self._key = np.zeros((0, 4)), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.uint64)


def _directed_segments(geoms: np.ndarray, wkb: pa.Array | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The rings' segments: canonical ends ``(lo.x, lo.y, hi.x, hi.y)`` with ``lo < hi``, and
    whether the polygon lies on the left going lo → hi; zero-length segments dropped.
    None if a part is not a polygon."""
    rings = _rings(geoms, wkb)
    if rings is None:
        return None
    coords, ring, left = rings
    coords = coords + 0.0  # -0.0 as 0.0 (the hash reads the bits)
    inner = np.flatnonzero(ring[1:] == ring[:-1])  # segment i joins coordinates i and i + 1 of one ring
    start, end = coords[inner], coords[inner + 1]
    same_x = start[:, 0] == end[:, 0]
    ascending = (start[:, 0] < end[:, 0]) | (same_x & (start[:, 1] < end[:, 1]))
    keep = ascending | ~same_x | (start[:, 1] != end[:, 1])
    if not keep.all():
        start, end, ascending, inner = start[keep], end[keep], ascending[keep], inner[keep]
    ends = np.empty((len(start), 4))
    ends[:, :2] = np.where(ascending[:, None], start, end)
    ends[:, 2:] = np.where(ascending[:, None], end, start)
    return ends, ascending == left[ring[inner]]


def _rings(geoms: np.ndarray, wkb: pa.Array | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Coordinates of every ring, the ring of each coordinate, and per ring whether its
    polygon lies on its left in its stored order (a counter-clockwise shell, a clockwise hole)."""
    simple = _one_ring_polygons(wkb) if wkb is not None and len(wkb) == len(geoms) else None
    if simple is not None and simple[0].all():
        return simple[1], simple[2], _counter_clockwise(simple[1], simple[2], int(simple[0].sum()))
    if simple is not None:  # the one-ring polygons from the WKB, the others through GEOS
        others = _rings(geoms[~simple[0]], None)
        if others is None:
            return None
        n = int(simple[0].sum())
        left = _counter_clockwise(simple[1], simple[2], n)
        return (np.concatenate([simple[1], others[0]]), np.concatenate([simple[2], others[1] + n]),
                np.concatenate([left, others[2]]))
    parts = shapely.get_parts(geoms)
    if (shapely.get_type_id(parts) != 3).any():
        return None
    if shapely.get_num_interior_rings(parts).any():
        ring_geoms, part = shapely.get_rings(parts, return_index=True)
        shell = np.ones(len(ring_geoms), dtype=bool)
        shell[1:] = part[1:] != part[:-1]  # a polygon's first ring is its shell
    else:
        ring_geoms, shell = shapely.get_exterior_ring(parts), np.ones(len(parts), dtype=bool)
    coords, ring = shapely.get_coordinates(ring_geoms, return_index=True)
    return coords, ring, shapely.is_ccw(ring_geoms) == shell


def _counter_clockwise(coords: np.ndarray, ring: np.ndarray, n: int) -> np.ndarray:
    """Per ring: counter-clockwise (shoelace about the first point, which is near: rings are closed)."""
    rel = coords - coords[0]
    cross = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    same = ring[1:] == ring[:-1]
    return np.bincount(ring[1:][same], weights=cross[same], minlength=n) > 0


def _one_ring_polygons(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """From little-endian 2D (E)WKB MultiPolygons: which have one part of one ring, and those
    rings' coordinates with the ring (= position among them) of each; None if unreadable."""
    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    if not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)) or wkb.null_count:
        return None
    n = len(wkb)
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(wkb.type) else np.int32,
                            count=wkb.offset + n + 1)[wkb.offset:].astype(np.int64)
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)
    start, length = offsets[:-1], np.diff(offsets)
    if n == 0 or length.min() < 30:
        return None
    kind = _u32(data, start + 1)
    head = np.where(kind == 0x20000006, 9, np.where(kind == 6, 5, -1))  # MultiPolygon with / without SRID
    ok = (data[start] == 1) & (head > 0)
    part = start + np.maximum(head, 0)
    ok &= (_u32(data, part) == 1) & (data[part + 4] == 1) & (_u32(data, part + 5) == 3) & (_u32(data, part + 9) == 1)
    points = _u32(data, part + 13).astype(np.int64)
    first_coord = part + 17
    ok &= first_coord + 16 * points == start + length
    if ok.all() and (head == head[0]).all():  # every value a one-ring polygon: all but the headers
        mask = np.zeros(len(data), dtype=bool)
        mask[offsets[0]:offsets[-1]] = True
        mask[(start[:, None] + np.arange(int(head[0]) + 17)).ravel()] = False
    else:
        step = np.zeros(len(data) + 1, dtype=np.int8)
        step[first_coord[ok]] = 1
        step[(start + length)[ok]] -= 1
        mask = np.cumsum(step[:-1], dtype=np.int8).astype(bool)
    coords = data[mask].view("<f8").reshape(-1, 2)
    ring = np.repeat(np.arange(int(ok.sum())), points[ok])
    return ok, coords, ring


def _u32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Little-endian uint32 at byte positions ``at`` of ``data``."""
    at = np.minimum(at, len(data) - 4)
    b = data[at[:, None] + np.arange(4)].astype(np.uint32)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _segment_keys(ends: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each segment's ends (equal segments, equal keys)."""
    bits = np.ascontiguousarray(ends).view(np.uint64)
    key = _mix(bits[:, 0])
    for k in (1, 2, 3):
        key = _mix(key ^ bits[:, k])
    return key


def _sorted_rows(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort(rows.T[::-1])]
