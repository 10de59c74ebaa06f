"""Display simplification: lighter geometry for maps, stored data never changed.

Simplification runs in EPSG:4549 (:data:`~gis_service.coords.crs.AREA_CRS`, CGCS2000 /
3-degree Gauss-Kruger CM 120E, metres) so that the tolerance is a distance on the ground, and is topology-preserving: a
polygon never becomes invalid or collapses, and a coverage (towns that share borders)
keeps its shared edges identical, so no gaps or slivers appear between neighbours.
Coordinates are then snapped to a lon/lat grid (1e-6° ≈ 0.1 m) so the GeoJSON written
into the page carries no meaningless digits.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gis_service.coords.crs import AREA_CRS, to_area_crs


def simplify_for_display(
    frame: gpd.GeoDataFrame, tolerance_m: float, *, coverage: bool = False, grid_deg: float = 1e-6
) -> gpd.GeoDataFrame:
    """A copy of ``frame`` (EPSG:4326) with geometry simplified for display.

    Parameters
    ----------
    frame
        Features in EPSG:4326; missing or empty geometries are kept as they are.
    tolerance_m
        Largest displacement of a vertex, metres in EPSG:4549.
    coverage
        The polygons form a coverage (non-overlapping, shared borders): simplify shared
        edges once (``shapely.coverage_simplify``).  Falls back to per-feature
        topology-preserving simplification when the input is not a valid coverage.
    grid_deg
        Precision grid of the output coordinates, degrees.
    """
    out = frame.copy()
    present = out.geometry.notna().to_numpy() & ~out.geometry.is_empty.to_numpy()
    if not present.any():
        return out
    projected = to_area_crs(out.geometry[present]).to_numpy()
    if coverage and shapely.coverage_is_valid(projected):
        simplified = shapely.coverage_simplify(projected, tolerance_m)
    else:
        simplified = shapely.simplify(projected, tolerance_m, preserve_topology=True)
    back = gpd.GeoSeries(simplified, crs=AREA_CRS).to_crs(frame.crs).to_numpy()
    snapped = shapely.set_precision(back, grid_deg, mode="valid_output")
    # set_precision can collapse a sliver to empty: keep the unsnapped shape then.
    snapped = np.where(shapely.is_empty(snapped), back, snapped)
    geoms = out.geometry.to_numpy().copy()
    geoms[present] = snapped
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=frame.crs)
    return out


def vertex_count(frame: gpd.GeoDataFrame) -> int:
    """Total number of coordinates of the frame's geometries."""
    return int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())
