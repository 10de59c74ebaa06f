"""One validated path for figures, whatever route: layer import, indicator import, CLI; provenance kept; layers audited.

Issue 15: items 5 (two indicator write paths), 9 (provenance erased), 2 (layer imports not audited).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gis_service.errors import InputError
from gis_service.ingest import import_indicators, import_layer, load_sample
from gis_service.ingest.catalog import SAMPLE_DATA_DIR
from gis_service.ingest.errors import ImplausibleValueError, UnknownUnitError
from tests.ingest.helpers import table_snapshot
from tests.ingest.test_cli_imports import gis

LAYER_HEADER = "scope_type,scope_code,year,metric_code,value,unit,is_projection,source_document,source_section,note\n"


def _csv(tmp_path: Path, body: str, name: str = "figures.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def _figure(engine: Engine, code: str, metric: str, year: int = 2020) -> dict | None:  # type: ignore[type-arg]
    with engine.connect() as conn:
        row = conn.execute(text("""
            SELECT i.id, i.value, i.unit, i.note, i.source_document, i.source_section, i.version
            FROM indicator i JOIN park p ON p.id = i.park_id
            WHERE p.code = :c AND i.metric_code = :m AND i.year = :y AND NOT i.is_projection
        """), {"c": code, "m": metric, "y": year}).mappings().first()
    return None if row is None else dict(row)


def _audit(engine: Engine, table: str, actor: str) -> list[dict]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT action, row_id, before, after FROM audit_log WHERE table_name = :t AND actor = :a ORDER BY id"
        ), {"t": table, "a": actor}).mappings()]


# ----------------------------------------------------------------------------- item 5: one validated path
def test_layer_import_refuses_negative_value_in_unknown_unit(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2021,output,-5,bananas,false,园区年报2021,表1,\n")
    before = table_snapshot(loaded)
    with pytest.raises(UnknownUnitError, match=r"figures.csv: line 2.*bananas"):
        import_layer(loaded, "indicators", path, actor="规划科")
    assert table_snapshot(loaded) == before


def test_layer_import_refuses_implausible_value(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2021,output,500000,亿元,false,园区年报2021,表1,\n")
    with pytest.raises(ImplausibleValueError, match="figures.csv: line 2"):
        import_layer(loaded, "indicators", path, actor="规划科")


def test_layer_import_converts_units_and_audits_each_figure(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2021,output,1700000,万元,false,园区年报2021,表1,\n"
                                         "park,sj_west,2021,jurisdiction_area,1853,公顷,false,园区年报2021,表1,\n")
    result = import_layer(loaded, "indicators", path, actor="规划科")
    assert (result.inserted, result.updated, result.deleted) == (2, 0, 0)
    output = _figure(loaded, "sj_west", "output", 2021)
    assert output is not None and (output["value"], output["unit"], output["note"]) == (
        Decimal("170"), "亿元", "原值 1700000 万元")
    area = _figure(loaded, "sj_west", "jurisdiction_area", 2021)
    assert area is not None and (area["value"], area["unit"]) == (Decimal("18.53"), "km²")
    audit = _audit(loaded, "indicator", "规划科")
    assert [a["action"] for a in audit] == ["insert", "insert", "import"]
    assert audit[0]["after"]["as_given"] == "1700000 万元"


def test_layer_import_replace_deletes_only_the_figures_the_file_blanks(loaded: Engine, tmp_path: Path) -> None:
    with loaded.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM indicator")).scalar_one()
    tax = _figure(loaded, "sj_west", "tax")
    assert tax is not None
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2020,output,166,亿元,false,园区年报2021,表1,\n"
                                         "park,sj_west,2020,tax,,亿元,false,园区年报2021,表1,\n")
    result = import_layer(loaded, "indicators", path, actor="规划科", replace=True)
    assert (result.updated, result.deleted) == (1, 1)
    with loaded.connect() as conn:  # every figure the file does not name is still there
        assert conn.execute(text("SELECT count(*) FROM indicator")).scalar_one() == count - 1
    assert _figure(loaded, "sj_west", "tax") is None
    assert _figure(loaded, "sj_west", "enterprises") is not None
    deleted = [a for a in _audit(loaded, "indicator", "规划科") if a["action"] == "delete"]
    assert len(deleted) == 1 and deleted[0]["row_id"] == str(tax["id"]) and deleted[0]["after"] is None
    assert float(deleted[0]["before"]["value"]) == float(tax["value"])


def test_layer_import_without_replace_skips_blank_cells(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2020,tax,,亿元,false,园区年报2021,表1,\n")
    result = import_layer(loaded, "indicators", path, actor="规划科")
    assert result.changed == 0 and _figure(loaded, "sj_west", "tax") is not None


def test_cli_layer_indicators_is_validated(db_url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    load_sample(engine)
    path = _csv(tmp_path, LAYER_HEADER + "park,sj_west,2021,output,-5,bananas,false,园区年报2021,表1,\n")
    refused = gis("import", "layer", "indicators", str(path), url=db_url)
    assert refused.returncode == 2 and "bananas" in refused.stderr and "Traceback" not in refused.stderr
    assert _figure(engine, "sj_west", "output", 2021) is None
    engine.dispose()


def test_sample_load_is_the_validated_path(engine: Engine, tmp_path: Path) -> None:
    """load-sample with an office's data directory refuses what an import refuses."""
    data = tmp_path / "data"
    for rel in ("boundaries", "layers"):
        (data / rel).mkdir(parents=True)
    for rel in ("boundaries/songjiang_district.geojson", "boundaries/towns.geojson", "boundaries/zones.geojson",
                "layers/zone_town.csv", "layers/roads.geojson", "layers/parks.csv", "layers/targets.csv",
                "layers/metrics.csv"):
        (data / rel).write_bytes((SAMPLE_DATA_DIR / rel).read_bytes())
    (data / "layers/indicators.csv").write_text(
        LAYER_HEADER + "park,sj_west,2021,output,-5,bananas,false,园区年报2021,表1,\n", encoding="utf-8")
    with pytest.raises(InputError, match="bananas"):
        load_sample(engine, data)


# ----------------------------------------------------------------------------- item 9: provenance kept
def test_reimport_without_note_and_section_columns_keeps_them(loaded: Engine, tmp_path: Path) -> None:
    full = _csv(tmp_path, "园区,年份,产值(亿元),来源,来源章节,备注\nsj_west,2021,170,园区年报2021,表2,初步核算\n")
    import_indicators(loaded, full, actor="a")
    slim = _csv(tmp_path, "园区,年份,产值(亿元),来源\nsj_west,2021,170,园区年报2021\n", "slim.csv")
    result = import_indicators(loaded, slim, actor="b")
    assert (result.updated, result.unchanged) == (0, 1)
    output = _figure(loaded, "sj_west", "output", 2021)
    assert output is not None
    assert (output["note"], output["source_section"], output["version"]) == ("初步核算", "表2", 1)
    assert _audit(loaded, "indicator", "b") == []


def test_reimport_in_another_unit_keeps_the_note_and_records_the_new_original(loaded: Engine, tmp_path: Path) -> None:
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(亿元),来源,来源章节,备注\n"
                                             "sj_west,2021,170,园区年报2021,表2,初步核算\n"), actor="a")
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(万元),来源\nsj_west,2021,1800000,园区年报2021\n",
                                   "v2.csv"), actor="b")
    output = _figure(loaded, "sj_west", "output", 2021)
    assert output is not None
    assert (output["value"], output["note"], output["source_section"]) == (
        Decimal("180"), "初步核算; 原值 1800000 万元", "表2")


def test_empty_cell_in_a_present_column_clears(loaded: Engine, tmp_path: Path) -> None:
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(亿元),来源,来源章节,备注\n"
                                             "sj_west,2021,170,园区年报2021,表2,初步核算\n"), actor="a")
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(亿元),来源,来源章节,备注\n"
                                             "sj_west,2021,170,园区年报2021,,\n", "v2.csv"), actor="b")
    output = _figure(loaded, "sj_west", "output", 2021)
    assert output is not None and (output["note"], output["source_section"]) == (None, None)


def test_a_new_source_document_does_not_keep_the_old_section(loaded: Engine, tmp_path: Path) -> None:
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(亿元),来源,来源章节\nsj_west,2021,170,园区年报2021,表2\n"),
                      actor="a")
    import_indicators(loaded, _csv(tmp_path, "园区,年份,产值(亿元),来源\nsj_west,2021,170,统计年鉴2022\n", "v2.csv"),
                      actor="b")
    output = _figure(loaded, "sj_west", "output", 2021)
    assert output is not None and (output["source_document"], output["source_section"]) == ("统计年鉴2022", None)


# ----------------------------------------------------------------------------- item 5: densities with stored figures
def test_import_of_a_tiny_area_is_checked_against_the_stored_output(loaded: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "园区,年份,管辖面积(km²),来源\nsj_west,2020,0.000000001,园区年报\n")
    with pytest.raises(ImplausibleValueError, match="figures.csv: line 2.*亿元/km²"):
        import_indicators(loaded, path, actor="a")


# ----------------------------------------------------------------------------- item 2: layer imports audited
def _parks_with(tmp_path: Path, code: str, **changes: str) -> Path:
    with (SAMPLE_DATA_DIR / "layers/parks.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["code"] == code:
            row.update(changes)
    path = tmp_path / "parks.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_park_layer_import_audits_the_sizhi_change(loaded: Engine, tmp_path: Path) -> None:
    new_text = "东至甲路,南至乙路,西至丙河,北至丁路"
    path = _parks_with(tmp_path, "sj_west", sizhi_text=new_text)
    result = import_layer(loaded, "parks", path, actor="规划科")
    with loaded.connect() as conn:
        assert conn.execute(text("SELECT raw_text FROM sizhi s JOIN park p ON p.id = s.park_id WHERE p.code = 'sj_west'")
                            ).scalar_one() == new_text
    rows = _audit(loaded, "sizhi", "规划科")
    assert [r["action"] for r in rows] == ["update"]
    assert rows[0]["before"]["raw_text"].startswith("位于松江区的西部地带") and rows[0]["after"]["raw_text"] == new_text
    summary = _audit(loaded, "park", "规划科")
    assert summary and summary[-1]["action"] == "import" and summary[-1]["after"]["updated"] >= 1
    assert result.changed >= 1


def test_park_layer_import_audits_a_changed_park_row(loaded: Engine, tmp_path: Path) -> None:
    path = _parks_with(tmp_path, "sj_west", note="改名前")
    import_layer(loaded, "parks", path, actor="规划科")
    rows = [r for r in _audit(loaded, "park", "规划科") if r["action"] == "update"]
    assert len(rows) == 1 and rows[0]["after"]["code"] == "sj_west" and rows[0]["after"]["note"] == "改名前"
    assert rows[0]["before"]["note"] != "改名前"


def test_unchanged_layer_import_writes_no_audit_row(loaded: Engine, tmp_path: Path) -> None:
    before = table_snapshot(loaded)
    import_layer(loaded, "parks", SAMPLE_DATA_DIR / "layers/parks.csv", actor="规划科")
    import_layer(loaded, "indicators", SAMPLE_DATA_DIR / "layers/indicators.csv", actor="规划科")
    assert table_snapshot(loaded) == before
