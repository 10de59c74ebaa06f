"""``gis-service sizhi verify PARK``: a stored park's boundary against its stored 四至."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.errors import NotFoundError
from gis_service.ingest import load_sample
from gis_service.sizhi import verify_stored_park

runner = CliRunner()


@pytest.fixture
def sample(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    load_sample(engine)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    return engine


def test_stored_block_passes_and_shifted_block_fails_on_east_and_west(sample: Engine) -> None:
    park_id, report = verify_stored_park(sample, "sj_g60_dianzi")  # by code
    assert report.status == "pass"
    assert verify_stored_park(sample, "G60电子信息国际创新创业园")[0] == park_id  # by name
    # move the boundary in force 500 m east (0.0053° of longitude at 31°N)
    with sample.begin() as conn:
        conn.execute(text("UPDATE park_boundary SET geom = ST_Translate(geom, 0.0053, 0) WHERE park_id = :p"),
                     {"p": park_id})
    _, shifted = verify_stored_park(sample, park_id)
    sides = {side: rep.status for part in shifted.parts for side, rep in part.sides.items()}
    assert shifted.status == "fail"
    assert sides["east"] == "fail" and sides["west"] == "fail"


def test_cli_verify_park_from_the_database(sample: Engine) -> None:
    ok = runner.invoke(app, ["sizhi", "verify", "sj_g60_dianzi", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["status"] == "pass"
    unknown = runner.invoke(app, ["sizhi", "verify", "no_such_park"])
    assert unknown.exit_code != 0


def test_unknown_park_is_named(sample: Engine) -> None:
    with pytest.raises(NotFoundError, match="no_such_park"):
        verify_stored_park(sample, "no_such_park")
