"""QGIS as a client: every OGC collection (OAPIF provider), the vector tiles and the GeoPackage
download load in PyQGIS, with the Chinese text intact, and a downloaded layer renders.

PyQGIS is Debian's (``python3-qgis``, installed by ``scripts/bootstrap.sh``) and runs under the
system ``/usr/bin/python3``, not the project's virtualenv: the probe below runs there in a
subprocess (Qt's offscreen platform, no display) against the service on a free port and prints
its findings as JSON, on which this test asserts.

The server pages at most 10 features (``max_limit=10``; QGIS 3.22 asks for 10 to learn the
fields): QGIS gets the features only if it found that maximum in the OpenAPI document
(``components.parameters.limit``); otherwise it asks for 100 per request and is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from gis_service.testing import running_service
from tests.api.sample_data import WEST_BOX, load_web_sample

SYSTEM_PYTHON = "/usr/bin/python3"
COLLECTIONS = ["parks", "zones", "towns", "roads", "parcels"]
GPKG_LAYERS = ["district", "towns", "zones", "parks", "roads", "parcels"]


def _has_pyqgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).returncode == 0


@pytest.fixture(scope="module", autouse=True)
def _pyqgis() -> None:
    """The test bootstrap installs Debian's PyQGIS: without it this check fails, never skips."""
    if not _has_pyqgis():
        pytest.fail("Debian python3-qgis is not importable by /usr/bin/python3: run scripts/bootstrap.sh --extras test")

#: runs under /usr/bin/python3 with PyQGIS: argv = base URL, GeoPackage path, image path
PROBE = r'''
import faulthandler, json, sys
faulthandler.enable()
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsRectangle, QgsVectorLayer, QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

base, gpkg, image_path = sys.argv[1:4]
collections, gpkg_layers = json.loads(sys.argv[4]), json.loads(sys.argv[5])  # [[file, layer], ...]
app = QgsApplication([], False)
app.initQgis()
out = {"collections": {}, "gpkg": {}}

def names(layer, field):
    return sorted(f[field] for f in layer.getFeatures()) if layer.fields().indexOf(field) >= 0 else None

for name in collections:
    layer = QgsVectorLayer(f"url='{base}/ogc' typename='{name}'", name, "OAPIF")
    features = list(layer.getFeatures()) if layer.isValid() else []
    out["collections"][name] = {"valid": layer.isValid(), "features": len(features),
                                "feature_count": layer.featureCount() if layer.isValid() else None,
                                "names": names(layer, "name") if layer.isValid() else None}

tiles = QgsVectorTileLayer(f"type=xyz&url={base}/tiles/parks/{{z}}/{{x}}/{{y}}.mvt&zmin=0&zmax=14", "parks tiles")
out["tiles"] = {"valid": tiles.isValid()}

def render(layer, extent):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    settings.setExtent(extent)
    settings.setOutputSize(QSize(200, 200))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    white = QColor(255, 255, 255).rgb()
    return sum(1 for x in range(0, 200, 2) for y in range(0, 200, 2) if image.pixel(x, y) != white), image

for path, name in gpkg_layers:
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    fields = {f.name(): f.typeName() for f in layer.fields()}
    out["gpkg"][f"{path}|{name}"] = {"valid": layer.isValid(), "crs": layer.crs().authid(), "fields": fields,
                         "geometry_type": layer.wkbType(), "features": layer.featureCount(),
                         "names": names(layer, "name")}

parks = QgsVectorLayer(f"{gpkg}|layername=parks", "parks", "ogr")
painted, image = render(parks, parks.extent())
image.save(image_path)
out["gpkg_render_painted"] = painted
tile_extent = QgsRectangle(*json.loads(sys.argv[6]))
out["tiles"]["painted"] = render(tiles, tile_extent)[0] if tiles.isValid() else 0
print("PROBE" + json.dumps(out, ensure_ascii=False), flush=True)
del tiles, parks, layer  # before exitQgis: layers outliving their providers crash at exit
app.exitQgis()
'''


def _probe(base: str, gpkg: Path, gpkg_layers: list[tuple[str, str]], image: Path,
           tile_extent: tuple[float, ...]) -> dict:  # type: ignore[type-arg]
    script = gpkg.parent / "probe.py"
    script.write_text(PROBE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(gpkg.parent), no_proxy="127.0.0.1,localhost")
    done = subprocess.run([SYSTEM_PYTHON, str(script), base, str(gpkg), str(image), json.dumps(COLLECTIONS),
                           json.dumps(gpkg_layers), json.dumps(tile_extent)],
                          capture_output=True, text=True, env=env, timeout=600)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("PROBE")), None)
    assert done.returncode == 0 and line, f"PyQGIS probe failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return json.loads(line[len("PROBE"):])  # type: ignore[no-any-return]


def test_qgis_loads_collections_tiles_and_gpkg_download(db_url, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load_web_sample(engine)
    with running_service(db_url, default_limit=1, max_limit=10, quiet=True) as base:
        matched = {name: httpx.get(f"{base}/ogc/collections/{name}/items?limit=1").json()["numberMatched"]
                   for name in COLLECTIONS}
        api_parks = httpx.get(f"{base}/ogc/collections/parks/items?limit=2").json()
        gpkg = tmp_path / "layers.gpkg"
        gpkg.write_bytes(httpx.get(f"{base}/downloads/layers.gpkg?layers={','.join(GPKG_LAYERS)}", timeout=60).content)
        # a box far from every parcel: an empty parcels layer
        empty = tmp_path / "empty.gpkg"
        empty.write_bytes(httpx.get(f"{base}/downloads/layers.gpkg?layers=parcels&bbox=100,20,100.1,20.1", timeout=60).content)
        wanted = [(str(gpkg), name) for name in GPKG_LAYERS] + [(str(empty), "parcels")]
        result = _probe(base, gpkg, wanted, tmp_path / "parks.png", WEST_BOX)

    for name in COLLECTIONS:
        layer = result["collections"][name]
        assert layer["valid"], (name, layer)
        assert layer["features"] == matched[name] == layer["feature_count"], (name, layer, matched[name])
    assert result["collections"]["parks"]["names"] == ["测试东园", "测试无数据园", "测试西园"]
    assert {f["properties"]["name"] for f in api_parks["features"]} <= set(result["collections"]["parks"]["names"])
    assert result["collections"]["towns"]["names"] == ["乙街道", "甲镇"]

    assert result["tiles"]["valid"] and result["tiles"]["painted"] > 0

    for key, layer in result["gpkg"].items():
        assert layer["valid"] and layer["crs"] == "EPSG:4326", (key, layer)
        assert layer["geometry_type"] != 100, (key, "no geometry")  # QgsWkbTypes.NoGeometry
    assert len(result["gpkg"]) == len(wanted)
    assert result["gpkg"][f"{empty}|parcels"]["features"] == 0
    parks = result["gpkg"][f"{gpkg}|parks"]
    assert parks["names"] == ["测试东园", "测试无数据园", "测试西园"]
    assert (parks["fields"]["valid_from"], parks["fields"]["valid_to"]) == ("Date", "Date")
    assert parks["fields"]["parent_id"].startswith("Integer"), parks["fields"]
    assert result["gpkg_render_painted"] > 0
