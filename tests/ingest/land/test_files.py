"""Opening and streaming land files as offices have them (gis_service.ingest.land.files).

Every file here is written with pyogrio/GeoPandas: DLTB-like patches (squares of ~100 m
around lon 121.2, lat 31.0 in Songjiang) with the survey's field names.
"""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion

from gis_service.coords.gcj02 import gcj02_to_wgs84
from gis_service.errors import PayloadTooLargeError
from gis_service.ingest.errors import (
    CrsError,
    GeometryTypeError,
    InvalidGeometryError,
    OutsideExtentError,
    SwappedAxesError,
    UnknownReferenceError,
    UnreadableFileError,
)
from gis_service.ingest.land.files import (
    LandChunk,
    LandFile,
    LandFileOptions,
    first_non_utf8_record,
    open_land_file,
    read_chunks,
)
from gis_service.ingest.limits import ImportLimits

DLMC = ["工业用地", "水田", "城镇住宅用地"]
pytestmark = pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")


def dltb(n: int = 3, crs: int | None = 4490) -> gpd.GeoDataFrame:
    """``n`` DLTB-like patches in EPSG:4490 (lon/lat), ~100 m squares in Songjiang."""
    lon = 121.2 + 0.002 * (np.arange(n) % 100)
    lat = 31.0 + 0.002 * (np.arange(n) // 100 % 100)
    return gpd.GeoDataFrame(
        {
            "BSM": [f"31011700{i:05d}" for i in range(n)],
            "DLBM": ["0601", "0101", "0701"] * (n // 3) + ["0601", "0101"][: n % 3],
            "DLMC": (DLMC * (n // 3 + 1))[:n],
            "QSDWMC": ["新桥镇新桥村民委员会"] * n,
            "ZLDWMC": ["新桥村"] * n,
            "TBMJ": np.round(np.full(n, 10_000.0) + np.arange(n), 2),
        },
        geometry=shapely.box(lon, lat, lon + 0.001, lat + 0.001),
        crs=crs,
    )


def projected(frame: gpd.GeoDataFrame, epsg: int) -> gpd.GeoDataFrame:
    """``frame`` with its coordinates projected to ``epsg`` and no CRS."""
    project = Transformer.from_crs(4490, epsg, always_xy=True)
    geoms = shapely.transform(
        np.asarray(frame.geometry.values), lambda xy: np.column_stack(project.transform(xy[:, 0], xy[:, 1]))
    )
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=None)


def write_shapefile(
    frame: gpd.GeoDataFrame,
    folder: Path,
    *,
    encoding: str = "UTF-8",
    cpg: str | None = "keep",
    prj_epsg: int | None = None,
) -> Path:
    """``DLTB.shp`` in ``folder``; ``cpg=None`` deletes the .cpg, a string replaces it;
    ``prj_epsg`` writes an ArcGIS-style (ESRI WKT) .prj."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "DLTB.shp"
    frame.to_file(path, engine="pyogrio", encoding=encoding)
    if cpg is None:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    elif cpg != "keep":
        path.with_suffix(".cpg").write_text(cpg)
    if prj_epsg is not None:
        path.with_suffix(".prj").write_text(CRS.from_epsg(prj_epsg).to_wkt(WktVersion.WKT1_ESRI))
    return path


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return target


def read_all(path: Path, options: LandFileOptions | None = None) -> tuple[LandFile, list[LandChunk]]:
    with open_land_file(path, options) as land:
        return land, list(read_chunks(land, options))


def close_to(actual: gpd.GeoSeries, expected: gpd.GeoSeries, tolerance: float = 1e-6) -> bool:
    distance = shapely.hausdorff_distance(np.asarray(actual.values), np.asarray(expected.values))
    return bool((distance < tolerance).all())


# ----------------------------------------------------------------------------- encodings
def test_gbk_shapefile_without_cpg_in_a_zip_is_read_as_gb18030(tmp_path: Path) -> None:
    write_shapefile(dltb(), tmp_path / "src", encoding="GBK", cpg=None)
    assert not (tmp_path / "src" / "DLTB.cpg").exists()
    land, chunks = read_all(zip_folder(tmp_path / "src", tmp_path / "dltb.zip"))
    assert (land.label, land.layer, land.driver) == ("dltb.zip!DLTB.shp", "DLTB", "ESRI Shapefile")
    assert land.encoding == "GB18030"
    assert land.encoding_evidence == "not valid UTF-8: read as GB18030"
    frame = chunks[0].frame
    assert frame["DLMC"].tolist() == DLMC
    assert frame["QSDWMC"].iloc[0] == "新桥镇新桥村民委员会"
    assert land.fields == ("BSM", "DLBM", "DLMC", "QSDWMC", "ZLDWMC", "TBMJ")
    assert land.id_field == "BSM"


def test_gbk_shapefile_with_cpg(tmp_path: Path) -> None:
    path = write_shapefile(dltb(), tmp_path, encoding="GBK", cpg="GBK")
    land, chunks = read_all(path)
    assert (land.encoding, land.encoding_evidence) == ("GB18030", ".cpg says GBK")
    assert chunks[0].frame["DLMC"].tolist() == DLMC


def test_utf8_shapefile_without_cpg_is_detected(tmp_path: Path) -> None:
    path = write_shapefile(dltb(), tmp_path, encoding="UTF-8", cpg=None)
    land, chunks = read_all(path)
    assert (land.encoding, land.encoding_evidence) == ("UTF-8", "valid UTF-8")
    assert chunks[0].frame["DLMC"].tolist() == DLMC


def test_encoding_given_overrides_and_a_wrong_utf8_cpg_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(dltb(), tmp_path, encoding="GBK", cpg=None)
    land, chunks = read_all(path, LandFileOptions(encoding="GBK"))
    assert (land.encoding, land.encoding_evidence) == ("GBK", "--encoding GBK")
    assert chunks[0].frame["DLMC"].tolist() == DLMC
    path.with_suffix(".cpg").write_text("UTF-8")
    with pytest.raises(
        UnreadableFileError, match=r"DLTB\.shp: the \.cpg says UTF-8 but record 0 of the \.dbf is not valid UTF-8"
    ):
        read_all(path)


def test_gbk_field_names_and_the_supply_record_id(tmp_path: Path) -> None:
    records = dltb().drop(columns="BSM").rename(columns={"QSDWMC": "电子监管号"})
    records["电子监管号"] = ["3101172020B00012", "3101172020B00013", "3101172021B00001"]
    path = write_shapefile(records, tmp_path, encoding="GBK", cpg=None)
    assert first_non_utf8_record(path.with_suffix(".dbf")) == -1  # the field names already are GBK
    land, chunks = read_all(path)
    assert land.encoding == "GB18030" and "电子监管号" in land.fields
    assert land.id_field == "电子监管号"
    assert chunks[0].frame["电子监管号"].tolist() == records["电子监管号"].tolist()


def test_dbf_scan(tmp_path: Path) -> None:
    ascii_only = dltb(5).assign(DLMC="industrial", QSDWMC="x", ZLDWMC="y")
    assert first_non_utf8_record(write_shapefile(ascii_only, tmp_path / "a", cpg=None).with_suffix(".dbf")) is None
    mixed = dltb(5).assign(DLMC=["a", "b", "c", "工业用地", "e"])
    dbf = write_shapefile(mixed.assign(QSDWMC="q", ZLDWMC="z"), tmp_path / "b", encoding="GBK", cpg=None).with_suffix(
        ".dbf"
    )
    assert first_non_utf8_record(dbf) == 3


# ----------------------------------------------------------------------------- CRS
def test_epsg_4528_with_an_esri_prj(tmp_path: Path) -> None:
    original = dltb()
    path = write_shapefile(projected(original, 4528), tmp_path, prj_epsg=4528)
    assert "CGCS2000_3_Degree_GK_Zone_40" in path.with_suffix(".prj").read_text()
    land, chunks = read_all(path)
    assert (land.crs, land.crs_evidence) == ("EPSG:4528", "declared by the file (.prj)")
    frame = chunks[0].frame
    assert frame.crs.to_epsg() == 4326
    assert close_to(frame.geometry, original.geometry)
    assert set(frame.geometry.geom_type) == {"MultiPolygon"}


def test_epsg_4549_with_an_esri_prj(tmp_path: Path) -> None:
    original = dltb()
    path = write_shapefile(projected(original, 4549), tmp_path, prj_epsg=4549)
    land, chunks = read_all(path)
    assert land.crs == "EPSG:4549"
    assert close_to(chunks[0].frame.geometry, original.geometry)


def test_zone_prefixed_coordinates_under_a_4549_prj_are_refused_naming_4528(tmp_path: Path) -> None:
    path = write_shapefile(projected(dltb(), 4528), tmp_path, prj_epsg=4549)
    with open_land_file(path) as land, pytest.raises(OutsideExtentError) as caught:
        list(read_chunks(land))
    message = str(caught.value)
    assert message.startswith("DLTB.shp: feature 0 (BSM 3101170000000): coordinates (bbox 40")
    assert "outside Songjiang in EPSG:4549" in message
    assert "they fall in Songjiang as EPSG:4528 (CGCS2000 3-degree GK zone 40, with the zone prefix)" in message
    assert message.endswith("declare or fix the .prj")


def test_swapped_lon_lat_are_refused(tmp_path: Path) -> None:
    frame = dltb()
    swapped = frame.set_geometry(shapely.transform(np.asarray(frame.geometry.values), lambda xy: xy[:, ::-1]))
    path = write_shapefile(swapped, tmp_path)
    with (
        open_land_file(path) as land,
        pytest.raises(SwappedAxesError, match=r"feature 0 \(BSM 3101170000000\).*swapped axes"),
    ):
        list(read_chunks(land))


def test_4549_metres_declared_as_lon_lat_name_the_right_crs(tmp_path: Path) -> None:
    path = write_shapefile(projected(dltb(), 4549).set_crs(4490), tmp_path)
    with open_land_file(path) as land, pytest.raises(OutsideExtentError, match=r"fall in Songjiang as EPSG:4549 \("):
        list(read_chunks(land))


def test_no_crs_needs_one_given_and_a_conflict_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(projected(dltb(), 4549), tmp_path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CrsError, match=r"DLTB\.shp: the file declares no CRS \(no \.prj\)"):
        read_all(path)
    land, chunks = read_all(path, LandFileOptions(crs="EPSG:4549"))
    assert (land.crs, land.crs_evidence) == ("EPSG:4549", "given with --crs")
    assert close_to(chunks[0].frame.geometry, dltb().geometry)
    path.with_suffix(".prj").write_text(CRS.from_epsg(4549).to_wkt(WktVersion.WKT1_ESRI))
    with pytest.raises(
        CrsError, match=r"declares EPSG:4549 \(declared by the file \(\.prj\)\) but EPSG:4528 was given"
    ):
        read_all(path, LandFileOptions(crs="EPSG:4528"))


def test_other_crs_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_shapefile(dltb().to_crs(2385), tmp_path / "xian80")  # Xian 1980 / 3-degree GK CM 120E
    with pytest.raises(CrsError, match=r"the file declares EPSG:2385 \(Xian 1980 / 3-degree Gauss-Kruger CM 120E\)"):
        read_all(path)
    local = "+proj=tmerc +lat_0=31.23 +lon_0=121.46 +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m"  # a city plane system
    path = write_shapefile(dltb().to_crs(local), tmp_path / "local")
    with pytest.raises(
        CrsError, match="no EPSG code; Shanghai's local 上海2000 plane system is not in the EPSG registry"
    ):
        read_all(path)


def test_geojson_without_crs_member_takes_the_given_crs(tmp_path: Path) -> None:
    path = tmp_path / "metres.geojson"
    path.write_text(projected(dltb(), 4549).to_json())
    assert '"crs"' not in path.read_text()
    with pytest.raises(OutsideExtentError, match=r"fall in Songjiang as EPSG:4549 .*: declare or fix the file's CRS"):
        read_all(path)
    land, chunks = read_all(path, LandFileOptions(crs="EPSG:4549"))
    assert (land.crs, land.crs_evidence) == ("EPSG:4549", "given with --crs (the GeoJSON has no 'crs' member)")
    assert close_to(chunks[0].frame.geometry, dltb().geometry)


def test_gcj02_declared_is_converted_with_the_project_converter(tmp_path: Path) -> None:
    path = tmp_path / "amap.geojson"
    square = shapely.box(121.2, 31.0, 121.201, 31.001)
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"BSM": "1"}, "geometry": shapely.geometry.mapping(square)}],
    }
    path.write_text(json.dumps(doc))
    land, chunks = read_all(path, LandFileOptions(crs="gcj02"))
    assert (land.crs, land.crs_evidence) == ("GCJ-02", "given with --crs gcj02")
    got = chunks[0].frame.geometry.iloc[0]
    expected = gcj02_to_wgs84(shapely.Point(121.2, 31.0))
    vertices = shapely.get_coordinates(got)
    assert np.hypot(*(vertices - [expected.x, expected.y]).T).min() < 1e-9
    assert np.hypot(*(vertices - [121.2, 31.0]).T).min() > 0.003  # the shift near Songjiang is ~500 m
    metres = write_shapefile(projected(dltb(), 4549), tmp_path / "m", prj_epsg=4549)
    with pytest.raises(CrsError, match="GCJ-02 data must be longitude/latitude"):
        read_all(metres, LandFileOptions(crs="gcj02"))


# ----------------------------------------------------------------------------- containers
def write_gdb(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gdb = folder / "survey.gdb"
    for name, frame in layers.items():
        frame.to_file(gdb, layer=name, driver="OpenFileGDB", engine="pyogrio")
    return gdb


def test_zipped_file_geodatabase_picks_dltb(tmp_path: Path) -> None:
    write_gdb(tmp_path / "src", {"XZQ": dltb(1), "DLTB": dltb(6)})
    path = zip_folder(tmp_path / "src", tmp_path / "survey.gdb.zip")
    land, chunks = read_all(path)
    assert (land.layer, land.driver, land.label) == ("DLTB", "OpenFileGDB", "survey.gdb.zip!survey.gdb layer DLTB")
    assert land.feature_count == 6 and len(chunks[0].frame) == 6
    assert chunks[0].frame["DLMC"].tolist() == DLMC * 2
    assert close_to(chunks[0].frame.geometry, dltb(6).geometry)
    land, _ = read_all(path, LandFileOptions(layer="xzq"))
    assert land.layer == "XZQ"


def test_two_polygon_layers_without_dltb_are_refused_listing_them(tmp_path: Path) -> None:
    write_gdb(tmp_path / "src", {"XZQ": dltb(1), "TDLYXZ": dltb(2)})
    path = zip_folder(tmp_path / "src", tmp_path / "survey.gdb.zip")
    with pytest.raises(UnreadableFileError, match=r"2 layers .* none named DLTB: (XZQ|TDLYXZ) \(MultiPolygon\), "):
        read_all(path)
    with pytest.raises(UnreadableFileError, match=r"no layer is named 'ZD'"):
        read_all(path, LandFileOptions(layer="ZD"))


def test_file_geodatabase_objectid_names_features(tmp_path: Path) -> None:
    frame = dltb(3).drop(columns="BSM")
    frame.loc[2, "geometry"] = shapely.box(116.39, 39.9, 116.4, 39.91)  # Beijing
    gdb = write_gdb(tmp_path, {"DLTB": frame})
    with pytest.raises(
        OutsideExtentError, match=r"survey\.gdb layer DLTB: feature 2 \(OBJECTID 3\): coordinates \(bbox 116\.39, "
    ):
        read_all(gdb)
    with open_land_file(gdb) as land:
        assert land.id_field == "OBJECTID"
    with pytest.raises(UnknownReferenceError, match="no field 'ZDDM'"):
        read_all(gdb, LandFileOptions(id_field="ZDDM"))


@pytest.mark.parametrize(("name", "driver"), [("dltb.gpkg", "GPKG"), ("dltb.geojson", "GeoJSON"), ("dltb.kml", "KML")])
def test_geopackage_geojson_and_kml(tmp_path: Path, name: str, driver: str) -> None:
    original = dltb(4)
    path = tmp_path / name
    original.to_file(path, driver=driver, engine="pyogrio", **({"layer": "DLTB"} if driver == "GPKG" else {}))
    land, chunks = read_all(path)
    assert land.driver in ((driver,) if driver != "KML" else ("KML", "LIBKML"))
    assert land.encoding == "UTF-8" and land.encoding_evidence == "not a DBF (driver stores UTF-8)"
    assert land.crs in ("EPSG:4490", "EPSG:4326")
    frame = chunks[0].frame
    assert frame["DLMC"].tolist() == (DLMC * 2)[:4]
    assert frame["BSM"].tolist() == original["BSM"].tolist()
    assert close_to(frame.geometry, original.geometry)


# ----------------------------------------------------------------------------- streaming
def test_chunks_of_250k_features(tmp_path: Path) -> None:
    n = 250_000
    lon = 121.0 + 0.0008 * (np.arange(n) % 500)
    lat = 30.9 + 0.0004 * (np.arange(n) // 500)
    frame = gpd.GeoDataFrame(
        {"BSM": np.arange(n).astype(str)}, geometry=shapely.box(lon, lat, lon + 0.0005, lat + 0.0003), crs=4490
    )
    path = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(frame, path, layer="DLTB")
    with open_land_file(path, LandFileOptions(limits=ImportLimits(max_features=10))) as land:
        assert land.feature_count == n
        chunks = [(c.start, len(c.frame), c.frame.index[0], c.frame["BSM"].iloc[0]) for c in read_chunks(land)]
    assert chunks == [(0, 100_000, 0, "0"), (100_000, 100_000, 100_000, "100000"), (200_000, 50_000, 200_000, "200000")]


def test_feature_limit_of_land_files(tmp_path: Path) -> None:
    path = write_shapefile(dltb(), tmp_path)
    with pytest.raises(PayloadTooLargeError, match="3 features, the limit for land files is 2"):
        read_all(path, LandFileOptions(limits=ImportLimits(max_land_features=2)))


def test_reading_after_the_block_is_refused(tmp_path: Path) -> None:
    write_shapefile(dltb(), tmp_path / "src")
    with open_land_file(zip_folder(tmp_path / "src", tmp_path / "dltb.zip")) as land:
        pass
    with pytest.raises(UnreadableFileError, match="the file is closed"):
        list(read_chunks(land))


# ----------------------------------------------------------------------------- geometry
def test_bow_tie_is_refused_or_repaired(tmp_path: Path) -> None:
    frame = dltb()
    x, y = 121.202, 31.0
    frame.loc[1, "geometry"] = shapely.Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001), (x, y)])
    path = tmp_path / "dltb.gpkg"
    frame.to_file(path, engine="pyogrio", layer="DLTB")
    with pytest.raises(
        InvalidGeometryError,
        match=r"dltb\.gpkg layer DLTB: feature 1 \(BSM 3101170000001\): geometry is not valid \(Self-intersection",
    ):
        read_all(path)
    _, chunks = read_all(path, LandFileOptions(repair=True))
    assert chunks[0].repaired.tolist() == [False, True, False]
    fixed = chunks[0].frame.geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon" and len(fixed.geoms) == 2


def test_line_layer_is_refused(tmp_path: Path) -> None:
    lines = gpd.GeoDataFrame({"BSM": ["1"]}, geometry=[shapely.LineString([(121.2, 31.0), (121.21, 31.01)])], crs=4490)
    path = tmp_path / "roads.gpkg"
    lines.to_file(path, engine="pyogrio", layer="XZ")
    with pytest.raises(GeometryTypeError, match=r"roads\.gpkg layer XZ: the layer holds LineString"):
        read_all(path)


def test_a_line_among_polygons_is_refused_naming_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"BSM": "a"},
            "geometry": shapely.geometry.mapping(shapely.box(121.2, 31.0, 121.201, 31.001)),
        },
        {"type": "Feature", "properties": {"BSM": "b"}, "geometry": None},
        {
            "type": "Feature",
            "properties": {"BSM": "c"},
            "geometry": {"type": "LineString", "coordinates": [[121.2, 31.0], [121.3, 31.1]]},
        },
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InvalidGeometryError, match=r"mixed\.geojson: feature 1 \(BSM b\): geometry is missing"):
        read_all(path)
    features[1]["geometry"] = features[0]["geometry"]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(GeometryTypeError, match=r"feature 2 \(BSM c\): geometry type LineString"):
        read_all(path)


# ----------------------------------------------------------------------------- no network
@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server serving a WGS 84 WKT, and the paths it was asked for."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server calls it by this name
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(CRS.from_epsg(4326).to_wkt().encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/crs.wkt", requests
    server.shutdown()
    server.server_close()


def geojson_with_crs(path: Path, crs: dict[str, object]) -> Path:
    square = shapely.geometry.mapping(shapely.box(121.2, 31.0, 121.201, 31.001))
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": crs,
                "features": [{"type": "Feature", "properties": {"BSM": "1"}, "geometry": square}],
            }
        )
    )
    return path


def test_linked_crs_is_refused_without_network(tmp_path: Path, http_server: tuple[str, list[str]]) -> None:
    url, requests = http_server
    path = geojson_with_crs(tmp_path / "link.geojson", {"type": "link", "properties": {"href": url, "type": "ogcwkt"}})
    with pytest.raises(CrsError, match=r"link\.geojson: the 'crs' member at byte \d+ is a link"):
        read_all(path)
    path = geojson_with_crs(tmp_path / "url.geojson", {"type": "name", "properties": {"name": url}})
    with pytest.raises(CrsError, match="is not an EPSG/OGC URN"):
        read_all(path)
    square = json.dumps(shapely.geometry.mapping(shapely.box(121.2, 31.0, 121.201, 31.001)))
    tail = (  # after the features, with an escaped key: GDAL still reads it
        f'{{"type": "FeatureCollection", "features": [{{"type": "Feature", "properties": {{}}, '
        f'"geometry": {square}}}], '
        f'"\\u0063RS": {{"type": "LINK", "properties": {{"href": "{url}"}}}}}}'
    )
    (tmp_path / "tail.geojson").write_text(tail)
    assert json.loads(tail)["cRS"]["type"] == "LINK"
    with pytest.raises(CrsError, match="is a link"):
        read_all(tmp_path / "tail.geojson")
    assert requests == []


def test_gdal_http_is_off_while_reading(
    tmp_path: Path, http_server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    url, requests = http_server
    path = geojson_with_crs(tmp_path / "link.geojson", {"type": "link", "properties": {"href": url}})
    import gis_service.ingest.gdal_safety  # noqa: F401  (imported by the readers: GDAL is offline from then on)

    pyogrio.read_info(path)  # GDAL itself, past the check: its request must go nowhere
    assert requests == []


def test_crs_name_urn_is_accepted(tmp_path: Path) -> None:
    path = geojson_with_crs(
        tmp_path / "cgcs.geojson", {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    )
    land, chunks = read_all(path)
    assert (land.crs, land.crs_evidence) == ("EPSG:4490", "declared by the file ('crs' member)")
    assert len(chunks[0].frame) == 1
