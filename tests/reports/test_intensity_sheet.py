"""The 集约利用 sheet of the park report and the intensity downloads (CSV/XLSX)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from gis_service.reports.intensity_sheet import intensity_sheet
from tests.api.conftest import make_client
from tests.metrics.intensity_fixture import load_fixture, YEAR


@pytest.fixture
def park(engine: Engine, tmp_path: Path) -> int:
    return load_fixture(engine, tmp_path)


def test_the_sheet_is_laid_out_like_the_monitoring_tables(engine: Engine, park: int) -> None:
    """What the park report's 集约利用 sheet holds (tests/reports/test_reports.py: the report has the sheet)."""
    rows = {r["指标"]: r for r in intensity_sheet(engine, YEAR, {park}).to_dict("records")}
    far = rows["综合容积率"]
    assert far["现状值"] == pytest.approx(55_000 / 700_000, rel=1e-3)
    assert far["分子"] == "总建筑面积" and far["分子值"] == pytest.approx(55_000, rel=1e-3) and far["分母单位"] == "公顷"
    assert rows["工业用地地均税收"]["单位"] == "万元/公顷" and rows["人口密度"]["单位"] == "万人/km²"
    assert rows["开发区类型"]["现状值"] == "工业主导型"
    assert any("示例" in name for name in rows)


def test_downloads_carry_the_indicators(db_url: str, park: int) -> None:
    with make_client(db_url) as client:
        csv = client.get("/downloads/intensity.csv", params={"year": YEAR})
        xlsx = client.get("/downloads/intensity.xlsx", params={"year": YEAR})
    assert csv.status_code == 200 and xlsx.status_code == 200, (csv.text, xlsx.text)
    header = csv.content.decode("utf-8-sig").splitlines()[0]
    assert "floor_area_ratio" in header and "investment_intensity_wan_per_ha" in header and "intensity_score" in header
    book = load_workbook(io.BytesIO(xlsx.content))
    assert "集约利用" in book.sheetnames and "集约利用指标" in book.sheetnames
