"""Overlaps between the patches of a land-use survey snapshot, which must be a partition.

Two patches of one snapshot may share edges, never ground.  Candidates come from an STRtree
over the patches' bounding boxes shrunk by about 1 cm, so neighbours whose boxes merely touch
(a grid of parcels, a street block) are not candidates; a candidate pair overlaps when the
interiors meet in an area (DE-9IM ``2********``) and the shared area, measured in EPSG:4549,
exceeds the tolerance (1 m²: digitising slivers below it are not reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis_service.coords.crs import STORED_CRS, projected_areas_m2

#: overlaps up to this area (m², EPSG:4549) are digitising slivers, not reported
OVERLAP_TOLERANCE_M2 = 1.0
#: bounding boxes are shrunk by this much (degrees, about 1 cm) before the candidate search
_SHRINK_DEG = 1e-7


@dataclass(frozen=True)
class Overlaps:
    """Pairs of patches (positions) whose shared ground exceeds the tolerance."""

    first: np.ndarray
    second: np.ndarray
    area_m2: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def partition_overlaps(geoms: np.ndarray, *, tolerance_m2: float = OVERLAP_TOLERANCE_M2) -> Overlaps:
    """Overlapping pairs among ``geoms`` (EPSG:4326 polygons), largest first."""
    bounds = shapely.bounds(geoms)
    shrink = np.minimum(_SHRINK_DEG, np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 4)
    boxes = shapely.box(bounds[:, 0] + shrink, bounds[:, 1] + shrink, bounds[:, 2] - shrink, bounds[:, 3] - shrink)
    first, second = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    keep = first < second
    first, second = first[keep], second[keep]
    if len(first):
        meet = shapely.relate_pattern(geoms[first], geoms[second], "2********")
        first, second = first[meet], second[meet]
    area = projected_areas_m2(shapely.intersection(geoms[first], geoms[second]), STORED_CRS) if len(first) else np.zeros(0)
    big = area > tolerance_m2
    order = np.argsort(-area[big], kind="stable")
    return Overlaps(first[big][order], second[big][order], area[big][order])
