"""Real clients against a running uvicorn server: OWSLib and GDAL's OAPIF driver (via pyogrio)."""

from __future__ import annotations

import pyogrio
import pytest
from owslib.ogcapi.features import Features

from gis_service.ingest.gdal_safety import OFFLINE_OPTIONS
from gis_service.testing import running_service


@pytest.fixture
def gdal_online():  # type: ignore[no-untyped-def]
    """GDAL as a web client of the test server: lift the service's offline options for the test."""
    pyogrio.set_gdal_config_options(dict.fromkeys(OFFLINE_OPTIONS))
    yield
    pyogrio.set_gdal_config_options(dict(OFFLINE_OPTIONS))


def test_owslib_reads_collections_items_and_features(db_url, sample) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url) as base:
        api = Features(f"{base}/ogc")
        assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
        ids = [c["id"] for c in api.collections()["collections"]]
        assert ids == ["parks", "zones", "towns", "roads", "parcels"]
        assert api.collection("towns")["title"] == "镇、街道"
        page = api.collection_items("parks", limit=2)
        assert page["numberMatched"] == 3 and [f["id"] for f in page["features"]] == [1, 2]
        boxed = api.collection_items("parks", bbox=[121.29, 31.04, 121.32, 31.07])
        assert [f["properties"]["name"] for f in boxed["features"]] == ["测试东园"]
        filtered = api.collection_items("parcels", land_use_class="residential")
        assert [f["properties"]["external_id"] for f in filtered["features"]] == ["w2"]
        one = api.collection_item("parks", str(sample["west"]))
        assert one["properties"]["name"] == "测试西园"
        queryables = api.collection_queryables("parcels")
        assert queryables["properties"]["is_supplied"]["type"] == "boolean"


@pytest.mark.skipif("OAPIF" not in pyogrio.list_drivers(), reason="GDAL without the OAPIF driver")
def test_gdal_oapif_driver_follows_next_links(db_url, sample, gdal_online) -> None:  # type: ignore[no-untyped-def]
    with running_service(db_url, default_limit=1) as base:
        layers = [name for name, _ in pyogrio.list_layers(f"OAPIF:{base}/ogc")]
        assert layers == ["parks", "zones", "towns", "roads", "parcels"]
        # default page size 1: GDAL must follow the next links to get all three parks
        parks = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer="parks")
        assert sorted(parks["name"]) == ["测试东园", "测试无数据园", "测试西园"]
        assert parks.crs is not None and parks.crs.to_epsg() == 4326 or "CRS84" in parks.crs.to_string()
        roads = pyogrio.read_dataframe(f"OAPIF:{base}/ogc", layer="roads", bbox=(121.11, 30.99, 121.13, 31.01))
        assert sorted(roads["name"]) == ["乙路", "甲路"]
