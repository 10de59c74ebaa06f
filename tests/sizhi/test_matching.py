"""Tolerant road-name matching shared by verify and build."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from gis_service.sizhi import match_features, name_keys
from gis_service.sizhi.matching import names_match


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("沈海(G15)高速公路", "G15"),
        ("沈海(G15)高速公路", "沈海高速"),
        ("G15沈海高速", "沈海高速公路"),
        ("G60高速高速公路", "G60"),
        ("沪杭高速", "G60"),
        ("A30", "G1501高速公路"),
        ("郊环", "G1501"),
        ("Ｇ６０", "G60"),  # full-width
        ("文匯路", "文汇路"),  # traditional
        ("北松公路", "北松"),
    ],
)
def test_same_feature(a: str, b: str) -> None:
    assert names_match(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("G15", "G1501"), ("北松公路", "北松路"), ("张泾河", "张泾路"), ("G60高速开发边界", "G60"), ("G320", "G32")],
)
def test_different_features(a: str, b: str) -> None:
    assert not names_match(a, b)


def test_keys() -> None:
    assert name_keys("沈海(G15)高速公路") == {"沈海(G15)高速公路", "沈海高速公路", "沈海", "G15"}


def test_exact_match_wins_over_keys() -> None:
    roads = gpd.GeoDataFrame(
        {"name": ["G60高速公路", "G60", "文汇路"], "kind": ["expressway", "expressway", "road"]},
        geometry=[LineString([(0, 0), (1, 0)])] * 3,
        crs="EPSG:4326",
    )
    assert list(match_features("G60", roads)["name"]) == ["G60"]
    assert list(match_features("G60高速高速公路", roads)["name"]) == ["G60高速公路", "G60"]
    assert match_features("人民北路", roads).empty
    assert list(match_features("沪昆高速", roads, aliases=["文汇路"])["name"]) == ["文汇路"]
