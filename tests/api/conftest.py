"""Fixtures of the web tests: the sample data on a fresh PostGIS, and an app on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gis_service.api.app import create_app
from gis_service.api.config import ApiSettings
from gis_service.settings import Settings
from tests.api.sample_data import load_web_sample


@pytest.fixture
def sample(engine: Engine) -> dict[str, int]:
    return load_web_sample(engine)


def make_client(db_url: str, **api: object) -> TestClient:
    # the test client calls itself "testserver" (its Host header), the links use it
    app = create_app(Settings(database_url=db_url, allowed_hosts="testserver"), ApiSettings(_env_file=None, **api))  # type: ignore[call-arg]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(db_url: str, sample: dict[str, int]) -> Iterator[TestClient]:
    with make_client(db_url) as c:
        yield c
