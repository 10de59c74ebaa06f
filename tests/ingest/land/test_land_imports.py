"""Land data in, end to end: real files as offices hold them → PostGIS → the density answer.

Files are written with pyogrio in the formats, encodings and CRSs of the issue; areas are
checked against intersections computed by hand in EPSG:4549.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_service.answers import DensityQuestion, answer_density
from gis_service.api.app import create_app
from gis_service.cli import app as cli_app
from gis_service.errors import InputError
from gis_service.ingest.land import (
    RegisterOptions,
    SupplyOptions,
    SurveyOptions,
    import_landuse,
    import_register,
    import_supply,
)
from gis_service.security import create_key
from gis_service.settings import get_settings
from gis_service.testing import insert_indicator, insert_park, insert_target_from_sample

AREA = "EPSG:4549"
#: the park: a 1 km square near lon 121.2, lat 31.0 (EPSG:4549 metres)
PARK = shapely.box(615_100, 3_430_100, 616_100, 3_431_100)
CELL = 200.0
#: edges straight in EPSG:4549 are not quite straight in EPSG:4326, where intersections are taken (a few m² per km²)
REL = 1e-4
runner = CliRunner()


def _cells() -> tuple[np.ndarray, np.ndarray]:
    """A 6 × 6 grid of 200 m cells (1.2 km square) around the park; their codes under 三调."""
    xs, ys = np.meshgrid(np.arange(615_000, 616_200, CELL), np.arange(3_430_000, 3_431_200, CELL))
    cells = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + CELL, ys.ravel() + CELL)
    codes = np.array(["0601", "1001", "1101", "0101"])[np.arange(len(cells)) % 4]
    return cells, codes


NAMES = {"0601": "工业用地", "1001": "铁路用地", "1101": "河流水面", "0101": "水田", "0702": "农村宅基地"}


def _hand_km2(cells: np.ndarray, mask: np.ndarray) -> float:
    return float(shapely.area(shapely.intersection(cells[mask], PARK)).sum()) / 1e6


@pytest.fixture
def park(engine: Engine) -> int:
    """One park with a 2020 output of 100 亿元 and the stored 80 亿元/km² target."""
    boundary = gpd.GeoSeries([PARK], crs=AREA).to_crs(4326).iloc[0]
    park_id, _ = insert_park(engine, "test-a", "测试园区", boundary)
    insert_indicator(engine, park_id, 2020, "output", 100.0, "亿元")
    insert_indicator(engine, park_id, 2023, "output", 110.0, "亿元")
    insert_target_from_sample(engine)
    return park_id


def write_dltb(tmp: Path, codes: np.ndarray, cells: np.ndarray, *, crs: str = "EPSG:4528", name: str = "dltb",
               names: dict[str, str] | None = None, cpg: bool = False) -> Path:
    """A zipped DLTB Shapefile with GBK attributes (no .cpg unless asked), in ``crs``."""
    frame = gpd.GeoDataFrame(
        {"BSM": [f"31011700{i:04d}" for i in range(len(cells))], "DLBM": codes,
         "DLMC": [(names or NAMES)[c] for c in codes], "QSDWMC": "松江区某村", "TBMJ": shapely.area(cells)},
        geometry=cells, crs=AREA,
    )
    if crs == "EPSG:4528":  # the same plane with the zone number 40 before x
        frame = gpd.GeoDataFrame(frame.drop(columns="geometry"),
                                 geometry=shapely.transform(cells, lambda xy: xy + [40_000_000, 0]), crs="EPSG:4528")
    else:
        frame = frame.to_crs(crs)
    folder = tmp / name
    folder.mkdir()
    frame.to_file(folder / "DLTB.shp", engine="pyogrio", encoding="GBK")
    if not cpg:
        (folder / "DLTB.cpg").unlink(missing_ok=True)
    path = tmp / f"{name}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            archive.write(part, part.name)
    return path


def _answer(engine: Engine, year: int, basis: str) -> dict:  # type: ignore[type-arg]
    answer = answer_density(engine, DensityQuestion(year=year, basis=basis))
    return {"row": answer.rows.set_index("unit_code").loc["test-a"], "meta": answer.meta}


# ----------------------------------------------------------------------------- survey snapshots
def test_gbk_dltb_in_4528_gives_the_hand_computed_industrial_land(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    path = write_dltb(tmp_path, codes, cells)
    report = import_landuse(engine, path, SurveyOptions(year=2020, source_document="2020 年度变更调查(测试)"), actor="t")
    assert report.code_system == "sandiao" and "DLBM" in (report.code_system_evidence or "")
    assert report.crs == "EPSG:4528" and report.encoding and report.encoding.upper() in ("GB18030", "GBK", "CP936")
    assert report.features == 36 and report.features_before == 0 and report.features_after == 36
    got = _answer(engine, 2020, "industrial_land")
    # 0601 = 工业用地 under 三调; 1001 (railway) and 1101 (river) are not industry
    expected = _hand_km2(cells, codes == "0601")
    assert got["row"]["area_km2"] == pytest.approx(expected, rel=REL)
    assert got["row"]["density_yi_per_km2"] == pytest.approx(100.0 / expected, rel=REL)
    land = got["meta"]["vintage"]["land"]["industrial_land"]
    assert land["layer"] == "survey" and land["snapshot"]["year"] == 2020 and "2020 年" in land["label_zh"]
    with engine.connect() as conn:
        name = conn.execute(text("SELECT land_use_name FROM land_parcel WHERE land_use_code = '0601' LIMIT 1")).scalar_one()
    assert name == "工业用地"  # GBK attributes read as GBK, not mojibake


def test_built_up_land_follows_the_code_system(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    import_landuse(engine, write_dltb(tmp_path, codes, cells),
                   SurveyOptions(year=2020, source_document="t"), actor="t")
    got = _answer(engine, 2020, "built_up_land")["row"]["area_km2"]
    # 工业用地 and 铁路用地 are 建设用地; rivers and paddy fields are not
    assert got == pytest.approx(_hand_km2(cells, np.isin(codes, ["0601", "1001"])), rel=REL)


def test_importing_the_same_year_again_replaces_it(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    path = write_dltb(tmp_path, codes, cells)
    first = import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t")
    again = import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t2")
    assert (again.features_before, again.features_after) == (36, 36)
    assert again.area_by_class_km2 == first.area_by_class_km2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM land_parcel")).scalar_one() == 36
        assert conn.execute(text("SELECT count(*) FROM land_import")).scalar_one() == 1
        audit = conn.execute(text("SELECT actor, before, after FROM audit_log WHERE table_name = 'land_parcel' "
                                  "ORDER BY id")).all()
    assert [a[0] for a in audit] == ["t", "t2"] and audit[1][1]["features"] == 36 and audit[1][2]["features"] == 36


def test_the_snapshot_in_force_is_the_latest_at_or_before_the_year(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    later = np.where(codes == "0101", "0601", codes)  # by 2022 the paddy fields became industry
    import_landuse(engine, write_dltb(tmp_path, codes, cells, name="a"), SurveyOptions(year=2019, source_document="s19"),
                   actor="t")
    import_landuse(engine, write_dltb(tmp_path, later, cells, name="b"), SurveyOptions(year=2022, source_document="s22"),
                   actor="t")
    y2020 = _answer(engine, 2020, "industrial_land")
    y2023 = _answer(engine, 2023, "industrial_land")
    assert y2020["meta"]["vintage"]["land"]["industrial_land"]["snapshot"]["year"] == 2019
    assert y2020["row"]["area_km2"] == pytest.approx(_hand_km2(cells, codes == "0601"), rel=REL)
    assert y2023["meta"]["vintage"]["land"]["industrial_land"]["snapshot"]["year"] == 2022
    assert y2023["row"]["area_km2"] == pytest.approx(_hand_km2(cells, later == "0601"), rel=REL)
    # before the first snapshot there is no land data: missing, never 0
    insert_indicator(engine, park, 2018, "output", 90.0, "亿元")
    y2018 = _answer(engine, 2018, "industrial_land")
    assert y2018["meta"]["vintage"]["land"]["industrial_land"]["layer"] is None
    assert np.isnan(y2018["row"]["area_km2"]) and np.isnan(y2018["row"]["density_yi_per_km2"])


def test_a_code_contradicting_its_class_name_is_refused_and_nothing_written(engine: Engine, park: int,
                                                                           tmp_path: Path) -> None:
    cells, codes = _cells()
    names = {**NAMES, "1001": "工业用地"}  # a 1001 patch named 工业用地: the reader mixed up the systems
    path = write_dltb(tmp_path, codes, cells, names=names)
    with pytest.raises(InputError, match=r"feature 1 \(BSM 310117000001\).*1001.*铁路用地.*工业用地"):
        import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM land_parcel")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM land_import")).scalar_one() == 0


def test_digit_codes_without_evidence_are_refused_naming_both_readings(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    frame = gpd.GeoDataFrame({"YDDM": codes}, geometry=cells, crs=AREA).to_crs(4490)
    path = tmp_path / "plain.gpkg"
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match=r"(0601|1001|1101).*(三调|GB/T 21010).*国土空间"):
        import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t")
    # declared 国土空间: 1001 is 工业用地, 0601 is a village road
    report = import_landuse(engine, path, SurveyOptions(year=2020, source_document="t", code_system="guotu"), actor="t")
    assert report.code_system == "guotu"
    got = _answer(engine, 2020, "industrial_land")["row"]["area_km2"]
    assert got == pytest.approx(_hand_km2(cells, codes == "1001"), rel=REL)


def test_overlapping_patches_are_reported_and_refused_when_strict(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    cells = cells.copy()
    cells[0] = shapely.box(615_000, 3_430_000, 615_250, 3_430_200)  # reaches 50 m into its neighbour: 10,000 m²
    path = write_dltb(tmp_path, codes, cells)
    report = import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t")
    assert report.overlap_pairs == 1 and report.overlaps[0]["area_m2"] == pytest.approx(10_000, rel=1e-3)
    with pytest.raises(InputError, match=r"overlap.*310117000000.*310117000001"):
        import_landuse(engine, path, SurveyOptions(year=2021, source_document="t", strict=True), actor="t")


def test_coordinates_outside_songjiang_name_the_probable_crs(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    path = write_dltb(tmp_path, codes, cells)  # EPSG:4528 coordinates ...
    with zipfile.ZipFile(path) as archive:  # ... relabelled as EPSG:4549 (the .prj an office got wrong)
        folder = tmp_path / "wrong"
        archive.extractall(folder)
    from pyproj import CRS
    from pyproj.enums import WktVersion

    (folder / "DLTB.prj").write_text(CRS.from_epsg(4549).to_wkt(WktVersion.WKT1_ESRI))
    with pytest.raises(InputError, match="4528"):
        import_landuse(engine, folder / "DLTB.shp", SurveyOptions(year=2020, source_document="t"), actor="t")


# ----------------------------------------------------------------------------- supply records
def _supply_file(tmp: Path, *, name: str = "gongdi.gpkg", **overrides: list[object]) -> tuple[Path, np.ndarray]:
    """Four supplied parcels across the park: industrial 2019, industrial 2021, industrial
    recovered in 2020, commercial 2019.  One states an area 20 % off the measured one."""
    parcels = np.array([shapely.box(615_000, 3_430_200, 615_400, 3_430_600),   # half outside the park
                        shapely.box(615_500, 3_430_500, 615_800, 3_430_800),
                        shapely.box(615_800, 3_430_200, 616_000, 3_430_400),
                        shapely.box(615_300, 3_430_800, 615_500, 3_431_000)])
    columns: dict[str, list[object]] = {
        "电子监管号": ["3101172019B00001", "3101172021B00002", "3101172018B00003", "3101172019B00004"],
        "项目名称": ["甲公司厂房", "乙公司厂房", "丙公司厂房", "丁商场"],
        "土地用途": ["工业用地", "工业用地", "工业用地", "商服用地"],
        "面积(公顷)": [16.0, 9.0 * 1.2, 4.0, 4.0],
        "供地方式": ["挂牌出让", "挂牌出让", "协议出让", "招标出让"],
        "合同签订日期": ["2019-05-12", "2021/3/1", "2018年6月30日", "2019-01-01"],
        "收回日期": [None, None, "2020-06-01", None],
    }
    columns.update(overrides)
    frame = gpd.GeoDataFrame(columns, geometry=parcels, crs=AREA).to_crs(4490)
    path = tmp / name
    frame.to_file(path, engine="pyogrio", layer="供地")
    return path, parcels


def test_supplied_industrial_land_counts_contracts_to_the_end_of_the_year(engine: Engine, park: int,
                                                                         tmp_path: Path) -> None:
    path, parcels = _supply_file(tmp_path)
    report = import_supply(engine, path, SupplyOptions(source_document="供地结果公告(测试)"), actor="t")
    assert report.features == 4 and report.area_mismatch_count == 1
    assert report.area_mismatches[0]["supervision_no"] == "3101172021B00002"
    inside = shapely.area(shapely.intersection(parcels, PARK)) / 1e6
    y2020 = _answer(engine, 2020, "supplied_industrial_land")
    # 2020: the 2019 contract only (the 2021 one is later, the 2018 one was recovered in 2020)
    assert y2020["row"]["area_km2"] == pytest.approx(inside[0], rel=REL)
    assert y2020["meta"]["vintage"]["land"]["supplied_industrial_land"]["layer"] == "supply"
    y2023 = _answer(engine, 2023, "supplied_industrial_land")
    assert y2023["row"]["area_km2"] == pytest.approx(inside[0] + inside[1], rel=REL)


def test_a_reimported_supervision_number_replaces_its_record(engine: Engine, park: int, tmp_path: Path) -> None:
    path, _ = _supply_file(tmp_path)
    import_supply(engine, path, SupplyOptions(source_document="a"), actor="t")
    again = import_supply(engine, path, SupplyOptions(source_document="b"), actor="t")
    assert again.replaced_records == 4 and (again.features_before, again.features_after) == (4, 4)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(source_document) FROM land_parcel")).one() == (4, "b")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"合同签订日期": ["2019-05-12", None, "2018-06-30", "2019-01-01"]}, r"feature 1 \(电子监管号 3101172021B00002\).*missing"),
        ({"合同签订日期": ["2019-05-12", "2021-13-45", "2018-06-30", "2019-01-01"]}, r"feature 1 .*'2021-13-45' is not a date"),
        ({"土地用途": ["工业用地", "工业用地", "火星用地", "商服用地"]}, r"feature 2 .*火星用地"),
        ({"电子监管号": ["A1", "A2", "A1", "A4"]}, r"feature 2.*A1 appears twice"),
    ],
)
def test_bad_supply_records_are_refused_and_nothing_written(engine: Engine, park: int, tmp_path: Path,
                                                            override: dict, message: str) -> None:  # type: ignore[type-arg]
    path, _ = _supply_file(tmp_path, **override)
    with pytest.raises(InputError, match=message):
        import_supply(engine, path, SupplyOptions(source_document="t"), actor="t")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM land_parcel")).scalar_one() == 0


# ----------------------------------------------------------------------------- registers, faces
def test_register_is_replaced_whole_and_supply_records_take_precedence(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, _ = _cells()
    frame = gpd.GeoDataFrame({"DKBH": [f"D{i}" for i in range(4)], "YDDM": ["M1", "M2", "R2", "M1"],
                              "GYZT": ["已供应", "未供应", "已供应", "是"], "GYNF": [2010, 2010, 2010, 2030]},
                             geometry=cells[:4], crs=AREA).to_crs(4326)
    path = tmp_path / "register.geojson"
    frame.to_file(path, engine="pyogrio", driver="GeoJSON")
    for _ in range(2):
        report = import_register(engine, path, RegisterOptions(source_document="园区地块台账"), actor="t")
    assert report.code_system == "gb50137" and report.features_after == 4
    got = _answer(engine, 2020, "supplied_industrial_land")
    assert got["meta"]["vintage"]["land"]["supplied_industrial_land"]["layer"] == "register"
    assert got["row"]["area_km2"] == pytest.approx(_hand_km2(cells[:4], np.array([True, False, False, False])), rel=REL)
    supply, parcels = _supply_file(tmp_path)
    import_supply(engine, supply, SupplyOptions(source_document="t"), actor="t")
    got = _answer(engine, 2020, "supplied_industrial_land")
    assert got["row"]["area_km2"] == pytest.approx(float(shapely.area(shapely.intersection(parcels[0], PARK))) / 1e6, rel=REL)


def test_cli_and_http_import_the_same(engine: Engine, db_url: str, park: int, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cells, codes = _cells()
    path = write_dltb(tmp_path, codes, cells)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    result = runner.invoke(cli_app, ["import", "landuse", str(path), "--year", "2020", "--source", "s", "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    _, analyst = create_key(engine, name="analyst", role="analyst", parks=None, actor="test")
    _, viewer = create_key(engine, name="viewer", role="viewer", parks=None, actor="test")
    with TestClient(create_app(get_settings(database_url=db_url))) as client:
        url = "/imports/landuse?filename=dltb.zip&year=2020&source_document=s"
        denied = client.post(url, content=path.read_bytes(), headers={"X-API-Key": viewer})
        http = client.post(url, content=path.read_bytes(), headers={"X-API-Key": analyst})
        answer = client.get("/metrics/density", params={"year": 2020, "basis": "industrial_land"}).json()
    assert denied.status_code == 403
    assert http.status_code == 200, http.text
    body = http.json()
    for key in ("features", "area_by_class_km2", "code_system", "crs", "encoding", "layer"):
        assert body[key] == cli[key], key
    assert (body["features_before"], body["features_after"]) == (36, 36)
    row = next(r for r in answer["rows"] if r["unit_code"] == "test-a")
    assert row["area_km2"] == pytest.approx(_hand_km2(cells, codes == "0601"), rel=REL)


def test_a_zipped_file_geodatabase_is_read_by_layer_name(engine: Engine, park: int, tmp_path: Path) -> None:
    cells, codes = _cells()
    gdb = tmp_path / "survey.gdb"
    frame = gpd.GeoDataFrame({"DLBM": codes, "DLMC": [NAMES[c] for c in codes]}, geometry=cells, crs=AREA).to_crs(4490)
    frame.to_file(gdb, driver="OpenFileGDB", layer="DLTB", engine="pyogrio")
    frame.head(3).to_file(gdb, driver="OpenFileGDB", layer="XZQ", engine="pyogrio")  # a second polygon layer
    path = tmp_path / "survey.gdb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in gdb.iterdir():
            archive.write(part, f"survey.gdb/{part.name}")
    report = import_landuse(engine, path, SurveyOptions(year=2020, source_document="t"), actor="t")
    assert report.layer == "DLTB" and report.driver == "OpenFileGDB" and report.features == 36
    got = _answer(engine, 2020, "industrial_land")["row"]["area_km2"]
    assert got == pytest.approx(_hand_km2(cells, codes == "0601"), rel=REL)


def test_supply_and_register_routes_answer_like_the_importers(engine: Engine, db_url: str, park: int,
                                                               tmp_path: Path) -> None:
    supply, _ = _supply_file(tmp_path)
    _, analyst = create_key(engine, name="analyst", role="analyst", parks=None, actor="test")
    with TestClient(create_app(get_settings(database_url=db_url))) as client:
        http = client.post("/imports/supply?filename=gongdi.gpkg&source_document=s", content=supply.read_bytes(),
                           headers={"X-API-Key": analyst})
        bad = client.post("/imports/parcels?filename=p.gpkg&source_document=s", content=supply.read_bytes(),
                          headers={"X-API-Key": analyst})
    assert http.status_code == 200, http.text
    direct = import_supply(engine, supply, SupplyOptions(source_document="s"), actor="t")
    assert http.json()["area_by_class_km2"] == direct.area_by_class_km2 and direct.replaced_records == 4
    # a supply list is not a register: the route names the missing fields
    assert bad.status_code == 422 and "supplied" in bad.json()["description"]


@pytest.mark.parametrize("year", [2019, 2020, 2023])
def test_geopandas_dask_and_postgis_paths_pick_the_same_land(engine: Engine, park: int, tmp_path: Path, year: int) -> None:
    """Survey, supply and register rows together: every path takes each basis from its layer."""
    from gis_service.answers.inputs import units_from_parks
    from gis_service.metrics.dask_path import parcel_bases_dask
    from gis_service.metrics.parcel_land import parcel_bases
    from gis_service.metrics.postgis import parcel_bases_sql
    from gis_service.store.readers import read_parcels, read_parks

    cells, codes = _cells()
    import_landuse(engine, write_dltb(tmp_path, codes, cells), SurveyOptions(year=2020, source_document="s"), actor="t")
    supply, _ = _supply_file(tmp_path)
    import_supply(engine, supply, SupplyOptions(source_document="g"), actor="t")
    register = gpd.GeoDataFrame({"YDDM": ["M1"] * 4, "GYZT": ["已供应"] * 4, "JSZT": ["建成"] * 4},
                                geometry=cells[:4], crs=AREA).to_crs(4326)
    register.to_file(tmp_path / "r.geojson", engine="pyogrio", driver="GeoJSON")
    import_register(engine, tmp_path / "r.geojson", RegisterOptions(source_document="r"), actor="t")
    bases = ["industrial_land", "supplied_industrial_land", "built_up_land"]
    units = units_from_parks(read_parks(engine, year=year))
    parcels = read_parcels(engine, year=year)
    by = ["unit_id", "basis"]
    sql = parcel_bases_sql(engine, year=year, bases=bases).set_index(by)["area_km2"].sort_index()
    frames = parcel_bases(units, parcels, bases=bases, year=year).set_index(by)["area_km2"].sort_index()
    dask = parcel_bases_dask(units, parcels, bases=bases, year=year, npartitions=3).set_index(by)["area_km2"].sort_index()
    assert np.allclose(sql.to_numpy(), frames.to_numpy(), rtol=1e-9, equal_nan=True)
    assert np.allclose(sql.to_numpy(), dask.to_numpy(), rtol=1e-9, equal_nan=True)
    industrial = sql.loc[(park, "industrial_land")]
    if year < 2020:  # no snapshot yet: the register's M1 parcels make 工业用地
        assert industrial == pytest.approx(_hand_km2(cells[:4], np.ones(4, bool)), rel=REL)
    else:
        assert industrial == pytest.approx(_hand_km2(cells, codes == "0601"), rel=REL)
