"""Verify drawn boundaries against their 四至 on the synthetic grid (tests/sizhi/grid.py)."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon

from gis_service.sizhi import SizhiVerifyError, parse, verify
from gis_service.sizhi.geometry import side_arcs, to_storage
from tests.sizhi.grid import X0, Y0, block, grid_roads

ROADS = grid_roads()
TEXT = "东至经三路,南至纬二路,西至经二路,北至纬四路"
TRUE_BLOCK = block(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 3000)


def statuses(report, part: int = 0) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {side: r.status for side, r in report.parts[part].sides.items()}


def test_side_arcs_of_a_rectangle() -> None:
    arcs = side_arcs(TRUE_BLOCK)
    assert {k: round(v.length) for k, v in arcs.items()} == {"east": 2000, "south": 1000, "west": 2000, "north": 1000}
    assert arcs["east"].bounds[0] == arcs["east"].bounds[2] == X0 + 2000


def test_correct_polygon_passes() -> None:
    report = verify(to_storage(TRUE_BLOCK), parse(TEXT), ROADS)
    assert statuses(report) == {"east": "pass", "south": "pass", "west": "pass", "north": "pass"}
    east = report.side("east")
    assert east.coverage_pct == pytest.approx(100.0) and east.max_distance_m == pytest.approx(0.0, abs=0.01)
    assert report.status == "pass"


@pytest.mark.parametrize(
    ("dx", "dy", "failing"),
    [
        (500, 0, {"east", "west"}),
        (-500, 0, {"east", "west"}),
        (0, 500, {"north", "south"}),
    ],
)
def test_shifted_500m_fails_on_the_right_sides(dx: float, dy: float, failing: set[str]) -> None:
    shifted = shapely.affinity.translate(TRUE_BLOCK, dx, dy)
    report = verify(to_storage(shifted), parse(TEXT), ROADS)
    assert {s for s, st in statuses(report).items() if st == "fail"} == failing
    assert {s for s, st in statuses(report).items() if st == "pass"} == {"east", "south", "west", "north"} - failing
    for side in failing:
        assert report.side(side).coverage_pct == pytest.approx(0.0)
        assert report.side(side).max_distance_m == pytest.approx(500.0, abs=0.5)
    assert report.status == "fail"


def test_tolerance_is_configurable() -> None:
    shifted = to_storage(shapely.affinity.translate(TRUE_BLOCK, 100, 0))
    assert verify(shifted, parse(TEXT), ROADS).side("east").status == "pass"  # 100 m < 150 m
    assert verify(shifted, parse(TEXT), ROADS, tolerance_m=50).side("east").status == "fail"


def test_offsets_are_applied() -> None:
    drawn = to_storage(block(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 3300))
    ok = verify(drawn, parse("东至经三路,南至纬二路,西至经二路,北至纬四路北300米"), ROADS, tolerance_m=50)
    assert ok.side("north").status == "pass"
    plain = verify(drawn, parse(TEXT), ROADS, tolerance_m=50)
    assert plain.side("north").status == "fail"


def test_missing_and_unnamed_features_are_reported() -> None:
    report = verify(to_storage(TRUE_BLOCK), parse("东至经三路,南至开发边界,西至经二路—不存在路,北至河道"), ROADS)
    south, west, north = report.side("south"), report.side("west"), report.side("north")
    assert south.status == north.status == "unverifiable"
    assert south.coverage_pct is None
    assert west.missing == ["不存在路"] and west.status == "pass"
    d = report.to_dict()
    assert d["parts"][0]["sides"]["north"]["unverifiable"] == ["河道"]
    assert d["parts"][0]["sides"]["north"]["status_label"] == "无法核验"
    text = json.dumps(d, ensure_ascii=False)
    assert "不存在路" in text


def test_undescribed_side_is_unverifiable() -> None:
    report = verify(to_storage(TRUE_BLOCK), parse("东至经三路,西至经二路"), ROADS)
    assert statuses(report) == {"east": "pass", "south": "unverifiable", "west": "pass", "north": "unverifiable"}


def test_expressway_alias_is_matched() -> None:
    g15 = LineString([(X0 + 2000, Y0 - 1000), (X0 + 2000, Y0 + 5000)])
    roads = grid_roads([("G15", "expressway", g15)])
    report = verify(to_storage(TRUE_BLOCK), parse("东至沈海高速,南至纬二路,西至经二路,北至纬四路"), roads)
    assert report.side("east").status == "pass"
    assert report.side("east").features[0].matched_names == ("G15",)


def test_two_parts_are_matched_to_their_polygons() -> None:
    a = block(X0, Y0, X0 + 1000, Y0 + 1000)
    b = block(X0 + 3000, Y0 + 3000, X0 + 4000, Y0 + 4000)
    text = "甲部分东至经五路,南至纬四路,西至经四路,北至纬五路;乙部分东至经二路,南至纬一路,西至经一路,北至纬二路"
    report = verify(to_storage(MultiPolygon([a, b])), parse(text), ROADS)
    assert [p.polygon_index for p in report.parts] == [1, 0]
    assert report.status == "pass"


def test_bad_boundary_is_a_typed_error() -> None:
    with pytest.raises(SizhiVerifyError):
        verify(LineString([(0, 0), (1, 1)]), parse(TEXT), ROADS)
