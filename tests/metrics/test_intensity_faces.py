"""The land-intensity answer through every face: CLI, REST API and Python API give the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

import gis_service as gs
from gis_service.cli import app
from gis_service.db.models import ZoneKind
from gis_service.testing import insert_zone
from tests.api.conftest import make_client
from tests.metrics.helpers import rect, to_4326
from tests.metrics.intensity_fixture import EXPECTED, YEAR, load_figures, load_land, write_buildings

runner = CliRunner()


@pytest.fixture
def filled(engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    park_id = load_land(engine)
    load_figures(engine, park_id)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    result = runner.invoke(app, ["import", "buildings", str(write_buildings(tmp_path / "b.geojson")), "--year", str(YEAR),
                                 "--source", "建筑普查 2023", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["estimated_count"] == 1
    return park_id


def _strict(text_: str) -> dict:  # type: ignore[type-arg]
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text_, parse_constant=refuse)


def test_cli_api_and_python_api_give_the_same_rows(filled: int, engine: Engine, db_url: str) -> None:
    cli = runner.invoke(app, ["intensity", "--year", str(YEAR), "--json"])
    assert cli.exit_code == 0, cli.output
    cli_body = _strict(cli.output)
    with make_client(db_url) as client:
        http = client.get("/metrics/intensity", params={"year": YEAR, "level": "park"})
    assert http.status_code == 200, http.text
    python = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR)).to_dict()
    assert cli_body["rows"] == http.json()["rows"] == json.loads(json.dumps(python["rows"]))
    assert cli_body["details"] == http.json()["details"]
    row = cli_body["rows"][0]
    for key, value in EXPECTED.items():
        assert row[key] == pytest.approx(value, rel=1e-3), key


def test_the_table_names_indicators_with_units_and_says_the_scores_are_an_example(filled: int) -> None:
    out = runner.invoke(app, ["intensity", "--year", str(YEAR)])
    assert out.exit_code == 0, out.output
    assert "综合容积率" in out.output and "万元/公顷" in out.output and "示例" in out.output


def test_meta_lists_unconfirmed_definitions_and_the_example_configuration(filled: int, engine: Engine) -> None:
    meta = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR)).meta
    assert "land_supply_rate_pct" in meta["unconfirmed_definitions"] and "zone_type_rule" in meta["unconfirmed_definitions"]
    assert meta["scores"]["is_example"] is True and "非官方" in meta["scores"]["label"]
    assert meta["vintage"]["buildings"]["year"] == YEAR and meta["vintage"]["land_snapshot"]["year"] == 2023
    assert "TD/T 1029" in meta["procedure"]


def test_type_score_and_rank_per_park(filled: int, engine: Engine) -> None:
    row = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR)).records()[0]
    # industrial 71.4 % > 30 %, residential 10/70 = 14.3 % < 25 % → 工业主导型
    assert row["zone_type"] == "工业主导型" and row["residential_land_share_pct"] == pytest.approx(100 / 7, rel=1e-3)
    # every weighted indicator of 工业主导型 is present; investment at its ideal (10 000) scores 100
    assert row["score_missing"] == [] and row["sub_scores"]["investment_intensity_wan_per_ha"] == pytest.approx(100.0)
    # idle rate 7.14 % against an ideal of 1 % (lower is better) → 1 / 7.14 × 100
    assert row["sub_scores"]["idle_land_rate_pct"] == pytest.approx(1 / (5 / 70 * 100) * 100, rel=1e-3)
    assert 0 < row["intensity_score"] <= 100 and row["rank"] == 1


def test_zone_level_measures_land_of_the_parks_inside_each_zone(filled: int, engine: Engine) -> None:
    insert_zone(engine, "W", "西片", to_4326([rect(-500, -500, 1000, 2000)])[0], ZoneKind.pian)  # x < 500: industrial only
    rows = {r["unit_name"]: r for r in gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR, level="zone")).records()}
    west = rows["西片"]
    assert west["industrial_land_share_pct"] == pytest.approx(100.0, rel=1e-3)
    # park figures apportioned by the park's supplied industrial land in the zone: 40 of its 50 ha
    assert west["investment_intensity_wan_per_ha"] == pytest.approx(0.8 * 500_000 / 50, rel=1e-6)


def test_idle_flag_through_the_cli_changes_the_idle_rate(filled: int, engine: Engine) -> None:
    with engine.connect() as conn:
        no = conn.execute(text("SELECT supervision_no FROM land_parcel WHERE idle_status = 'idle'")).scalar_one()
    out = runner.invoke(app, ["import", "idle", no, "--status", "disposed", "--year", "2023"])
    assert out.exit_code == 0, out.output
    row = gs.answer_intensity(engine, gs.IntensityQuestion(year=YEAR)).records()[0]
    assert row["idle_land_rate_pct"] == pytest.approx(0.0, abs=1e-9)
    assert row["idle_land_disposal_rate_pct"] == pytest.approx(100.0)
    bad = runner.invoke(app, ["import", "idle", "nope", "--status", "idle", "--year", "2023"])
    assert bad.exit_code != 0 and "nope" in str(bad.exception)
