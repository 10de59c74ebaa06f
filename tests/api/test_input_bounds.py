"""Inputs that cost CPU or broke the error handler (issue 15, items 7, 8 and 13's offset).

List parameters are deduplicated and bounded by one parser; /sizhi/verify checks its
coordinates before any geometry work; a NaN or Infinity in a JSON body gets a JSON 422;
a huge offset is refused naming ``offset`` and its range.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio

from tests.api.writes_support import auth, make_keys

SQUARE = [[121.10, 31.00], [121.12, 31.00], [121.12, 31.02], [121.10, 31.02], [121.10, 31.00]]


# ------------------------------------------------------------------ list parameters (item 7)
def test_repeated_layers_are_deduplicated(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/downloads/layers.gpkg?layers=" + ",".join(["towns"] * 1300))
    assert r.status_code == 200, r.text[:300]
    (tmp_path / "a.gpkg").write_bytes(r.content)
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "a.gpkg")] == ["towns"]
    r = client.get("/downloads/layers.gpkg?layers=parks,towns,parks")
    (tmp_path / "b.gpkg").write_bytes(r.content)
    assert [name for name, _ in pyogrio.list_layers(tmp_path / "b.gpkg")] == ["parks", "towns"]


def test_layers_name_the_parameter_and_the_vocabulary(client) -> None:  # type: ignore[no-untyped-def]
    for query in ("layers=lakes", "layers=towns," + ",".join(f"x{i}" for i in range(200)), "layers=,"):
        r = client.get(f"/downloads/layers.gpkg?{query}")
        assert r.status_code == 422, query
        assert r.json()["description"].startswith("layers:") and "towns" in r.json()["description"], r.json()


def test_repeated_indicators_are_deduplicated_and_bounded(client) -> None:  # type: ignore[no-untyped-def]
    same = "&".join(["indicator=output:1"] * 300)
    r = client.get(f"/metrics/classes?{same}")
    assert r.status_code == 200, r.text[:300]
    assert [i["numerator"] for i in r.json()["scheme"]["indicators"]] == ["output"]
    many = "&".join(f"indicator=output:{i}" for i in range(1, 12))
    r = client.get(f"/metrics/classes?{many}")
    assert r.status_code == 422 and r.json()["description"].startswith("indicator:"), r.json()
    assert "at most 10" in r.json()["description"]


def test_bands_are_bounded_naming_the_parameter(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/metrics/classes?bands=" + ",".join(f"{chr(65 + i)}:{(i + 1) / 25:g}" for i in range(25)))
    assert r.status_code == 422 and r.json()["description"].startswith("bands:"), r.json()


def test_repeated_fields_of_a_land_import_are_deduplicated(client, engine) -> None:  # type: ignore[no-untyped-def]
    key = make_keys(engine)["admin"]
    land = "/imports/parcels?filename=a.geojson&source_document=x"
    r = client.post(land + "&" + "&".join(f"field=code=F{i}" for i in range(30)), content=b"{}", headers=auth(key))
    assert r.status_code == 422 and r.json()["description"].startswith("field:"), r.json()
    r = client.post(land + "&" + "&".join(["field=code=DKBH"] * 300), content=b"{}", headers=auth(key))
    assert r.status_code == 422 and not r.json()["description"].startswith("field:"), r.json()  # the file is refused


# ------------------------------------------------------------------ offset (item 13)
def test_a_huge_offset_is_refused_naming_offset_and_its_range(client) -> None:  # type: ignore[no-untyped-def]
    for offset in ("99999999999999999999", str(2**63)):
        r = client.get(f"/ogc/collections/parcels/items?offset={offset}")
        assert r.status_code == 422, offset
        description = r.json()["description"]
        assert description.startswith("offset:") and "0.." in description, description


# ------------------------------------------------------------------ /sizhi/verify and NaN (item 8)
def _verify(client, geometry: object, **extra: object):  # type: ignore[no-untyped-def]
    return client.post("/sizhi/verify", content=json.dumps({"text": "东至甲路,南至乙路", "geometry": geometry, **extra}),
                       headers={"Content-Type": "application/json"})


def test_projected_or_huge_coordinates_are_422_naming_the_field(client) -> None:  # type: ignore[no-untyped-def]
    projected = [[350000, 3430000], [351000, 3430000], [351000, 3431000], [350000, 3431000], [350000, 3430000]]
    huge = [[1e300, 1e300], [-1e300, 1e300], [-1e300, -1e300], [1e300, 1e300]]
    far = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]  # lon/lat, but nowhere near Songjiang
    for ring in (projected, huge, far):
        r = _verify(client, {"type": "Polygon", "coordinates": [ring]})
        assert r.status_code == 422, r.text[:300]
        assert r.json()["description"].startswith("geometry:") and "EPSG:4326" in r.json()["description"], r.json()
    r = _verify(client, {"type": "MultiPolygon", "coordinates": [[SQUARE], [projected]]})
    assert r.status_code == 422 and "geometry:" in r.json()["description"]


def test_nan_or_infinity_in_a_json_body_is_a_json_422(client) -> None:  # type: ignore[no-untyped-def]
    nan_ring = json.dumps(SQUARE).replace("31.02", "NaN", 1)
    geometry = f'"geometry": {{"type": "Polygon", "coordinates": [{json.dumps(SQUARE)}]}}'
    for body in (f'{{"text": "东至甲路", "geometry": {{"type": "Polygon", "coordinates": [{nan_ring}]}}}}',
                 f'{{"text": "东至甲路", {geometry}, "tolerance_m": NaN}}',
                 f'{{"text": "东至甲路", {geometry}, "tolerance_m": Infinity}}'):
        r = client.post("/sizhi/verify", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, r.text[:300]
        assert r.headers["content-type"].startswith("application/json") and r.json()["status"] == 422
    r = client.post("/metrics/whatif", content='{"changes": [{"unit": 1, "field": "output", "value": NaN, '
                    '"unit_of_value": "%", "mode": "scale", "extra": -Infinity}], "year": NaN}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["status"] == 422, r.text[:300]


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/metrics/whatif", content=b"\xff\x1e\xa0.", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["description"].startswith("body:"), r.text[:300]
