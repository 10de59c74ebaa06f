"""Build boundaries from 四至 over the synthetic grid of tests/sizhi/grid.py.

Expected areas are hand-computed from the grid: streets 1000 m apart, 纬一路…纬五路
at y = Y0 + 0…4000 m, 经一路…经五路 at x = X0 + 0…4000 m (EPSG:4549).
"""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point

from gis_service.sizhi import SizhiBuildError, build, parse
from gis_service.sizhi.geometry import to_projected
from tests.sizhi.grid import X0, Y0, block, grid_roads

ROADS = grid_roads()


def test_block_comes_back_within_one_percent() -> None:
    result = build(parse("东至经三路,南至纬二路,西至经二路,北至纬四路"), ROADS)
    assert result.area_km2 == pytest.approx(2.0, rel=0.01)  # 1000 m × 2000 m
    truth = block(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 3000)
    built = to_projected(result.polygon)
    assert built.symmetric_difference(truth).area / truth.area < 0.01
    assert result.polygon.geom_type == "MultiPolygon" and result.approximate
    east = result.parts[0].sides["east"][0]
    assert (east.name, east.matched_names, round(east.length_m)) == ("经三路", ("经三路",), 2000)


def test_inverse_phrasing_builds_the_same_block() -> None:
    result = build(parse("纬四路以南,经三路以西,纬二路以北,经二路以东"), ROADS)
    assert result.area_km2 == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize(
    ("north", "expected_km2"),
    [
        ("纬四路北80米", 2.0 + 0.08),  # strip 1000 m × 80 m added
        ("纬四路南约200米", 2.0 - 0.2),  # strip 1000 m × 200 m removed
        ("纬四路以北", 2.0),  # no distance: the road itself
    ],
)
def test_offset_side_changes_area_by_the_strip(north: str, expected_km2: float) -> None:
    result = build(parse(f"东至经三路,南至纬二路,西至经二路,北至{north}"), ROADS)
    assert result.area_km2 == pytest.approx(expected_km2, rel=1e-6)


def test_staircase_side_like_songjiang_west() -> None:
    # east side: 经三路 down to 300 m south of 纬三路, then 200 m east of 经二路
    text = "东至经三路—纬三路南约300米—经二路东200米,南至纬二路,西至经一路,北至纬四路"
    result = build(parse(text), ROADS)
    # 2000 m wide from y=1700 to 3000 (2.6 km²) + 1200 m wide from y=1000 to 1700 (0.84 km²)
    assert result.area_km2 == pytest.approx(3.44, rel=1e-6)
    assert [b.name for b in result.parts[0].sides["east"]] == ["经三路", "纬三路", "经二路"]


def test_staircase_chain_is_read_clockwise_when_both_readings_close() -> None:
    # The reversed chain also closes, as the mirror L: the text alone cannot tell
    # them apart, so the written order is taken as the clockwise one (east side
    # north → south): 1200 m wide from y=1700 to 3000 + 2000 m wide from 1000 to 1700.
    text = "东至经二路东200米—纬三路南约300米—经三路,南至纬二路,西至经一路,北至纬四路"
    assert build(parse(text), ROADS).area_km2 == pytest.approx(1.56 + 1.4, rel=1e-6)


def test_west_side_is_read_south_to_north() -> None:
    # clockwise, the west side runs south → north: 经一路 bounds the southern half
    text = "东至经三路,南至纬二路,西至经一路—纬三路—经二路,北至纬四路"
    result = build(parse(text), ROADS)
    built = to_projected(result.polygon)
    assert result.area_km2 == pytest.approx(3.0, rel=1e-6)  # 2000 × 1000 + 1000 × 1000
    assert built.contains(Point(X0 + 500, Y0 + 1500)) and not built.contains(Point(X0 + 500, Y0 + 2500))


def test_same_road_on_two_sides_is_one_stretch() -> None:
    # a bent road 弯路 bounds west and north, like 北松公路 of 莘莘学子创业园
    bent = LineString([(X0 + 1000, Y0 - 500), (X0 + 1000, Y0 + 2000), (X0 + 3500, Y0 + 2000)])
    roads = grid_roads([("弯路", "road", bent)])
    result = build(parse("东至经三路,南至纬二路,西至弯路,北至弯路"), roads)
    assert result.area_km2 == pytest.approx(1.0, rel=1e-6)  # x 1000..2000, y 1000..2000


def test_name_matching_aliases_in_build() -> None:
    g15 = LineString([(X0 + 3000, Y0 - 1000), (X0 + 3000, Y0 + 5000)])
    roads = grid_roads([("G15", "expressway", g15)])
    result = build(parse("东至沈海(G15)高速公路,南至纬二路,西至经三路,北至纬三路"), roads)
    assert result.area_km2 == pytest.approx(1.0, rel=1e-6)
    assert result.parts[0].sides["east"][0].matched_names == ("G15",)


def test_development_boundary_named_after_a_road_is_approximated() -> None:
    result = build(parse("东至经三路,南至纬二路开发边界,西至经二路,北至纬四路"), ROADS)
    assert result.area_km2 == pytest.approx(2.0, rel=1e-6)
    south = result.parts[0].sides["south"][0]
    assert south.approximate and south.matched_names == ("纬二路",)
    assert any("纬二路" in note for note in result.notes)


def test_two_parts_make_a_multipolygon() -> None:
    text = "甲部分东至经二路,南至纬一路,西至经一路,北至纬二路;乙部分东至经五路,南至纬四路,西至经四路,北至纬五路"
    result = build(parse(text), ROADS)
    assert len(result.polygon.geoms) == 2
    assert [p.label for p in result.parts] == ["甲部分", "乙部分"]
    assert result.area_km2 == pytest.approx(2.0, rel=1e-6)


def test_unclosed_description_fails_clearly() -> None:
    # 短路 runs east-west far north of the block and never meets 经三路 or 经二路
    short = LineString([(X0 + 7000, Y0 + 3000), (X0 + 8000, Y0 + 3000)])
    roads = grid_roads([("短路", "road", short)])
    with pytest.raises(SizhiBuildError) as info:
        build(parse("东至经三路,南至纬二路,西至经二路,北至短路"), roads)
    assert "不闭合" in str(info.value) and "短路" in str(info.value)
    assert info.value.feature in {"短路", "经二路", "经三路"}


def test_two_sides_only_do_not_close() -> None:
    with pytest.raises(SizhiBuildError, match="不闭合"):
        build(parse("东至经三路,西至经二路"), ROADS)


def test_missing_feature_is_named() -> None:
    with pytest.raises(SizhiBuildError) as info:
        build(parse("东至经三路,南至纬二路,西至不存在路,北至纬四路"), ROADS)
    assert (info.value.side, info.value.feature) == ("west", "不存在路")
    assert "不在道路图层中" in str(info.value)


def test_unnamed_feature_cannot_be_built() -> None:
    with pytest.raises(SizhiBuildError) as info:
        build(parse("东至经三路,南至纬二路,西至河道,北至纬四路"), ROADS)
    assert (info.value.side, info.value.feature) == ("west", "河道")


def test_geojson_output_flags_approximate() -> None:
    result = build(parse("东至经三路,南至纬二路,西至经二路,北至纬四路"), ROADS)
    fc = result.to_geojson(source_document="test")
    props = fc["features"][0]["properties"]
    assert props["geometry_quality"] == "approximate" and props["area_km2"] == pytest.approx(2.0, rel=1e-3)
    assert props["source_document"] == "test"


def test_road_stored_in_pieces_with_a_gap_is_joined() -> None:
    # 经三路 split into two pieces with a 50 m gap inside the block's east side
    pieces = [
        ("断路", "road", LineString([(X0 + 2000, Y0 - 1000), (X0 + 2000, Y0 + 1800)])),
        ("断路", "road", LineString([(X0 + 2000, Y0 + 1850), (X0 + 2000, Y0 + 5000)])),
    ]
    roads = grid_roads(pieces)
    result = build(parse("东至断路,南至纬二路,西至经二路,北至纬四路"), roads)
    assert result.area_km2 == pytest.approx(2.0, rel=1e-6)
