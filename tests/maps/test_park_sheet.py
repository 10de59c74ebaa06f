"""The park page as a working sheet, in real Chromium (issue 16, item 4).

The 四至 check drawn on the map, the area flag, and the two tools of the page: 合规审查 (a drawn
or uploaded boundary checked against a 四至 text) must give the API's answer for the same
input, and 情景测算 the API what-if's, with nothing stored.  Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from gis_service.ingest import load_sample
from gis_service.testing import running_service
from tests.api.sample_data import WEST_BOX
from tests.maps import test_browser
from tests.maps.test_browser import _MAP, _open, _screenshot

pytestmark = test_browser.pytestmark  # skipped only outside CI without Chromium

_TO_SCREEN = f"""([lat, lng]) => {{
  const map = {_MAP}; const p = map.latLngToContainerPoint([lat, lng]);
  const box = map.getContainer().getBoundingClientRect(); return [box.left + p.x, box.top + p.y];
}}"""
_SIDE_CHECK_TOOLTIPS = f"""() => {{
  const map = {_MAP}; const out = [];
  map.eachLayer(l => {{ if (l.feature && l.feature.properties && l.feature.properties.colour && l.getLatLngs)
    out.push([l.feature.properties.side, l.feature.properties.status, l.feature.properties.label]); }});
  return out;
}}"""


def _rows(page: Any, selector: str) -> list[list[str]]:
    """The cells' texts of the table rows with a ``data-side`` under ``selector``."""
    return page.eval_on_selector_all(
        f"{selector} tr[data-side]",
        "rows => rows.map(r => [r.dataset.side, r.dataset.status, ...Array.from(r.children).slice(1).map(c => c.innerText.trim())])",
    )


def _expected_rows(report: dict[str, Any]) -> list[list[str]]:
    """What the sheet's table shows of a /sizhi/verify answer."""
    out = []
    for part in report["parts"]:
        for side in ("east", "south", "west", "north"):
            s = part["sides"][side]
            out.append([side, s["status"], s["status_label"],
                        "—" if s["coverage_pct"] is None else f"{s['coverage_pct']:.1f}%",
                        "—" if s["max_distance_m"] is None else f"{s['max_distance_m']:.0f} 米",
                        "、".join(dict.fromkeys(s["found"])) or "—", "、".join(dict.fromkeys(s["missing"])) or "—"])
    return out


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


@pytest.fixture(scope="module")
def full_sample(make_database: Any) -> Iterator[str]:
    """The packaged sample (the seven blocks and their parent park) on a fresh database."""
    url = make_database()
    engine = create_engine(url)
    load_sample(engine)
    engine.dispose()
    yield url


def test_sizhi_check_layer_shows_found_and_missing_sides(db_url, sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, offline=True) as base:
        api = httpx.get(f"{base}/parks/{sample['west']}/sizhi/verify").json()
        page, errors, outside = _open(browser, f"{base}/maps/parks/{sample['west']}?year=2020", strict_offline=True)
        assert outside == [] and errors == [], (outside, errors)
        # the table is the API's check of the stored park, side by side
        assert _rows(page, "#gis-sizhi-check") == _expected_rows(api)
        rows = {r[0]: r for r in _rows(page, "#gis-sizhi-check")}
        assert rows["east"][1] == "pass" and rows["east"][5] == "甲路"  # found
        assert rows["west"][1] == "unverifiable" and rows["west"][6] == "丙河"  # missing from the roads layer
        # ... and drawn on the map: one line per side, coloured by result, saying found and missing
        lines = {side: (status, label) for side, status, label in page.evaluate(_SIDE_CHECK_TOOLTIPS)}
        assert {s: v[0] for s, v in lines.items()} == {"east": "pass", "south": "pass", "west": "unverifiable",
                                                        "north": "unverifiable"}
        assert "已找到:甲路" in lines["east"][1] and "覆盖 100.0%" in lines["east"][1]
        assert "未找到:丙河" in lines["west"][1]
        listed = " ".join(page.locator(".leaflet-control-layers-overlays label").all_inner_texts())
        assert "四至核查(边界各侧)" in listed
        assert page.locator("#gis-back").get_attribute("href").startswith("/?year=2020")
        _screenshot(page, "park_sheet_sizhi_check.png")
        page.close()


def test_area_flag_when_measured_and_published_differ_over_10_pct(full_sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(full_sample) as base:
        parks = {f["properties"]["unit_code"]: f for f in httpx.get(f"{base}/parks").json()["features"]}
        flagged, fine = parks["zjsj"], parks["sj_west"]  # measured 29.22 vs published 22.98 km²; 18.51 vs 18.53
        page, errors, _ = _open(browser, f"{base}/maps/parks/{flagged['id']}", strict_offline=False)
        assert errors == []
        flag = page.locator("#gis-figures .gis-area-flag")
        assert flag.count() == 1
        assert flag.get_attribute("data-diff-pct") == "27.1"
        assert "面积不符" in flag.inner_text() and "29.22 km²" in flag.inner_text() and "22.98 km²" in flag.inner_text()
        assert flag.is_visible()
        _screenshot(page, "park_sheet_area_flag.png")
        page.close()
        page, errors, _ = _open(browser, f"{base}/maps/parks/{fine['id']}", strict_offline=False)
        assert page.locator(".gis-area-flag").count() == 0
        assert page.locator(".gis-area-check").get_attribute("data-diff-pct") == "-0.1"
        # its neighbours are links to their pages; the parent park is named as such
        neighbours = page.locator("#gis-neighbours li").all_inner_texts()
        assert any("张江高新区松江园" in n and "所属园区" in n for n in neighbours), neighbours
        page.close()


def _draw(page: Any, corners: list[tuple[float, float]]) -> None:
    page.click("#gis-review summary")
    page.click("#gis-draw-start")
    for lon, lat in corners:
        x, y = page.evaluate(_TO_SCREEN, [lat, lon])
        page.mouse.click(x, y)
    page.click("#gis-draw-finish")


def test_draw_or_upload_and_check_gives_the_api_verify(db_url, sample, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    minx, miny, maxx, maxy = WEST_BOX
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    corners = [(cx - 0.004, cy - 0.004), (cx + 0.006, cy - 0.004), (cx + 0.006, cy + 0.004), (cx - 0.004, cy + 0.004)]
    with running_service(db_url, offline=True) as base:
        page, errors, outside = _open(browser, f"{base}/maps/parks/{sample['west']}?year=2020", strict_offline=True)
        _draw(page, corners)
        page.fill("#gis-review-text", "东至甲路,南至乙路,西至远路,北至丁路")
        with page.expect_request(lambda r: r.url.endswith("/sizhi/verify") and r.method == "POST") as asked:
            page.click("#gis-review-run")
        page.wait_for_selector("#gis-review-result tr[data-side]")
        sent = json.loads(asked.value.post_data)
        assert sent["geometry"]["type"] == "Polygon" and len(sent["geometry"]["coordinates"][0]) == 5
        drawn = sent["geometry"]["coordinates"][0]
        assert [pytest.approx(c, abs=1e-4) for c in corners] == [tuple(p) for p in drawn[:4]]
        api = httpx.post(f"{base}/sizhi/verify", json=sent).json()
        assert _rows(page, "#gis-review-result") == _expected_rows(api)
        assert page.locator("#gis-review-result").get_attribute("data-status") == api["status"]
        statuses = {r[0]: r[1] for r in _rows(page, "#gis-review-result")}
        assert statuses["east"] == "fail"  # the drawn east edge lies 0.004° (~380 m) off 甲路
        _screenshot(page, "park_sheet_draw_check.png")

        # an uploaded GeoJSON file: the same check of the same polygon
        upload = tmp_path / "边界.geojson"
        box = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
        upload.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [box]}}]}))
        page.click("#gis-draw-clear")
        page.set_input_files("#gis-review-file", str(upload))
        page.wait_for_function("() => document.getElementById('gis-review-state').textContent.includes('已读取')")
        page.fill("#gis-review-text", "东至甲路,南至乙路,西至丙河,北至丁路")
        page.click("#gis-review-run")
        page.wait_for_selector("#gis-review-result tr[data-side]")
        api = httpx.post(f"{base}/sizhi/verify", json={"text": "东至甲路,南至乙路,西至丙河,北至丁路",
                                                         "geometry": {"type": "Polygon", "coordinates": [box]},
                                                         "tolerance_m": 150}).json()
        assert _rows(page, "#gis-review-result") == _expected_rows(api)
        assert {r[0]: r[1] for r in _rows(page, "#gis-review-result")}["east"] == "pass"
        assert page.locator("#gis-review-file-name").inner_text() == "边界.geojson"
        assert outside == [] and errors == [], (outside, errors)
        page.close()


def _whatif_cells(page: Any, which: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        f"#gis-whatif tr[data-key] td.{which}",
        "cells => Object.fromEntries(cells.map(c => [c.parentElement.dataset.key, c.dataset.value]))",
    )


def test_whatif_panel_equals_the_api_whatif_and_stores_nothing(db_url, sample, engine, browser) -> None:  # type: ignore[no-untyped-def]
    before = _row_counts(engine)
    with running_service(db_url, offline=True) as base:
        page, errors, _ = _open(browser, f"{base}/maps/parks/{sample['west']}?year=2020", strict_offline=True)
        page.click("#gis-whatif summary")
        page.fill("#gis-whatif-value", "150")
        page.fill("#gis-whatif-area", "2.5")
        page.fill("#gis-whatif-release", "0.5")
        page.wait_for_function("() => document.getElementById('gis-whatif').dataset.answered"
                               " && !document.getElementById('gis-whatif-state').textContent.includes('测算中')")
        basis = page.locator("#gis-sheet").get_attribute("data-basis")
        body = {"year": 2020, "numerator": "output", "basis": basis, "level": "park",
                "target": page.locator("#gis-sheet").get_attribute("data-target"),
                "changes": [{"unit": sample["west"], "field": "output", "value": 150, "unit_of_value": "亿元", "mode": "set"},
                            {"unit": sample["west"], "field": basis, "value": 2.5, "unit_of_value": "km²", "mode": "set"},
                            {"unit": sample["west"], "field": basis, "value": -0.5, "unit_of_value": "km²", "mode": "add"}]}
        api = httpx.post(f"{base}/metrics/whatif", json=body).json()
        scenario = next(r for r in api["scenario"]["rows"] if r["unit_id"] == sample["west"])
        baseline = next(r for r in api["baseline"]["rows"] if r["unit_id"] == sample["west"])
        shown = _whatif_cells(page, "gis-scen")
        assert float(shown["density"]) == pytest.approx(scenario["density_yi_per_km2"], rel=1e-12)
        assert float(shown["density"]) == pytest.approx(150 / 2.0, rel=1e-12)  # 150 亿元 on 2.5 − 0.5 km²
        assert float(shown["attainment"]) == pytest.approx(scenario["attainment_pct"], rel=1e-12)
        assert float(shown["gap"]) == pytest.approx(scenario["gap_yi_per_km2"], rel=1e-12)
        assert shown["status"] == scenario["status"]
        base_cells = _whatif_cells(page, "gis-base")
        assert float(base_cells["density"]) == pytest.approx(baseline["density_yi_per_km2"], rel=1e-12)
        text_ = page.locator("#gis-whatif").inner_text()
        assert f"{scenario['density_yi_per_km2']:.2f} 亿元/km²" in text_ and f"{scenario['attainment_pct']:.1f}%" in text_
        state = page.locator("#gis-whatif-state").inner_text()
        assert state == "情景:产值设为 150 亿元;已供应工业用地面积设为 2.5 km²;释放土地 0.5 km²(未保存)", state
        page.locator("#gis-whatif table").scroll_into_view_if_needed()
        _screenshot(page, "park_sheet_whatif.png")
        assert errors == []
        page.close()
    assert _row_counts(engine) == before


def test_amap_page_draws_the_check_in_gcj02_and_sends_drawing_to_the_wgs84_page(client, sample) -> None:  # type: ignore[no-untyped-def]
    """Drawn points on the 高德 page would be GCJ-02 while the check takes WGS84: the tool links
    to the WGS84 page instead; the 四至 check lines are shifted with the other overlays."""
    wgs = client.get(f"/maps/parks/{sample['west']}?year=2020").text
    gcj = client.get(f"/maps/parks/{sample['west']}?year=2020&basemap=amap").text
    assert 'id="gis-review-run"' in wgs and 'id="gis-review-run"' not in gcj
    assert f'href="/maps/parks/{sample["west"]}?year=2020&numerator=output&basis=supplied_industrial_land">标准底图(WGS84)页面' in gcj
    assert 'class="gis-sizhi-table"' in gcj and 'data-side="east" data-status="pass"' in gcj
