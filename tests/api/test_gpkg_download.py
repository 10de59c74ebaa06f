"""The GeoPackage download as GIS clients read it: version 1.2, typed columns, descriptions,
and an empty layer that keeps its geometry type and CRS; the page-size limits in the OpenAPI
document where QGIS looks for them.  Read with sqlite3 (what a GeoPackage is), no GIS needed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_1_2 = 10200  # PRAGMA user_version of GeoPackage 1.2


def _download(client: TestClient, tmp_path: Path, query: str) -> sqlite3.Connection:
    r = client.get(f"/downloads/layers.gpkg?{query}")
    assert r.status_code == 200, r.text
    path = tmp_path / "layers.gpkg"
    path.write_bytes(r.content)
    return sqlite3.connect(path)


def _column_types(db: sqlite3.Connection, table: str) -> dict[str, str]:
    return {row[1]: row[2] for row in db.execute(f'PRAGMA table_info("{table}")')}


def test_openapi_states_the_page_size_limits_where_qgis_reads_them(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    limit = document["components"]["parameters"]["limit"]
    assert (limit["name"], limit["in"]) == ("limit", "query")
    assert limit["schema"]["default"] == 10 and limit["schema"]["maximum"] == 10_000
    assert limit["schema"]["type"] == "integer" and limit["schema"]["minimum"] == 1
    # the items routes use that one parameter, not a copy without the limits
    items = document["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in items
    assert not [p for p in items if p.get("name") == "limit"]


def test_gpkg_download_is_version_1_2_with_typed_described_layers(client: TestClient, tmp_path: Path) -> None:
    db = _download(client, tmp_path, "layers=parks,zones,parcels")
    assert db.execute("PRAGMA application_id").fetchone()[0] == GPKG_APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == GPKG_1_2
    parks = _column_types(db, "parks")
    assert (parks["valid_from"], parks["valid_to"]) == ("DATE", "DATE")
    assert (parks["parent_id"], parks["park_id"], parks["boundary_id"]) == ("INTEGER", "INTEGER", "INTEGER")
    assert _column_types(db, "zones")["parent_id"] == "INTEGER"
    parcels = _column_types(db, "parcels")
    assert (parcels["supply_year"], parcels["contract_date"]) == ("INTEGER", "DATE")
    assert db.execute("SELECT valid_from, name FROM parks ORDER BY park_id").fetchall()[0] == ("2015-01-01", "测试西园")
    descriptions = dict(db.execute("SELECT table_name, description FROM gpkg_contents"))
    assert set(descriptions) == {"parks", "zones", "parcels"}
    assert "园区" in descriptions["parks"] and "合成" in descriptions["parcels"]


def test_gpkg_download_empty_layer_keeps_geometry_type_and_crs(client: TestClient, tmp_path: Path) -> None:
    # a bbox far from every parcel: the parcels layer is empty but still a 4326 polygon layer
    db = _download(client, tmp_path, "layers=parcels&bbox=100,20,100.1,20.1")
    assert db.execute("SELECT COUNT(*) FROM parcels").fetchone()[0] == 0
    geometry = db.execute("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name='parcels'").fetchone()
    assert geometry == ("MULTIPOLYGON", 4326)
    assert db.execute("SELECT data_type, srs_id FROM gpkg_contents WHERE table_name='parcels'").fetchone() == ("features", 4326)
