"""The maps in real headless Chromium (Debian's chromium driven by Playwright).

Screenshots of each map are kept in test-artifacts/.  The browser is kept from calling
out: every request that does not go to the test server is answered locally (vendored
asset) or aborted, and in offline mode any such request fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from gis_service.coords import wgs84_to_gcj02_arrays
from gis_service.maps.assets import LOCAL_ASSETS, STATIC_DIR
from gis_service.testing import running_service
from tests.api.sample_data import EAST_BOX
from tests.maps.conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OVERLAYS = ["松江区界", "镇、街道", "三片", "G60科创走廊", "一廊九区 功能区", "园区(按达标率着色)"]

# Outside CI a developer without Chromium may skip these; CI (scripts/test.sh installs
# Debian's chromium) never does.
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian chromium not installed (run scripts/bootstrap.sh --browser)",
)

# JS: the Leaflet map object of a folium page and the bounds of the park named `name`.
_MAP = "Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v && v.eachLayer)"
_PARK_BOUNDS = f"""(name) => {{
  const map = {_MAP}; let found = null;
  map.eachLayer(l => {{ if (l.feature && l.feature.properties && l.feature.properties.name === name && l.getBounds) found = l; }});
  if (!found) return null;
  const b = found.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
}}"""


def park_centre_on_screen(page: object, name: str, name_property: str = "name") -> tuple[float, float]:
    """Page coordinates of the centre of the park whose feature ``name_property`` is ``name``."""
    bounds = page.evaluate(_PARK_BOUNDS.replace("properties.name", f"properties.{name_property}"), name)  # type: ignore[attr-defined]
    assert bounds is not None, f"no park feature with {name_property} = {name}"
    x, y = page.evaluate(  # type: ignore[attr-defined]
        f"([lat, lng]) => {{ const p = ({_MAP}).latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }}",
        [(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2])
    box = page.locator(".folium-map").bounding_box()  # type: ignore[attr-defined]
    return box["x"] + x, box["y"] + y


def _local_file(url: str) -> Path | None:
    """The vendored copy of a CDN asset URL (matched by file name), if any."""
    name = Path(urlparse(url).path).name.replace(".min.js", ".js")
    for rel in LOCAL_ASSETS.values():
        if Path(rel).name.replace(".min.js", ".js") == name:
            return STATIC_DIR / rel
    return None


def _open(browser: object, url: str, *, strict_offline: bool) -> tuple[object, list[str], list[str]]:
    """Open ``url``; returns (page, console errors, requests that tried to leave the machine)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r: object) -> None:
        req_url = r.request.url  # type: ignore[attr-defined]
        host = urlparse(req_url).hostname
        if host in ("127.0.0.1", "localhost") or req_url.startswith("data:"):
            r.continue_()  # type: ignore[attr-defined]
            return
        outside.append(req_url)
        local = None if strict_offline else _local_file(req_url)
        if local is not None:
            r.fulfill(path=str(local))  # type: ignore[attr-defined]
        elif not strict_offline:
            r.fulfill(status=204, body=b"")  # basemap tiles: answered empty, never fetched
        else:
            r.abort()  # type: ignore[attr-defined]

    page.route("**/*", route)
    page.goto(url, wait_until="networkidle")
    page.wait_for_function(f"() => !!({_MAP})")
    return page, errors, outside


def _screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
    return path


def test_offline_overview_loads_lists_layers_and_opens_a_popup(db_url, sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, offline=True) as base:
        page, errors, outside = _open(browser, f"{base}/?year=2020", strict_offline=True)
        assert outside == [], f"requests left the machine in offline mode: {outside}"
        assert errors == [], f"console errors: {errors}"
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        listed = " ".join(labels)
        for name in OVERLAYS:
            assert name in listed, f"layer {name} missing from the layer control: {labels}"
        for control in (".leaflet-control-scale", ".leaflet-control-search", ".leaflet-control-measure",
                        ".leaflet-control-zoom-fullscreen"):
            assert page.locator(control).count() >= 1, control
        # click in the middle of 测试东园 (surveyed): its popup shows its density on supplied land
        page.mouse.click(*park_centre_on_screen(page, "测试东园"))
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5000)
        text = popup.inner_text()
        assert "测试东园" in text and "地均产值(已供应工业用地)" in text
        assert "113.35 亿元/km²" in text and "240.00 亿元/km²" in text  # supplied land; published 120/0.5
        assert "测绘边界" in text
        _screenshot(page, "overview_offline.png")
        page.close()


def test_park_page_offline_labels_sides_and_says_approximate(db_url, sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, offline=True) as base:
        page, errors, outside = _open(browser, f"{base}/maps/parks/{sample['west']}?year=2020", strict_offline=True)
        assert outside == [] and errors == []
        sides = page.locator(".gis-side").all_inner_texts()
        assert sorted(sides) == sorted(["东至:甲路", "南至:乙路", "西至:丙河", "北至:丁路"])
        panel = page.locator("#gis-figures").inner_text()
        assert "近似边界" in panel and "50.00 亿元/km²" in panel  # 100 亿元 / 2.0 km² published
        listed = " ".join(page.locator(".leaflet-control-layers-overlays label").all_inner_texts())
        assert "地块登记(按用途)" in listed and "边界道路与河道" in listed
        _screenshot(page, "park_offline.png")
        page.close()


def test_amap_variant_shifts_overlays_to_gcj02(db_url, sample, browser) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, offline=False) as base:
        page, errors, _ = _open(browser, f"{base}/?year=2020", strict_offline=False)
        wgs = page.evaluate(_PARK_BOUNDS, "测试东园")
        _screenshot(page, "overview_default.png")
        page.close()
        page, errors, outside = _open(browser, f"{base}/?year=2020&basemap=amap", strict_offline=False)
        gcj = page.evaluate(_PARK_BOUNDS, "测试东园")
        assert any("autonavi" in u for u in outside), "the Amap variant must use Amap tiles"
        assert not any("openstreetmap" in u for u in outside), "no WGS84 basemap on the GCJ-02 page"
        _screenshot(page, "overview_amap.png")
        page.close()
    assert wgs == pytest.approx(list(EAST_BOX), abs=1e-6)
    lon, lat = wgs84_to_gcj02_arrays([EAST_BOX[0], EAST_BOX[2]], [EAST_BOX[1], EAST_BOX[3]])
    assert gcj == pytest.approx([lon[0], lat[0], lon[1], lat[1]], abs=2e-6)
    assert 0.003 < gcj[0] - wgs[0] < 0.006  # ~ 400-500 m east near Songjiang
