"""Fixtures of the import tests: a database with the sample data and a GeoJSON writer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

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
