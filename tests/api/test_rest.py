"""REST endpoints and downloads on the sample data (figures hand-computed in sample_data)."""

from __future__ import annotations

import io
import json

import openpyxl
import pyogrio
import pytest
from geojson_pydantic import FeatureCollection


def test_parks_carry_figures_and_quality(client, sample) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/parks?year=2020").json()
    FeatureCollection.model_validate(doc)
    props = {f["properties"]["unit_name"]: f["properties"] for f in doc["features"]}
    west, east, nodata = props["测试西园"], props["测试东园"], props["测试无数据园"]
    assert west["published_area_km2"] == pytest.approx(2.0) and east["published_area_km2"] == pytest.approx(0.5)  # 50 公顷
    assert west["basis"] == "supplied_industrial_land" and west["figure_year"] == 2020
    # the park's properties are its row of /metrics/density (one answer for both)
    rows = {r["unit_name"]: r for r in client.get("/metrics/density?year=2020").json()["rows"]}
    for name, p in props.items():
        assert {k: p[k] for k in rows[name]} == rows[name]
    assert west["geometry_quality"] == "approximate" and east["geometry_quality"] == "surveyed"
    assert west["sizhi_sides"] == {"东至": "甲路", "南至": "乙路", "西至": "丙河", "北至": "丁路"}
    assert nodata["value_yi_yuan"] is None and nodata["status"] == "无数据"  # missing, never 0
    one = client.get(f"/parks/{sample['east']}").json()
    assert one["properties"]["unit_name"] == "测试东园" and one["geometry"]["type"] == "MultiPolygon"
    assert client.get("/parks/999").status_code == 404


def test_density_against_target_on_published_area(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/metrics/density?year=2020&basis=published_area").json()
    assert doc["meta"]["comparable_with_target"] is False  # target 001 表1 #9 is on supplied industrial land
    assert "口径不同" in doc["meta"]["comparability_note_zh"] and "既非上限也非下限" in doc["meta"]["comparability_note_zh"]
    assert doc["meta"]["target"]["source"] == "001_13d6efb69ed95403.txt 表1 #9"
    rows = {r["unit_name"]: r for r in doc["rows"]}
    assert rows["测试西园"]["density_yi_per_km2"] == pytest.approx(50.0)  # 100 亿元 / 2.0 km²
    assert rows["测试东园"]["density_yi_per_km2"] == pytest.approx(240.0)  # 120 亿元 / 50 公顷
    assert rows["测试西园"]["attainment_pct"] == pytest.approx(62.5)  # 50 / 80
    assert rows["测试西园"]["gap_yi_per_km2"] == pytest.approx(30.0)
    assert rows["测试西园"]["status"] == "未达标" and rows["测试东园"]["status"] == "达标"
    assert rows["测试无数据园"]["density_yi_per_km2"] is None and rows["测试无数据园"]["missing_reason"]


def test_density_on_supplied_land_matches_the_parcel_area(client) -> None:  # type: ignore[no-untyped-def]
    import shapely
    from pyproj import Transformer
    from shapely.geometry import box

    from tests.api.sample_data import WEST_PARCEL

    to_4549 = Transformer.from_crs(4326, 4549, always_xy=True)
    area_km2 = shapely.transform(box(*WEST_PARCEL), lambda c: __import__("numpy").column_stack(to_4549.transform(c[:, 0], c[:, 1]))).area / 1e6
    doc = client.get("/metrics/density?year=2020").json()
    assert doc["meta"]["question"]["basis"] == "supplied_industrial_land" and doc["meta"]["comparable_with_target"] is True
    west = next(r for r in doc["rows"] if r["unit_name"] == "测试西园")
    assert west["area_km2"] == pytest.approx(area_km2, rel=1e-6)
    assert west["density_yi_per_km2"] == pytest.approx(100 / area_km2, rel=1e-6)


def test_density_errors(client) -> None:  # type: ignore[no-untyped-def]
    for query, status, words in (
        ("year=1990", 404, "1990"),
        ("numerator=happiness", 422, "happiness"),
        ("basis=moon", 422, "moon"),
        ("level=planet", 422, "planet"),
        ("target=nope", 404, "nope"),
        ("year=abc", 422, "year"),
    ):
        r = client.get(f"/metrics/density?{query}")
        assert r.status_code == status, query
        assert words in r.json()["description"], (query, r.json())


def test_zones_towns_targets_indicators(client, sample) -> None:  # type: ignore[no-untyped-def]
    zones = client.get("/zones?kind=pian").json()
    assert [f["properties"]["name"] for f in zones["features"]] == ["产城融合示范片区"]
    assert zones["features"][0]["properties"]["member_towns"] == ["乙街道"]
    assert client.get("/zones?kind=lake").status_code == 422
    towns = {f["properties"]["name"]: f["properties"] for f in client.get("/towns").json()["features"]}
    assert towns["乙街道"]["pian"] == "产城融合示范片区" and towns["甲镇"]["pian"] is None
    targets = client.get("/targets").json()
    assert [(t["code"], t["value"], t["basis"]) for t in targets] == [("t001_09", 80.0, "supplied_industrial_land")]
    ind = client.get(f"/parks/{sample['east']}/indicators").json()
    assert {(i["metric_code"], i["value"], i["unit"]) for i in ind} == {("output", 120.0, "亿元"), ("jurisdiction_area", 50.0, "公顷")}
    assert client.get("/parks/999/indicators").status_code == 404
    sizhi = client.get(f"/parks/{sample['west']}/sizhi").json()
    assert sizhi["raw_text"].startswith("东至甲路") and sizhi["source_section"] == "附件"


def test_sizhi_parse_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/sizhi/parse", json={"text": "东至人民北路,南至文汇路,西至河道—文汇路北80米—龙源路,北至广富林路"})
    assert r.status_code == 200
    part = r.json()["parts"][0]
    assert [s["name"] for s in part["east"]] == ["人民北路"]
    assert len(part["west"]) == 3
    assert client.post("/sizhi/parse", json={"text": ""}).status_code == 422


def test_downloads(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    csv = client.get("/downloads/metrics.csv?year=2020&basis=published_area")
    assert csv.content.startswith("\ufeff".encode()) and "测试西园" in csv.text
    line = next(l for l in csv.text.splitlines() if "测试西园" in l and "published_area" in l)
    assert ",50.0," in line
    xlsx = client.get("/downloads/metrics.xlsx?year=2020")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["地均指标"]
    header = [c.value for c in sheet[1]]
    names = {row[header.index("unit_name")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"测试西园", "测试东园", "测试无数据园"}
    gpkg = client.get("/downloads/layers.gpkg?layers=parks,towns,parcels")
    assert gpkg.status_code == 200
    target = tmp_path / "layers.gpkg"
    target.write_bytes(gpkg.content)
    assert sorted(name for name, _ in pyogrio.list_layers(target)) == ["parcels", "parks", "towns"]
    parks = pyogrio.read_dataframe(target, layer="parks")
    assert sorted(parks["name"]) == ["测试东园", "测试无数据园", "测试西园"] and parks.crs.to_epsg() == 4326
    assert client.get("/downloads/layers.gpkg?layers=lakes").status_code == 422


def test_sizhi_verify_endpoints(client, sample) -> None:  # type: ignore[no-untyped-def]
    report = client.get(f"/parks/{sample['west']}/sizhi/verify").json()
    assert report["park_id"] == sample["west"] and report["crs"] == "EPSG:4549"
    assert report["status"] and len(report["parts"]) == 1
    assert "甲路" in json.dumps(report["parts"][0], ensure_ascii=False)  # 甲路 runs along the east edge
    body = {"text": "东至甲路,南至乙路", "geometry": {"type": "Polygon", "coordinates": [[[121.10, 31.00], [121.12, 31.00],
                                                                                   [121.12, 31.02], [121.10, 31.02], [121.10, 31.00]]]}}
    r = client.post("/sizhi/verify", json=body)
    assert r.status_code == 200 and "甲路" in r.text
    bad = client.post("/sizhi/verify", json={"text": "东至甲路", "geometry": {"type": "Point", "coordinates": [1, 2]}})
    assert bad.status_code == 422 and "Polygon" in bad.json()["description"]
    assert client.get(f"/parks/{sample['east']}/sizhi/verify").status_code == 404  # no 四至 stored
