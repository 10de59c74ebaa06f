"""Briefing reports: the XLSX reads back with the right cells, the map pages are real files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.errors import InputError, NotFoundError
from gis_service.reports import district_report, park_report
from gis_service.reports.mappage import DPI, scale_bar_km
from gis_service.reports.tables import missing_reason_zh
from gis_service.reports.xlsx import HEADER_ROW

TODAY = dt.date(2024, 5, 6)


def _table(sheet) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Rows of a report sheet as dicts keyed by the header row."""
    header = [c.value for c in sheet[HEADER_ROW]]
    rows = []
    for values in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True):
        rows.append(dict(zip(header, values)))
    return rows


def test_park_report_xlsx_cells(sample_engine: Engine, tmp_path: Path) -> None:
    files = park_report(sample_engine, "sj_lingang", tmp_path, today=TODAY)
    assert files.xlsx == tmp_path / "park_sj_lingang_2020.xlsx"
    book = load_workbook(files.xlsx)
    assert book.sheetnames == ["目标", "数值", "差距", "分类", "来源", "集约利用"]
    gaps = book["差距"]
    assert gaps["A1"].value == "临港松江科技城产业园区地均产值简报 — 差距"
    assert "数据年份:2020年" in gaps["A2"].value and "生成日期:2024-05-06" in gaps["A2"].value
    assert "近似几何" in gaps["A3"].value
    assert gaps.freeze_panes == f"B{HEADER_ROW + 1}"
    rows = {r["口径"]: r for r in _table(gaps)}
    # 116 亿元 / 1.8 km² (004 附件) = 64.444 亿元/km², 80.56 % of 80, gap 15.556, 28 亿元 more output
    published = rows["管辖面积(公布)"]
    assert published["地均产值(亿元/km²)"] == pytest.approx(116 / 1.8)
    assert published["达标率(%)"] == pytest.approx(116 / 1.8 / 80 * 100)
    assert published["差距(亿元/km²)"] == pytest.approx(80 - 116 / 1.8)
    assert published["需增产值(亿元)"] == pytest.approx(28.0)
    assert published["与目标口径一致"] == "否(仅供参考)"
    assert published["状态"] == "未达标"
    # the target's own basis has no parcels in the sample: missing, with the reason, never 0
    supplied = rows["已供应工业用地"]
    assert supplied["地均产值(亿元/km²)"] is None and supplied["面积(km²)"] is None
    assert supplied["状态"] == "无数据" and supplied["缺失原因"] == "无已供应工业用地面积"
    assert supplied["与目标口径一致"] == "是"
    cell = next(c for c in gaps[HEADER_ROW + 1] if c.value == published["地均产值(亿元/km²)"])
    assert cell.number_format == "0.00"

    targets = _table(book["目标"])
    chosen = [t for t in targets if t["本报告采用"] == "是"]
    assert [(t["指标"], t["目标值"], t["口径"]) for t in chosen] == [("工业园区单位土地产值（已供应工业用地）", 80, "已供应工业用地")]
    values = _table(book["数值"])
    assert len(values) == 1 and values[0]["产值(亿元)"] == 116 and values[0]["管辖面积(公布)(km²)"] == 1.8
    assert values[0]["边界"] == "近似(非测绘)"
    classes = _table(book["分类"])
    assert classes[0]["园区"] == "临港松江科技城" and classes[0]["等级"] == "A"  # the park's own row comes first
    assert [c["等级"] for c in classes if c["园区"] == "莘莘学子创业园"] == ["无数据"]
    sources = _table(book["来源"])
    output = next(s for s in sources if s["项目"] == "临港松江科技城 产值(工业总产值)")
    assert output["数值"] == 116 and output["来源文件"] == "004_a9d02975ccfca6ed.txt"
    assert output["章节"] == "附件 临港松江科技城 区块概况"


def test_district_report_files(sample_engine: Engine, tmp_path: Path) -> None:
    files = district_report(sample_engine, tmp_path, today=TODAY)
    gaps = _table(load_workbook(files.xlsx)["差距"])
    west = next(r for r in gaps if r["园区"] == "松江工业区西区" and r["口径"] == "管辖面积(公布)")
    assert west["地均产值(亿元/km²)"] == pytest.approx(165 / 18.53)
    assert west["所需年均增速(%)"] == pytest.approx(((80 / (165 / 18.53)) ** (1 / 5) - 1) * 100)
    xinxin = next(r for r in gaps if r["园区"] == "莘莘学子创业园" and r["口径"] == "管辖面积(公布)")
    assert xinxin["状态"] == "无数据" and xinxin["缺失原因"] == "无产值(工业总产值)数据"
    assert {r["园区"] for r in gaps} >= {"张江高新区松江园", "临港松江科技城"}
    assert files.data.map_basis == "published_area" and not files.data.comparable
    with Image.open(files.png) as image:
        # A4 landscape (ISO 216: 297 x 210 mm) at the page's resolution, within a pixel of rounding
        width, height = (mm / 25.4 * DPI for mm in (297, 210))
        assert abs(image.size[0] - width) <= 1 and abs(image.size[1] - height) <= 1, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # a drawn page, not a blank one
        # the fill of 临港 (80.56 % attainment) is the 80–100 % class colour #fddbc7
        assert any(rgb == (0xFD, 0xDB, 0xC7) for _, rgb in colours)
    pdf = files.pdf.read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    assert b"/MediaBox [0 0 841.68 595.44]" in pdf or b"/MediaBox [ 0 0 841.68 595.44 ]" in pdf


def test_park_report_unknown_park_and_format(sample_engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="sj_lingang"):
        park_report(sample_engine, "no_such_park", tmp_path)
    with pytest.raises(InputError, match="docx"):
        park_report(sample_engine, 5, tmp_path, formats=("docx",))
    files = park_report(sample_engine, "5", tmp_path, formats=("xlsx",))  # id as text
    assert files.data.scope == "sj_lingang" and files.png is None and not (tmp_path / "park_sj_lingang_2020.png").exists()


def test_cli_report_and_export(sample_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIS_DATABASE_URL", sample_engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    result = runner.invoke(app, ["report", "park", "临港松江科技城", "--out", str(tmp_path), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "park_sj_lingang_2020.xlsx").is_file()
    result = runner.invoke(app, ["report", "district", "--out", str(tmp_path), "--format", "png"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "district_2020.png").stat().st_size > 50_000
    result = runner.invoke(app, ["export", "gpkg", str(tmp_path / "all.gpkg")])
    assert result.exit_code == 0, result.output
    assert "parks: 8" in result.output and (tmp_path / "all.gpkg").is_file()


def test_scale_bar_lengths_are_round() -> None:
    assert scale_bar_km(30_000) == 5
    assert scale_bar_km(4_000) == 0.5
    assert scale_bar_km(9_000) == 1
    assert scale_bar_km(100) == 0.1


def test_missing_reason_wording() -> None:
    assert missing_reason_zh("no output figure and no published_area area") == "无产值(工业总产值)数据、无管辖面积(公布)面积"
    assert missing_reason_zh("supplied_industrial_land area is 0") == "已供应工业用地面积为0"
    assert missing_reason_zh(None) is None
