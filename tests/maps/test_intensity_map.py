"""The 集约利用 map view (/maps/intensity): served, chosen indicator and level (parks or zones), popup with
every indicator; in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gis_service.db.models import ZoneKind
from gis_service.testing import insert_zone, running_service
from tests.api.conftest import make_client
from tests.maps.conftest import CHROMIUM
from tests.maps.test_browser import (  # noqa: F401
    _open,
    _screenshot,
    park_centre_on_screen,
    pytestmark,
)
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import YEAR, load_fixture


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
def test_page_opens_in_chromium_and_the_popup_lists_the_indicators(db_url: str, intensity_data: int, browser) -> None:  # type: ignore[no-untyped-def]
    text = _popup_text(browser, db_url, "indicator=floor_area_ratio", "园区A", "intensity_offline.png")
    assert "园区A" in text and "综合容积率" in text and "0.08" in text and "工业主导型" in text


def _popup_text(browser, db_url: str, query: str, unit_name: str, screenshot: str) -> str:  # type: ignore[no-untyped-def]
    """The popup's text after a click on ``unit_name`` in the page at ``query`` (served offline:
    no request leaves the machine, no script error); a screenshot of it in test-artifacts/."""
    with running_service(db_url, offline=True) as base:
        page, errors, outside = _open(browser, f"{base}/maps/intensity?year={YEAR}&{query}", strict_offline=True)
        assert outside == [] and errors == [], (outside, errors)
        page.mouse.click(*park_centre_on_screen(page, unit_name, "unit_name"))
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        page.wait_for_timeout(400)  # the popup's fade-in, for a readable screenshot
        _screenshot(page, screenshot)
        text = popup.inner_text()
        page.close()
    return str(text)


def test_a_year_without_parks_gives_a_page_not_an_error(db_url: str, intensity_data: int) -> None:
    with make_client(db_url) as client:
        page = client.get("/maps/intensity", params={"year": 1950})
    assert page.status_code == 200, page.text
    assert "该年份无园区边界" in page.text


@pytest.fixture
def with_zones(engine: Engine, intensity_data: int) -> dict[str, int]:
    """A 片 over the west of park A and a 九区 area over all of it (EPSG:4549 metres, the fixture's frame)."""
    west = insert_zone(engine, "ZW", "西片", to_4326([rect(-500, -500, 1075, 2000)])[0])
    area = insert_zone(engine, "ZC", "九区甲", to_4326([rect(-500, -500, 3000, 3000)])[0], kind=ZoneKind.corridor_area)
    return {"west": west, "area": area}


def test_the_zone_level_draws_each_zone_kind_as_a_layer_with_the_answers_values(
    db_url: str, engine: Engine, with_zones: dict[str, int]
) -> None:
    with make_client(db_url) as client:
        page = client.get("/maps/intensity", params={"year": YEAR, "level": "zone", "indicator": "floor_area_ratio"})
        api = client.get("/metrics/intensity", params={"year": YEAR, "level": "zone"}).json()
        bad = client.get("/maps/intensity", params={"year": YEAR, "level": "town"})
    assert page.status_code == 200, page.text
    assert "片区、功能区按其与园区边界的重叠部分计算" in page.text
    for layer in ("三片 · 综合容积率", "一廊九区功能区 · 综合容积率"):  # one layer per zone kind (JSON in the page)
        assert json.dumps(layer) in page.text, layer
    assert {r["unit_id"] for r in api["rows"]} == set(with_zones.values())
    for row in api["rows"]:  # each zone's value on the map is the API's, as the map formats it
        feature = re.search(r'\{[^{}]*"unit_id": ' + str(row["unit_id"]) + r',[^{}]*\}', page.text)
        assert feature is not None, row["unit_name"]
        assert json.dumps(row["unit_name"]) in feature.group(0)
        assert '"value_text": ' + json.dumps(f"{row['floor_area_ratio']:,.2f}") in feature.group(0)
    assert bad.status_code == 422 and "level" in bad.text


def test_the_park_level_links_to_the_zone_level_keeping_the_indicator(db_url: str, intensity_data: int) -> None:
    with make_client(db_url) as client:
        page = client.get("/maps/intensity", params={"year": YEAR, "indicator": "building_density_pct"})
    assert "indicator=building_density_pct&amp;year=2023&amp;level=zone" in page.text


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
def test_zone_page_opens_in_chromium_and_a_zone_popup_explains_its_value(
    db_url: str, with_zones: dict[str, int], browser  # type: ignore[no-untyped-def]
) -> None:
    text = _popup_text(browser, db_url, "level=zone&indicator=floor_area_ratio", "西片", "intensity_zones_offline.png")
    assert "西片" in text and "综合容积率 = 总建筑面积" in text
