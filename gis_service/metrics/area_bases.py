"""Area bases: the published jurisdiction area (管辖面积) and the measured boundary area.

:func:`published_area_base` converts published indicator rows to km²,
:func:`measured_area_base` measures the stored boundaries (EPSG:4549 or geodesic), and
:func:`bases_from_areas` builds a bases frame from hand-supplied rows.  Each returns a
bases frame (:data:`~gis_service.metrics.bases.BASES_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from gis_service.coords.crs import AREA_CRS, STORED_CRS, projected_areas_m2
from gis_service.metrics.bases import (
    BASES_COLUMNS,
    MEASURED_AREA,
    PUBLISHED_AREA,
    PUBLISHED_AREA_METRICS,
    check_basis,
    check_units,
    column_or,
    empty_bases,
    require_columns,
)
from gis_service.metrics.errors import NegativeValueError, UnknownBasisError
from gis_service.metrics.vintage import latest_at_or_before
from gis_service.metrics.units import M2_PER_KM2, area_factor_to_km2


# --------------------------------------------------------------------------- published area
def published_area_base(
    indicators: pd.DataFrame,
    *,
    year: int | None = None,
    metric_codes: Sequence[str] = PUBLISHED_AREA_METRICS,
) -> pd.DataFrame:
    """Published jurisdiction areas (管辖面积) from indicator rows, converted to km².

    Parameters
    ----------
    indicators
        Long frame with ``unit_id, year, metric_code, value, unit, source_document,
        source_section``; units 公顷/亩/km² are converted (178 公顷 → 1.78 km²).
    year
        Use the most recent published area at or before ``year``; ``None`` takes the latest.
    metric_codes
        Metric codes that hold a published area.
    """
    require_columns(indicators, ["unit_id", "year", "metric_code", "value", "unit"], "indicators")
    rows = indicators[indicators["metric_code"].isin(metric_codes)]
    if rows.empty:
        return empty_bases()
    # the one rule for figures by year: the latest published area at or before the year
    rows = latest_at_or_before(rows, int(rows["year"].max()) if year is None else year, keys=["unit_id"])
    if rows.empty:
        return empty_bases()
    rows = rows.groupby("unit_id", sort=False).tail(1)
    factors = np.array(
        [area_factor_to_km2(u, where=f"indicator of unit {i}") for u, i in zip(rows["unit"], rows["unit_id"])]
    )
    area_km2 = rows["value"].astype(float).to_numpy() * factors
    if (area_km2 < 0).any():
        bad = rows["unit_id"].to_numpy()[area_km2 < 0][0]
        raise NegativeValueError(f"negative published area for unit {bad!r}")
    return pd.DataFrame(
        {
            "unit_id": rows["unit_id"].to_numpy(),
            "basis": PUBLISHED_AREA,
            "area_km2": area_km2,
            "year": rows["year"].astype("Int64").to_numpy(),
            "boundary_version": pd.NA,
            "basis_source": _source_text(rows),
            "is_synthetic": False,
            "is_approximate": False,
            "n_parcels": pd.NA,
        }
    )


# --------------------------------------------------------------------------- measured area
def measured_area_base(units: gpd.GeoDataFrame, *, method: str = "projected") -> pd.DataFrame:
    """Area of each unit's boundary in km²: EPSG:4549 (``method="projected"``) or geodesic.

    The geometry quality (``geometry_quality`` column, ``approximate``/``synthetic``) is
    carried into ``is_approximate`` / ``is_synthetic``: an area of an approximate boundary
    is an approximate area.
    """
    check_units(units)
    if method == "projected":
        area_m2 = projected_areas_m2(units.geometry)
        how = f"measured area of the boundary in {AREA_CRS}"
    elif method == "geodesic":
        geod = Geod(ellps="GRS80")
        lonlat = units.geometry.to_crs(STORED_CRS)
        # A loop over the (few) unit boundaries, not over parcels: Geod has no array form.
        area_m2 = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in lonlat])
        how = "geodesic area of the boundary (GRS80)"
    else:
        raise UnknownBasisError(f"unknown area method {method!r}; use 'projected' or 'geodesic'")
    # a unit without a boundary in force has no measured area (missing, not 0)
    area_m2 = np.where(shapely.is_empty(np.asarray(units.geometry.array)), np.nan, area_m2)
    quality = column_or(units, "geometry_quality", "unknown").astype(str)
    return pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "basis": MEASURED_AREA,
            "area_km2": area_m2 / M2_PER_KM2,
            "year": pd.array([pd.NA] * len(units), dtype="Int64"),
            "boundary_version": column_or(units, "boundary_version", pd.NA).to_numpy(),
            "basis_source": [f"{how}; boundary {v}" for v in column_or(units, "boundary_version", "?")],
            "is_synthetic": (quality == "synthetic").to_numpy(),
            "is_approximate": quality.isin(["approximate", "synthetic"]).to_numpy(),
            "n_parcels": pd.NA,
        }
    )


# --------------------------------------------------------------------------- supplied rows
def bases_from_areas(rows: Iterable[dict[str, object]]) -> pd.DataFrame:
    """Build a bases frame from hand-supplied rows (``unit_id``, ``basis``, ``area_km2``, ...).

    Missing optional fields get neutral defaults; the area must be non-negative.
    """
    frame = pd.DataFrame(list(rows))
    require_columns(frame, ["unit_id", "basis", "area_km2"], "bases rows")
    for b in frame["basis"]:
        check_basis(str(b))
    defaults: dict[str, object] = {
        "year": pd.NA,
        "boundary_version": pd.NA,
        "basis_source": "supplied by caller",
        "is_synthetic": False,
        "is_approximate": False,
        "n_parcels": pd.NA,
    }
    for col, value in defaults.items():
        if col not in frame.columns:
            frame[col] = value
    frame["area_km2"] = frame["area_km2"].astype(float)
    negative = frame[frame["area_km2"] < 0]
    if not negative.empty:
        row = negative.iloc[0]
        raise NegativeValueError(f"negative area {row['area_km2']} km² for unit {row['unit_id']!r} ({row['basis']})")
    return frame[BASES_COLUMNS]


def _source_text(rows: pd.DataFrame) -> list[str]:
    docs = column_or(rows, "source_document", "").fillna("").astype(str)
    sections = column_or(rows, "source_section", "").fillna("").astype(str)
    return [f"{d} {s}".strip() or "unsourced" for d, s in zip(docs, sections)]
