"""Injection probes in every parameter, and no SQL built from text by string formatting.

1. Every path and query parameter of every GET operation in the service's own OpenAPI
   document (plus the OGC property filters of each collection's queryables) gets each probe:
   SQL metacharacters, a NUL byte, unicode look-alikes.  No answer may be a 5xx, and no
   table may change.
2. The write parameters (path, query and JSON body) get the same probes: never a 5xx;
   text fields store the probe verbatim (it is data, not SQL) and nothing else changes.
3. A source scan: every f-string, ``%`` or ``.format`` that builds SQL in ``gis_service``
   interpolates only reviewed identifiers (constants or catalog names), listed below with
   the reason; values always travel as bound parameters.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import text

from tests.api.writes_support import auth, indicator_id, make_keys, table_fingerprint

PROBES = ["'", '"', ";", "--", "/*", "\x00", "1' OR '1'='1", "1; DROP TABLE indicator; --", "') OR 1=1 --",
          "\\", "测试'；ー", "ＳＥＬＥＣＴ", "𝕏\u202e", "%", "_"]

#: a valid value for each path parameter, so each probe is the only odd thing in its request
PATH_DEFAULTS = {"collection_id": "parks", "feature_id": "1", "layer": "parks", "z": "10", "x": "857", "y": "418",
                 "park_id": "1", "indicator_id": "1"}


def _get_operations(app) -> list[tuple[str, list[tuple[str, str]]]]:  # type: ignore[no-untyped-def]
    ops = []
    document = app.openapi()
    shared = document.get("components", {}).get("parameters", {})  # {"$ref": "#/components/parameters/limit"}
    for path, methods in document["paths"].items():
        if "get" in methods:
            resolved = [shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in methods["get"].get("parameters", [])]
            params = [(p["name"], p["in"]) for p in resolved if p["in"] in ("path", "query")]
            ops.append((path, params))
    return ops


def _url(path: str, override: tuple[str, str] | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = override[1] if override and override[0] == name else PATH_DEFAULTS[name]
        return quote(value, safe="")

    return re.sub(r"\{(\w+)\}", fill, path)


def test_probes_in_every_read_parameter(client, engine, sample) -> None:  # type: ignore[no-untyped-def]
    before = table_fingerprint(engine)
    sent = 0
    failures = []
    ops = _get_operations(client.app)
    # the OGC items also take the collection's queryable properties as filters
    for collection in ("parks", "zones", "towns", "roads", "parcels"):
        names = client.get(f"/ogc/collections/{collection}/queryables").json()["properties"]
        ops.append((f"/ogc/collections/{collection}/items", [(n, "query") for n in names]))
    assert len(ops) > 30
    for path, params in ops:
        for name, where in params:
            for probe in PROBES:
                if where == "path":
                    r = client.get(_url(path, (name, probe)))
                else:
                    r = client.get(_url(path), params={name: probe})
                sent += 1
                if r.status_code >= 500:
                    failures.append((path, name, probe, r.status_code, r.text[:200]))
                elif r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
                    assert r.json()["status"] == r.status_code
    print(f"\ninjection probes on read parameters: {sent} requests")
    assert failures == []
    assert table_fingerprint(engine) == before


def test_probes_in_write_parameters(client, engine, sample) -> None:  # type: ignore[no-untyped-def]
    keys = make_keys(engine)
    admin = auth(keys["admin"])
    ind = indicator_id(engine, sample["west"])
    before = table_fingerprint(engine)
    for probe in PROBES:
        q = quote(probe, safe="")
        assert client.put(f"/indicators/{q}", headers=admin | {"If-Match": "*"},
                          json={"value": 1, "unit": "亿元", "source_document": "x"}).status_code in (404, 422)
        assert client.put(f"/targets/{q}", headers=admin, json={}).status_code in (404, 405, 422)
        assert client.post(f"/imports/layers/{q}", headers=admin, params={"filename": "a.geojson"},
                           content=b"{}").status_code in (404, 422)
        for params in ({"filename": probe}, {"filename": "a.csv", "source_document": probe, "sheet": probe}):
            r = client.post("/imports/indicators", headers=admin, params=params, content=b"x")
            assert r.status_code == 422, (params, r.text)
        r = client.post("/imports/boundaries", headers=admin, content=b"{}",
                        params={"filename": "b.geojson", "valid_from": probe, "source_document": probe,
                                "park_field": probe, "source_crs": probe, "layer": probe})
        assert r.status_code == 422, r.text
        r = client.get("/admin/audit", headers=admin, params={"table": probe, "since": probe})
        assert r.status_code == 422
        tag = client.get(f"/indicators/{ind}").headers["etag"]
        r = client.patch(f"/indicators/{ind}", headers=admin | {"If-Match": tag}, json={"value": 5, "unit": probe})
        assert r.status_code == 422, r.text
        if "\x00" not in probe:  # a NUL cannot be sent in a header; the rest go as UTF-8 bytes
            r = client.patch(f"/indicators/{ind}", headers=admin | {"If-Match": probe.encode()}, json={"note": "x"})
            assert r.status_code == 412, r.text
    assert table_fingerprint(engine) == before
    # in a text field the probe is data: stored verbatim (NUL cannot be stored: 422)
    for probe in PROBES:
        tag = client.get(f"/indicators/{ind}").headers["etag"]
        r = client.patch(f"/indicators/{ind}", headers=admin | {"If-Match": tag},
                         json={"source_document": probe or "x", "note": probe})
        if "\x00" in probe:
            assert r.status_code == 422
            continue
        assert r.status_code == 200, (probe, r.text)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT source_document, note FROM indicator WHERE id = :i"), {"i": ind}).one()
        assert tuple(stored) == (probe, probe)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar_one() == 5


# ----------------------------------------------------------------------------- source scan
PACKAGE = Path(__file__).resolve().parents[2] / "gis_service"
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH)\b[\s\S]*\b(FROM|INTO|SET|TABLE|WHERE|AS|VALUES)\b"
                  r"|%\(\w*\)s|\s=\s:\w", re.I)

#: (file, interpolated expression) -> why it is not user input
REVIEWED: dict[tuple[str, str], str] = {
    ("api/features.py", "_feature_expression(collection)"): "SQL of a catalog collection (api/catalog.py constants)",
    ("api/features.py", "collection.source"): "catalog constant: the collection's source query",
    ("api/features.py", "where"): "built by _where from catalog property names and %(name)s parameters",
    ("api/features.py", "order"): "one of two constant ORDER BY expressions",
    ("api/features.py", "name"): "property name checked against the catalog by property_filters",
    ("api/features.py", "i"): "an enumerate() counter naming a bound parameter",
    ("tiles/render.py", "props"): "constant property list of a TILE_LAYERS entry (api/tiles.py)",
    ("tiles/render.py", "EXTENT"): "module constant",
    ("tiles/render.py", "BUFFER"): "module constant",
    ("tiles/render.py", "layer.source"): "catalog constant: the collection's source query",
    ("tiles/render.py", "projected"): "one of two constant projection expressions (_LINEAR / _EXACT)",
    ("tiles/render.py", "parcels"): "a constant subquery of this function or the constant NULL::bytea",
    ("tiles/render.py", "VERSIONS_SQL"): "constant subquery of store/version_watch.py (tables are a bound parameter)",
    ("tiles/render.py", "tile_sql"): "a tile query built by detail_sql / generalised_sql from reviewed constants",
    ("db/migrations/versions/0006_data_change_notify.py", "CHANNEL"): "module constant: the NOTIFY channel name",
    ("edits.py", "', '.join(_TARGET_COLUMNS)"): "constant column tuple",
    ("edits.py", "', '.join(':' + c for c in _TARGET_COLUMNS)"): "constant column tuple",
    ("edits.py", "', '.join(f'{c} = :{c}' for c in _TARGET_COLUMNS)"): "constant column tuple",
    ("edits.py", "c"): "a name from the constant column tuple",
    ("ingest/upserts.py", "table"): "table name constant of the layer writers",
    ("ingest/upserts.py", "key"): "natural-key column constant of the layer",
    ("db/migrations/versions/0003_data_change_versions.py", "table"): "TRACKED constant tuple of table names",
    ("qa.py", "AREA_SRID"): "coords.crs constant (4549)",
    ("qa.py", "in_force_sql('b')"): "fixed in-force condition for a constant alias (store/boundaries.py)",
    ("store/readers.py", "in_force_sql('b')"): "fixed in-force condition for a constant alias (store/boundaries.py)",
    ("api/catalog.py", "in_force_sql('b', on='CURRENT_DATE')"): "fixed in-force condition, constant alias and date",
    ("ingest/boundaries.py", "in_force_sql('park_boundary', on=':vf')"): "fixed in-force condition, bound :vf",
    ("qa.py", "table"): "constant table tuples of the checks",
    ("ingest/land/write.py", "where"): "one of the two constant scope conditions of _scope_sql (values bound)",
    ("metrics/postgis.py", "_IN_SNAPSHOT"): "module constant: the survey-snapshot condition (:survey_import bound)",
    ("audit.py", "table"): "checked against the constant AUDITABLE_TABLES before use",
    ("db/migrations/versions/0005_buildings_and_idle_land.py", "table"): "constant tuple of the two new table names",
    ("metrics/intensity.py", "AREA_SRID"): "coords.crs constant (4549)",
    ("export.py", "AREA_SRID"): "coords.crs constant (4549)",
    ("metrics/intensity.py", "IS_SUPPLIED_ANY_USE"): "metrics/postgis.py constant: supplied-land condition (values bound)",
    ("metrics/intensity.py", "_IN_SNAPSHOT"): "metrics/postgis.py constant: the survey-snapshot condition (bound)",
    ("metrics/intensity.py", "_IS_BUILT"): "metrics/postgis.py constant: the built-up land condition (bound)",
    ("metrics/intensity.py", "_IS_INDUSTRIAL_STORAGE"): "module constant: 工矿仓储 patches of the snapshot (bound)",
    ("metrics/intensity.py", "', '.join(repr(c) for c in INDUSTRIAL_STORAGE_CLASSES)"):
        "module constant: quoted class names of the code (INDUSTRIAL_STORAGE_CLASSES)",
    ("metrics/intensity.py", "_IS_IDLE"): "module constant: idle supply records (:year bound)",
    ("metrics/intensity.py", "_IS_SUPPLIED"): "metrics/postgis.py constant: supplied industrial land (values bound)",
    ("metrics/intensity.py", "_IS_RESIDENTIAL"): "module constant: residential patches of the snapshot (bound)",
    ("metrics/intensity.py", "_PIECES_CTE"): "module constant: the cells CTE (cell ids and WKB bound as arrays)",
    ("metrics/intensity.py", "STORED_SRID"): "coords.crs constant (4326)",
    ("metrics/intensity.py", 'in_force_sql("pb")'): "fixed in-force condition for a constant alias (store/boundaries.py)",
    ("audit.py", "row"): "to_jsonb(t) minus/plus the constant geometry column names of _GEOMETRY_COLUMNS",
}


def sql_interpolations() -> set[tuple[str, str]]:
    """Every (file, expression) interpolated into text that looks like SQL."""
    found: set[tuple[str, str]] = set()
    for file in sorted(PACKAGE.rglob("*.py")):
        source = file.read_text(encoding="utf-8")
        rel = file.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(source)):
            literal, exprs = "", []
            if isinstance(node, ast.JoinedStr):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                exprs = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                  and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str)):
                literal, exprs = node.func.value.value, [*node.args, *(k.value for k in node.keywords)]
            elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant)
                  and isinstance(node.left.value, str)):
                literal, exprs = node.left.value, [node.right]
            if exprs and _SQL.search(literal):
                found |= {(rel, ast.get_source_segment(source, e) or "?") for e in exprs}
    return found


def test_no_sql_is_formatted_from_unreviewed_values() -> None:
    found = sql_interpolations()
    assert ("edits.py", "', '.join(_TARGET_COLUMNS)") in found  # the scan sees the known cases
    unreviewed = sorted(found - set(REVIEWED))
    assert unreviewed == [], "SQL built by formatting; bind the value or review the identifier: " + repr(unreviewed)


@pytest.mark.parametrize("snippet", [
    'text(f"SELECT * FROM park WHERE name = \'{name}\'")',
    '"UPDATE park SET name = %s" % name',
    '"DELETE FROM {} WHERE id = 1".format(table_name)',
])
def test_the_scan_catches_formatted_sql(tmp_path, monkeypatch, snippet) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.py").write_text(f"x = {snippet}\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    assert [rel for rel, _ in sql_interpolations()] == ["bad.py"]
