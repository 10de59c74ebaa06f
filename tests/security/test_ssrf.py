"""Uploads make the server fetch nothing (issue 15, item 1).

A loopback TCP listener (the canary) records every connection.  Files naming the canary's
URL -- a GeoJSON ``crs`` link, a GML document with a WFS ``schemaLocation`` uploaded as
``.geojson``, a KML carrying GML, a ``/vsicurl/`` path -- go through the real HTTP import
routes, the Python readers, the land importer and the 四至 CLI: each is refused with a
message naming the file and the problem, and the canary receives no connection.
"""

from __future__ import annotations

import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gis_service.api.app import create_app
from gis_service.api.config import ApiSettings
from gis_service.cli import main
from gis_service.ingest import ImportLimits
from gis_service.ingest.errors import CrsError, UnreadableFileError
from gis_service.ingest.gdal_safety import gdal_source
from gis_service.ingest.land.files import open_land_file
from gis_service.ingest.sources import POLYGONS, read_features
from gis_service.ingest.vector import ReadOptions, open_vector
from gis_service.settings import Settings
from tests.api.writes_support import auth, make_keys

SQUARE = [[[121.2, 31.0], [121.201, 31.0], [121.201, 31.001], [121.2, 31.001], [121.2, 31.0]]]


class Canary:
    """A loopback listener that records every connection made to it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self.server.close()
        self._thread.join(timeout=5)


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Canary]:
    for name in ("NO_PROXY", "no_proxy"):  # libcurl would bypass the closed proxy for listed hosts
        monkeypatch.delenv(name, raising=False)
    listener = Canary()
    yield listener
    listener.close()


def link_crs_geojson(url: str, code: str = "test-west") -> bytes:
    return json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}},
        "features": [{"type": "Feature", "properties": {"code": code, "BSM": "1"},
                      "geometry": {"type": "Polygon", "coordinates": SQUARE}}],
    }).encode()


def wfs_gml(url: str) -> bytes:
    """GML that GDAL's GML driver reads, fetching its WFS schema from ``url`` (as it did for a .geojson)."""
    schema = f"{url}/wfs?SERVICE=WFS&amp;VERSION=1.1.0&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=ogr:a"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:ogr="http://ogr.maptools.org/"
  xmlns:gml="http://www.opengis.net/gml" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://ogr.maptools.org/ {schema}">
<gml:featureMember><ogr:a fid="a.0"><ogr:geometryProperty><gml:Polygon srsName="EPSG:4326"><gml:outerBoundaryIs>
<gml:LinearRing><gml:coordinates>121.2,31.0 121.201,31.0 121.201,31.001 121.2,31.0</gml:coordinates>
</gml:LinearRing></gml:outerBoundaryIs></gml:Polygon></ogr:geometryProperty><ogr:code>test-west</ogr:code>
<ogr:BSM>1</ogr:BSM></ogr:a></gml:featureMember>
</wfs:FeatureCollection>""".encode()


# ----------------------------------------------------------------------------- HTTP routes
@pytest.fixture
def admin(db_url: str, sample: dict[str, int], engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    keys = make_keys(engine)
    app = create_app(Settings(database_url=db_url), ApiSettings(_env_file=None), ImportLimits())  # type: ignore[call-arg]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, auth(keys["admin"])


@pytest.fixture
def sample(engine: Engine) -> dict[str, int]:
    from tests.api.sample_data import load_web_sample

    return load_web_sample(engine)


def test_boundary_upload_with_a_link_crs_is_refused_without_fetching(admin, canary: Canary) -> None:  # type: ignore[no-untyped-def]
    client, headers = admin
    params = {"filename": "west.geojson", "valid_from": "2024-01-01", "source_document": "批复.pdf"}
    r = client.post("/imports/boundaries", params=params, content=link_crs_geojson(canary.url), headers=headers)
    assert r.status_code == 422, r.text
    assert "west.geojson: the 'crs' member at byte" in r.json()["description"]
    assert "is a link" in r.json()["description"]
    assert canary.connections == []


def test_gml_uploaded_as_geojson_is_refused_without_fetching(admin, canary: Canary) -> None:  # type: ignore[no-untyped-def]
    client, headers = admin
    for route, params in (
        ("/imports/layers/zones", {"filename": "zones.geojson"}),
        ("/imports/boundaries", {"filename": "west.geojson", "valid_from": "2024-01-01", "source_document": "批复.pdf"}),
        ("/imports/supply", {"filename": "supply.geojson", "source_document": "供地.pdf"}),
    ):
        r = client.post(route, params=params, content=wfs_gml(canary.url), headers=headers)
        assert r.status_code == 422, (route, r.text)
        assert f"{params['filename']}: not GeoJSON (it starts with '<'" in r.json()["description"], route
    assert canary.connections == []


def test_land_upload_with_a_link_crs_is_refused_without_fetching(admin, canary: Canary) -> None:  # type: ignore[no-untyped-def]
    client, headers = admin
    r = client.post("/imports/supply", params={"filename": "supply.geojson", "source_document": "供地.pdf"},
                    content=link_crs_geojson(canary.url), headers=headers)
    assert r.status_code == 422, r.text
    assert "supply.geojson: the 'crs' member at byte" in r.json()["description"]
    assert canary.connections == []


# ----------------------------------------------------------------------------- Python readers and CLI
def test_readers_refuse_disguised_and_linking_files(tmp_path: Path, canary: Canary) -> None:
    (tmp_path / "link.geojson").write_bytes(link_crs_geojson(canary.url))
    (tmp_path / "gml.geojson").write_bytes(wfs_gml(canary.url))
    (tmp_path / "gml.json").write_bytes(wfs_gml(canary.url))
    with pytest.raises(CrsError, match=r"link\.geojson: the 'crs' member at byte \d+ is a link"):
        read_features(tmp_path / "link.geojson", geometry_types=POLYGONS, required=("code",))
    for name in ("gml.geojson", "gml.json"):
        with pytest.raises(UnreadableFileError, match=rf"{name}: not GeoJSON \(it starts with '<'"):
            open_vector(tmp_path / name, ReadOptions())
        with pytest.raises(UnreadableFileError, match=rf"{name}: not GeoJSON"):
            with open_land_file(tmp_path / name):
                pass
    assert canary.connections == []


def test_kml_and_shapefile_holding_other_formats_are_refused(tmp_path: Path, canary: Canary) -> None:
    gml = wfs_gml(canary.url)
    kml = gml.replace(b"<wfs:FeatureCollection", b'<kml xmlns="http://www.opengis.net/kml/2.2"', 1)
    (tmp_path / "disguised.kml").write_bytes(kml.replace(b"</wfs:FeatureCollection>", b"</kml>"))
    with pytest.raises(UnreadableFileError, match=r"disguised\.kml: a KML document containing 'opengis.net/(gml|wfs)'"):
        open_vector(tmp_path / "disguised.kml", ReadOptions())
    (tmp_path / "gml.kml").write_bytes(gml)
    with pytest.raises(UnreadableFileError, match=r"gml\.kml: not KML \(the document's root element is not <kml>\)"):
        open_vector(tmp_path / "gml.kml", ReadOptions())
    with zipfile.ZipFile(tmp_path / "blocks.zip", "w") as archive:
        for suffix in (".shp", ".shx", ".dbf"):
            archive.writestr(f"blocks{suffix}", gml)
    with pytest.raises(UnreadableFileError, match=r"blocks\.zip!blocks\.shp: not a Shapefile"):
        open_vector(tmp_path / "blocks.zip", ReadOptions())
    with pytest.raises(UnreadableFileError, match=r"blocks\.zip!blocks\.shp: not a Shapefile"):
        with open_land_file(tmp_path / "blocks.zip"):
            pass
    assert canary.connections == []


def test_remote_and_virtual_paths_are_refused(canary: Canary) -> None:
    for text in (f"/vsicurl/{canary.url}/a.geojson", f"{canary.url}/a.geojson", "WFS:x.geojson", "/vsizip/a.zip/b.shp"):
        with pytest.raises(UnreadableFileError, match="is not a local file"):
            gdal_source(Path(text), "a.geojson")
    assert canary.connections == []


def test_sizhi_cli_refuses_a_disguised_roads_file(tmp_path: Path, canary: Canary, capsys: pytest.CaptureFixture[str]) -> None:
    roads = tmp_path / "roads.geojson"
    roads.write_bytes(wfs_gml(canary.url))
    with pytest.raises(SystemExit) as info:
        main(["sizhi", "build", "东至经三路,南至纬二路,西至经二路,北至纬四路", "--roads", str(roads)])
    assert info.value.code == 2
    assert "roads.geojson" in capsys.readouterr().err
    assert canary.connections == []


# ----------------------------------------------------------------------------- GDAL itself
def test_gdal_is_offline_even_past_the_checks(tmp_path: Path, canary: Canary) -> None:
    """The second line: GDAL opened directly (no check) on files naming the canary fetches nothing."""
    import gis_service.ingest.gdal_safety  # noqa: F401  (imported by every reader: GDAL is offline from then on)

    (tmp_path / "link.geojson").write_bytes(link_crs_geojson(canary.url))
    (tmp_path / "wfs.gml").write_bytes(wfs_gml(canary.url))
    for name in ("link.geojson", "wfs.gml"):
        try:
            pyogrio.read_dataframe(tmp_path / name)
        except Exception:  # noqa: BLE001 - reading may fail offline; only the network matters here
            pass
    assert canary.connections == []
