"""The sample data on a fresh PostGIS, shared by the report and export tests of a module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine

from gis_service.ingest import load_sample


@pytest.fixture(scope="module")
def sample_engine(make_database: Callable[[], str]) -> Iterator[Engine]:
    engine = create_engine(make_database())
    load_sample(engine)
    yield engine
    engine.dispose()
