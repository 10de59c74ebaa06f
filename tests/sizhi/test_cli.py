"""``gis-service sizhi …`` commands, run through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis_service.cli import app, main
from gis_service.sizhi.geometry import to_storage
from tests.sizhi.grid import X0, Y0, block, grid_roads

runner = CliRunner()
TEXT = "东至经三路,南至纬二路,西至经二路,北至纬四路"


@pytest.fixture
def roads_file(tmp_path: Path) -> Path:
    path = tmp_path / "roads.geojson"
    grid_roads().to_file(path, driver="GeoJSON")
    return path


def test_parse_prints_utf8_json() -> None:
    result = runner.invoke(app, ["sizhi", "parse", "东至人民北路,西至河道一文汇路北80米"])
    assert result.exit_code == 0, result.output
    assert "人民北路" in result.output  # not \\u-escaped
    data = json.loads(result.output)
    assert data["parts"][0]["west"][1]["offset"] == {"direction": "north", "meters": 80, "approx": False}


def test_parse_reads_stdin() -> None:
    result = runner.invoke(app, ["sizhi", "parse", "-"], input="南至G60高速高速公路\n")
    assert result.exit_code == 0
    assert json.loads(result.output)["parts"][0]["south"][0]["name"] == "G60高速公路"


def test_parse_error_exits_2_with_span() -> None:
    result = runner.invoke(app, ["sizhi", "parse", "东至A路,南至@@"])
    assert result.exit_code == 2
    assert "7-9" in result.output and "'@@'" in result.output


def test_build_prints_area_and_writes_geojson(roads_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "park.geojson"
    result = runner.invoke(app, ["sizhi", "build", TEXT, "--roads", str(roads_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2.0000 km²" in result.output and "东至: 经三路" in result.output
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert fc["features"][0]["properties"]["geometry_quality"] == "approximate"


def test_build_failure_exits_2(roads_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sizhi", "build", "东至经三路,西至经二路", "--roads", str(roads_file)])
    assert info.value.code == 2
    assert "不闭合" in capsys.readouterr().err


def test_verify_json_and_exit_status(roads_file: Path, tmp_path: Path) -> None:
    import geopandas as gpd

    good = tmp_path / "good.geojson"
    gpd.GeoDataFrame(geometry=[to_storage(block(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 3000))], crs="EPSG:4326").to_file(good)
    result = runner.invoke(app, ["sizhi", "verify", TEXT, "--boundary", str(good), "--roads", str(roads_file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "pass"
    bad = tmp_path / "bad.geojson"
    gpd.GeoDataFrame(geometry=[to_storage(block(X0 + 1500, Y0 + 1000, X0 + 2500, Y0 + 3000))], crs="EPSG:4326").to_file(bad)
    result = runner.invoke(app, ["sizhi", "verify", TEXT, "--boundary", str(bad), "--roads", str(roads_file), "--tolerance", "100"])
    assert result.exit_code == 1
    assert "不符" in result.output
