"""The streaming partition proof never says "no overlap" where the pairwise test finds one."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_service.ingest.land.overlaps import PartitionCheck, partition_overlaps


def _grid(n: int, size: float = 0.001, x0: float = 121.2, y0: float = 31.0) -> np.ndarray:
    """n × n cells whose neighbours share their edges exactly (the same coordinates)."""
    ex, ey = np.arange(n + 1) * size + x0, np.arange(n + 1) * size + y0
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n)))
    return shapely.box(ex[i], ey[j], ex[i + 1], ey[j + 1])


def _proven(geoms: np.ndarray, chunk: int = 7) -> bool:
    check = PartitionCheck()
    for start in range(0, len(geoms), chunk):
        check.add(geoms[start:start + chunk])
    return check.proven()


def test_a_clean_grid_is_proven_in_any_chunking_and_order() -> None:
    cells = _grid(12)
    assert _proven(cells) and _proven(cells[::-1], chunk=50) and len(partition_overlaps(cells)) == 0


def test_a_cell_with_a_hole_filled_by_another_is_proven() -> None:
    outer = shapely.box(121.2, 31.0, 121.203, 31.003)
    inner = shapely.box(121.201, 31.001, 121.202, 31.002)
    assert _proven(np.array([outer.difference(inner), inner]))
    assert not _proven(np.array([outer, inner]))  # the inner square lies on the outer one


@pytest.mark.parametrize("seed", range(20))
def test_an_overlap_is_never_proven_away(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cells = _grid(8).copy()
    i = int(rng.integers(0, len(cells)))
    dx, dy = rng.uniform(-0.0004, 0.0004, 2)
    cells[i] = shapely.affinity.translate(cells[i], dx, dy) if abs(dx) + abs(dy) > 1e-5 else cells[i].buffer(1e-4)
    assert not _proven(cells[rng.permutation(len(cells))])
    assert len(partition_overlaps(cells)) >= 1


def test_a_duplicate_patch_is_not_proven() -> None:
    cells = _grid(4)
    assert not _proven(np.concatenate([cells, cells[:1]]))


def test_neighbours_split_differently_fall_back_without_a_false_overlap() -> None:
    # the right cell's left edge has an extra vertex: no cancellation, so no proof, yet no overlap
    left = shapely.box(121.2, 31.0, 121.201, 31.001)
    right = shapely.Polygon([(121.201, 31.0), (121.202, 31.0), (121.202, 31.001), (121.201, 31.001), (121.201, 31.0005)])
    cells = np.array([left, right])
    assert not _proven(cells) and len(partition_overlaps(cells)) == 0
