"""The 集约利用 map view (/maps/intensity): served, chosen indicator, popup with every indicator; in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from gis_service.testing import running_service
from tests.api.conftest import make_client
from tests.maps.conftest import CHROMIUM  # noqa: F401
from tests.maps.test_browser import _open, _screenshot, park_centre_on_screen, pytestmark  # noqa: F401
from tests.metrics.intensity_fixture import load_fixture, YEAR


@pytest.fixture
def intensity_data(engine: Engine, tmp_path: Path) -> int:
    return load_fixture(engine, tmp_path)


def test_page_is_served_for_a_chosen_indicator_and_refuses_an_unknown_one(db_url: str, intensity_data: int) -> None:
    with make_client(db_url) as client:
        page = client.get("/maps/intensity", params={"year": YEAR, "indicator": "investment_intensity_wan_per_ha"})
        bad = client.get("/maps/intensity", params={"year": YEAR, "indicator": "nope"})
    assert page.status_code == 200, page.text
    assert "开发区土地集约利用评价 2023 年" in page.text and "非官方" in page.text
    assert "工业用地固定资产投入强度(万元/公顷)" in page.text  # the legend names the chosen indicator and unit
    assert '"value_text": "10,000.00 \\u4e07\\u5143/\\u516c\\u9877"' in page.text  # 10,000.00 万元/公顷 in the GeoJSON
    assert bad.status_code == 422 and "nope" in bad.text


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
def test_page_opens_in_chromium_and_the_popup_lists_the_indicators(db_url: str, intensity_data: int, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with running_service(db_url, offline=True) as base:
        page, errors, outside = _open(browser, f"{base}/maps/intensity?year={YEAR}&indicator=floor_area_ratio",
                                      strict_offline=True)
        assert outside == [] and errors == [], (outside, errors)
        page.mouse.click(*park_centre_on_screen(page, "园区A", "unit_name"))
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        assert "园区A" in text and "综合容积率" in text and "0.08" in text and "工业主导型" in text
        _screenshot(page, "intensity_offline.png")
        page.close()


def test_a_year_without_parks_gives_a_page_not_an_error(db_url: str, intensity_data: int) -> None:
    with make_client(db_url) as client:
        page = client.get("/maps/intensity", params={"year": 1950})
    assert page.status_code == 200, page.text
    assert "该年份无园区边界" in page.text
