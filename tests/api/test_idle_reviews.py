"""``POST /land/idle-reviews`` and ``GET /land/idle-reviews``: the same function and rows as the CLI and Python."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.ingest.idle_reviews import idle_reviews
from tests.api.writes_support import auth, make_keys

runner = CliRunner()


def test_reviews_posted_are_listed_alike_by_the_api_the_cli_and_python(
    client: TestClient, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = make_keys(engine)
    for body in ({"year": 2022, "source_document": "全区闲置土地调查认定 2022"},
                 {"year": 2023, "park_code": "test-west", "source_document": "西园认定书", "source_section": "第三条"}):
        r = client.post("/land/idle-reviews", json=body, headers=auth(keys["analyst"]))
        assert r.status_code == 200, r.text
        assert r.json()["source_document"] == body["source_document"] and r.json()["replaced"] is False
    http = client.get("/land/idle-reviews").json()
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    cli = runner.invoke(app, ["import", "idle-reviews", "--json"])
    assert cli.exit_code == 0, cli.output
    assert http == json.loads(cli.output) == json.loads(json.dumps(idle_reviews(engine)))
    assert [(r["year"], r["park_code"], r["scope_zh"]) for r in http] == [(2022, None, "全区"), (2023, "test-west", "测试西园")]
    only = client.get("/land/idle-reviews", params={"year": 2023}).json()
    assert [r["source_section"] for r in only] == ["第三条"]


@pytest.mark.parametrize(("body", "named"), [
    ({"year": 2023, "park_code": "nope", "source_document": "x"}, "nope"),
    ({"year": 2023, "source_document": "   "}, "source_document"),
    ({"year": 2023, "source_document": ""}, "source_document"),
    ({"year": 1800, "source_document": "x"}, "year"),
    ({"year": 2023, "source_document": "x" * 501}, "source_document"),
])
def test_a_bad_review_is_a_422_naming_what_is_wrong(client: TestClient, engine: Engine, body, named) -> None:  # type: ignore[no-untyped-def]
    keys = make_keys(engine)
    r = client.post("/land/idle-reviews", json=body, headers=auth(keys["admin"]))
    assert r.status_code == 422 and named in r.text, r.text
    assert idle_reviews(engine) == []
