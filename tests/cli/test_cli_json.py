"""``--json`` prints strict JSON: a missing value is ``null``, never ``NaN`` or ``Infinity``.

jq and strict parsers refuse ``NaN``/``Infinity``; Python's ``json`` module would silently
accept them, so the output is parsed with ``parse_constant`` raising.  Each command runs on
the sample data; one indicator is ``NaN`` in the database so that the missing-value paths are
taken.  (``gis-service metrics density`` has its own test, tests/metrics/test_cli_density.py.)
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.cli._common import echo_json
from gis_service.ingest import SAMPLE_DATA_DIR, load_sample
from tests.ingest.helpers import box, feature

runner = CliRunner()
CLI = Path(__file__).resolve().parents[2] / "gis_service" / "cli"


def strict_loads(output: str) -> Any:
    """``json.loads`` that refuses NaN, Infinity and -Infinity, as jq does."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(output, parse_constant=refuse)


@pytest.fixture
def loaded(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    load_sample(engine)
    with engine.begin() as conn:  # a figure stored as NaN (numeric allows it): missing, not a number
        conn.execute(text("UPDATE indicator SET value = 'NaN' WHERE id = (SELECT min(id) FROM indicator)"))
    monkeypatch.setenv("GIS_DATABASE_URL", db_url)
    return engine


def _sizhi_text(engine: Engine, code: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT s.raw_text FROM sizhi s JOIN park p ON p.id = s.park_id WHERE p.code = :c"),
                                {"c": code}).scalar_one())


def test_every_json_command_prints_strict_json(loaded: Engine, tmp_path: Path) -> None:
    figures = tmp_path / "figures.csv"
    figures.write_text("园区,年份,产值(万元)\nsj_west,2021,1700000\n", encoding="utf-8")
    blocks = tmp_path / "blocks.geojson"
    blocks.write_text(json.dumps({"type": "FeatureCollection",
                                  "features": [feature(box(121.20, 31.04, 121.23, 31.06), 园区="环大学城科创园")]},
                                 ensure_ascii=False), encoding="utf-8")
    sizhi = _sizhi_text(loaded, "sj_g60_dianzi")
    roads = str(SAMPLE_DATA_DIR / "layers" / "roads.geojson")
    commands = [
        ["qa", "--json"],
        ["db", "status", "--json"],
        ["import", "indicators", str(figures), "--source", "园区年报2021", "--json"],
        ["import", "boundaries", str(blocks), "--park-field", "园区", "--valid-from", "2022-01-01", "--source", "批复",
         "--json"],
        ["audit", "--json", "--limit", "20"],
        ["sizhi", "parse", sizhi],
        ["sizhi", "build", sizhi, "--roads", roads, "--json"],
        ["sizhi", "verify", "sj_g60_dianzi", "--json"],
    ]
    parsed: dict[str, Any] = {}
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        parsed[" ".join(args[:2])] = strict_loads(result.stdout)  # raises on NaN / Infinity
    assert parsed["import indicators"]["inserted"] == 1
    assert parsed["import boundaries"]["inserted"] == 1
    audit = parsed["audit --json"]
    assert audit and {"id", "at", "actor", "action", "table_name"} <= set(audit[0])
    dt.datetime.fromisoformat(audit[0]["at"])  # dates as ISO text
    assert parsed["qa --json"]["checks"] and parsed["db status"]["managed"] is False


def test_echo_json_turns_missing_values_into_null(capsys: pytest.CaptureFixture[str]) -> None:
    @dataclasses.dataclass
    class Row:
        name: str
        value: float

    echo_json({
        "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "np_nan": np.float64("nan"), "np_inf": np.float32("inf"),
        "na": pd.NA, "nat": pd.NaT, "none": None, "decimal_nan": Decimal("NaN"),
        "int": np.int64(3), "float": np.float64(2.5), "bool": np.bool_(True), "decimal": Decimal("1.25"),
        "date": dt.date(2024, 1, 2), "stamp": pd.Timestamp("2024-01-02 03:04:05"), "array": np.array([1.0, np.nan]),
        "tuple": (1, math.nan), "row": Row("西园", math.nan), "series": pd.Series([1.5, None]),
        "frame": pd.DataFrame({"a": [1.0, np.nan]}), "path": Path("/tmp/x"), "中文": "园区",
    })
    out = capsys.readouterr().out
    data = strict_loads(out)
    assert "园区" in out  # UTF-8, not \\u-escaped
    for key in ("nan", "inf", "-inf", "np_nan", "np_inf", "na", "nat", "none", "decimal_nan"):
        assert data[key] is None, key
    assert (data["int"], data["float"], data["bool"], data["decimal"]) == (3, 2.5, True, 1.25)
    assert (data["date"], data["stamp"]) == ("2024-01-02", "2024-01-02T03:04:05")
    assert data["array"] == [1.0, None] and data["tuple"] == [1, None]
    assert data["row"] == {"name": "西园", "value": None}
    assert data["series"] == [1.5, None] and data["frame"] == [{"a": 1.0}, {"a": None}]
    assert data["path"] == "/tmp/x"


def test_cli_modules_print_json_only_through_echo_json() -> None:
    """No command prints JSON on its own (json.dumps to stdout, rich's print_json, pandas' to_json)."""
    offenders = []
    for path in sorted(CLI.glob("*.py")):
        if path.name == "_common.py":  # the helper itself
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "print_json", "to_json"):
                offenders.append(f"{path.name}:{node.lineno} {node.func.attr}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("echo", "print")
                    and any(isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr == "dumps"
                            for a in node.args)):
                offenders.append(f"{path.name}:{node.lineno} {node.func.attr}(json.dumps(...))")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
                    and any(isinstance(a, ast.Call) for a in node.args)):
                offenders.append(f"{path.name}:{node.lineno} print(...)")
    assert offenders == []
