"""The demo goes through the real importers; what it loads shows as 演示数据 on every face."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis_service.answers import DensityQuestion, answer_density
from gis_service.api.app import create_app
from gis_service.ingest.land import SupplyOptions, import_supply
from gis_service.ingest.land.demo import DEMO_SOURCE, demo_patches, demo_supply, write_supply_gpkg
from gis_service.qa import run_qa
from gis_service.settings import get_settings
from tests.ingest.conftest import sample_with_cli


@pytest.fixture(scope="module")
def demo(make_database, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The sample data plus ``gis-service demo land`` run from the command line."""
    folder = tmp_path_factory.mktemp("demo")
    with sample_with_cli(make_database, ["demo", "land", "--directory", str(folder)]) as (engine, url, _), \
            TestClient(create_app(get_settings(database_url=url))) as client:
        yield engine, client, folder


def test_the_demo_files_are_as_offices_hold_them(demo) -> None:  # type: ignore[no-untyped-def]
    _, _, folder = demo
    with zipfile.ZipFile(folder / "demo_dltb_2020_gbk_4528.zip") as archive:
        names = set(archive.namelist())
        prj = archive.read("DLTB.prj").decode()
        dbf = archive.read("DLTB.dbf")
    assert {"DLTB.shp", "DLTB.dbf", "DLTB.prj"} <= names and "DLTB.cpg" not in names
    assert "Zone_40" in prj or "zone 40" in prj.lower()
    assert "工业用地".encode("gbk") in dbf  # GBK attributes, not UTF-8
    assert "工业用地".encode("utf-8") not in dbf


def test_every_face_flags_the_demo_as_synthetic(demo) -> None:  # type: ignore[no-untyped-def]
    engine, client, _ = demo
    answer = answer_density(engine, DensityQuestion(year=2020, basis="supplied_industrial_land"))
    measured = answer.rows[answer.rows["area_km2"].notna()]
    assert len(measured) >= 5 and measured["uses_synthetic_data"].all() and answer.meta["uses_synthetic_data"]
    assert answer.meta["vintage"]["land"]["supplied_industrial_land"]["layer"] == "supply"
    api = client.get("/metrics/density", params={"year": 2020, "basis": "supplied_industrial_land"}).json()
    assert api["meta"]["uses_synthetic_data"] is True
    overview = client.get("/", params={"basis": "supplied_industrial_land"}).text
    assert "含演示数据(合成)" in overview and "供地记录" in overview
    # the phone's title bar and <title> say it first, as the h1 does
    assert '<b class="gis-title">演示数据 · 松江区' in overview and "<title>演示数据 · 松江区" in overview
    park_id = int(measured.iloc[0]["unit_id"])
    park = client.get(f"/maps/parks/{park_id}", params={"basis": "industrial_land"}).text
    # layer names reach the page as JSON (\\u escapes) inside the layer control's script
    assert json.dumps("土地利用现状调查 2020 年(按地类)")[1:-1] in park and "演示数据" in park
    page = client.get("/data/land").text
    assert page.count("演示数据") >= 2 and "EPSG:4528" in page and "GB18030" in page
    imports = client.get("/land/imports").json()
    assert {i["kind"] for i in imports} == {"survey", "supply"} and all(i["is_synthetic"] for i in imports)
    check = run_qa(engine).check("land_imports")
    assert check.status == "info" and "演示数据" in check.message and "EPSG:4528" in check.message


def test_stored_land_text_is_escaped_on_the_data_page(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, client, _ = demo
    records = demo_supply(demo_patches(engine), year=2020).head(2)
    payload = "<script>alert(1)</script>${x}"
    import_supply(engine, write_supply_gpkg(records, tmp_path / "x.gpkg"), SupplyOptions(source_document=payload),
                  actor="t")
    page = client.get("/data/land").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "${x}" not in page
    with engine.begin() as conn:  # leave the demo as it was for the other tests
        conn.execute(text("DELETE FROM land_import WHERE source_document = :s"), {"s": payload})
    assert DEMO_SOURCE
