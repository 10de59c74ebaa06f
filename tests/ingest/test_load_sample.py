"""load-sample: everything in one transaction, idempotent, atomic on a broken file."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gis_service.errors import InputError
from gis_service.ingest import SAMPLE_DATA_DIR, import_boundaries, load_layer, load_sample
from gis_service.metrics.targets import DEFAULT_TARGET
from gis_service.metrics.units import density_factor_to_yi_per_km2
from tests.ingest.helpers import box, feature
from tests.ingest.test_cli_data import gis
from tests.source_excerpts import annex_blocks, annex_figures, nfkc, stated_total_area_km2, table1_001, table1_004

TABLES = ("district", "town", "zone", "zone_town", "road", "park", "sizhi", "park_boundary", "indicator", "target")


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the loaded tables (geometries as WKB hex), ordered, for exact comparison."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in TABLES:
            cols = [
                r[0] for r in conn.execute(text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
                ), {"t": table})
            ]
            select = ", ".join(f"ST_AsEWKB({c})::text" if c in ("geom", "centerline") else f"{c}::text" for c in cols)
            out[table] = [tuple(r) for r in conn.execute(text(f"SELECT {select} FROM {table} ORDER BY 1, 2"))]
    return out


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (SAMPLE_DATA_DIR / "layers" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def test_sample_loads_every_layer(engine: Engine) -> None:
    report = load_sample(engine)
    n = counts(engine)
    assert n["district"] == 1
    assert n["town"] == 17
    assert n["zone"] == 3 + 1 + 9
    # every row of the CSV layers is stored (counted from the files, not copied from them)
    assert n["zone_town"] == len(_csv_rows("zone_town.csv")) == 12  # 5 + 3 + 4 towns of the 三片 (001 四(二)3)
    assert n["park"] == len(_csv_rows("parks.csv")) == 8
    assert n["sizhi"] == sum(1 for r in _csv_rows("parks.csv") if r["sizhi_text"]) == 7
    assert n["target"] == len(_csv_rows("targets.csv"))
    assert n["indicator"] == len(_csv_rows("indicators.csv"))
    assert n["road"] >= 40
    assert n["park_boundary"] == 8
    with engine.connect() as conn:
        # the verbatim 四至 is stored with its parsed structure (issue 3's JSON shape)
        parsed = conn.execute(text("SELECT parsed FROM sizhi ORDER BY park_id")).scalars().all()
        quality = conn.execute(text("SELECT DISTINCT geometry_quality::text FROM park_boundary")).scalars().all()
    assert all(p is not None and p["parts"] for p in parsed)
    assert quality == ["approximate"]
    # sizhi rows ride along with their parks and are not counted separately
    assert report.changed == sum(v for k, v in n.items() if k != "sizhi")


def test_loaded_figures_and_texts_equal_the_source_documents(engine: Engine) -> None:
    """What load-sample stores, read back from PostGIS, against the shipped excerpts of 001 and 004."""
    load_sample(engine)
    with engine.connect() as conn:
        blocks = conn.execute(text("""
            SELECT p.name, i.metric_code, i.value, i.unit FROM indicator i JOIN park p ON p.id = i.park_id
            WHERE p.kind = 'block' AND i.year = 2020
        """)).all()
        sizhi = dict(conn.execute(text("SELECT p.name, s.raw_text FROM sizhi s JOIN park p ON p.id = s.park_id")).all())
        zjsj = dict(conn.execute(text("""
            SELECT i.metric_code, i.value FROM indicator i JOIN park p ON p.id = i.park_id
            WHERE p.code = 'zjsj' AND i.year = 2020 AND NOT i.is_projection
        """)).all())
        target = conn.execute(text("SELECT * FROM target WHERE code = :c"), {"c": DEFAULT_TARGET.code}).mappings().one()
    stored: dict[str, dict[str, tuple[float, str]]] = {}
    for name, metric, value, unit in blocks:
        stored.setdefault(name, {})[metric] = (float(value), unit)
    assert stored == annex_figures()  # 004 附件 区块概况, e.g. 临港松江科技城 116 亿元 on 1.8 km²
    assert sizhi == {name: block.sizhi for name, block in annex_blocks().items()}
    table1 = table1_004()
    assert (float(zjsj["revenue"]), float(zjsj["tax"])) == (table1[4][1], table1[5][1])
    assert float(zjsj["published_area"]) == stated_total_area_km2()
    # the target the platform measures against is 001 表1 #9 as printed
    row = table1_001()[9]
    assert (float(target["value"]), target["year"], target["nature"]) == (row.value, 2025, row.nature)
    assert density_factor_to_yi_per_km2(target["unit"]) == density_factor_to_yi_per_km2(row.unit)
    assert nfkc(target["name"]) == nfkc(row.name)


def test_second_load_changes_nothing_and_keeps_ids(engine: Engine) -> None:
    load_sample(engine)
    before = snapshot(engine)
    report = load_sample(engine)
    assert report.changed == 0
    assert all(r.unchanged > 0 for r in report.layers)
    assert snapshot(engine) == before


def _audit(engine: Engine) -> list[dict]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT actor, action, table_name, before, after FROM audit_log ORDER BY id")).mappings()]


def test_reloading_over_edits_is_audited_first_load_is_not(engine: Engine) -> None:
    load_sample(engine)
    assert _audit(engine) == []  # creating the sample changes no stored value
    with engine.begin() as conn:  # an officer's edits made behind the loader's back
        conn.execute(text("UPDATE sizhi SET raw_text = raw_text || '(已核)' WHERE park_id = (SELECT min(park_id) FROM sizhi)"))
        conn.execute(text("UPDATE indicator SET value = value + 1 WHERE id = (SELECT min(id) FROM indicator)"))
    load_sample(engine)  # puts the sample's values back: each change is on record
    rows = _audit(engine)
    assert {(r["actor"], r["action"], r["table_name"]) for r in rows} == {
        ("load-sample", "update", "sizhi"), ("load-sample", "update", "indicator")}, rows
    sizhi_row = next(r for r in rows if r["table_name"] == "sizhi")
    assert sizhi_row["before"]["raw_text"].endswith("(已核)") and not sizhi_row["after"]["raw_text"].endswith("(已核)")
    load_sample(engine)
    assert len(_audit(engine)) == len(rows)  # nothing changed: nothing recorded


def _copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, target)
    return target


def _corrupt_road(data: Path) -> None:
    path = data / "layers" / "roads.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    feature = doc["features"][5]
    # A bow-tie: a polygon where a line is expected is caught by type; make a bad type.
    feature["geometry"] = {"type": "Polygon", "coordinates": [[[121.2, 31.0], [121.3, 31.1], [121.3, 31.0], [121.2, 31.1], [121.2, 31.0]]]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_broken_file_mid_load_leaves_empty_database_empty(engine: Engine, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    _corrupt_road(data)
    with pytest.raises(InputError) as err:
        load_sample(engine, data_dir=data)
    message = str(err.value)
    assert "roads.geojson" in message and "feature 5" in message and "Polygon" in message
    # district, towns and zones were loaded before roads in the same transaction: all rolled back
    assert all(v == 0 for v in counts(engine).values())


def test_broken_last_file_leaves_loaded_database_exactly_as_it_was(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    before = snapshot(engine)
    data = _copy_data(tmp_path)
    # Change an earlier layer (so a partial load would show) and break the last file.
    towns = data / "boundaries" / "towns.geojson"
    towns.write_text(towns.read_text(encoding="utf-8").replace("Voronoi", "VORONOI"), encoding="utf-8")
    indicators = data / "layers" / "indicators.csv"
    lines = indicators.read_text(encoding="utf-8").splitlines()
    lines[10] = lines[10].replace("park,sj_west", "park,no_such_park")
    indicators.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"indicators.csv: line 11: unknown park 'no_such_park'"):
        load_sample(engine, data_dir=data)
    assert snapshot(engine) == before


def test_invalid_geometry_is_named(engine: Engine, tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    path = data / "boundaries" / "towns.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][2]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[121.2, 31.0], [121.3, 31.1], [121.3, 31.0], [121.2, 31.1], [121.2, 31.0]]],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    name = doc["features"][2]["properties"]["name"]
    with pytest.raises(InputError, match=rf"towns.geojson: feature 2 \({name}\): geometry is not valid \(Self-intersection"):
        load_sample(engine, data_dir=data)
    assert counts(engine)["district"] == 0


def test_missing_value_stays_missing_not_zeroed(engine: Engine, tmp_path: Path) -> None:
    """The figures load through the indicator importer's path: an empty value is a figure not published."""
    data = _copy_data(tmp_path)
    path = data / "layers" / "indicators.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[2].startswith("park,sj_west,2020,output,165,")
    lines[2] = lines[2].replace(",output,165,", ",output,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_sample(engine, data_dir=data)
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM indicator i JOIN park p ON p.id = i.park_id "
            "WHERE p.code = 'sj_west' AND i.year = 2020 AND i.metric_code = 'output'"
        )).scalar_one() == 0


def test_replacing_a_layer_with_an_office_file(engine: Engine, tmp_path: Path) -> None:
    """A planning office replaces the roads layer with its own (here: GCJ-02) file."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from gis_service.coords.gcj02 import wgs84_to_gcj02

    load_sample(engine)
    roads_before = counts(engine)["road"]
    with engine.connect() as conn:
        road_id = conn.execute(text("SELECT id FROM road WHERE name = '人民北路'")).scalar_one()
    wgs = LineString([(121.2180, 31.000), (121.2180, 31.080)])
    office = gpd.GeoDataFrame(
        [{"name": "人民北路", "kind": "road", "geometry_quality": "surveyed", "source_document": "区规划资源局 2024 测绘"}],
        geometry=[wgs84_to_gcj02(wgs)], crs=4326,
    )
    path = tmp_path / "office_roads.geojson"
    office.to_file(path, driver="GeoJSON")
    result = load_layer(engine, "roads", path, source_crs="gcj02", replace=True)
    assert (result.updated, result.inserted) == (1, 0)
    assert result.deleted == roads_before - 1
    assert counts(engine)["road"] == 1
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT id, geometry_quality::text, ST_X(ST_StartPoint(ST_GeometryN(geom, 1))) FROM road"
        )).one()
    assert row[0] == road_id and row[1] == "surveyed"
    assert abs(row[2] - 121.2180) < 1e-7  # converted back from GCJ-02


# ----------------------------------------------------------------------------- newer boundary versions
NEWER = dt.date(2022, 1, 1)


def _import_version(engine: Engine, tmp_path: Path, code: str, valid_from: dt.date) -> None:
    path = tmp_path / f"{code}_{valid_from}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature(box(121.20, 31.04, 121.23, 31.06), code=code)]}, ensure_ascii=False), encoding="utf-8")
    import_boundaries(engine, path, valid_from=valid_from, source_document="区规划资源局 边界调整批复", actor="tester")


def _spans(engine: Engine, code: str) -> list[tuple[dt.date, dt.date | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(  # type: ignore[misc]
            "SELECT valid_from, valid_to FROM park_boundary b JOIN park p ON p.id = b.park_id "
            "WHERE p.code = :c ORDER BY valid_from"), {"c": code})]


def _without_park_blocks(tmp_path: Path) -> Path:
    data = _copy_data(tmp_path / "no_blocks")
    (data / "boundaries" / "park_blocks.geojson").unlink()
    return data


def test_load_sample_after_a_newer_boundary_import_keeps_it_and_loads_the_rest(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine)
    _import_version(engine, tmp_path, "sj_north", NEWER)
    assert _spans(engine, "sj_north") == [(dt.date(2020, 1, 1), NEWER), (NEWER, None)]
    data = _copy_data(tmp_path)  # an earlier layer changed too: the rest of the sample is still loaded
    towns = data / "boundaries" / "towns.geojson"
    towns.write_text(towns.read_text(encoding="utf-8").replace("Voronoi", "VORONOI"), encoding="utf-8")
    report = load_sample(engine, data_dir=data)
    assert _spans(engine, "sj_north") == [(dt.date(2020, 1, 1), NEWER), (NEWER, None)]  # not reopened
    assert next(r for r in report.layers if r.layer == "towns").updated > 0
    blocks = next(r for r in report.layers if r.layer == "park_boundaries")
    assert blocks.unchanged == 7 and blocks.changed == 0
    assert [s for s in report.skipped if "sj_north" in s] == [(
        "park_boundaries: park_blocks.geojson: feature 2 (sj_north): 已有更新的边界版本(2022-01-01 起),"
        "文件中 2020-01-01 起的版本未载入 (a newer stored version from 2022-01-01 is kept; the file's version "
        "from 2020-01-01 is not loaded)")]
    before = snapshot(engine)
    assert load_sample(engine, data_dir=data).changed == 0  # and again: nothing changes
    assert snapshot(engine) == before


def test_load_sample_when_a_park_has_only_a_newer_version(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine, data_dir=_without_park_blocks(tmp_path))
    _import_version(engine, tmp_path, "sj_north", NEWER)
    report = load_sample(engine)
    assert _spans(engine, "sj_north") == [(NEWER, None)]
    assert counts(engine)["park_boundary"] == 8
    assert any("sj_north" in s and "2022-01-01" in s for s in report.skipped)


def test_load_sample_over_an_older_open_version_refuses_in_one_line(engine: Engine, tmp_path: Path) -> None:
    load_sample(engine, data_dir=_without_park_blocks(tmp_path))
    _import_version(engine, tmp_path, "sj_north", dt.date(2018, 1, 1))
    before = snapshot(engine)
    with pytest.raises(InputError) as caught:
        load_sample(engine)
    message = str(caught.value)
    assert message.startswith("park_blocks.geojson: feature 2 (sj_north): ")
    assert "2018-01-01" in message and "gis-service import boundaries" in message
    for internal in ("exclusion", "conflicting key", "boundary_no_overlap", "\n"):
        assert internal not in message
    assert snapshot(engine) == before  # nothing half-written


def test_cli_load_sample_after_a_boundary_import(db_url: str, engine: Engine, tmp_path: Path) -> None:
    assert gis("load-sample", url=db_url).returncode == 0
    _import_version(engine, tmp_path, "sj_north", NEWER)
    out = gis("load-sample", url=db_url)
    assert out.returncode == 0, out.stderr
    assert "sj_north" in out.stdout and "2022-01-01" in out.stdout and out.stderr == ""
    assert _spans(engine, "sj_north") == [(dt.date(2020, 1, 1), NEWER), (NEWER, None)]
