"""``gs.explore``: notebook maps in the service's styles, parcels on the GPU from GeoArrow."""

from __future__ import annotations

import re

import folium
import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import Engine, text

import gis_service as gs
from gis_service.errors import InputError
from gis_service.ingest import load_sample
from gis_service.maps import styles
from tests.maps.test_maps import in_page

YEAR = 2020


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    load_sample(engine)
    return engine


def _styles_of(m: folium.Map) -> list[dict]:
    """The path style folium computed for every feature of every GeoJson layer."""
    out = []
    for child in m._children.values():
        if isinstance(child, folium.GeoJson):
            out += [child.style_function(f) for f in child.data["features"]]
    return out


def _page(m: folium.Map) -> str:
    return m.get_root().render()


def test_attainment_colours_are_the_service_maps(loaded: Engine) -> None:
    answer = gs.answer_density(loaded, gs.DensityQuestion(year=YEAR, basis="published_area"))
    m = gs.explore(answer, loaded)
    fills = {s["fillColor"] for s in _styles_of(m)}
    pct = answer.rows.set_index("unit_name")["attainment_pct"]
    expected = {styles.attainment_colour(None if v != v else v) for v in pct}
    assert fills == expected and styles.NO_DATA_COLOUR in fills  # 莘莘学子创业园 publishes no output
    page = _page(m)
    for _, colour, label in styles.ATTAINMENT_CLASSES:  # the legend is the service's legend
        assert colour in page and label in page


def test_zones_are_coloured_by_attainment_and_approximate_boundaries_dashed(loaded: Engine) -> None:
    answer = gs.answer_density(loaded, gs.DensityQuestion(year=YEAR, basis="published_area", level="pian"))
    drawn = _styles_of(gs.explore(answer, loaded))
    assert len(drawn) == len(answer.rows) == 3
    assert {s["fillColor"] for s in drawn} == {styles.attainment_colour(v if v == v else None)
                                                for v in answer.rows["attainment_pct"]}
    # the sample's zones are approximate: every outline dashed, as the service's pages dash them
    assert all(s.get("dashArray") == styles.APPROXIMATE_DASH for s in drawn)


def test_the_approximate_flag_dashes_and_surveyed_does_not() -> None:
    assert styles.park_style("#fff", "approximate")["dashArray"] == styles.APPROXIMATE_DASH
    assert styles.park_style("#fff", "synthetic")["dashArray"] == styles.APPROXIMATE_DASH
    assert "dashArray" not in styles.park_style("#fff", "surveyed")


def test_stored_text_in_a_park_name_is_escaped_in_the_tooltip(loaded: Engine) -> None:
    name = '<img src=x onerror=alert(1)>坏{{ 7*7 }}`${alert(2)}`园'
    with loaded.begin() as conn:
        conn.execute(text("UPDATE park SET name = :n WHERE code = 'sj_xinxin'"), {"n": name})
    m = gs.explore(gs.answer_density(loaded, gs.DensityQuestion(year=YEAR, basis="published_area")), loaded)
    page = _page(m)
    escaped = "&lt;img src=x onerror=alert(1)&gt;坏&#123;&#123; 7*7 &#125;&#125;&#96;&#36;&#123;alert(2)&#125;&#96;园"
    assert in_page(escaped, page)
    assert not in_page("<img src=x", page) and not in_page("坏49", page) and "`${alert(2)}`" not in page
    assert in_page("名称", page) and in_page("地均产值", page)  # the service's Chinese tooltip labels


def test_whatif_draws_baseline_and_scenario_and_stores_nothing(loaded: Engine) -> None:
    change = gs.parse_change("sj_lingang:output=+30%")
    answer = gs.answer_whatif(loaded, gs.DensityQuestion(year=YEAR, basis="published_area", changes=(change,)))
    page = _page(gs.explore(answer, loaded))
    assert in_page("基准(现状数据)", page) and in_page("情景(假设变化,未保存)", page)
    layers = re.findall(r"var (geo_json_[0-9a-f]+) = L\.geoJson", page)
    assert [f"{name}.addTo(" in page for name in layers] == [False, True]  # the scenario shows, the baseline is a switch
    scenario = answer.scenario.rows.set_index("unit_code").loc["sj_lingang"]
    assert scenario["status"] == "达标"  # 116 × 1.3 / 1.8 = 83.78 ≥ 80
    assert gs.answer_density(loaded, gs.DensityQuestion(year=YEAR, basis="published_area")).rows.set_index(
        "unit_code").loc["sj_lingang", "status"] == "未达标"


def test_classes_use_the_class_colours(loaded: Engine) -> None:
    answer = gs.answer_classes(loaded, year=YEAR)
    fills = {s["fillColor"] for s in _styles_of(gs.explore(answer, loaded))}
    assert fills == {styles.class_colour(c if isinstance(c, str) else None) for c in answer.rows["class"]}
    assert fills <= {*styles.MU_JUN_CLASS_COLOURS.values(), styles.NO_DATA_COLOUR}


def test_parcels_are_coloured_as_the_service_colours_them() -> None:
    parcels = gs.generate_parcels(500, seed=3)
    layer = gs.explore(parcels).layers[0]
    colours = np.asarray(pa.chunked_array(layer.get_fill_color).combine_chunks().flatten()).reshape(-1, 4)
    for i, cls in enumerate(parcels["land_use_class"]):
        style = styles.parcel_style(cls)
        assert tuple(colours[i][:3]) == styles.rgb(style["fillColor"])
        assert colours[i][3] == round(255 * style["fillOpacity"])


def test_a_million_parcels_build_a_gpu_layer_from_geoarrow() -> None:
    """No GeoJSON on the way: the layer holds the GeoArrow table itself, a row per parcel,
    with only the columns a click shows (memory stays bounded by the geometry's arrays)."""
    import resource

    parcels = gs.generate_parcels(1_000_000, seed=11)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    m = gs.explore(parcels)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    (layer,) = m.layers
    assert layer.table.num_rows == 1_000_000
    geometry = layer.table.schema.field("geometry")
    assert geometry.metadata_str.get("ARROW:extension:name", "").startswith("geoarrow.")  # native GeoArrow
    assert set(layer.table.schema.names) <= {"land_use_class", "land_use_code", "land_use_name", "is_synthetic",
                                             "land_use_zh", "geometry"}
    # a GeoJSON FeatureCollection of a million parcels alone is over 300 MB of text; the GeoArrow
    # layer (coordinates, offsets, four small columns) and its widget copy stay well below 1.5 GB
    assert grown_mib < 1536, f"building the map grew the process by {grown_mib:.0f} MiB"


def test_explore_says_what_it_cannot_draw(loaded: Engine) -> None:
    with pytest.raises(InputError, match="cannot draw a int"):
        gs.explore(7)
    answer = gs.answer_density(loaded, gs.DensityQuestion(year=YEAR, basis="published_area"))
    with pytest.raises(InputError, match="needs the engine"):
        gs.explore(answer)



def test_notebook_maps_carry_their_scripts_and_draw_with_no_network(loaded: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """What Jupyter shows (``_repr_html_``, an iframe) in real Chromium with every request
    refused: Leaflet starts, the parks are drawn and the layer switch's icon shows, from the page alone."""
    from playwright.sync_api import sync_playwright

    from tests.maps.conftest import CHROME_ARGS, CHROMIUM

    monkeypatch.setenv("GIS_API_OFFLINE", "1")  # no basemap either: nothing at all may be fetched
    change = gs.parse_change("sj_lingang:output=+30%")
    whatif = gs.answer_whatif(loaded, gs.DensityQuestion(year=YEAR, basis="published_area", changes=(change,)))
    html = gs.explore(whatif, loaded)._repr_html_()  # two layers and a layer switch
    assert not re.search(r"(src|href)=(&quot;|[\"'])https?:", html), "a script or style still comes from a CDN"
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        page = browser.new_page()
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort()))
        page.set_content(html)
        frame = page.frames[1]
        frame.wait_for_selector("path.leaflet-interactive", timeout=15000)
        drawn = frame.locator("path.leaflet-interactive").count()
        icon = frame.evaluate("getComputedStyle(document.querySelector('.leaflet-control-layers-toggle')).backgroundImage")
        browser.close()
    assert drawn == len(whatif.scenario.rows)  # every park of the shown layer (the scenario)
    assert [u for u in requests if not u.startswith(("data:", "about:"))] == []
    assert icon.startswith('url("data:image/png'), icon
