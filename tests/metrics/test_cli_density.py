"""``gis-service density`` run against a database filled by fixtures; numbers checked by hand.

Layout (EPSG:4549 metres from (X0, Y0), see tests/metrics/helpers.py):

- park 甲: 1000 × 1000 m (1 km²), published 管辖面积 1.5 km², output 21 亿元 (2020);
  supplied industrial parcels: 400 × 500 m wholly inside (0.2 km²) and 200 × 100 m crossing
  the east edge, half inside (0.01 km²); an industrial parcel not supplied (0.04 km²).
  Supplied industrial land 0.21 km² → 100 亿元/km² → 125 % of 80, 达标.
- park 乙: 500 × 1000 m at x = 2000; one supplied industrial parcel 250 × 400 m (0.1 km²);
  output 6 亿元 → 60 亿元/km² → 75 %, gap 20 亿元/km², 未达标.
- 三片 west (x < 700) and east (x ≥ 700): 甲's land splits 0.2 / 0.01 km², 乙 is east.
  West: 21 × 0.2/0.21 = 20 亿元 on 0.2 km² → 100; east: 1 + 6 = 7 亿元 on 0.11 km² → 63.64.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_service.cli import app, main
from gis_service.db.models import ZoneKind
from gis_service.answers import DensityQuestion, answer_density
from gis_service.metrics.errors import OverlappingZonesError
from gis_service.metrics.postgis import parcel_piece_areas
from gis_service.parcels import write_parcels
from gis_service.testing import insert_indicator, insert_park, insert_target_from_sample, insert_zone
from tests.metrics.helpers import rect, to_4326

runner = CliRunner()


@pytest.fixture
def filled(engine, db_url, monkeypatch):  # type: ignore[no-untyped-def]
    park_a, park_b = to_4326([rect(0, 0, 1000, 1000), rect(2000, 0, 500, 1000)])
    a, _ = insert_park(engine, "A", "甲园区", park_a)
    b, _ = insert_park(engine, "B", "乙园区", park_b)
    insert_indicator(engine, a, 2020, "output", 21.0, "亿元", "004 附件 甲")
    insert_indicator(engine, a, 2020, "jurisdiction_area", 150.0, "公顷", "004 附件 甲")
    insert_indicator(engine, b, 2020, "output", 60000.0, "万元", "004 附件 乙")  # 6 亿元
    parcels = gpd.GeoDataFrame(
        {
            "external_id": ["a-in", "a-cross", "a-unsupplied", "b-in"],
            "land_use_code": ["M1", "M2", "M1", "M1"],
            "land_use_class": ["industrial"] * 4,
            "is_supplied": [True, True, False, True],
            "supply_year": [2010, 2015, None, 2018],
            "is_built": [True, True, False, True],
            "is_synthetic": [False] * 4,
            "source_document": ["test parcels"] * 4,
        },
        geometry=to_4326([rect(100, 100, 400, 500), rect(900, 300, 200, 100), rect(600, 700, 200, 200), rect(2100, 100, 250, 400)]),
        crs="EPSG:4326",
    ).astype({"supply_year": "Int64"})
    write_parcels(engine, parcels)
    west = insert_zone(engine, "W", "西片", to_4326([rect(-1000, -1000, 1700, 3000)])[0], ZoneKind.pian)
    east = insert_zone(engine, "E", "东片", to_4326([rect(700, -1000, 2300, 3000)])[0], ZoneKind.pian)
    insert_target_from_sample(engine)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    return {"a": a, "b": b, "west": west, "east": east}


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _json(args: list[str]) -> list[dict]:
    result = runner.invoke(app, ["density", *args, "--json"])
    assert result.exit_code == 0, result.output
    return _strict(result.output)["rows"]


def test_parks_against_default_target(filled) -> None:  # type: ignore[no-untyped-def]
    rows = {r["unit_name"]: r for r in _json(["--year", "2020"])}
    a, b = rows["甲园区"], rows["乙园区"]
    assert a["area_km2"] == pytest.approx(0.21, rel=1e-6)
    assert a["density_yi_per_km2"] == pytest.approx(100.0, rel=1e-6)
    assert a["attainment_pct"] == pytest.approx(125.0, rel=1e-6)
    assert a["gap_yi_per_km2"] == 0 and a["status"] == "达标"
    assert b["value_yi_yuan"] == pytest.approx(6.0)
    assert b["area_km2"] == pytest.approx(0.1, rel=1e-6)
    assert b["density_yi_per_km2"] == pytest.approx(60.0, rel=1e-6)
    assert b["attainment_pct"] == pytest.approx(75.0, rel=1e-6)
    assert b["gap_yi_per_km2"] == pytest.approx(20.0, rel=1e-6)
    assert b["extra_output_yi_yuan"] == pytest.approx(2.0, rel=1e-6)
    assert b["land_to_release_km2"] == pytest.approx(0.1 - 6 / 80, rel=1e-6)
    assert b["status"] == "未达标" and b["year"] == 2020
    assert "004 附件 乙" in b["numerator_source"] and "test parcels" in b["basis_source"]
    assert "001" in b["target_source"] and "表1 #9" in b["target_source"]


def test_zone_level_apportions_by_parcel_land(filled) -> None:  # type: ignore[no-untyped-def]
    rows = {r["unit_name"]: r for r in _json(["--level", "pian"])}
    assert set(rows) == {"西片", "东片"}
    assert rows["西片"]["value_yi_yuan"] == pytest.approx(20.0, rel=1e-6)
    assert rows["西片"]["area_km2"] == pytest.approx(0.2, rel=1e-6)
    assert rows["西片"]["status"] == "达标"
    assert rows["东片"]["value_yi_yuan"] == pytest.approx(7.0, rel=1e-6)
    assert rows["东片"]["area_km2"] == pytest.approx(0.11, rel=1e-6)
    assert rows["东片"]["density_yi_per_km2"] == pytest.approx(7.0 / 0.11, rel=1e-6)
    assert rows["东片"]["attainment_pct"] == pytest.approx(7.0 / 0.11 / 80 * 100, rel=1e-6)


def test_jurisdiction_basis_is_compared_as_reference_only(filled) -> None:  # type: ignore[no-untyped-def]
    rows = {r["unit_name"]: r for r in _json(["--basis", "published_area"])}
    assert rows["甲园区"]["area_km2"] == pytest.approx(1.5)  # 150 公顷
    assert rows["甲园区"]["density_yi_per_km2"] == pytest.approx(14.0)
    assert rows["甲园区"]["attainment_pct"] == pytest.approx(14.0 / 80 * 100)
    assert rows["甲园区"]["comparable_with_target"] is False
    assert "口径不同" in rows["甲园区"]["target_source"]
    assert rows["乙园区"]["area_km2"] is None and rows["乙园区"]["status"] == "无数据"  # no published area
    assert rows["乙园区"]["missing_reason"] == "no published_area area"


def test_table_has_chinese_headers_and_figures(filled) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["density", "--year", "2020"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for header in ("名称", "产值 亿元", "面积 km²", "地均产值 亿元/km²", "目标", "达标率", "差距", "状态", "数据年份", "来源"):
        assert header in result.output
    assert "125.0%" in result.output and "75.0%" in result.output and "20.00" in result.output
    assert "甲园区" in result.output and "未达标" in result.output


def test_bad_options_exit_2_naming_the_option(filled, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        main(["density", "--basis", "floor_area"])
    assert info.value.code == 2
    assert "basis: unknown basis 'floor_area'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["density", "--target", "nope"])
    assert info.value.code == 2
    assert "nope" in capsys.readouterr().err


def test_overlapping_zones_are_refused_naming_them(filled, engine, capsys) -> None:  # type: ignore[no-untyped-def]
    insert_zone(engine, "X", "重叠片", to_4326([rect(500, -1000, 400, 3000)])[0], ZoneKind.pian)
    with pytest.raises(OverlappingZonesError) as info:
        parcel_piece_areas(engine, year=2020, zone_kind="pian")
    message = str(info.value)
    assert "西片 (W)" in message and "重叠片 (X)" in message and "东片 (E)" in message
    overlaps = [float(m.replace(",", "")) for m in re.findall(r"overlap by ([\d,]+) m²", message)]
    assert overlaps == [pytest.approx(600_000, rel=1e-4)] * 2  # 200 m × 3000 m with each of 西片, 东片
    with pytest.raises(SystemExit) as exit_info:
        main(["density", "--level", "pian"])
    assert exit_info.value.code == 2
    assert "重叠片" in capsys.readouterr().err
    # zones that only touch along an edge are fine (西片 and 东片 share x = 700)
    assert len(parcel_piece_areas(engine, year=2020)) == 2


def test_answer_raises_the_parcel_querys_error(filled, engine) -> None:  # type: ignore[no-untyped-def]
    """The parcel query runs on another thread; its error reaches the caller unchanged."""
    insert_zone(engine, "X", "重叠片", to_4326([rect(500, -1000, 400, 3000)])[0], ZoneKind.pian)
    with pytest.raises(OverlappingZonesError, match="重叠片"):
        answer_density(engine, DensityQuestion(year=2020, level="pian"))


def test_parks_without_parcel_land_are_apportioned_by_boundary(filled, engine) -> None:  # type: ignore[no-untyped-def]
    """丙 (400 × 800 m at x = 500..900, y = 1100..1900; no parcel touches it) straddles 西片 / 东片 at
    x = 700: its boundary splits 200/200, so half of its output goes to each zone; its land
    is unknown, so both zone totals of land go missing (an incomplete sum is no total)."""
    c, _ = insert_park(engine, "C", "丙园区", to_4326([rect(500, 1100, 400, 800)])[0])
    insert_indicator(engine, c, 2020, "output", 4.0, "亿元", "004 附件 丙")
    zones = answer_density(engine, DensityQuestion(year=2020, level="pian")).rows.set_index("unit_name")
    # 甲 by land (0.2 / 0.01 km²), 丙 by boundary (½ each): 20 + 2 in 西片, 1 + 6 + 2 in 东片
    assert zones.loc["西片", "value_yi_yuan"] == pytest.approx(22.0, rel=1e-6)
    assert zones.loc["东片", "value_yi_yuan"] == pytest.approx(9.0, rel=1e-6)
    assert pd.isna(zones.loc["西片", "area_km2"]) and pd.isna(zones.loc["东片", "area_km2"])
    assert zones.loc["西片", "missing_units"] == str(c) and zones.loc["西片", "status"] == "无数据"
    for zone in ("西片", "东片"):
        methods = zones.loc[zone, "share_method"]
        assert "supplied_industrial_land share (PostGIS" in methods and "boundary area share (EPSG:4549)" in methods
    parks = answer_density(engine, DensityQuestion(year=2020)).rows.set_index("unit_name")
    assert pd.isna(parks.loc["丙园区", "area_km2"]) and parks.loc["丙园区", "status"] == "无数据"
