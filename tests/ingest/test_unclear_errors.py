"""Errors that used to name the wrong problem (issue 15, item 13 parts).

An unterminated CSV quote was reported as "no source", a NaN coordinate as "outside the
extent" with an inside bbox, and an XLSX formula without a saved value was read as an
empty cell.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine

from gis_service.ingest import import_indicators
from gis_service.ingest.errors import InvalidGeometryError, UnreadableFileError
from gis_service.ingest.land.files import open_land_file, read_chunks
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.sources import POLYGONS, read_features, read_rows
from gis_service.ingest.tables import read_table

INDICATOR_HEADER = "园区,年份,指标,数值,单位,来源\n"


def test_unterminated_csv_quote_names_the_line_it_opens(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(INDICATOR_HEADER + '测试西园,2020,工业总产值,100,亿元,年报.pdf\n测试西园,2021,"工业总产值,110,亿元,年报.pdf\n'
                    "测试西园,2022,工业总产值,120,亿元,年报.pdf\n", encoding="utf-8")
    message = r'figures\.csv: line 3: a quoted field opens here and is never closed \(unterminated " quote'
    with pytest.raises(UnreadableFileError, match=message):
        read_table(path, ImportLimits())
    with pytest.raises(UnreadableFileError, match=message):  # the import itself, not "no source"
        import_indicators(engine, path, actor="test")
    layer = tmp_path / "zone_town.csv"
    layer.write_text('zone_code,town_name,source_document\nZ1,新桥镇,"a.pdf\nZ2,车墩镇,b.pdf\n', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"zone_town\.csv: line 2: a quoted field opens here and is never closed"):
        read_rows(layer, required=("zone_code", "town_name", "source_document"))


def test_text_after_a_closing_quote_names_the_opening_line(tmp_path: Path) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(INDICATOR_HEADER + '测试西园,2020,"工业\n总产值"x,100,亿元,年报.pdf\n', encoding="utf-8")
    with pytest.raises(UnreadableFileError, match=r"figures\.csv: line 2: the quoted field opening here is followed by text"):
        read_table(path, ImportLimits())


def _nan_geojson(path: Path) -> Path:
    # GDAL reads the NaN literal of JavaScript; the text is what an exporter writes for a missing value
    ring = "[[121.2,31.0],[121.201,NaN],[121.201,31.001],[121.2,31.0]]"
    props = json.dumps({"code": "p1", "BSM": "p1", "geometry_quality": "approximate", "source_document": "d"})
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":' + props
                    + ',"geometry":{"type":"Polygon","coordinates":[' + ring + "]}}]}")
    return path


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_nan_coordinate_is_named_as_not_a_number(tmp_path: Path) -> None:
    path = _nan_geojson(tmp_path / "blocks.geojson")
    with pytest.raises(InvalidGeometryError, match=r"blocks\.geojson: feature 0 \(p1\): coordinate of vertex 1 "
                                                   r"\(121\.201, nan\) is not a number"):
        read_features(path, geometry_types=POLYGONS, required=("code",))
    with pytest.raises(InvalidGeometryError, match=r"blocks\.geojson: feature 0 \(BSM p1\): coordinate of vertex 1 "
                                                   r"\(121\.201, nan\) is not a number"):
        with open_land_file(path) as land:
            list(read_chunks(land))


def test_xlsx_formula_without_a_saved_value_is_refused(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "表1"
    sheet.append(["园区", "年份", "指标", "数值", "单位", "来源"])
    for year in range(2019, 2024):
        sheet.append(["测试西园", year, "工业总产值", 100, "亿元", "年报.pdf"])
    sheet.append(["测试西园", 2024, "工业总产值", None, "亿元", "年报.pdf"])
    sheet["D7"] = "=SUM(D2:D6)"  # openpyxl saves the formula without a value, as scripts do
    path = tmp_path / "figures.xlsx"
    book.save(path)
    with pytest.raises(UnreadableFileError, match=r"figures\.xlsx: sheet 表1 cell D7: formula =SUM\(D2:D6\) has no saved value"):
        read_table(path, ImportLimits())
