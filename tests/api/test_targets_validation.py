"""Targets: one validation for every write, one upsert, and reads a stored row cannot break.

- ``PUT /targets/{code}`` refuses an unknown basis or metric, a unit that does not fit the
  metric (or, on a basis, is no density), and a value that is not finite and > 0, naming the field;
  the CSV import of targets applies the same rule.
- Two creates of one new code at once end in one create and one replace, never a 500.
- A bad row written straight into the table (as an old version or a hand edit could leave)
  never takes the pages down: they answer 200 and say that the stored target is unusable;
  ``qa`` lists it.
- ``?target=`` naming a stored target that is no density target is refused naming the
  parameter and the usable codes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from gis_service.errors import InputError
from gis_service.ingest import load_layer
from gis_service.qa import run_qa
from tests.api.conftest import make_client
from tests.api.writes_support import auth, make_keys

GOOD = {"scope": "songjiang", "name": "工业园区单位土地产值", "metric_code": "output", "year": 2025, "unit": "亿元/km²",
        "source_document": "001_13d6efb69ed95403.txt", "source_section": "表1 #9", "value": 85, "nature": "预期性",
        "basis": "supplied_industrial_land"}
#: the pages that answer with the default target: they must survive any stored row
READ_PAGES = ("/", "/maps/parks/{west}", "/parks", "/parks/{west}", "/metrics/density", "/downloads/metrics.csv",
              "/downloads/metrics.xlsx", "/targets")


@pytest.fixture
def keys(engine: Engine, sample: dict[str, int]) -> dict[str, str | None]:
    return make_keys(engine)


@pytest.fixture
def api(db_url: str, sample: dict[str, int]) -> Iterator[TestClient]:
    with make_client(db_url) as c:
        yield c


@pytest.mark.parametrize(("change", "field"), [
    ({"basis": "nonsense_land"}, "basis"),
    ({"metric_code": "no_such_metric"}, "metric_code"),
    ({"value": 0}, "value"),
    ({"value": -80}, "value"),
    ({"unit": "公顷"}, "unit"),              # a density target in an area unit
    ({"unit": "亿元"}, "unit"),              # money, not money per area
    ({"metric_code": "employees"}, "metric_code"),  # a count over land is no 亿元/km² density
    ({"basis": None, "unit": "公顷"}, "unit"),  # no basis: the unit must fit the metric (output: 亿元)
])
def test_put_target_refuses_what_would_break_a_read(api, keys, change, field) -> None:  # type: ignore[no-untyped-def]
    r = api.put("/targets/t001_09", json=GOOD | change, headers=auth(keys["admin"]))
    assert r.status_code == 422, r.text
    assert field in r.json()["description"] and "t001_09" in r.json()["description"]
    assert api.get("/metrics/density").status_code == 200


def test_a_target_nature_other_than_expected_or_binding_is_refused_on_every_route(api, keys, engine) -> None:  # type: ignore[no-untyped-def]
    r = api.put("/targets/t001_09", json=GOOD | {"nature": "指导性"}, headers=auth(keys["admin"]))
    assert r.status_code == 422 and "nature" in r.json()["description"], r.text
    from gis_service.edits import TargetFields, put_target

    fields = TargetFields(**{k: v for k, v in (GOOD | {"nature": "指导性"}).items()})  # the Python API
    with pytest.raises(InputError, match="nature '指导性' is not one of 预期性, 约束性"):
        put_target(engine, "t001_09", fields, actor="test")


def test_put_target_nan_and_infinite_values_are_refused(api, keys) -> None:  # type: ignore[no-untyped-def]
    for raw in ('NaN', 'Infinity', '-Infinity'):
        body = '{' + ", ".join(f'"{k}": {v!r}'.replace("'", '"') for k, v in (GOOD | {"value": 0}).items()
                               if k != "value") + f', "value": {raw}' + '}'
        r = api.put("/targets/t001_09", content=body.encode(), headers=auth(keys["admin"], **{"Content-Type": "application/json"}))
        assert r.status_code == 422, (raw, r.text)


def test_put_target_accepts_a_good_density_target_and_a_plain_one(api, keys) -> None:  # type: ignore[no-untyped-def]
    assert api.put("/targets/t-new", json=GOOD, headers=auth(keys["admin"])).status_code == 201
    plain = {"scope": "songjiang", "name": "新增专精特新中小企业数量", "metric_code": "new_zhuanjingtexin", "year": 2025,
             "unit": "家", "value": 300, "source_document": "001_13d6efb69ed95403.txt"}
    assert api.put("/targets/t-count", json=plain, headers=auth(keys["admin"])).status_code == 201
    r = api.put("/targets/t-text", json=plain | {"value": None, "value_text": "基本稳定"}, headers=auth(keys["admin"]))
    assert r.status_code == 201


def test_csv_import_of_targets_applies_the_same_rule(engine, sample, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "targets.csv"
    path.write_text("code,scope,name,metric_code,basis,year,value,unit,source_document\n"
                    "t-bad,songjiang,地均,output,supplied_industrial_land,2025,-3,亿元/km²,doc.txt\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"targets.csv: line 2.*value"):
        load_layer(engine, "targets", path)


def _insert_target_uncommitted(engine: Engine, code: str):  # type: ignore[no-untyped-def]
    conn = engine.connect()
    conn.execute(text("INSERT INTO target (code, scope, name, metric_code, basis, year, value, unit, source_document) "
                      "VALUES (:c, 'songjiang', '先到者', 'output', 'supplied_industrial_land', 2025, 70, '亿元/km²', 'x')"),
                 {"c": code})
    return conn


def _wait_until_blocked(engine: Engine) -> None:
    """Until another session waits on a lock (the second create on the first one's row)."""
    with engine.connect() as conn:
        for _ in range(6000):
            waiting = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                        "AND datname = current_database()")).scalar_one()
            conn.commit()  # the activity view is a snapshot per transaction: look again in a new one
            if waiting:
                return
            conn.execute(text("SELECT pg_sleep(0.01)"))
    raise AssertionError("the second create never waited on the first")


def test_two_creates_of_one_new_code_at_once_end_in_create_then_replace(api, engine, keys) -> None:  # type: ignore[no-untyped-def]
    """The first create holds its new row uncommitted; the second must wait and replace it, not 500."""
    first = _insert_target_uncommitted(engine, "t-race")
    answers: list[int] = []
    second = threading.Thread(target=lambda: answers.append(
        api.put("/targets/t-race", json=GOOD, headers=auth(keys["admin"])).status_code))
    second.start()
    try:
        _wait_until_blocked(engine)
    finally:
        first.commit()
        first.close()
        second.join(timeout=60)
    assert answers == [200]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM target WHERE code = 't-race'")).scalar_one() == 85
        actions = conn.execute(text("SELECT action FROM audit_log WHERE table_name = 'target'")).scalars().all()
    assert actions == ["update"]


BAD_ROWS = {
    "basis": "basis = 'nonsense_land'",
    "metric": "metric_code = 'no_such_metric'",
    "value": "value = -5",
    "nan": "value = 'NaN'",
    "unit": "unit = '公顷'",
}


@pytest.mark.parametrize("bad", list(BAD_ROWS))
def test_a_bad_stored_default_target_never_breaks_the_reads(api, engine, sample, bad) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        # the SET clause is one of the constant fragments above
        conn.execute(text(f"UPDATE target SET {BAD_ROWS[bad]} WHERE code = 't001_09'"))
    for page in READ_PAGES:
        r = api.get(page.format(west=sample["west"]))
        assert r.status_code == 200, (page, r.text[:500])
    meta = api.get("/metrics/density").json()["meta"]
    assert any("t001_09" in w for w in meta["warnings"]), meta
    overview = api.get("/").text  # the officer reads it on the map too, in Chinese
    assert "库中存储的目标 t001_09 无法用于比较" in overview and "已改用公布值 80" in overview
    report = run_qa(engine)
    assert "t001_09" in report.check("unusable_targets").message


def test_a_good_stored_target_gives_no_warning(api, engine) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/metrics/density").json()["meta"]["warnings"] == []
    assert "gis-target-warning" not in api.get("/").text
    assert run_qa(engine).check("unusable_targets").status == "ok"


def test_target_parameter_naming_no_density_target_says_so(api, engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO target (code, scope, name, metric_code, year, value, unit, source_document) "
                          "VALUES ('t001_01', 'songjiang', '新增市级以上企业技术中心数量', 'new_municipal_tech_centres', "
                          "2025, 10, '家', 'x')"))
    for page in ("/metrics/density", "/downloads/metrics.csv", "/"):
        r = api.get(page, params={"target": "t001_01"})
        assert r.status_code == 422, (page, r.text[:300])
        text_ = r.json()["description"] if page != "/" else r.text
        assert "target" in text_ and "t001_01" in text_ and "t001_09" in text_ and "nan" not in text_, text_
