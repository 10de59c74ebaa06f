"""``gis-service demo buildings``: synthetic footprints on the demo land, through the real importer."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_service.answers.intensity import IntensityQuestion, answer_intensity
from gis_service.cli import app as cli_app
from gis_service.ingest.demo_buildings import DEMO_BUILDINGS_SOURCE
from tests.ingest.conftest import sample_with_cli

runner = CliRunner()
YEAR = 2020


@pytest.fixture(scope="module")
def demo(make_database, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The sample data, ``demo land`` and ``demo buildings`` run from the command line."""
    folder = tmp_path_factory.mktemp("demo-buildings")
    with sample_with_cli(make_database, ["demo", "land", "--year", str(YEAR)],
                         ["demo", "buildings", "--year", str(YEAR), "--directory", str(folder), "--json"]) as (engine, _, out):
        yield engine, folder, json.loads(out[1])


def test_the_file_is_as_a_surveying_office_delivers_it(demo) -> None:  # type: ignore[no-untyped-def]
    _, folder, result = demo
    with zipfile.ZipFile(Path(folder) / "demo_jzw_gbk_4528.zip") as archive:
        names = set(archive.namelist())
        dbf = archive.read("JZW.dbf")
        prj = archive.read("JZW.prj").decode()
    assert {"JZW.shp", "JZW.dbf", "JZW.prj"} <= names and "JZW.cpg" not in names
    assert "演示建筑".encode("gbk") in dbf and "演示建筑".encode("utf-8") not in dbf
    assert "Zone_40" in prj or "zone 40" in prj.lower()
    imported = result["buildings"]
    # about a quarter carry only 层数: their floor area is estimated (footprint × 层数) and flagged
    assert 0.15 < imported["estimated_count"] / imported["feature_count"] < 0.35
    assert imported["floors_field"] == "层数" and imported["floor_area_field"] == "建筑面积"


def test_the_buildings_are_stored_as_synthetic_on_the_parks(demo) -> None:  # type: ignore[no-untyped-def]
    engine: Engine = demo[0]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*), bool_and(is_synthetic), min(source_document), max(source_document)"
                                   " FROM building WHERE year = :y"), {"y": YEAR}).one()
        in_parks = conn.execute(text(
            "SELECT count(DISTINCT b.id) FROM building b JOIN park_boundary pb ON ST_Intersects(pb.geom, b.geom)"
            " WHERE b.year = :y AND pb.valid_to IS NULL"), {"y": YEAR}).scalar_one()
    count, synthetic, first, last = stored
    assert count == demo[2]["buildings"]["feature_count"] and synthetic is True
    assert first == last == DEMO_BUILDINGS_SOURCE
    # built on the cells whose centre lies in a park: all but a few twins beside a park's edge
    assert in_parks >= 0.99 * count


def test_the_intensity_table_fills_from_the_demo(demo) -> None:  # type: ignore[no-untyped-def]
    answer = answer_intensity(demo[0], IntensityQuestion(year=YEAR))
    measured = [r for r in answer.records() if r["n_buildings"]]
    assert len(measured) >= 5
    for r in measured:
        # buildings cover 35-60 % of built cells, 1-18 floors: plausible, not invented by the answer
        assert 0.2 < r["floor_area_ratio"] < 4 and 10 < r["building_density_pct"] < 70, r["unit_name"]
        assert r["industrial_floor_area_ratio"] is not None
    assert answer.meta["vintage"]["buildings"]["is_synthetic"] is True


def test_every_face_of_the_intensity_answer_says_it_uses_synthetic_data(demo) -> None:  # type: ignore[no-untyped-def]
    from gis_service.maps.intensity_view import build_intensity_map
    from gis_service.reports.intensity_sheet import intensity_sheet

    engine = demo[0]
    answer = answer_intensity(engine, IntensityQuestion(year=YEAR))
    assert answer.meta["uses_synthetic_data"] is True
    assert all(r["uses_synthetic_data"] for r in answer.records() if r["n_buildings"])
    cli = runner.invoke(cli_app, ["intensity", "--year", str(YEAR)], env={"COLUMNS": "400"})
    assert cli.exit_code == 0 and "含演示数据(合成)" in cli.output and "[合成数据]" in cli.output
    page = build_intensity_map(engine, YEAR)
    assert "含演示数据(合成)" in page and "<h1>演示数据 · 开发区土地集约利用评价" in page  # the phone title bar shows the h1
    sheet = intensity_sheet(engine, YEAR)
    assert (sheet["合成数据"].dropna() == "是(演示数据,非真实)").any()
