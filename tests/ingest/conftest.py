"""Fixtures of the import tests: a database with the sample data and a GeoJSON writer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine

from gis_service.ingest import load_sample


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The engine on a database holding the sample data (8 parks with 2020 boundaries)."""
    load_sample(engine)
    return engine


@pytest.fixture
def write_geojson(tmp_path: Path) -> Callable[..., Path]:
    def _write(features: list[dict[str, Any]], name: str = "upload.geojson", crs: str | None = None) -> Path:
        doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
        if crs:
            doc["crs"] = {"type": "name", "properties": {"name": crs}}
        path = tmp_path / name
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return path

    return _write


@contextmanager
def sample_with_cli(make_database: Callable[[], str], *commands: list[str]) -> Iterator[tuple[Engine, str, list[str]]]:
    """A fresh database with the sample data, then each ``gis-service`` command run on it as a user
    would (``GIS_DATABASE_URL`` set): the engine, its URL and each command's output."""
    from typer.testing import CliRunner

    from gis_service.cli import app as cli_app

    url = make_database()
    engine = create_engine(url)
    load_sample(engine)
    mp = pytest.MonkeyPatch()
    mp.setenv("GIS_DATABASE_URL", url)
    try:
        outputs = []
        for command in commands:
            result = CliRunner().invoke(cli_app, command)
            assert result.exit_code == 0, f"{command}: {result.output}{result.exception}"
            outputs.append(result.output)
        yield engine, url, outputs
    finally:
        mp.undo()
        engine.dispose()
