"""Idle land (土地闲置率, 闲置土地处置率) is computed where a 闲置土地调查认定 covers the unit, even one
that found nothing idle (a recorded 0 %), and missing with the reason where none does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import gis_service as gs
from gis_service.db.models import ZoneKind
from gis_service.errors import InputError
from gis_service.ingest.idle_reviews import idle_reviews, record_idle_review
from gis_service.metrics.intensity import measure_intensity
from gis_service.testing import insert_park, insert_zone
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import YEAR, load_fixture

IDLE = ("idle_land_rate_pct", "idle_land_disposal_rate_pct")


def _supply(engine: Engine, geom, no: str) -> None:  # type: ignore[no-untyped-def]
    """An industrial supply record (no idle finding) of the fixture's supply import."""
    g = to_4326([geom])[0]
    wkt = f"SRID=4326;MULTIPOLYGON((({', '.join(f'{x} {y}' for x, y in g.exterior.coords)})))"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO land_parcel (geom, land_use_class, is_supplied, supply_year, contract_date, supervision_no,"
            " source_document, layer, import_id)"
            " SELECT ST_GeomFromEWKT(:g), 'industrial', true, 2020, :d, :no, '供地结果公告', 'supply', id"
            " FROM land_import WHERE kind = 'supply'"), {"g": wkt, "d": dt.date(2020, 6, 1), "no": no})


@pytest.fixture
def parks(engine: Engine, tmp_path: Path) -> dict[str, int]:
    """The fixture's park A (with its findings), a block A1 of A (x 0–500) and a park C east of A
    with a supply record and no finding."""
    a = load_fixture(engine, tmp_path)
    a1, _ = insert_park(engine, "A1", "园区A一区", to_4326([rect(0, 0, 500, 1000)])[0])
    c, _ = insert_park(engine, "C", "园区C", to_4326([rect(2000, 0, 1000, 1000)])[0])
    with engine.begin() as conn:
        conn.execute(text("UPDATE park SET parent_id = :a WHERE id = :b"), {"a": a, "b": a1})
    _supply(engine, rect(2000, 0, 500, 1000), "310117C0000000001")
    return {"A": a, "A1": a1, "C": c}


def _clear_findings(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE land_parcel SET idle_status = NULL, idle_year = NULL"))


def _rows(engine: Engine, level: str = "park") -> tuple[dict, dict]:  # type: ignore[type-arg]
    result = measure_intensity(engine, year=YEAR, level=level)
    rows = {r["unit_code"]: r for r in result.rows.to_dict("records")}
    details = {(int(r["unit_id"]), r["indicator"]): r for r in result.details.to_dict("records")}
    return rows, details


def test_without_any_review_or_finding_the_idle_rates_are_missing_naming_the_command(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    rows, details = _rows(engine)
    for code in ("A", "A1", "C"):
        assert all(rows[code][k] is None for k in IDLE), code
    reason = details[(parks["C"], "idle_land_rate_pct")]["missing_reason"]
    assert "gis-service import idle-review" in reason and "未认定不等于没有闲置土地" in reason


def test_a_finding_in_one_park_does_not_make_another_parks_rate_zero(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    rows, details = _rows(engine)  # the fixture's findings lie in park A (x 800–1000), none in C nor in block A1
    assert rows["A"]["idle_land_rate_pct"] == pytest.approx(5 / 70 * 100)
    assert "供地记录上" in details[(parks["A"], "idle_land_rate_pct")]["numerator_source"]
    assert rows["C"]["idle_land_rate_pct"] is None and rows["A1"]["idle_land_rate_pct"] is None


def test_a_district_review_that_found_nothing_gives_a_recorded_zero_with_its_source(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    record_idle_review(engine, year=YEAR, park_code=None, source_document="松江区2023年闲置土地调查认定报告",
                       source_section="附表1", actor="test")
    rows, details = _rows(engine)
    for code in ("A", "A1", "C"):
        assert rows[code]["idle_land_rate_pct"] == pytest.approx(0.0, abs=1e-12), code
        assert rows[code]["idle_land_disposal_rate_pct"] is None  # 0 found idle: nothing to dispose of (0 / 0)
    source = details[(parks["C"], "idle_land_rate_pct")]["numerator_source"]
    assert "松江区2023年闲置土地调查认定报告 附表1" in source and "全区" in source
    assert "为 0" in details[(parks["C"], "idle_land_disposal_rate_pct")]["missing_reason"]


def test_a_park_review_covers_the_park_and_its_blocks_but_not_another_park(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    record_idle_review(engine, year=YEAR - 1, park_code="A", source_document="园区A闲置土地认定书", actor="test")
    rows, details = _rows(engine)
    assert rows["A"]["idle_land_rate_pct"] == 0.0 and rows["A1"]["idle_land_rate_pct"] == 0.0
    assert "园区A闲置土地认定书" in details[(parks["A1"], "idle_land_rate_pct")]["numerator_source"]
    assert rows["C"]["idle_land_rate_pct"] is None
    assert "gis-service import idle-review" in details[(parks["C"], "idle_land_rate_pct")]["missing_reason"]


def test_a_block_review_does_not_cover_its_parent_park(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    record_idle_review(engine, year=YEAR, park_code="A1", source_document="区块认定", actor="test")
    rows, _ = _rows(engine)
    assert rows["A1"]["idle_land_rate_pct"] == 0.0 and rows["A"]["idle_land_rate_pct"] is None


def test_a_review_made_after_the_year_asked_does_not_count(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    record_idle_review(engine, year=YEAR + 1, park_code=None, source_document="下一年的认定", actor="test")
    rows, _ = _rows(engine)
    assert rows["A"]["idle_land_rate_pct"] is None
    assert measure_intensity(engine, year=YEAR + 1).rows.set_index("unit_code").loc["A", "idle_land_rate_pct"] == 0.0


def test_a_zone_needs_a_district_review_or_findings_inside(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    insert_zone(engine, "E", "东片", to_4326([rect(1500, -500, 2000, 2000)])[0], ZoneKind.pian)  # holds park C
    record_idle_review(engine, year=YEAR, park_code="C", source_document="园区C认定", actor="test")
    rows, details = _rows(engine, "zone")
    assert rows["E"]["idle_land_rate_pct"] is None
    assert "全区" in details[(int(rows["E"]["unit_id"]), "idle_land_rate_pct")]["missing_reason"]
    record_idle_review(engine, year=YEAR, park_code=None, source_document="全区认定", actor="test")
    assert _rows(engine, "zone")[0]["E"]["idle_land_rate_pct"] == 0.0


def test_recording_a_review_changes_the_memoised_answer(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    _clear_findings(engine)
    question = gs.IntensityQuestion(year=YEAR)
    before = {r["unit_code"]: r for r in gs.answer_intensity(engine, question).records()}
    assert before["C"]["idle_land_rate_pct"] is None
    record_idle_review(engine, year=YEAR, park_code="C", source_document="园区C认定", actor="test")
    after = {r["unit_code"]: r for r in gs.answer_intensity(engine, question).records()}
    assert after["C"]["idle_land_rate_pct"] == 0.0


def test_recording_the_same_year_and_scope_again_replaces_its_source_and_is_audited(engine: Engine, parks) -> None:  # type: ignore[no-untyped-def]
    first = record_idle_review(engine, year=YEAR, park_code=None, source_document="初稿", actor="test")
    second = record_idle_review(engine, year=YEAR, park_code=None, source_document="正式文件", source_section="第2节",
                                actor="test2")
    record_idle_review(engine, year=YEAR, park_code="A", source_document="园区A", actor="test")  # another scope
    assert (first["replaced"], second["replaced"]) == (False, True) and first["id"] == second["id"]
    stored = idle_reviews(engine, year=YEAR)
    assert [(r["park_code"], r["scope_zh"], r["source_document"], r["source_section"], r["recorded_by"]) for r in stored] \
        == [(None, "全区", "正式文件", "第2节", "test2"), ("A", "园区A", "园区A", None, "test")]
    with engine.connect() as conn:
        audit = conn.execute(text("SELECT before, after FROM audit_log WHERE action = 'record_idle_review'"
                                  " ORDER BY id")).all()
    assert len(audit) == 3 and audit[0].before is None
    assert audit[1].before["source_document"] == "初稿" and audit[1].after["source_document"] == "正式文件"


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"source_document": "   "}, "source_document"),
    ({"source_document": "x" * 501}, "source_document"),
    ({"source_section": "x" * 501}, "source_section"),
    ({"year": 1800}, "year"),
    ({"park_code": "nope"}, "'nope'"),
])
def test_a_bad_review_is_refused_naming_the_field(engine: Engine, parks, kwargs, named) -> None:  # type: ignore[no-untyped-def]
    args = {"year": YEAR, "park_code": None, "source_document": "认定", "actor": "test", **kwargs}
    with pytest.raises(InputError, match=named):
        record_idle_review(engine, **args)
    assert idle_reviews(engine) == []
