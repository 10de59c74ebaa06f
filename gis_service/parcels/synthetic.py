"""Seeded synthetic parcels and park boundaries for tests, demos and benchmarks.

Nothing here is real: every parcel carries ``is_synthetic=True`` and a ``source_document``
naming the generator and seed, and every result computed from them says so
(``uses_synthetic_data``).  Geometry is in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

#: lon/lat box around the industrial parks of Songjiang (approximate, for synthetic data only)
SONGJIANG_PARKS_BBOX: tuple[float, float, float, float] = (121.12, 30.98, 121.36, 31.12)

_INDUSTRIAL_CODES = np.array(["M1", "M2", "M3", "100101", "100102", "1001"])
_OTHER_CODES = np.array(["R2", "B1", "A3", "S1", "G1", "W1", "U1", "0701", "0901", "1101", "1207", "1401"])
_OTHER_CLASSES = np.array(
    [
        "residential",
        "commercial",
        "public_service",
        "transport",
        "green_open_space",
        "logistics_warehouse",
        "utilities",
        "residential",
        "commercial",
        "logistics_warehouse",
        "transport",
        "green_open_space",
    ]
)


def generate_parcels(
    n: int,
    *,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = SONGJIANG_PARKS_BBOX,
    industrial_share: float = 0.45,
    supplied_share: float = 0.9,
    built_share: float = 0.7,
) -> gpd.GeoDataFrame:
    """About ``n`` non-overlapping rectangular parcels on a jittered grid over ``bbox``.

    Each grid cell holds one parcel shrunk by 2-12 % on each side (so parcels never overlap
    and roads run between them).  Land use, supply status, supply year (1995-2022) and
    built-up flag are drawn with the given shares.  Returns a GeoDataFrame in EPSG:4326
    with the columns of the ``land_parcel`` table and ``is_synthetic=True``.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bbox
    aspect = (maxx - minx) * np.cos(np.radians((miny + maxy) / 2)) / (maxy - miny)
    nx = max(1, int(round(np.sqrt(n * aspect))))
    ny = max(1, int(np.ceil(n / nx)))
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    ix, iy = ix.ravel()[:n], iy.ravel()[:n]
    w, h = (maxx - minx) / nx, (maxy - miny) / ny
    shrink = rng.uniform(0.02, 0.12, size=(4, len(ix)))
    x0 = minx + (ix + shrink[0]) * w
    x1 = minx + (ix + 1 - shrink[1]) * w
    y0 = miny + (iy + shrink[2]) * h
    y1 = miny + (iy + 1 - shrink[3]) * h
    geoms = shapely.box(x0, y0, x1, y1)
    count = len(geoms)
    industrial = rng.random(count) < industrial_share
    other_pick = rng.integers(0, len(_OTHER_CODES), count)
    codes = np.where(industrial, _INDUSTRIAL_CODES[rng.integers(0, len(_INDUSTRIAL_CODES), count)], _OTHER_CODES[other_pick])
    classes = np.where(industrial, "industrial", _OTHER_CLASSES[other_pick])
    supplied = rng.random(count) < supplied_share
    supply_year = np.where(supplied, rng.integers(1995, 2023, count), -1)
    return gpd.GeoDataFrame(
        {
            "external_id": [f"SYN-{seed}-{i}" for i in range(count)],
            "land_use_code": codes,
            "land_use_class": classes,
            "is_supplied": supplied,
            "supply_year": np.where(supply_year > 0, supply_year, np.nan),
            "is_built": rng.random(count) < built_share,
            "is_synthetic": True,
            "source_document": f"synthetic parcels (gis_service.parcels.synthetic.generate_parcels, seed={seed})",
        },
        geometry=geoms,
        crs="EPSG:4326",
    ).astype({"supply_year": "Int64"})


def synthetic_boundaries(
    n: int,
    *,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = SONGJIANG_PARKS_BBOX,
    radius_deg: float = 0.008,
    vertices: int = 24,
) -> gpd.GeoDataFrame:
    """``n`` irregular, non-overlapping park-like polygons (EPSG:4326), flagged synthetic.

    Centres sit on a coarse grid over ``bbox``; the radius of each vertex varies by ±25 %,
    so boundaries cross parcels at all angles.  Columns: ``unit_id`` (``SYN-PARK-k``),
    ``unit_name``, ``boundary_version``, ``geometry_quality="synthetic"``.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bbox
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    k = np.arange(n)
    cx = minx + (k % cols + 0.5) * (maxx - minx) / cols
    cy = miny + (k // cols + 0.5) * (maxy - miny) / rows
    radius = min(radius_deg, 0.4 * (maxx - minx) / cols, 0.4 * (maxy - miny) / rows)
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    r = radius * rng.uniform(0.75, 1.25, size=(n, vertices))
    xs = cx[:, None] + r * np.cos(angles)[None, :] * 1.2
    ys = cy[:, None] + r * np.sin(angles)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1, :]], axis=1)
    polys = shapely.polygons(ring)
    return gpd.GeoDataFrame(
        {
            "unit_id": [f"SYN-PARK-{i + 1}" for i in k],
            "unit_name": [f"合成园区{i + 1}" for i in k],
            "boundary_version": [f"synthetic-{seed}-{i + 1}" for i in k],
            "geometry_quality": "synthetic",
        },
        geometry=polys,
        crs="EPSG:4326",
    )
