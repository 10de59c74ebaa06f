"""Authorization matrix: every write endpoint x every caller (no key, each role, own/other park).

The park managers: ``pm_own`` manages 测试西园 (test-west), ``pm_other`` manages 测试东园
(test-east); every request below targets test-west.  Expected statuses come from the policy
in the issue: park managers write indicators of their own parks only; analysts indicators of
any park; boundaries, targets and layers are admin's; land data
admin's and analysts'; the audit log is admin's to read.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response

from tests.api.writes_support import CALLERS, auth, indicator_id, make_keys

BOUNDARY = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"code": "test-west"},
    "geometry": {"type": "Polygon", "coordinates": [[[121.10, 31.00], [121.13, 31.00], [121.13, 31.03],
                                                     [121.10, 31.03], [121.10, 31.00]]]}}]}).encode()
ROADS = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"name": "新建路", "kind": "road", "geometry_quality": "approximate",
                                      "source_document": "测绘2024"},
    "geometry": {"type": "LineString", "coordinates": [[121.15, 31.0], [121.16, 31.01]]}}]}).encode()
_SQUARE = {"type": "Polygon", "coordinates": [[[121.10, 31.00], [121.101, 31.00], [121.101, 31.001],
                                              [121.10, 31.001], [121.10, 31.00]]]}
REGISTER = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"DKBH": "D1", "YDDM": "M1", "GYZT": "已供应"}, "geometry": _SQUARE}]}).encode()
SUPPLY = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"电子监管号": "3101172020B00001", "土地用途": "工业用地", "合同签订日期": "2020-05-01"},
    "geometry": _SQUARE}]}).encode()
BUILDINGS = json.dumps({"type": "FeatureCollection", "features": [{
    "type": "Feature", "properties": {"编号": "B1", "建筑面积": 1200, "层数": 3}, "geometry": _SQUARE}]}).encode()
CSV = "园区,年份,指标,数值,单位,来源\ntest-west,2021,output,110,亿元,报表.xlsx\n".encode()
TARGET = {"scope": "songjiang", "name": "工业园区单位土地产值", "metric_code": "output", "year": 2025,
          "unit": "亿元/km²", "source_document": "001_13d6efb69ed95403.txt", "value": 80,
          "basis": "supplied_industrial_land"}  # a density unit needs its basis (target rule)

#: endpoint -> expected status per caller, in the order of CALLERS
#:                                 none viewer pm_own pm_other analyst admin
EXPECTED: dict[str, tuple[int, ...]] = {
    "PUT /indicators/{west}":        (401, 403, 200, 403, 200, 200),
    "PATCH /indicators/{west}":      (401, 403, 200, 403, 200, 200),
    "POST /imports/indicators":      (401, 403, 200, 403, 200, 200),
    "POST /imports/boundaries":      (401, 403, 403, 403, 403, 200),
    "PUT /targets/{code}":           (401, 403, 403, 403, 403, 201),
    "POST /imports/layers/roads":    (401, 403, 403, 403, 403, 200),
    "GET /admin/audit":              (401, 403, 403, 403, 403, 200),
    "POST /imports/parcels":         (401, 403, 403, 403, 200, 200),
    "POST /imports/supply":          (401, 403, 403, 403, 200, 200),
    "POST /imports/buildings":       (401, 403, 403, 403, 200, 200),
    "PUT /land/supply/{no}/idle":    (401, 403, 403, 403, 200, 200),
    "POST /land/idle-reviews":       (401, 403, 403, 403, 200, 200),
}


def _calls(client: TestClient, west_indicator: int) -> dict[str, Callable[[dict[str, str]], Response]]:
    def etag() -> str:
        return client.get(f"/indicators/{west_indicator}").headers["etag"]

    return {
        "PUT /indicators/{west}": lambda h: client.put(
            f"/indicators/{west_indicator}", headers=h | {"If-Match": etag()},
            json={"value": 101, "unit": "亿元", "source_document": "x"}),
        "PATCH /indicators/{west}": lambda h: client.patch(
            f"/indicators/{west_indicator}", headers=h | {"If-Match": etag()}, json={"note": "核对"}),
        "POST /imports/indicators": lambda h: client.post(
            "/imports/indicators", params={"filename": "w.csv"}, content=CSV, headers=h),
        "POST /imports/boundaries": lambda h: client.post(
            "/imports/boundaries", params={"filename": "b.geojson", "valid_from": "2024-01-01",
                                           "source_document": "批复", "source_crs": "EPSG:4326"},
            content=BOUNDARY, headers=h),
        "PUT /targets/{code}": lambda h: client.put("/targets/matrix-target", json=TARGET, headers=h),
        "POST /imports/layers/roads": lambda h: client.post(
            "/imports/layers/roads", params={"filename": "r.geojson", "source_crs": "EPSG:4326"}, content=ROADS,
            headers=h),
        "GET /admin/audit": lambda h: client.get("/admin/audit", headers=h),
        "POST /imports/parcels": lambda h: client.post(
            "/imports/parcels", params={"filename": "p.geojson", "source_document": "台账"}, content=REGISTER, headers=h),
        "POST /imports/supply": lambda h: client.post(
            "/imports/supply", params={"filename": "s.geojson", "source_document": "公告"}, content=SUPPLY, headers=h),
        "POST /imports/buildings": lambda h: client.post(
            "/imports/buildings", params={"filename": "b.geojson", "year": 2023, "source_document": "建筑普查"},
            content=BUILDINGS, headers=h),
        # the supply record posted above (analyst and admin calls come after theirs)
        "PUT /land/supply/{no}/idle": lambda h: client.put(
            "/land/supply/3101172020B00001/idle", params={"status": "idle", "year": 2022}, headers=h),
        "POST /land/idle-reviews": lambda h: client.post(
            "/land/idle-reviews", json={"year": 2023, "park_code": "test-west", "source_document": "认定书"}, headers=h),
    }


def test_every_write_endpoint_for_every_caller(client, engine, sample) -> None:  # type: ignore[no-untyped-def]
    keys = make_keys(engine)
    calls = _calls(client, indicator_id(engine, sample["west"]))
    assert set(calls) == set(EXPECTED)
    got = {endpoint: tuple(calls[endpoint](auth(keys[caller])).status_code for caller in CALLERS)
           for endpoint in EXPECTED}
    assert got == EXPECTED


def test_park_manager_scope_is_per_park(client, engine, sample) -> None:  # type: ignore[no-untyped-def]
    """The mirror case: an indicator of test-east is pm_other's, not pm_own's."""
    keys = make_keys(engine)
    east = indicator_id(engine, sample["east"])
    statuses = {}
    for caller in ("pm_own", "pm_other"):
        tag = client.get(f"/indicators/{east}").headers["etag"]
        statuses[caller] = client.patch(f"/indicators/{east}", headers=auth(keys[caller], **{"If-Match": tag}),
                                        json={"note": caller}).status_code
    assert statuses == {"pm_own": 403, "pm_other": 200}
    # a non-park indicator (district scope) is no park manager's
    from sqlalchemy import text

    with engine.begin() as conn:
        district = conn.execute(text("INSERT INTO indicator (district_id, year, metric_code, value, unit, "
                                     "source_document) SELECT id, 2020, 'output', 500, '亿元', 'x' FROM district "
                                     "RETURNING id")).scalar_one()
    r = client.patch(f"/indicators/{district}", headers=auth(keys["pm_own"], **{"If-Match": '"v1"'}), json={"note": "x"})
    assert r.status_code == 403 and "scope other than a park" in r.json()["description"]
    r = client.patch(f"/indicators/{district}", headers=auth(keys["analyst"], **{"If-Match": '"v1"'}), json={"note": "x"})
    assert r.status_code == 200
