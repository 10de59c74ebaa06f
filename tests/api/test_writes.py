"""Write endpoints: ETag/If-Match on indicators, imports by upload, targets, audit log, key handling."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from gis_service.api.app import create_app
from gis_service.api.config import ApiSettings
from gis_service.ingest import ImportLimits
from gis_service.security import revoke_key
from gis_service.settings import Settings
from tests.api.writes_support import audit_rows, auth, indicator_id, make_keys, table_fingerprint


@pytest.fixture
def keys(engine: Engine, sample: dict[str, int]) -> dict[str, str | None]:
    return make_keys(engine)


@pytest.fixture
def writer(db_url: str, sample: dict[str, int], keys: dict[str, str | None]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url), ApiSettings(_env_file=None),  # type: ignore[call-arg]
                     ImportLimits(max_upload_bytes=4096))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_get_indicator_has_an_etag(writer, engine, sample) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    r = writer.get(f"/indicators/{ind}")
    assert r.status_code == 200 and r.headers["etag"] == '"v1"'
    body = r.json()
    assert (body["value"], body["unit"], body["scope_type"], body["scope_id"]) == (100.0, "亿元", "park", sample["west"])
    assert writer.get("/indicators/999999").status_code == 404


def test_put_with_if_match_converts_units_bumps_version_and_audits(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    r = writer.put(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": '"v1"'}),
                   json={"value": 1_050_000, "unit": "万元", "source_document": "园区年报2020.pdf", "source_section": "表2"})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"v2"'
    body = r.json()
    # 1,050,000 万元 = 105 亿元 (1 亿元 = 10,000 万元); the value as given is kept in the note
    assert (body["value"], body["unit"], body["version"]) == (105.0, "亿元", 2)
    assert body["note"] == "原值 1050000 万元"
    assert body["source_document"] == "园区年报2020.pdf"
    with engine.connect() as conn:
        assert float(conn.execute(text("SELECT value FROM indicator WHERE id = :i"), {"i": ind}).scalar_one()) == 105.0
    [row] = audit_rows(engine, "indicator")
    assert row["action"] == "update" and row["row_id"] == str(ind)
    assert row["actor"].endswith(":pm_own") and keys["pm_own"] not in json.dumps(row, ensure_ascii=False)
    assert (row["before"]["value"], row["before"]["version"]) == (100.0, 1)
    assert (row["after"]["value"], row["after"]["version"]) == (105.0, 2)


def test_stale_if_match_gets_412_with_the_current_value(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    first = writer.put(f"/indicators/{ind}", headers=auth(keys["analyst"], **{"If-Match": '"v1"'}),
                       json={"value": 101, "unit": "亿元", "source_document": "a"})
    assert first.status_code == 200
    before = table_fingerprint(engine)
    r = writer.put(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": '"v1"'}),
                   json={"value": 102, "unit": "亿元", "source_document": "b"})
    assert r.status_code == 412
    assert r.headers["etag"] == '"v2"'
    assert r.json()["current"]["value"] == 101.0 and r.json()["current"]["version"] == 2
    assert table_fingerprint(engine) == before
    # weak tags never match (strong comparison); a tag this service did not issue neither
    for tag in ('W/"v2"', '"abc"'):
        assert writer.put(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": tag}),
                          json={"value": 102, "unit": "亿元", "source_document": "b"}).status_code == 412
    # a list containing the current tag matches; so does *
    r = writer.patch(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": '"v1", "v2"'}), json={"note": "核对"})
    assert r.status_code == 200 and r.json()["version"] == 3 and r.json()["value"] == 101.0 and r.json()["note"] == "核对"
    r = writer.patch(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": "*"}), json={"value": 99})
    assert r.status_code == 200 and (r.json()["version"], r.json()["value"], r.json()["note"]) == (4, 99.0, "核对")


def test_update_without_if_match_is_428(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    before = table_fingerprint(engine)
    r = writer.put(f"/indicators/{ind}", headers=auth(keys["admin"]), json={"value": 1, "unit": "亿元", "source_document": "x"})
    assert r.status_code == 428 and "If-Match" in r.json()["description"]
    assert writer.patch(f"/indicators/{ind}", headers=auth(keys["admin"]), json={"value": 1}).status_code == 428
    assert table_fingerprint(engine) == before


@pytest.mark.parametrize(("body", "needle"), [
    ({"value": 5, "unit": "km²", "source_document": "x"}, "km²"),   # an area unit for an output
    ({"value": -5, "unit": "亿元", "source_document": "x"}, "negative"),
    ({"value": 20_000, "unit": "亿元", "source_document": "x"}, "implausible"),
    ({"value": 5, "unit": "斤", "source_document": "x"}, "斤"),
])
def test_bad_values_are_422_and_change_nothing(writer, engine, sample, keys, body, needle) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    before = table_fingerprint(engine)
    r = writer.put(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}), json=body)
    assert r.status_code == 422 and needle in r.json()["description"] and f"indicator {ind}" in r.json()["description"]
    assert table_fingerprint(engine) == before


def test_patch_unit_without_value_is_422(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    ind = indicator_id(engine, sample["west"])
    r = writer.patch(f"/indicators/{ind}", headers=auth(keys["admin"], **{"If-Match": '"v1"'}), json={"unit": "万元"})
    assert r.status_code == 422 and "unit given without value" in r.json()["description"]


WEST_2021 = "园区,年份,指标,数值,单位,来源\ntest-west,2021,output,1200000,万元,园区报表2021.xlsx\n"


def test_indicator_import_by_upload(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    r = writer.post("/imports/indicators", params={"filename": "west.csv"}, content=WEST_2021.encode(),
                    headers=auth(keys["pm_own"], **{"Content-Type": "text/csv"}))
    assert r.status_code == 200, r.text
    assert (r.json()["inserted"], r.json()["converted"]) == (1, 1)
    with engine.connect() as conn:
        value, unit = conn.execute(text("SELECT value, unit FROM indicator WHERE park_id = :p AND year = 2021"),
                                   {"p": sample["west"]}).one()
    assert (float(value), unit) == (120.0, "亿元")  # 1,200,000 万元 = 120 亿元
    assert [r["action"] for r in audit_rows(engine, "indicator")] == ["insert", "import"]


def test_indicator_import_refuses_other_parks_and_bad_rows_atomically(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    before = table_fingerprint(engine)
    mixed = WEST_2021 + "test-east,2021,output,130,亿元,园区报表2021.xlsx\n"
    r = writer.post("/imports/indicators", params={"filename": "mixed.csv"}, content=mixed.encode(),
                    headers=auth(keys["pm_own"]))
    assert r.status_code == 403 and "line 3" in r.json()["description"] and "test-east" in r.json()["description"]
    bad = WEST_2021 + "test-west,2022,output,很多,亿元,x\n"
    r = writer.post("/imports/indicators", params={"filename": "bad.csv"}, content=bad.encode(), headers=auth(keys["admin"]))
    assert r.status_code == 422 and "bad.csv" in r.json()["description"] and "line 3" in r.json()["description"]
    r = writer.post("/imports/indicators", params={"filename": "../../etc/x.txt"}, content=b"a", headers=auth(keys["admin"]))
    assert r.status_code == 422 and ".csv" in r.json()["description"]
    assert table_fingerprint(engine) == before


def test_upload_limit_is_413_with_or_without_content_length(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    big = WEST_2021.encode() + b"#" * 5000  # the writer's limit is 4096 bytes
    before = table_fingerprint(engine)
    r = writer.post("/imports/indicators", params={"filename": "big.csv"}, content=big, headers=auth(keys["admin"]))
    # refused by the request limits before the route runs: the description names the route and the setting
    description = r.json()["description"]
    assert r.status_code == 413 and "4096" in description and "POST /imports/indicators" in description
    assert "GIS_IMPORT_MAX_UPLOAD_BYTES" in description

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000]

    r = writer.post("/imports/indicators", params={"filename": "big.csv"}, content=chunks(), headers=auth(keys["admin"]))
    assert r.status_code == 413 and "refused after 5" in r.json()["description"]
    assert table_fingerprint(engine) == before


def _square(code: str, x0: float, y0: float, d: float = 0.01) -> dict:  # type: ignore[type-arg]
    ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
    return {"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_boundary_import_adds_a_version_and_keeps_history(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    doc = json.dumps({"type": "FeatureCollection", "features": [_square("test-west", 121.10, 31.00, 0.03)]}).encode()
    params = {"filename": "west.geojson", "valid_from": "2024-01-01", "source_document": "批复2024.pdf",
              "source_crs": "EPSG:4326"}
    assert writer.post("/imports/boundaries", params=params, content=doc, headers=auth(keys["analyst"])).status_code == 403
    r = writer.post("/imports/boundaries", params=params, content=doc, headers=auth(keys["admin"]))
    assert r.status_code == 200, r.text
    assert (r.json()["inserted"], r.json()["closed"]) == (1, 1)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT valid_from::text, valid_to::text FROM park_boundary WHERE park_id = :p "
                                     "ORDER BY valid_from"), {"p": sample["west"]}).all()
    assert [tuple(v) for v in versions] == [("2015-01-01", "2024-01-01"), ("2024-01-01", None)]
    # a polygon outside Shanghai: 422 naming the feature, nothing written
    before = table_fingerprint(engine)
    far = json.dumps({"type": "FeatureCollection", "features": [_square("test-east", 116.3, 39.9)]}).encode()
    r = writer.post("/imports/boundaries", params=params | {"filename": "far.geojson"}, content=far,
                    headers=auth(keys["admin"]))
    assert r.status_code == 422 and "far.geojson" in r.json()["description"]
    assert table_fingerprint(engine) == before


def test_layer_import_of_roads(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    road = {"type": "Feature", "properties": {"name": "新建路", "kind": "road", "geometry_quality": "approximate",
                                              "source_document": "测绘2024"},
            "geometry": {"type": "LineString", "coordinates": [[121.15, 31.0], [121.16, 31.01]]}}
    doc = json.dumps({"type": "FeatureCollection", "features": [road]}).encode()
    r = writer.post("/imports/layers/roads", params={"filename": "roads.geojson", "source_crs": "EPSG:4326"},
                    content=doc, headers=auth(keys["admin"]))
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM road WHERE name = '新建路'")).scalar_one() == "road"
    assert audit_rows(engine, "road")[-1]["after"]["inserted"] == 1


TARGET = {"scope": "songjiang", "name": "工业园区单位土地产值", "metric_code": "output", "year": 2025, "unit": "亿元/km²",
          "source_document": "001_13d6efb69ed95403.txt", "source_section": "表1 #9", "value": 85, "nature": "预期性",
          "basis": "supplied_industrial_land"}


def test_put_target_creates_then_replaces_with_audit(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    r = writer.put("/targets/test-new", json=TARGET, headers=auth(keys["admin"]))
    assert r.status_code == 201 and r.json()["value"] == 85.0 and r.json()["nature"] == "预期性"
    r = writer.put("/targets/test-new", json=TARGET | {"value": 90}, headers=auth(keys["admin"]))
    assert r.status_code == 200 and r.json()["value"] == 90.0
    rows = audit_rows(engine, "target")
    assert [r["action"] for r in rows] == ["create", "update"]
    assert rows[1]["before"]["value"] == 85.0 and rows[1]["after"]["value"] == 90.0
    r = writer.put("/targets/test-new", json=TARGET | {"value": None}, headers=auth(keys["admin"]))
    assert r.status_code == 422 and "value_text" in r.json()["description"]


def test_audit_log_over_http_is_admin_only(writer, engine, sample, keys) -> None:  # type: ignore[no-untyped-def]
    writer.put("/targets/t1", json=TARGET, headers=auth(keys["admin"]))
    assert writer.get("/admin/audit").status_code == 401
    assert writer.get("/admin/audit", headers=auth(keys["analyst"])).status_code == 403
    r = writer.get("/admin/audit", params={"table": "target"}, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert r.status_code == 200
    [entry] = r.json()
    assert (entry["action"], entry["table_name"], entry["after"]["code"]) == ("create", "target", "t1")
    assert entry["actor"].endswith(":admin") and entry["before"] is None
    everything = writer.get("/admin/audit", headers=auth(keys["admin"])).json()
    assert {e["table_name"] for e in everything} == {"target", "api_key"}  # the keys' creation is audited too
    assert not any(k and k in json.dumps(everything, ensure_ascii=False) for k in keys.values())


def test_keys_are_checked_and_never_logged(writer, engine, sample, keys, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    bogus = "gsk_" + "x" * 43
    r = writer.get("/parks", headers=auth(bogus))  # reads are open, but a wrong key is refused
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert bogus not in r.text
    ind = indicator_id(engine, sample["west"])
    writer.put(f"/indicators/{ind}", headers=auth(keys["pm_own"], **{"If-Match": '"v1"'}),
               json={"value": 1, "unit": "亿元", "source_document": "x"})
    with engine.connect() as conn:
        key_id = conn.execute(text("SELECT id FROM api_key WHERE name = 'pm_own'")).scalar_one()
    revoke_key(engine, key_id, actor="test")
    assert writer.get(f"/indicators/{ind}", headers=auth(keys["pm_own"])).status_code == 401
    assert bogus not in caplog.text and not any(k and k in caplog.text for k in keys.values())


def test_reads_can_require_a_key(db_url, sample, keys) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(database_url=db_url), ApiSettings(_env_file=None, require_key_for_read=True))  # type: ignore[call-arg]
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/parks").status_code == 401
        assert c.get("/ogc/collections").status_code == 401
        assert c.get("/parks", headers=auth(keys["viewer"])).status_code == 200
        assert c.get("/health").status_code == 200  # health stays open for load balancers
