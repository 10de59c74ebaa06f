"""The one CRS module: constants, cached transformers, projected areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis_service.coords.crs import (
    AREA_CRS,
    AREA_SRID,
    STORED_CRS,
    MissingCrsError,
    from_area_crs,
    projected_areas_m2,
    to_area_crs,
    transformer,
)
from gis_service.errors import InputError

SQUARE = shapely.box(121.20, 31.00, 121.21, 31.01)  # in Songjiang, lon/lat


def test_constants_name_the_two_crs() -> None:
    assert (STORED_CRS, AREA_CRS, AREA_SRID) == ("EPSG:4326", "EPSG:4549", 4549)


def test_transformers_are_cached_and_none_for_the_same_crs() -> None:
    assert transformer() is transformer(STORED_CRS, AREA_CRS) is transformer(4326, 4549)
    assert transformer(AREA_CRS, "EPSG:4549") is None


def test_areas_equal_a_plain_pyproj_projection_to_the_last_bit() -> None:
    plain = Transformer.from_crs(4326, 4549, always_xy=True)
    expected = shapely.transform(SQUARE, lambda xy: np.column_stack(plain.transform(xy[:, 0], xy[:, 1]))).area
    assert projected_areas_m2(gpd.GeoSeries([SQUARE], crs=4326))[0] == expected
    assert projected_areas_m2(np.array([SQUARE]), STORED_CRS)[0] == expected
    assert to_area_crs(SQUARE, STORED_CRS).area == expected
    assert to_area_crs(gpd.GeoSeries([SQUARE], crs=4326)).area.iloc[0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1_057_000, rel=0.01)  # ~ 953 m × 1109 m


def test_round_trip_and_missing_crs() -> None:
    back = from_area_crs(to_area_crs(SQUARE, STORED_CRS))
    assert shapely.equals_exact(back, SQUARE, tolerance=1e-9)
    with pytest.raises(MissingCrsError, match="no CRS") as info:
        projected_areas_m2(np.array([SQUARE]))
    assert isinstance(info.value, InputError)
    # a frame without CRS is taken in the CRS given for it
    assert to_area_crs(gpd.GeoSeries([SQUARE]), STORED_CRS).crs == AREA_CRS
