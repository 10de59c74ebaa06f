"""The officer's map in real headless Chromium: the answer on top, in Chinese, on a phone, in print, offline.

Screenshots go to ``$GIS_SCREENSHOT_DIR`` (else the test's tmp dir); their paths are printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import text

from gis_service.maps import styles
from gis_service.testing import running_service
from tests.maps.test_browser import _MAP, _PARK_BOUNDS, park_centre_on_screen, pytestmark  # noqa: F401  (the same skip rule)

#: English (and developer) text an officer must never see: controls, plugins, data keys, file names
DENY = ["Location not found", "Search...", "Cancel", "Measure", "measurement", "Zoom in", "Zoom out", "MiniMap",
        "Full Screen", "contributors", "Positron", "no output figure", "no supplied", " area)",
        "park_boundary", "∩", ".txt", "2020.0", "miles", "feet", "Input should", "Not Found"]

#: every text node (hidden ones too: collapsed controls, tooltips not yet shown), every title,
#: placeholder and aria-label, and every string property of the map's features (tooltips, popups)
_ALL_TEXT = f"""() => {{
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {{
    const p = walker.currentNode.parentElement;
    if (p && !p.closest('script,style,[data-technical]')) out.push(walker.currentNode.textContent);
  }}
  document.querySelectorAll('[title],[placeholder],[aria-label]').forEach(e => {{
    if (e.closest('[data-technical]')) return;
    ['title', 'placeholder', 'aria-label'].forEach(a => e.getAttribute(a) && out.push(e.getAttribute(a)));
  }});
  const map = {_MAP};
  if (map) map.eachLayer(l => {{
    if (l.feature) Object.values(l.feature.properties).forEach(v => typeof v === 'string' && out.push(v));
  }});
  return out.join('\\n');
}}"""

#: share of the viewport where a point lands on the map itself (not a panel, control or bar)
_MAP_SHARE = f"""() => {{
  const map = {_MAP}; const box = map.getContainer(); let hit = 0, all = 0;
  for (let x = 5; x < innerWidth; x += 10) for (let y = 5; y < innerHeight; y += 10) {{
    all++; const e = document.elementFromPoint(x, y);
    if (e && (e === box || e.closest('.leaflet-map-pane')) && !e.closest('.leaflet-control-container')) hit++;
  }}
  return hit / all;
}}"""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("GIS_SCREENSHOT_DIR") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _shot(page: object, where: Path, name: str) -> None:
    path = where / name
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    print(f"screenshot: {path}")


@pytest.fixture
def service(db_url: str, sample: dict[str, int]) -> Iterator[str]:
    with running_service(db_url, offline=True) as base:
        yield base


def _open(browser: object, url: str, *, width: int = 1400, height: int = 900, wait_map: bool = True
          ) -> tuple[object, list[str], list[str]]:
    """``url`` opened offline; returns (page, console errors, requests that tried to leave)."""
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r: object) -> None:
        url_ = r.request.url  # type: ignore[attr-defined]
        if urlparse(url_).hostname in ("127.0.0.1", "localhost") or url_.startswith("data:"):
            r.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url_)
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.goto(url, wait_until="networkidle")
    if wait_map:
        page.wait_for_function(f"() => !!({_MAP})")
    return page, errors, outside


def _centre_point(page: object, name: str) -> tuple[float, float]:
    return park_centre_on_screen(page, name)


def test_click_on_a_park_under_the_header_opens_its_popup_on_top_even_with_zones_toggled(
        service, browser, shots) -> None:  # type: ignore[no-untyped-def]
    page, errors, _ = _open(browser, f"{service}/?year=2020")
    for layer in ("一廊九区 功能区", "G60科创走廊"):  # toggled on, or off and on again: added last
        box = page.locator(".leaflet-control-layers-overlays label", has_text=layer).locator("input")
        box.click()
        if not box.is_checked():
            box.click()
    # move 测试西园 just under the header panel: its popup opens upward, across the panel
    page.evaluate(f"""(name) => {{
      const map = {_MAP}; let park; map.eachLayer(l => {{ if (l.feature && l.feature.properties.name === name) park = l; }});
      const c = map.latLngToContainerPoint(park.getBounds().getCenter());
      map.panBy([c.x - 500, c.y - 330], {{animate: false}});
    }}""", "测试西园")
    x, y = _centre_point(page, "测试西园")
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert "测试西园" in popup.inner_text()
    box = page.locator(".leaflet-popup-content-wrapper").bounding_box()
    header = page.locator("#gis-header").bounding_box()
    assert box["y"] < header["y"] + header["height"], "the test must put the popup across the header"
    inside = (max(box["x"], header["x"]) + 10, max(box["y"], header["y"], 0) + 10)  # popup and header overlap there
    for px, py in (inside, (box["x"] + box["width"] / 2, max(box["y"], 0) + box["height"] / 2)):
        on_top = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.leaflet-popup')", [px, py])
        assert on_top, f"popup covered at {(px, py)}"
    assert errors == []
    _shot(page, shots, "overview_popup.png")
    page.close()


def test_parent_park_is_an_outline_clickable_on_its_edge(db_url, sample, engine, browser) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:  # 测试西园 and 测试东园 become blocks of one parent park
        parent = conn.execute(text(
            "INSERT INTO park (code, name, kind) VALUES ('test-parent', '测试上级园区', 'park') RETURNING id")).scalar_one()
        conn.execute(text("INSERT INTO park_boundary (park_id, geom, valid_from, geometry_quality, method, source_document) "
                          "SELECT :p, ST_Multi(ST_Envelope(ST_Collect(geom))), DATE '2015-01-01', 'approximate', "
                          "'envelope of its blocks', 'test' FROM park_boundary WHERE park_id IN (:w, :e)"),
                     {"p": parent, "w": sample["west"], "e": sample["east"]})
        conn.execute(text("UPDATE park SET parent_id = :p WHERE id IN (:w, :e)"),
                     {"p": parent, "w": sample["west"], "e": sample["east"]})
    with running_service(db_url, offline=True) as base:
        page, errors, _ = _open(browser, f"{base}/?year=2020")
        style = page.evaluate(f"""() => {{ let s; ({_MAP}).eachLayer(l => {{
            if (l.feature && l.feature.properties.name === '测试上级园区') s = [l.options.fill, l.options.pane]; }}); return s; }}""")
        assert style == [False, "gisParent"]
        x, y = _centre_point(page, "测试东园")  # a block inside the parent: its own popup
        page.mouse.click(x, y)
        assert "测试东园" in page.locator(".leaflet-popup-content").inner_text()
        page.evaluate(f"() => ({_MAP}).closePopup()")
        edge = page.evaluate(f"""() => {{ const map = {_MAP}; let b; map.eachLayer(l => {{
            if (l.feature && l.feature.properties.name === '测试上级园区') b = l.getBounds(); }});
            const edge = [b.getCenter().lat, b.getWest()];  // on the parent's edge, in no block
            map.setView(edge, map.getZoom(), {{animate: false}});  // in the middle of the map, clear of the panels
            const p = map.latLngToContainerPoint(edge); return [p.x, p.y]; }}""")
        box = page.locator(".folium-map").bounding_box()
        page.mouse.click(box["x"] + edge[0], box["y"] + edge[1])
        page.wait_for_function("() => (document.querySelector('.leaflet-popup-content') || {}).innerText?.includes('测试上级园区')")
        assert errors == []
        page.close()


def test_ranking_table_has_the_api_rows_and_search_by_code_opens_the_popup(service, browser) -> None:  # type: ignore[no-untyped-def]
    import httpx

    rows = httpx.get(f"{service}/metrics/density?year=2020").json()["rows"]
    page, errors, _ = _open(browser, f"{service}/?year=2020")
    table = page.evaluate("""() => [...document.querySelectorAll('#gis-ranking tbody tr')].map(tr =>
        [Number(tr.dataset.unit), ...[...tr.cells].map(c => c.innerText)])""")
    assert [t[0] for t in table] == [r["unit_id"] for r in rows]
    for t, r in zip(table, rows, strict=True):
        assert t[1] == r["unit_name"]
        assert t[2] == (f"{r['density_yi_per_km2']:,.2f}" if r["density_yi_per_km2"] is not None else "无数据")
        assert t[3] == (f"{r['attainment_pct']:,.1f} %" if r["attainment_pct"] is not None else "无数据")
        assert t[5] == r["status"] and t[6] == r["basis_label"]
    page.locator("#gis-ranking th", has_text="地均产值").click()  # sortable: ascending density, missing last
    first = page.locator("#gis-ranking tbody tr").first.get_attribute("data-unit")
    low = min((r for r in rows if r["density_yi_per_km2"] is not None), key=lambda r: r["density_yi_per_km2"])
    assert int(first) == low["unit_id"]
    for link in page.locator("a.gis-download").all():
        assert httpx.get(service + link.get_attribute("href")).status_code == 200
    labels = page.locator(".gis-label").all_inner_texts()
    assert any(re.fullmatch(r"\d+% · (未达标|已达标|达标)", t) for t in labels), labels
    page.fill(".gis-search input", "test-east")
    page.press(".gis-search input", "Enter")
    page.locator(".leaflet-popup-content", has_text="测试东园").wait_for(timeout=5000)
    page.fill(".gis-search input", "不存在的园区")
    page.press(".gis-search input", "Enter")
    assert page.locator(".gis-search-msg").inner_text() == "未找到该园区"
    assert errors == []
    page.close()


def test_no_english_ui_text_on_any_page(db_url, sample, engine, browser, shots) -> None:  # type: ignore[no-untyped-def]
    _add_tax(engine, sample["west"])
    with running_service(db_url, offline=False) as service:  # online: the basemaps are named too
        _no_english(service, browser, shots)


def _no_english(service: str, browser: object, shots: Path) -> None:
    pages = {"overview": f"{service}/?year=2020", "park": f"{service}/maps/parks/test-west?year=2020",
             "tax": f"{service}/?year=2020&numerator=tax"}
    for name, url in pages.items():
        page, errors, _ = _open(browser, url)
        page.hover(".leaflet-control-measure")  # the measure control's panel, expanded
        x, y = _centre_point(page, "测试西园")
        page.mouse.click(x, y)
        page.locator(".leaflet-popup-content").wait_for(timeout=5000)
        found = page.evaluate(_ALL_TEXT)
        assert [w for w in DENY if w in found] == [], name
        scale = page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert scale and all(re.fullmatch(r"\d+ k?m", s.strip()) for s in scale), scale
        assert page.evaluate("document.documentElement.lang") == "zh-CN" and page.title(), name
        assert errors == [], name
        if name != "tax":
            _shot(page, shots, f"{name}.png")
        page.close()
    for url, shown in ((f"{service}/?year=1990", "1990 年及以前没有"), (f"{service}/maps/parks/nope", "test-west"),
                       (f"{service}/?basemap=bing", "底图")):
        page, _, _ = _open(browser, url, wait_map=False)
        found = page.evaluate(_ALL_TEXT)
        assert shown in found and "2020" in found, url
        assert [w for w in DENY if w in found] == [], url
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        page.close()


def test_phone_layout_is_mostly_map_and_the_drawer_opens(service, sample, browser, shots) -> None:  # type: ignore[no-untyped-def]
    for path in ("/?year=2020", f"/maps/parks/{sample['west']}?year=2020"):
        page, errors, _ = _open(browser, f"{service}{path}", width=390, height=844)
        share = page.evaluate(_MAP_SHARE)
        assert share >= 0.6, f"{path}: the map is {share:.0%} of the phone screen"
        assert page.evaluate(_PARK_BOUNDS, "测试西园" if "parks" in path else "测试东园") is not None
        if "parks" in path:  # the park is in view, not pushed off by the desktop's panel margins
            x, y = _centre_point(page, "测试西园")
            assert 0 < x < 390 and 40 < y < 844
        page.click("#gis-drawer-toggle")
        assert page.locator("#gis-legend").is_visible()
        _shot(page, shots, "phone_overview.png" if path.startswith("/?") else "phone_park.png")
        page.click("#gis-drawer-toggle")
        assert not page.locator("#gis-legend").is_visible()
        assert errors == []
        page.close()


def test_print_layout_has_no_controls_and_the_legend_outside_the_map(service, sample, browser, shots) -> None:  # type: ignore[no-untyped-def]
    for path in ("/?year=2020", f"/maps/parks/{sample['west']}?year=2020"):
        page, errors, _ = _open(browser, f"{service}{path}")
        page.emulate_media(media="print")
        for control in (".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-control-measure",
                        ".leaflet-control-zoom-fullscreen", "#gis-drawer-toggle"):
            assert not page.locator(control).first.is_visible(), control
        for shown in (".leaflet-control-scale", ".gis-north", ".gis-title", "#gis-print-date", "#gis-legend", ".gis-sources"):
            assert page.locator(shown).first.is_visible(), shown
        assert "打印日期" in page.locator("#gis-print-date").inner_text()
        map_box = page.locator(".folium-map").bounding_box()
        legend = page.locator("#gis-legend").bounding_box()
        assert legend["y"] >= map_box["y"] + map_box["height"], "the legend must be below the map"
        title = page.locator(".gis-title").bounding_box()
        assert title["y"] + title["height"] <= map_box["y"]
        if path.startswith("/?"):
            _shot(page, shots, "print_overview.png")
        assert errors == []
        page.close()


def _add_tax(engine: object, park_id: int) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO indicator (park_id, year, metric_code, value, unit, source_document, source_section) "
                          "VALUES (:p, 2020, 'tax', 10, '亿元', '004_a9d02975ccfca6ed.txt', '附件')"), {"p": park_id})


def test_not_graded_when_the_numerator_is_not_the_targets(client, sample, engine) -> None:  # type: ignore[no-untyped-def]
    _add_tax(engine, sample["west"])
    page = client.get("/?year=2020&numerator=tax&basis=published_area").text
    assert "不评级" in page and '<td data-v="5.0">5.00</td>' in page  # 10 亿元 / 2.0 km², shown in the ranking
    fills = set(re.findall(r'"fill": "(#[0-9a-f]{6})"', page))
    assert not fills & {c for _, c, _ in styles.ATTAINMENT_CLASSES}, fills


def test_default_basis_falls_back_with_a_sentence_when_the_target_basis_has_no_data(client, engine) -> None:  # type: ignore[no-untyped-def]
    assert "本图暂按" not in client.get("/?year=2020").text  # parcels give supplied land: the target's basis
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM land_parcel"))
    page = client.get("/?year=2020").text
    assert "本图暂按“管辖面积(公布)”计算" in page and "gis-service import supply" in page
    assert "<b>管辖面积(公布)</b>" in page  # the basis shown
    explicit = client.get("/?year=2020&basis=supplied_industrial_land").text
    assert "所有园区均无数据" in explicit and "本图暂按" not in explicit


def test_park_page_by_code_and_chinese_error_pages(client, sample) -> None:  # type: ignore[no-untyped-def]
    by_code = client.get("/maps/parks/test-west?year=2020")
    # the fixture's parcels are synthetic: the title says so first
    assert by_code.status_code == 200 and "测试西园" in by_code.text and "<title>演示数据 · 测试西园</title>" in by_code.text
    assert f'href="/parks/{sample["west"]}/sizhi/verify"' in by_code.text and "返回总览" in by_code.text
    for path, status, said in (("/maps/parks/nope", 404, "test-west"), ("/?year=1990", 404, "2020"),
                               ("/?basis=moon", 422, "口径"), ("/?year=abc", 422, "数据年份")):
        r = client.get(path)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html"), path
        assert '<html lang="zh-CN">' in r.text and said in r.text, path
    assert client.get("/metrics/density?year=1990").json()["description"]  # the API still answers JSON


def test_offline_pages_make_no_request_outside(service, sample, browser) -> None:  # type: ignore[no-untyped-def]
    for path, is_map in (("/?year=2020", True), (f"/maps/parks/{sample['west']}?year=2020", True),
                         ("/maps/parks/nope", False), ("/docs", False), ("/redoc", False), ("/data/land", False)):
        page, _, outside = _open(browser, f"{service}{path}", wait_map=is_map)
        if is_map:
            x, y = _centre_point(page, "测试西园")
            page.mouse.click(x, y)
            page.hover(".leaflet-control-measure")
        assert outside == [], f"{path}: {outside}"
        page.close()
