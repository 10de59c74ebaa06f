"""OGC API Features Part 1 on the sample data: paging, counts, bbox, filters, errors."""

from __future__ import annotations

from geojson_pydantic import Feature, FeatureCollection

from tests.api.conftest import make_client


def _rel(doc: dict, rel: str) -> str | None:  # type: ignore[type-arg]
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


def test_landing_conformance_and_openapi_30(client) -> None:  # type: ignore[no-untyped-def]
    landing = client.get("/ogc").json()
    assert _rel(landing, "conformance").endswith("/ogc/conformance")
    assert _rel(landing, "data").endswith("/ogc/collections")
    assert _rel(landing, "service-desc").endswith("/openapi.json")
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in classes} == {"core", "geojson", "oas30"}
    assert client.get("/openapi.json").json()["openapi"].startswith("3.0")


def test_collections_and_extent(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/ogc/collections").json()
    assert [c["id"] for c in doc["collections"]] == ["parks", "zones", "towns", "roads", "parcels"]
    parks = client.get("/ogc/collections/parks").json()
    assert parks["extent"]["spatial"]["bbox"][0] == [121.10, 31.00, 121.31, 31.11]
    assert _rel(parks, "items").endswith("/ogc/collections/parks/items")


def test_items_paging_counts_and_next_links(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/ogc/collections/parks/items?limit=2")
    assert first.headers["content-type"] == "application/geo+json"
    page = first.json()
    FeatureCollection.model_validate(page)
    assert [f["id"] for f in page["features"]] == [1, 2]
    assert (page["numberReturned"], page["numberMatched"]) == (2, 3)
    assert page["features"][0]["properties"]["name"] == "测试西园"
    assert page["features"][0]["properties"]["geometry_quality"] == "approximate"
    nxt = _rel(page, "next")
    assert nxt is not None and "offset=2" in nxt and "limit=2" in nxt
    second = client.get(nxt.replace("http://testserver", "")).json()
    assert [f["id"] for f in second["features"]] == [3]
    assert second["numberMatched"] == 3 and _rel(second, "next") is None and _rel(second, "prev") is not None


def test_bbox_and_property_filters(client) -> None:  # type: ignore[no-untyped-def]
    east = client.get("/ogc/collections/parks/items?bbox=121.29,31.04,121.32,31.07").json()
    assert [f["properties"]["name"] for f in east["features"]] == ["测试东园"]
    surveyed = client.get("/ogc/collections/parks/items?geometry_quality=surveyed").json()
    assert surveyed["numberMatched"] == 1
    industrial = client.get("/ogc/collections/parcels/items?land_use_class=industrial&is_supplied=true").json()
    assert sorted(f["properties"]["external_id"] for f in industrial["features"]) == ["e1", "w1"]
    pian = client.get("/ogc/collections/zones/items?kind=pian").json()
    assert [f["properties"]["name"] for f in pian["features"]] == ["产城融合示范片区"]


def test_number_matched_is_omitted_above_the_count_limit(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with make_client(db_url, count_limit=2) as c:
        page = c.get("/ogc/collections/parcels/items?limit=1").json()
        assert "numberMatched" not in page and page["numberReturned"] == 1
        assert _rel(page, "next") is not None
        # a page that is not full knows its total without counting
        last = c.get("/ogc/collections/parcels/items?limit=5&offset=1").json()
        assert last["numberMatched"] == 3 and last["numberReturned"] == 2


def test_single_feature_and_404s(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/ogc/collections/towns/items/2")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    Feature.model_validate(feature)
    assert feature["properties"]["name"] == "乙街道" and _rel(feature, "collection")
    for path in ("/ogc/collections/towns/items/99", "/ogc/collections/towns/items/abc", "/ogc/collections/lakes",
                 "/ogc/collections/lakes/items", "/ogc/collections/towns/items/99999999999999999999999"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "NotFound" and r.json()["description"]


def test_bad_parameters_give_422_naming_the_parameter(client) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "bbox=1,2,3": "bbox",
        "bbox=121.3,31,121.2,31.1": "lower-left",
        "bbox=a,b,c,d": "bbox",
        "bbox=0,0,200,10": "lon in",
        "bbox=1,2,3,4&bbox-crs=EPSG:3857": "bbox-crs",
        "limit=10001": "over the maximum 10000",
        "limit=0": "limit",
        "offset=-1": "offset",
        "colour=red": "colour: unknown parameter",
        "is_supplied=maybe": "true or false",
        "supply_year=twenty": "integer",
        "f=xml": "unsupported format",
    }
    for query, expected in cases.items():
        r = client.get(f"/ogc/collections/parcels/items?{query}")
        assert r.status_code == 422, query
        assert expected in r.json()["description"], (query, r.json())
