"""No input produces a 500: every error is a 4xx JSON body saying what is wrong."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis_service.api.errors import install_error_handlers, status_for
from gis_service.errors import ClusterError, InputError, NotFoundError

PATHS = [
    "/ogc/collections/parcels/items",
    "/ogc/collections/parks/items",
    "/ogc/collections/parks/items/{v}",
    "/ogc/collections/{v}",
    "/tiles/parks/{v}/{v}/{v}.mvt",
    "/metrics/density",
    "/parks/{v}",
    "/zones",
    "/downloads/layers.gpkg",
    "/",
]
PARAMS = ["limit", "offset", "bbox", "bbox-crs", "year", "basis", "numerator", "level", "target", "kind", "layers",
          "is_supplied", "supply_year", "crs", "f", "basemap", "land_use_class"]
values = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=7).map(lambda xs: ",".join(map(str, xs))),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), params=st.dictionaries(st.sampled_from(PARAMS), values, max_size=3), v=values)
def test_no_input_gives_a_500(client, path: str, params: dict[str, str], v: str) -> None:  # type: ignore[no-untyped-def]
    url = path.replace("{v}", quote(v, safe="") or "x")
    r = client.get(url, params=params)
    assert r.status_code < 500, (url, params, r.text[:300])
    if r.status_code >= 400 and r.headers["content-type"].startswith("text/html"):
        # a page route answers its Chinese error page (gis_service.maps.error_page), with the status
        assert '<html lang="zh-CN">' in r.text and f"(HTTP {r.status_code})" in r.text, (url, params, r.text[:300])
    elif r.status_code >= 400:
        body = r.json()
        assert body["status"] == r.status_code and body["description"]


def test_status_map_and_no_internal_details_in_500() -> None:
    assert status_for(NotFoundError("x")) == (404, "NotFound")
    assert status_for(InputError("x")) == (422, "InvalidParameterValue")
    assert status_for(ClusterError("x"))[0] == 503
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=secret in postgresql://gis:secret@db")

    @app.get("/db")
    def db() -> None:
        raise ClusterError("could not connect to postgresql://gis:secret@db")

    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
        assert r.status_code == 500 and "secret" not in r.text and r.json()["reference"]
        r = c.get("/db")
        assert r.status_code == 503 and "secret" not in r.text
