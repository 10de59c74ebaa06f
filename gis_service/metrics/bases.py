"""The vocabulary of the densities' denominators ("bases"): names, labels, frame columns.

A *basis* names what an output figure is divided by:

========================== ===================================================================
``published_area``         管辖面积, the jurisdiction area as published (an indicator row)
``measured_area``          area of the stored boundary, in EPSG:4549 (CGCS2000 / 3-degree
                           Gauss-Kruger CM 120E) or geodesic on the GRS80 ellipsoid
``industrial_land``        parcels of industrial land use intersected with the boundary
``supplied_industrial_land`` industrial parcels that are supplied (已供应工业用地), intersected
                           with the boundary: the basis of 001 表1 #9 (80 亿元/km²)
``built_up_land``          parcels flagged built-up (建成土地), intersected with the boundary
========================== ===================================================================

The functions that compute them return a *bases frame*: one row per unit and basis with
the columns :data:`BASES_COLUMNS` (``unit_id, basis, area_km2, year, boundary_version,
basis_source, is_synthetic, is_approximate, n_parcels``).  Areas are never computed in
degrees (:mod:`gis_service.coords.crs`).  They live in

- :mod:`~gis_service.metrics.area_bases`: published and measured areas, hand-supplied rows;
- :mod:`~gis_service.metrics.parcel_land`: the parcel-made bases (industrial, supplied
  industrial, built-up land), vectorized over the parcels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from gis_service.metrics.errors import DuplicateUnitError, MissingColumnError, UnknownBasisError

if TYPE_CHECKING:
    import geopandas as gpd

PUBLISHED_AREA = "published_area"
MEASURED_AREA = "measured_area"
INDUSTRIAL_LAND = "industrial_land"
SUPPLIED_INDUSTRIAL_LAND = "supplied_industrial_land"
BUILT_UP_LAND = "built_up_land"

PARCEL_BASES: tuple[str, ...] = (INDUSTRIAL_LAND, SUPPLIED_INDUSTRIAL_LAND, BUILT_UP_LAND)
ALL_BASES: tuple[str, ...] = (PUBLISHED_AREA, MEASURED_AREA, *PARCEL_BASES)

#: Chinese labels for reports
BASIS_LABELS_ZH: dict[str, str] = {
    PUBLISHED_AREA: "管辖面积(公布)",
    MEASURED_AREA: "边界量算面积",
    INDUSTRIAL_LAND: "工业用地",
    SUPPLIED_INDUSTRIAL_LAND: "已供应工业用地",
    BUILT_UP_LAND: "建成土地",
}

#: bases a published figure may be on that this engine does not compute (a target on one is
#: stored and listed, never compared): 003's Shanghai "产业园区土地" (park land)
REFERENCE_BASES: dict[str, str] = {"park_land": "产业园区土地(上海市公布口径,不计算)"}
#: every basis a stored target may name
TARGET_BASES: tuple[str, ...] = (*ALL_BASES, *REFERENCE_BASES)

BASES_COLUMNS: list[str] = [
    "unit_id",
    "basis",
    "area_km2",
    "year",
    "boundary_version",
    "basis_source",
    "is_synthetic",
    "is_approximate",
    "n_parcels",
]

#: metric codes under which a published jurisdiction area (管辖面积) may be stored
PUBLISHED_AREA_METRICS: tuple[str, ...] = ("jurisdiction_area", "published_area", "area")


def check_basis(basis: str) -> str:
    """Return ``basis`` if the engine knows it, else raise :class:`UnknownBasisError`."""
    if basis not in ALL_BASES:
        raise UnknownBasisError(f"unknown basis {basis!r}; known bases: {', '.join(ALL_BASES)}")
    return basis


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`MissingColumnError` naming the missing columns of ``what``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{what} lacks column(s) {', '.join(missing)}")


# --------------------------------------------------------------------------- shared helpers
def empty_bases() -> pd.DataFrame:
    """A bases frame without rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in BASES_COLUMNS})


def check_units(units: gpd.GeoDataFrame) -> None:
    """Raise unless ``units`` has a ``unit_id`` column without duplicates (one boundary per unit)."""
    require_columns(units, ["unit_id"], "units")
    if units["unit_id"].duplicated().any():
        dup = units["unit_id"][units["unit_id"].duplicated()].iloc[0]
        raise DuplicateUnitError(f"units: unit_id {dup!r} appears twice; one boundary per unit")


def column_or(frame: pd.DataFrame, column: str, default: object) -> pd.Series:
    """``frame[column]``, or ``default`` on every row when the column is absent."""
    if column in frame.columns:
        return frame[column]
    return pd.Series([default] * len(frame), index=frame.index)
