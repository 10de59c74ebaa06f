"""The cells of the units' arrangement: where park boundaries and zones cut each other.

Both levels of the land-intensity answer sum land records and buildings over units that
overlap (a park and its blocks, a zone and the parks in it, zones of different kinds).
Measuring each unit on its own walks every record once per unit it lies in.  The cells are
the pieces of the plane cut by every unit's boundary (the linework noded, then polygonized):
each cell lies wholly inside or wholly outside each unit, so a record is measured once per
cell, and a unit's sum is the sum over its cells (cells do not overlap, so areas add up).

A cell belongs to a unit when a point inside the cell (``point_on_surface``) lies in the
unit; a cell in no unit is dropped.  Slivers the noding makes where two boundaries nearly
coincide get a side like any cell: what they could move is their own area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: the columns of a membership frame: a cell of ``cell_id`` lies in unit ``unit_id`` of ``level``
MEMBERSHIP_COLUMNS = ["cell_id", "level", "unit_id"]


@dataclass(frozen=True)
class Cells:
    """Cell geometries (``cell_ids`` → ``geoms``, EPSG:4326) and which units each lies in."""

    cell_ids: np.ndarray
    geoms: np.ndarray
    membership: pd.DataFrame

    def sql_params(self) -> dict[str, Any]:
        """The cells as statement parameters (``:cell_ids``, ``:cell_wkb``; WKB, exact doubles)."""
        return {"cell_ids": [int(c) for c in self.cell_ids], "cell_wkb": [bytes(w) for w in shapely.to_wkb(self.geoms)]}


def unit_cells(units: pd.DataFrame, *, within: str | None = None) -> Cells:
    """The cells of the ``units`` (columns ``level``, ``unit_id``, ``geometry``: shapely polygons).

    ``within``: a level whose units bound every other level's: a cell counts for a unit of
    another level only when it also lies in some unit of ``within`` (the zone level measures
    each zone on its overlap with the parks).
    """
    shapes = units[units["geometry"].map(lambda g: g is not None and not g.is_empty)]
    if shapes.empty:
        return Cells(np.empty(0, dtype=np.int64), np.empty(0, dtype=object), pd.DataFrame(columns=MEMBERSHIP_COLUMNS))
    geoms = np.asarray(shapes["geometry"].to_numpy(), dtype=object)
    lines = shapely.union_all(shapely.boundary(geoms))  # noded linework: every crossing is a vertex
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[shapely.area(faces) > 0]
    inside = _inside(geoms, shapely.point_on_surface(faces))  # units × faces
    keep = inside.any(axis=0)
    if within is not None:
        keep &= inside[(shapes["level"] == within).to_numpy()].any(axis=0)
    faces, inside = faces[keep], inside[:, keep]
    unit_index, face_index = np.nonzero(inside)
    membership = pd.DataFrame({
        "cell_id": face_index.astype(np.int64),
        "level": shapes["level"].to_numpy()[unit_index],
        "unit_id": shapes["unit_id"].to_numpy()[unit_index].astype(np.int64),
    })
    return Cells(np.arange(len(faces), dtype=np.int64), faces, membership)


def _inside(units: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``[i, j]``: point ``j`` lies in unit ``i`` (each unit prepared once)."""
    shapely.prepare(units)
    return np.vstack([shapely.intersects(u, points) for u in units]) if len(units) else np.zeros((0, len(points)), bool)
