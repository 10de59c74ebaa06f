"""Map building: display simplification, offline assets, page weight, cache invalidation."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from gis_service.coords.crs import AREA_CRS
from gis_service.maps.assets import LOCAL_ASSETS, STATIC_DIR
from gis_service.maps.simplify import simplify_for_display, vertex_count
from tests.api.conftest import make_client


def in_page(fragment: str, page: str) -> bool:
    """``fragment`` appears in the page as HTML or inside the page's JSON (where non-ASCII
    characters are \\u-escaped, and with jinja's tojson also < > &)."""
    as_json = json.dumps(fragment)[1:-1]
    as_tojson = as_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return fragment in page or as_json in page or as_tojson in page


def _wiggly_ring(cx: float, cy: float, r_deg: float, n: int) -> Polygon:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = r_deg * (1 + 0.002 * np.sin(t * 97))  # sub-metre wiggles a display does not need
    return Polygon(np.column_stack([cx + rr * np.cos(t), cy + rr * np.sin(t)]))


def test_simplify_reduces_vertices_within_tolerance_and_keeps_the_stored_frame() -> None:
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[_wiggly_ring(121.2, 31.0, 0.1, 20_000)], crs=4326)
    before = frame.geometry.iloc[0]
    shown = simplify_for_display(frame, 20.0)
    assert vertex_count(shown) < 2_000 < vertex_count(frame) == 20_001
    assert frame.geometry.iloc[0].equals(before)  # input untouched
    a, b = (gpd.GeoSeries([g], crs=4326).to_crs(AREA_CRS).iloc[0] for g in (before, shown.geometry.iloc[0]))
    assert a.hausdorff_distance(b) <= 20.0 + 0.2  # tolerance + the 1e-6° output grid
    assert shown.geometry.iloc[0].is_valid


def test_coverage_simplification_keeps_shared_borders() -> None:
    border = np.column_stack([121.2 + 0.0005 * np.sin(np.linspace(0, 60, 3000)), np.linspace(30.9, 31.2, 3000)])
    west = Polygon([(121.0, 31.2), (121.0, 30.9), *border.tolist()[::1]][:2] + border.tolist() + [(121.0, 31.2)])
    east = Polygon([(121.4, 30.9), (121.4, 31.2), *border[::-1].tolist()])
    frame = gpd.GeoDataFrame({"name": ["w", "e"]}, geometry=[west, east], crs=4326)
    assert shapely.coverage_is_valid(frame.geometry.to_numpy())
    shown = simplify_for_display(frame, 50.0, coverage=True)
    w, e = shown.geometry
    assert vertex_count(shown) < vertex_count(frame) / 5
    overlap = gpd.GeoSeries([w.intersection(e)], crs=4326).to_crs(AREA_CRS).area.iloc[0]
    gap = gpd.GeoSeries([box(*frame.total_bounds).difference(w.union(e))], crs=4326).to_crs(AREA_CRS).area.iloc[0]
    assert overlap < 1.0 and gap < 1.0  # m²: no slivers between neighbours


def test_offline_pages_reference_only_local_assets(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url, offline=True) as c:
        for path in ("/?year=2020", f"/maps/parks/{sample['west']}?year=2020"):
            page = c.get(path).text
            refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
            assert refs and all(r.startswith("/static/maps/") for r in refs), refs
            for ref in refs:
                assert c.get(ref).status_code == 200, ref
            assert "https://" not in page.split("</head>")[0]
            assert "tile.openstreetmap.org" not in page and "autonavi" not in page
    for rel in LOCAL_ASSETS.values():
        assert (STATIC_DIR / rel).is_file()


def test_tianditu_layer_only_with_a_key(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url) as c:
        assert "tianditu" not in c.get("/?year=2020").text
    with make_client(db_url, tianditu_key="k123") as c:
        page = c.get("/?year=2020").text
        assert "tianditu.gov.cn/vec_w" in page and "tianditu.gov.cn/cva_w" in page and "tk=k123" in page


def test_overview_stays_light_with_a_heavy_boundary(db_url, sample, engine) -> None:  # type: ignore[no-untyped-def]
    heavy = MultiPolygon([_wiggly_ring(121.2, 31.05, 0.15, 60_000)])
    with engine.begin() as conn:
        conn.execute(text("UPDATE district SET geom = ST_GeomFromText(:wkt, 4326)"), {"wkt": heavy.wkt})
    with make_client(db_url) as c:
        overview = c.get("/?year=2020")
        park = c.get(f"/maps/parks/{sample['west']}?year=2020")
    assert len(heavy.wkt) > 2_000_000  # the stored boundary alone would be over the page budget
    assert len(overview.content) < 1_500_000 and len(park.content) < 500_000


def _without_nonce(page: str) -> str:
    return re.sub(r'nonce="[^"]+"', 'nonce=""', page)


def test_render_cache_hits_and_is_invalidated_by_new_data(db_url, sample, engine) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url) as c:
        first = c.get("/?year=2020")
        second = c.get("/?year=2020")
        assert (first.headers["x-map-cache"], second.headers["x-map-cache"]) == ("miss", "hit")
        assert _without_nonce(first.text) == _without_nonce(second.text)  # each answer has its own nonce
        with engine.begin() as conn:
            conn.execute(text("UPDATE indicator SET value = 160 WHERE metric_code = 'output' AND park_id = :p"),
                         {"p": sample["west"]})
        third = c.get("/?year=2020")
        assert third.headers["x-map-cache"] == "miss"
        assert in_page("160.00 亿元", third.text) and not in_page("160.00 亿元", first.text)
        other_variant = c.get("/?year=2020&basemap=amap")
        assert other_variant.headers["x-map-cache"] == "miss"


def test_pages_state_the_choice_and_errors_are_chinese_pages(client, sample) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/?year=2020&basis=published_area").text
    assert "数据年份 2020" in page and "管辖面积(公布)" in page and "口径不同" in page  # the header is plain HTML
    assert "《松江区先进制造业高质量发展“十四五”规划》(沪松府〔2021〕299号) 表1 #9" in page  # by title, not file name
    assert "13d6efb69ed95403" not in page
    for path, status in (("/?year=1990", 404), ("/?basis=moon", 422), ("/maps/parks/999?year=2020", 404),
                         ("/?basemap=bing", 422), ("/?year=abc", 422)):
        r = client.get(path)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html") and "可选的数据年份" in r.text, path


def test_popup_escapes_text_and_says_missing(client, sample, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("UPDATE park SET name = '<b>坏</b>园' WHERE id = :p"), {"p": sample["nodata"]})
    page = client.get("/?year=2020").text
    assert in_page("&lt;b&gt;坏&lt;/b&gt;园", page) and not in_page("<b>坏</b>园", page)
    nodata = next(f for f in client.get("/parks?year=2020").json()["features"] if f["id"] == sample["nodata"])
    reason = nodata["properties"]["missing_reason"]
    from gis_service.maps.sources import missing_reason_zh

    assert reason and in_page(f"无数据({missing_reason_zh(reason)})", page)  # said in Chinese
    assert missing_reason_zh(reason) != reason and not in_page(f"({reason})", page)


def test_stored_text_is_data_not_a_template(client, sample, engine) -> None:  # type: ignore[no-untyped-def]
    """A name with Jinja syntax is shown as written (folium.Element would have run it on the
    server: '{{ 7*7 }}' became '49'); template-literal characters cannot open JavaScript."""
    name = "坏{{ 7*7 }}`${alert(1)}`园"
    with engine.begin() as conn:
        conn.execute(text("UPDATE park SET name = :n WHERE id = :p"), {"n": name, "p": sample["nodata"]})
    for path in ("/?year=2020", f"/maps/parks/{sample['nodata']}?year=2020"):
        page = client.get(path).text
        assert in_page("坏&#123;&#123; 7*7 &#125;&#125;&#96;&#36;&#123;alert(1)&#125;&#96;园", page), path
        assert not in_page("坏49", page) and "`${alert(1)}`" not in page, path


def test_online_page_still_serves_its_scripts_itself(client) -> None:  # type: ignore[no-untyped-def]
    """Even with internet tiles, Leaflet and the plugins come from the service (no CDN)."""
    import re

    page = client.get("/").text
    sources = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert sources, "the page loads its scripts from somewhere"
    external = [s for s in sources if s.startswith(("http://", "https://", "//"))]
    assert external == []
    for src in sources:
        assert client.get(src).status_code == 200, src


def test_overview_offers_every_basis_and_says_when_none_has_data(client, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from gis_service.metrics.bases import ALL_BASES

    page = client.get("/?basis=published_area").text
    for basis in ALL_BASES:
        if basis != "published_area":
            assert f"basis={basis}" in page
    assert "所有园区均无数据" not in page  # published areas exist
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM land_parcel"))
    chosen = client.get("/?basis=supplied_industrial_land").text  # the target's basis, asked for: no data
    assert "所有园区均无数据(尚未导入土地利用现状调查、供地记录或地块登记" in chosen


def test_overview_fills_every_slot_with_the_answer(client, sample, engine) -> None:  # type: ignore[no-untyped-def]
    """The page laid out once is refilled per answer: colours and figures follow the answer
    (here after a figure changes), and no slot is left empty."""
    from gis_service.maps import styles

    def colours_and_densities() -> tuple[str, list[dict]]:
        page = client.get("/?year=2020&basis=published_area").text
        rows = client.get("/metrics/density?year=2020&basis=published_area").json()["rows"]
        assert "@@gis-slot" not in page
        for r in rows:
            if r["attainment_pct"] is not None:
                assert styles.attainment_colour(r["attainment_pct"]) in page, r["unit_name"]
                assert in_page(f"{r['density_yi_per_km2']:,.2f} 亿元/km²", page), r["unit_name"]
        return page, rows

    before, rows = colours_and_densities()
    with engine.begin() as conn:  # 测试西园: 100 -> 10 亿元, 50 -> 5 亿元/km²
        conn.execute(text("UPDATE indicator SET value = 10 WHERE park_id = :p AND metric_code = 'output'"),
                     {"p": sample["west"]})
    after, rows_after = colours_and_densities()
    west = next(r for r in rows_after if r["unit_id"] == sample["west"])
    assert west["density_yi_per_km2"] == 5.0 and in_page("5.00 亿元/km²", after) and not in_page("50.00 亿元/km²", after)
