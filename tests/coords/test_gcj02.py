"""GCJ-02 conversion: known point pairs, round trip, geometry and frame support."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from gis_service.errors import InputError
from gis_service.coords.gcj02 import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_arrays,
    in_china,
    wgs84_to_gcj02,
    wgs84_to_gcj02_arrays,
)

GEOD = Geod(ellps="WGS84")

# (wgs lon, wgs lat, gcj lon, gcj lat): the reference vectors published with the
# open-source "eviltransform" implementations (Shanghai, Shenzhen, Beijing).
KNOWN_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]


def _distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d)


def test_forward_matches_known_pairs_within_a_centimetre() -> None:
    wlon, wlat, glon, glat = map(np.array, zip(*KNOWN_PAIRS))
    lon, lat = wgs84_to_gcj02_arrays(wlon, wlat)
    assert np.all(_distance_m(lon, lat, glon, glat) < 0.01)


def test_inverse_matches_known_pairs_within_a_centimetre() -> None:
    wlon, wlat, glon, glat = map(np.array, zip(*KNOWN_PAIRS))
    lon, lat = gcj02_to_wgs84_arrays(glon, glat)
    assert np.all(_distance_m(lon, lat, wlon, wlat) < 0.01)


def test_shift_near_songjiang_is_about_half_a_kilometre() -> None:
    lon, lat = wgs84_to_gcj02_arrays([121.2274], [31.0322])
    shift = _distance_m(121.2274, 31.0322, lon[0], lat[0])
    assert 400 < shift < 700


def test_round_trip_error_below_one_metre_over_the_district() -> None:
    rng = np.random.default_rng(42)
    lon = rng.uniform(121.0, 121.5, 5000)
    lat = rng.uniform(30.9, 31.2, 5000)
    back_lon, back_lat = gcj02_to_wgs84_arrays(*wgs84_to_gcj02_arrays(lon, lat))
    err = _distance_m(lon, lat, back_lon, back_lat)
    assert err.max() < 1.0
    assert err.max() < 0.001  # the iteration is in fact far better than the 1 m contract


def test_points_outside_china_are_unchanged() -> None:
    lon, lat = np.array([2.35, -74.0, 150.0]), np.array([48.85, 40.7, 31.0])
    assert not in_china(lon, lat).any()
    for func in (wgs84_to_gcj02_arrays, gcj02_to_wgs84_arrays):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_mixed_inside_and_outside_points() -> None:
    lon, lat = wgs84_to_gcj02_arrays([2.35, 121.5272106], [48.85, 31.1774276])
    assert lon[0] == 2.35 and lat[0] == 48.85
    assert abs(lon[1] - 121.531541859215) < 1e-7


def test_geometry_conversion_keeps_type_and_moves_every_vertex() -> None:
    poly = Polygon([(121.2, 31.0), (121.3, 31.0), (121.3, 31.1), (121.2, 31.0)])
    moved = wgs84_to_gcj02(poly)
    assert moved.geom_type == "Polygon"
    before = shapely.get_coordinates(poly)
    after = shapely.get_coordinates(moved)
    expect_lon, expect_lat = wgs84_to_gcj02_arrays(before[:, 0], before[:, 1])
    np.testing.assert_allclose(after, np.column_stack([expect_lon, expect_lat]))
    back = gcj02_to_wgs84(moved)
    assert np.abs(shapely.get_coordinates(back) - before).max() < 1e-8


def test_geodataframe_conversion_keeps_attributes_and_crs() -> None:
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[Point(121.5272106, 31.1774276), LineString([(121.2, 31.0), (121.25, 31.05)])],
        crs=4326,
    )
    out = wgs84_to_gcj02(gdf)
    assert list(out["name"]) == ["a", "b"]
    assert out.crs.to_epsg() == 4326
    assert abs(out.geometry.iloc[0].x - 121.531541859215) < 1e-7
    assert gdf.geometry.iloc[0].x == 121.5272106  # input not modified
    series_back = gcj02_to_wgs84(out.geometry)
    assert isinstance(series_back, gpd.GeoSeries)
    assert abs(series_back.iloc[0].y - 31.1774276) < 1e-8


def test_projected_frames_are_rejected() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 3400000)], crs=4549)
    with pytest.raises(InputError, match="EPSG:4326"):
        gcj02_to_wgs84(gdf)


def test_empty_arrays() -> None:
    lon, lat = gcj02_to_wgs84_arrays([], [])
    assert lon.shape == (0,) and lat.shape == (0,)
