"""The parcel vector-tile layer (gis_service.maps.parcel_tiles) drawn by real headless Chromium,
offline: the vendored Leaflet.VectorGrid fetches /tiles/parcels and paints parcels by land use."""

from __future__ import annotations

import folium
import playwright.sync_api as playwright_api
from sqlalchemy import text

from gis_service.maps.assets import STATIC_URL, localise
from gis_service.maps.parcel_tiles import add_parcel_tiles
from gis_service.maps.styles import LAND_USE_COLOURS, rgb
from gis_service.testing import running_service, tile_bounds, tile_of
from tests.maps.conftest import CHROME_ARGS, CHROMIUM
from tests.maps.test_browser import pytestmark  # noqa: F401  (same skip rule)

POINT = (121.305, 31.055)


def test_parcel_tiles_are_drawn_offline_by_land_use(db_url, sample, engine) -> None:  # type: ignore[no-untyped-def]
    x, y = tile_of(*POINT, 15)
    west, south, east, north = tile_bounds(15, x, y)
    with engine.begin() as conn:  # one industrial parcel filling the middle of the tile
        conn.execute(text("""
            INSERT INTO land_parcel (geom, land_use_class, is_supplied, is_synthetic, source_document)
            VALUES (ST_Multi(ST_MakeEnvelope(:w, :s, :e, :n, 4326)), 'industrial', true, true, 'test')"""),
            {"w": west + (east - west) * 0.2, "e": east - (east - west) * 0.2,
             "s": south + (north - south) * 0.2, "n": north - (north - south) * 0.2})
    with running_service(db_url, offline=True) as base:
        m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=15, tiles=None)
        add_parcel_tiles(m, base, show=True)
        folium.LayerControl().add_to(m)
        html = localise(m, offline=True, prefix=base + STATIC_URL).get_root().render()
        assert "unpkg" not in html and "vectorgrid/Leaflet.VectorGrid" in html
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 800, "height": 600})
            errors: list[str] = []
            tiles: list[int] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("response", lambda r: tiles.append(r.status) if "/tiles/parcels/" in r.url else None)
            # the page is answered by the browser itself at the service's origin (same-origin tiles)
            page.route(base + "/parcel-tiles-test.html", lambda r: r.fulfill(body=html, content_type="text/html"))
            page.goto(base + "/parcel-tiles-test.html", wait_until="networkidle")
            page.wait_for_timeout(500)
            assert errors == [] and tiles and set(tiles) == {200}, (errors, tiles)
            # the middle of the map is the parcel: painted with the industrial colour
            pixel = page.evaluate("""() => {
                const c = [...document.querySelectorAll('canvas.leaflet-tile')]; const out = [];
                for (const cv of c) { const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
                  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) { out.push([d[i], d[i+1], d[i+2], d[i+3]]); break; } }
                return out; }""")
            browser.close()
    r, g, b = rgb(LAND_USE_COLOURS["industrial"])
    assert pixel, "no painted pixel on any tile canvas"
    # premultiplied by the fill opacity over a transparent canvas: the hue survives
    assert any(abs(px[0] - r) < 40 and abs(px[1] - g) < 40 and abs(px[2] - b) < 40 for px in pixel), pixel


def test_the_overview_offers_the_parcel_tiles_as_a_layer(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    """On the overview the tiles are a switch of the layer control, drawn in the land pane
    (under the parks): switched on, they are fetched and drawn without a script error."""
    with running_service(db_url, offline=True) as base, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        errors: list[str] = []
        tiles: list[int] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: tiles.append(r.status) if "/tiles/parcels/" in r.url else None)
        page.goto(base + "/", wait_until="networkidle")
        assert tiles == []  # off until asked for
        with page.expect_response(lambda r: "/tiles/parcels/" in r.url, timeout=60_000):
            page.get_by_text("用地地块(按用地类别与供应状态)").click()
        page.wait_for_selector(".leaflet-gisLand-pane canvas.leaflet-tile", state="attached", timeout=60_000)
        page.wait_for_load_state("networkidle")
        in_land_pane = page.evaluate("() => !!document.querySelector('.leaflet-gisLand-pane canvas.leaflet-tile')")
        browser.close()
    assert errors == [] and tiles and set(tiles) == {200}, (errors, tiles)
    assert in_land_pane
