"""``gis-service import idle-review`` / ``idle-reviews``: Chinese output, errors as one line and exit status 2."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from gis_service.cli import main
from gis_service.ingest.idle_reviews import idle_reviews
from tests.api.sample_data import load_web_sample


@pytest.fixture
def cli_db(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    load_web_sample(engine)
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    return engine


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_record_then_list_then_replace(cli_db: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["import", "idle-review", "--year", "2023", "--source", "西园认定书", "--park", "test-west",
                         "--actor", "cli:test"], capsys)
    assert code == 0 and "已录入 2023 年闲置土地调查认定(测试西园):西园认定书" in out
    code, out, _ = _run(["import", "idle-review", "--year", "2023", "--source", "西园认定书(正式)", "--section", "二",
                         "--park", "test-west"], capsys)
    assert code == 0 and "已替换" in out
    code, out, _ = _run(["import", "idle-reviews", "--year", "2023"], capsys)
    assert code == 0 and "闲置土地调查认定" in out and "测试西园" in out and "西园认定书(正式)" in out
    assert [r["source_document"] for r in idle_reviews(cli_db)] == ["西园认定书(正式)"]
    code, out, _ = _run(["import", "idle-reviews", "--year", "2020"], capsys)
    assert code == 0 and "未录入闲置土地调查认定(2020 年)" in out


@pytest.mark.parametrize(("args", "named"), [
    (["--year", "2023", "--source", "x", "--park", "nope"], "unknown park code 'nope'"),
    (["--year", "2023", "--source", "  "], "source_document"),
    (["--year", "1800", "--source", "x"], "year"),
])
def test_a_bad_review_exits_2_naming_what_is_wrong(cli_db: Engine, capsys: pytest.CaptureFixture[str], args, named) -> None:  # type: ignore[no-untyped-def]
    code, _, err = _run(["import", "idle-review", *args], capsys)
    assert code == 2 and named in err, err
    assert idle_reviews(cli_db) == []
