"""import_indicators: CSV/XLSX, units converted to the catalogue's and recorded, versions, audit, refusals."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, text

from gis_service.ingest import ImportLimits, import_indicators
from gis_service.ingest.errors import (
    DuplicateIdError,
    ImplausibleValueError,
    NegativeValueError,
    NotANumberError,
    UnitMismatchError,
    UnknownReferenceError,
    UnknownUnitError,
    YearOutOfRangeError,
)
from tests.ingest.helpers import table_snapshot

WIDE_HEADER = "园区,年份,产值(万元),面积(公顷),注册企业数(家),员工(万人),税收(亿元),来源\n"


def _csv(tmp_path: Path, body: str, name: str = "figures.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _figures(engine: Engine, code: str, year: int) -> dict[str, tuple[Decimal, str, str | None, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT i.metric_code, i.value, i.unit, i.note, i.version FROM indicator i JOIN park p ON p.id = i.park_id
            WHERE p.code = :c AND i.year = :y
        """), {"c": code, "y": year}).all()
    return {r.metric_code: (r.value, r.unit, r.note, r.version) for r in rows}


def test_wide_csv_converted_to_catalogue_units(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, WIDE_HEADER + "环大学城科创园,2021,361020,235,636,0.525,2.9363,园区年报2021\n"
                                         "sj_west,2021,1650000,,420,,8.1,园区年报2021\n")
    result = import_indicators(loaded, path, actor="园区管委会")
    assert (result.inserted, result.updated, result.unchanged, result.skipped_empty) == (8, 0, 0, 2)
    assert result.converted == 4  # 万元 twice, 公顷, 万人; 亿元 and 家 are already the catalogue's units
    daxuecheng = _figures(loaded, "sj_daxuecheng", 2021)
    assert daxuecheng["output"] == (Decimal("36.102"), "亿元", "原值 361020 万元", 1)
    assert daxuecheng["jurisdiction_area"] == (Decimal("2.35"), "km²", "原值 235 公顷", 1)
    assert daxuecheng["employees"] == (Decimal("5250"), "人", "原值 0.525 万人", 1)
    assert daxuecheng["enterprises"] == (Decimal("636"), "家", None, 1)
    assert daxuecheng["tax"] == (Decimal("2.9363"), "亿元", None, 1)
    west = _figures(loaded, "sj_west", 2021)
    assert set(west) == {"output", "enterprises", "tax"}  # empty cells stay missing, never 0
    assert west["output"][0] == Decimal("165")


def test_reimport_changes_nothing_and_an_update_bumps_the_version(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, WIDE_HEADER + "sj_north,2021,428600,274,882,1.104,11.16,园区年报2021\n")
    import_indicators(loaded, path, actor="a")
    before = table_snapshot(loaded)
    again = import_indicators(loaded, path, actor="a")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert table_snapshot(loaded) == before  # no audit row either
    changed = _csv(tmp_path, WIDE_HEADER + "sj_north,2021,450000,274,882,1.104,11.16,园区年报2021(修订)\n", "v2.csv")
    result = import_indicators(loaded, changed, actor="b")
    assert (result.updated, result.unchanged) == (5, 0)  # the source changed on every figure
    figures = _figures(loaded, "sj_north", 2021)
    assert figures["output"] == (Decimal("45"), "亿元", "原值 450000 万元", 2)
    with loaded.connect() as conn:
        audit = conn.execute(text("""
            SELECT actor, action, row_id, before, after FROM audit_log
            WHERE table_name = 'indicator' AND actor = 'b' ORDER BY id
        """)).all()
    assert [a.action for a in audit] == ["update"] * 5 + ["import"]
    output = next(a for a in audit if a.after and a.after.get("metric_code") == "output")
    assert (output.before["value"], output.after["value"]) == (42.86, 45.0)
    assert (output.before["version"], output.after["version"]) == (1, 2)
    assert output.after["as_given"] == "450000 万元"
    assert audit[-1].after["updated"] == 5


def test_long_xlsx_with_unit_column(loaded: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "2022年"
    sheet.append(["园区代码", "年份", "指标", "数值", "单位", "来源", "备注"])
    sheet.append(["sj_lingang", 2022, "用地面积", 2670, "亩", "临港松江科技城 2022 统计", None])
    sheet.append(["sj_lingang", 2022, "output", 1160000, "万元", "临港松江科技城 2022 统计", "快报"])
    sheet.append(["sj_lingang", 2022, "管辖面积", 1.8, "km²", "临港松江科技城 2022 统计", None])
    sheet.append([None, None, None, None, None, None, None])
    path = tmp_path / "figures.xlsx"
    book.save(path)
    result = import_indicators(loaded, path, actor="x")
    assert result.inserted == 3
    figures = _figures(loaded, "sj_lingang", 2022)
    assert figures["land_area"][:3] == (Decimal("178"), "公顷", "原值 2670 亩")  # 2670 / 15 = 178 公顷
    assert figures["output"][:3] == (Decimal("116"), "亿元", "快报; 原值 1160000 万元")
    assert figures["jurisdiction_area"][:3] == (Decimal("1.8"), "km²", None)


def test_gb18030_csv_from_excel(loaded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("园区,年份,税收(万元),来源\n莘莘学子创业园,2021,6800,年报\n".encode("gb18030"))
    assert import_indicators(loaded, path, actor="x").inserted == 1
    assert _figures(loaded, "sj_xinxin", 2021)["tax"][0] == Decimal("0.68")


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        ("sj_west,2021,abc,,,,,r", NotANumberError, r"figures.csv: line 3: column 'output' is not a number: 'abc'"),
        ("sj_west,2021,-5,,,,,r", NegativeValueError, r"line 3: output: negative value -5 万元"),
        ("sj_west,2021,200000000,,,,,r", ImplausibleValueError,
         r"line 3: output: implausible value 200000000 万元 = 20000 亿元: one park's output above 10,000 亿元"),
        ("sj_west,2021,50000000,200,,,,r", ImplausibleValueError,
         r"line 3: sj_west 2021: output 5000 亿元 over jurisdiction_area 2 km² \(figures.csv: line 3\) is 2,500 亿元/km²"),
        ("sj_west,2035,1,,,,,r", YearOutOfRangeError, r"line 3: year 2035 is outside the plan period 2016-2030"),
        ("sj_west,2015,1,,,,,r", YearOutOfRangeError, r"line 3: year 2015 is outside the plan period"),
        ("no_such_park,2021,1,,,,,r", UnknownReferenceError, r"line 3: unknown park 'no_such_park'"),
        ("sj_west,2021,1,,,,,", UnknownReferenceError, r"line 3: no source"),
    ],
)
def test_row_refusals_name_line_and_reason(loaded: Engine, tmp_path: Path, row: str, error: type, message: str) -> None:
    path = _csv(tmp_path, WIDE_HEADER + "sj_north,2021,428600,274,882,1.104,11.16,r\n" + row + "\n")
    before = table_snapshot(loaded)
    with pytest.raises(error, match=message):
        import_indicators(loaded, path, actor="x")
    assert table_snapshot(loaded) == before  # the error is in the last row: nothing of line 2 was written


def test_plan_period_is_configurable(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "园区,年份,产值(亿元),来源\nsj_west,2035,200,规划测算\n")
    with pytest.raises(YearOutOfRangeError):
        import_indicators(loaded, path, actor="x")
    result = import_indicators(loaded, path, actor="x", limits=ImportLimits(plan_year_max=2035))
    assert result.inserted == 1


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ("园区,年份,产值(公顷),来源\nsj_west,2021,1,r\n", UnitMismatchError,
         r"line 2: output: unit '公顷' does not match metric output \(产值\(工业总产值\), 亿元\)"),
        ("园区,年份,产值(美元),来源\nsj_west,2021,1,r\n", UnitMismatchError, r"unit '美元' does not match metric output"),
        ("园区,年份,指标,数值,单位,来源\nsj_west,2021,注册企业数,420,人,r\n", UnitMismatchError,
         r"line 2: enterprises: unit '人' does not match metric enterprises"),
        ("园区,年份,产值(斤),来源\nsj_west,2021,1,r\n", UnknownUnitError, r"column '产值\(斤\)': unknown unit '斤'"),
        ("园区,年份,产值,来源\nsj_west,2021,1,r\n", UnitMismatchError, r"column '产值' gives no unit: write it as 产值\(亿元\)"),
        ("园区,年份,利润率(%),来源\nsj_west,2021,1,r\n", UnknownReferenceError,
         r"column '利润率\(%\)' is neither a field .* nor a metric"),
        ("园区,产值(亿元),来源\nsj_west,1,r\n", UnknownReferenceError, r"no 年份 \(year\) column"),
        ("园区,年份,指标,数值,单位,来源\nsj_west,2021,GDP,1,亿元,r\n", UnknownReferenceError,
         r"line 2: metric 'GDP' is not in the metric catalogue"),
        ("园区,年份,产值(亿元),来源\nsj_west,2021,1,r\nsj_north,2021,2,r\n松江工业区西区,2021,3,r\n", DuplicateIdError,
         r"line 4: output: sj_west 2021 output is already given at line 2"),
    ],
)
def test_header_and_unit_refusals(loaded: Engine, tmp_path: Path, body: str, error: type, message: str) -> None:
    before = table_snapshot(loaded)
    with pytest.raises(error, match=message):
        import_indicators(loaded, _csv(tmp_path, body), actor="x")
    assert table_snapshot(loaded) == before


def test_source_argument_fills_rows_without_one(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "园区,年份,税收(亿元)\nsj_west,2021,8.5\n")
    import_indicators(loaded, path, actor="x", source_document="区税务局 2021 园区税收统计", source_section="表3")
    with loaded.connect() as conn:
        row = conn.execute(text(
            "SELECT source_document, source_section FROM indicator WHERE year = 2021 AND metric_code = 'tax'")).one()
    assert tuple(row) == ("区税务局 2021 园区税收统计", "表3")
