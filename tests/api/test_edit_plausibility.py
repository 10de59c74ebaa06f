"""Single edits and layer imports over HTTP apply the importers' checks (issue 15, item 5)."""

from __future__ import annotations

import pytest

# the write tests' fixtures (admin/analyst/... keys, a client with a 4 KB upload limit): one definition
from tests.api.test_writes import keys, writer  # noqa: F401
from tests.api.writes_support import audit_rows, auth, indicator_id, table_fingerprint


def test_patch_of_a_tiny_area_under_a_stored_output_is_refused(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"], "jurisdiction_area")
    before = table_fingerprint(engine)
    r = writer.patch(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}),
                     json={"value": 1e-9, "unit": "km²"})
    assert r.status_code == 422, r.text
    description = r.json()["description"]
    assert f"indicator {ind}" in description and "亿元/km²" in description
    assert table_fingerprint(engine) == before


def test_put_of_an_output_too_dense_for_the_stored_area_is_refused(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["east"])  # east: 管辖面积 50 公顷 = 0.5 km²
    r = writer.put(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}),
                   json={"value": 900, "unit": "亿元", "source_document": "年报"})
    assert r.status_code == 422 and "1,800 亿元/km²" in r.json()["description"], r.text
    ok = writer.put(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}),
                    json={"value": 400, "unit": "亿元", "source_document": "年报"})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("method", ["patch", "put"])
def test_blank_source_is_refused(writer, engine, sample, keys, method) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    body = {"source_document": "   "} if method == "patch" else {"value": 100, "unit": "亿元", "source_document": " \t"}
    r = getattr(writer, method)(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}), json=body)
    assert r.status_code == 422, r.text
    assert "source_document" in r.text
    assert audit_rows(engine, "indicator") == []


def test_layer_import_of_indicators_over_http_is_validated(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    body = ("scope_type,scope_code,year,metric_code,value,unit,is_projection,source_document\n"
            "park,test-west,2021,output,-5,bananas,false,报表\n").encode()
    before = table_fingerprint(engine)
    r = writer.post("/imports/layers/indicators", params={"filename": "figures.csv"}, content=body,
                    headers=auth(keys["admin"], **{"Content-Type": "text/csv"}))
    assert r.status_code == 422 and "bananas" in r.json()["description"], r.text
    assert table_fingerprint(engine) == before
    good = ("scope_type,scope_code,year,metric_code,value,unit,is_projection,source_document\n"
            "park,test-west,2021,output,1200000,万元,false,报表\n").encode()
    r = writer.post("/imports/layers/indicators", params={"filename": "figures.csv", "replace": "true"}, content=good,
                    headers=auth(keys["admin"], **{"Content-Type": "text/csv"}))
    assert r.status_code == 200, r.text
    assert (r.json()["inserted"], r.json()["deleted"]) == (1, 0)
    assert [a["action"] for a in audit_rows(engine, "indicator")] == ["insert", "import"]
