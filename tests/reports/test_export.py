"""GeoPackage export round trip (read back with pyogrio), CSV/XLSX of metric tables."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point
from sqlalchemy import Engine

from gis_service.coords.crs import projected_areas_m2
from gis_service.errors import InputError
from gis_service.export import LAYERS, export_gpkg, flatten_for_file, metrics_table, write_csv, write_xlsx
from gis_service.store import read_parks


def test_gpkg_round_trip(sample_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "out" / "songjiang.gpkg"
    counts = export_gpkg(sample_engine, path, year=2020)
    assert counts == {
        "district": 1, "towns": 17, "zones": 13, "parks": 8, "roads": 44, "parcels": 0,
        "indicators": len(pd.read_csv(Path(__file__).resolve().parents[2] / "data/layers/indicators.csv").query("year == 2020")),
        "targets": 31, "sizhi": 7,
    }
    listed = dict(pyogrio.list_layers(path))
    assert list(listed) == list(LAYERS)
    assert listed["parks"] == "MultiPolygon" and listed["roads"] == "MultiLineString" and listed["indicators"] is None
    assert listed["parcels"] == "MultiPolygon"  # empty, but typed: a GIS shows an empty polygon layer

    parks = pyogrio.read_dataframe(path, layer="parks")
    stored = read_parks(sample_engine, year=2020)
    assert parks.crs.to_epsg() == 4326
    assert list(parks["name"]) == list(stored["name"])
    assert set(parks["geometry_quality"]) == {"approximate"}
    assert parks["source_section"].iloc[4] == "附件 临港松江科技城 四至边界"
    # same geometry: areas in EPSG:4549 agree to the millimetre²
    assert projected_areas_m2(parks.geometry) == pytest.approx(projected_areas_m2(stored.geometry), abs=1e-3)
    info = pyogrio.read_info(path, layer="parks")
    assert info["features"] == 8 and info["geometry_type"] == "MultiPolygon"

    zones = pyogrio.read_dataframe(path, layer="zones")
    chancheng = zones[zones["name"] == "产城融合示范片区"].iloc[0]
    assert chancheng["member_towns"] == "九亭镇,九里亭街道,新桥镇,泗泾镇,洞泾镇"
    sizhi = pyogrio.read_dataframe(path, layer="sizhi", read_geometry=False)
    parsed = json.loads(sizhi[sizhi["park_name"] == "环大学城科创园"].iloc[0]["parsed"])
    assert [seg["name"] for seg in parsed["parts"][0]["west"]] == ["河道", "文汇路", "龙源路"]
    indicators = pyogrio.read_dataframe(path, layer="indicators", read_geometry=False)
    lingang = indicators[(indicators["scope_name"] == "临港松江科技城") & (indicators["metric_code"] == "land_area")].iloc[0]
    assert (lingang["value"], lingang["unit"]) == (178.0, "公顷")


def test_gpkg_layer_choice_and_errors(sample_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    assert export_gpkg(sample_engine, path, layers=["district", "roads"]) == {"district": 1, "roads": 44}
    assert [name for name, _ in pyogrio.list_layers(path)] == ["district", "roads"]
    before = path.read_bytes()
    with pytest.raises(InputError, match="rivers"):
        export_gpkg(sample_engine, path, layers=["roads", "rivers"])
    with pytest.raises(InputError, match=r"\.gpkg"):
        export_gpkg(sample_engine, tmp_path / "x.shp")
    assert path.read_bytes() == before  # a failed export leaves the old file alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.gpkg"]  # and no temporary file


def test_metrics_csv_and_xlsx(sample_engine: Engine, tmp_path: Path) -> None:
    table = metrics_table(sample_engine, year=2020, basis="published_area")
    row = table[(table["unit_name"] == "环大学城科创园") & (table["basis"] == "published_area")].iloc[0]
    assert row["density_yi_per_km2"] == pytest.approx(36.102 / 2.35)
    csv = write_csv(table, tmp_path / "m.csv")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    back = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(back) == len(table) and "环大学城科创园" in set(back["unit_name"])
    xlsx = write_xlsx({"地均指标": table}, tmp_path / "m.xlsx")
    sheet = load_workbook(xlsx)["地均指标"]
    header = [c.value for c in sheet[1]]
    assert header == list(table.columns)
    assert sheet.max_row == len(table) + 1
    with pytest.raises(InputError, match="1-31"):
        write_xlsx({"x" * 32: table}, tmp_path / "bad.xlsx")


def test_flatten_for_file_keeps_missing() -> None:
    frame = gpd.GeoDataFrame(
        {"towns": [["a", "b"], None], "parsed": [{"k": "东"}, None], "n": [1.0, None]},
        geometry=[Point(0, 0), Point(1, 1)], crs=4326,
    )
    flat = flatten_for_file(frame)
    assert flat["towns"].iloc[0] == "a,b" and pd.isna(flat["towns"].iloc[1])
    assert flat["parsed"].iloc[0] == '{"k": "东"}' and pd.isna(flat["parsed"].iloc[1])
    assert pd.isna(flat["n"].iloc[1]) and flat.geometry.equals(frame.geometry)
