"""One answer for every face: the CLI, the REST API and the Python API asked the same matrix of
questions on one database give identical rows (and identical errors).

The matrix covers every level, every basis, a later year with partial figures (2021: only
松江工业区西区 has a new output figure; everyone else's counts from 2020, and 西区's 管辖面积
comes from 2020), an edited target, and a what-if.  Rows are compared as strict JSON.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from gis_service.answers import ChangeRequest, DensityQuestion, answer_density, answer_whatif, strict_json
from gis_service.answers.vocabulary import LEVELS, ROW_COLUMNS
from gis_service.api.app import create_app
from gis_service.cli import app as cli_app
from gis_service.ingest import load_sample
from gis_service.metrics.bases import ALL_BASES
from gis_service.settings import get_settings

runner = CliRunner()


def _strict(text_: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text_, parse_constant=refuse)


@pytest.fixture(scope="module")
def faces(make_database):  # type: ignore[no-untyped-def]
    """A sample database with a 2021 output figure for 西区 only, a CLI and an API client on it."""
    from sqlalchemy import create_engine

    url = make_database()
    engine = create_engine(url)
    load_sample(engine)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO indicator (park_id, year, metric_code, value, unit, source_document, source_section)"
            " SELECT id, 2021, 'output', 180, '亿元', 'test: a 2021 figure', 'test' FROM park WHERE code = 'sj_west'"
        ))
    mp = pytest.MonkeyPatch()
    mp.setenv("GIS_DATABASE_URL", url)
    # Host localhost: links are built only from an allowed host (GIS_ALLOWED_HOSTS)
    with TestClient(create_app(get_settings(database_url=url)), base_url="http://localhost") as client:
        yield engine, client
    mp.undo()
    engine.dispose()


def _cli(args: list[str]) -> tuple[int, Any]:
    result = runner.invoke(cli_app, args)
    if result.exit_code != 0:  # the command's error (gis-service prints it and exits 2)
        return result.exit_code, f"{result.output}{result.exception}"
    return 0, _strict(result.output)


def _params(q: DensityQuestion) -> dict[str, str]:
    return {k: str(v) for k, v in (("year", q.year), ("numerator", q.numerator), ("basis", q.basis),
                                   ("level", q.level), ("target", q.target)) if v is not None}


def _cli_args(q: DensityQuestion) -> list[str]:
    return [item for k, v in _params(q).items() for item in (f"--{k}", v)]


QUESTIONS = [
    *(DensityQuestion(year=2020, level=level, basis=basis) for level in ("park", "town", "pian", "corridor")
      for basis in ALL_BASES),
    DensityQuestion(year=2021, basis="published_area"),
    DensityQuestion(year=2021, level="pian", basis="measured_area"),
    DensityQuestion(numerator="tax", basis="published_area"),
    DensityQuestion(level="corridor_area", basis="published_area"),  # overlapping zones: the same error everywhere
]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: f"{q.level}-{q.basis}-{q.year}-{q.numerator}")
def test_cli_api_and_python_give_identical_answers(faces, question) -> None:  # type: ignore[no-untyped-def]
    engine, client = faces
    status, cli = _cli(["density", *_cli_args(question), "--json"])
    response = client.get("/metrics/density", params=_params(question))
    try:
        python = _strict(strict_json(answer_density(engine, question).to_dict()))
    except Exception as exc:  # the same refusal on every face
        assert status != 0 and response.status_code in (404, 422), (status, response.status_code)
        assert str(exc).split(";")[0] in cli and str(exc).split(";")[0] in response.json()["description"]
        return
    assert status == 0, cli
    api = _strict(response.text)
    assert cli == api == python
    assert list(api["rows"][0]) == ROW_COLUMNS
    # the download is the same rows, the keys its header
    csv = client.get("/downloads/metrics.csv", params=_params(question)).text.lstrip("\ufeff")
    assert csv.splitlines()[0].split(",") == ROW_COLUMNS and len(csv.strip().splitlines()) == len(api["rows"]) + 1


def test_park_features_and_ogc_items_carry_the_same_rows(faces) -> None:  # type: ignore[no-untyped-def]
    _, client = faces
    rows = {r["unit_id"]: r for r in _strict(client.get("/metrics/density").text)["rows"]}
    parks = client.get("/parks").json()["features"]
    assert {f["id"] for f in parks} == set(rows)
    for feature in parks:
        assert {k: feature["properties"][k] for k in rows[feature["id"]]} == rows[feature["id"]]
    items = client.get("/ogc/collections/parks/items", params={"limit": 100}).json()["features"]
    assert {f["id"] for f in items} <= set(rows) and items
    for item in items:
        row = rows[item["id"]]
        for key in ("density_yi_per_km2", "attainment_pct", "status", "figure_year", "basis", "numerator_source"):
            assert item["properties"][f"answer_{key}"] == row[key], (item["id"], key)


def test_every_level_is_answered_or_refused_alike(faces) -> None:  # type: ignore[no-untyped-def]
    asked = {q.level for q in QUESTIONS}
    assert asked == set(LEVELS)


def test_a_later_year_uses_the_latest_figure_at_or_before_it(faces) -> None:  # type: ignore[no-untyped-def]
    engine, _ = faces
    rows = answer_density(engine, DensityQuestion(year=2021, basis="published_area")).rows.set_index("unit_code")
    west = rows.loc["sj_west"]
    assert west["figure_year"] == 2021 and west["value_yi_yuan"] == pytest.approx(180.0)
    assert west["area_km2"] == pytest.approx(18.53)  # the 2020 管辖面积, the latest at or before 2021
    assert west["density_yi_per_km2"] == pytest.approx(180 / 18.53)
    assert rows.loc["sj_lingang", "figure_year"] == 2020  # no 2021 figure: its 2020 one, labelled so
    assert rows.loc["sj_xinxin", "status"] == "无数据"  # never published: missing, not 0


def test_an_edited_target_changes_every_face(faces) -> None:  # type: ignore[no-untyped-def]
    engine, client = faces
    with engine.begin() as conn:
        conn.execute(text("UPDATE target SET value = 60 WHERE code = 't001_09'"))
    try:
        question = DensityQuestion(year=2020, basis="published_area")
        python = answer_density(engine, question)
        assert python.meta["target"]["value"] == 60.0
        _, cli = _cli(["density", *_cli_args(question), "--json"])
        api = _strict(client.get("/metrics/density", params=_params(question)).text)
        assert cli == api == _strict(strict_json(python.to_dict()))
        lingang = next(r for r in api["rows"] if r["unit_code"] == "sj_lingang")
        assert lingang["target_yi_per_km2"] == 60.0
        assert lingang["attainment_pct"] == pytest.approx(116 / 1.8 / 60 * 100)
        assert "目标 60 亿元/km²" in client.get("/?year=2020&basis=published_area").text  # the map too
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE target SET value = 80 WHERE code = 't001_09'"))


def test_whatif_is_the_same_on_every_face_and_stores_nothing(faces) -> None:  # type: ignore[no-untyped-def]
    engine, client = faces
    question = DensityQuestion(year=2020, basis="published_area", changes=(
        ChangeRequest("sj_west", "output", 10, "%", "scale"),
        ChangeRequest("sj_west", "published_area", -0.3, "km²", "add"),
    ))
    python = _strict(strict_json(answer_whatif(engine, question).to_dict()))
    status, cli = _cli(["whatif", "--year", "2020", "--basis", "published_area", "--change", "sj_west:output=+10%",
                        "--change", "sj_west:published_area=-0.3km²", "--json"])
    assert status == 0, cli
    body = {"year": 2020, "basis": "published_area", "changes": [
        {"unit": "sj_west", "field": "output", "value": 10, "unit_of_value": "%", "mode": "scale"},
        {"unit": "sj_west", "field": "published_area", "value": -0.3, "unit_of_value": "km²", "mode": "add"}]}
    api = _strict(client.post("/metrics/whatif", json=body).text)
    assert cli == api == python
    west = next(r for r in api["scenario"]["rows"] if r["unit_code"] == "sj_west")
    assert west["value_yi_yuan"] == pytest.approx(165 * 1.1)
    assert west["area_km2"] == pytest.approx(18.53 - 0.3)
    assert west["density_yi_per_km2"] == pytest.approx(165 * 1.1 / 18.23)
    assert "what-if" in west["numerator_source"] and west["scenario_changes"]
    base_west = next(r for r in api["baseline"]["rows"] if r["unit_code"] == "sj_west")
    assert base_west["value_yi_yuan"] == pytest.approx(165.0)
    after = answer_density(engine, DensityQuestion(year=2020, basis="published_area")).rows
    assert after.set_index("unit_code").loc["sj_west", "value_yi_yuan"] == pytest.approx(165.0)  # nothing stored


def test_classes_are_the_same_on_every_face(faces) -> None:  # type: ignore[no-untyped-def]
    engine, client = faces
    from gis_service.answers import answer_classes

    python = _strict(strict_json(answer_classes(engine, year=2020).to_dict()))
    status, cli = _cli(["classify", "--year", "2020", "--json"])
    assert status == 0, cli
    api = _strict(client.get("/metrics/classes", params={"year": 2020}).text)
    assert cli == api == python
    assert [i["weight"] for i in api["scheme"]["indicators"]] == [0.6, 0.4]
    scored = [r for r in api["rows"] if r["score"] is not None]
    assert scored and {r["class"] for r in scored} <= {"A", "B", "C", "D"}
    assert all(r["unit_code"] != "zjsj" for r in api["rows"])  # the parent park is not scored beside its blocks
    # a score is Σ weight × figure / benchmark
    bench = api["meta"]["benchmarks_wan_per_mu"]
    r = scored[0]
    expected = 0.6 * r["mu_jun_output_wan_per_mu"] / bench["output"] + 0.4 * r["mu_jun_tax_wan_per_mu"] / bench["tax"]
    assert r["score"] == pytest.approx(expected)


def test_list_parameters_are_bounded(faces) -> None:  # type: ignore[no-untyped-def]
    _, client = faces
    # a value repeated a thousand times counts once; more distinct values than the bound: 422 naming it
    repeated = client.get("/metrics/classes", params=[("indicator", "output:1")] * 300)
    assert repeated.status_code == 200 and len(repeated.json()["scheme"]["indicators"]) == 1, repeated.text[:300]
    distinct = client.get("/metrics/classes", params=[("indicator", f"output:{w}") for w in range(1, 51)])
    assert distinct.status_code == 422 and distinct.json()["description"].startswith("indicator:"), distinct.text[:300]
    assert client.get("/metrics/classes", params=[("indicator", "output:1")] * 1000).status_code == 414  # 20 KB query
    body = {"changes": [{"unit": "sj_west", "field": "output", "value": 1, "unit_of_value": "%", "mode": "scale"}] * 1000}
    assert client.post("/metrics/whatif", json=body).status_code == 422
