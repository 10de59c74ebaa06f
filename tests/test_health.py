"""The health endpoint reports the database's state honestly."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gis_service.api.app import create_app
from gis_service.settings import Settings
from gis_service.testing import free_port
from tests.api.conftest import sample  # noqa: F401  (pytest fixture)
from tests.api.writes_support import make_keys


def test_health_ok_against_real_postgis_versions_for_admins_only(db_url: str, engine: Engine, sample: dict[str, int]) -> None:
    keys = make_keys(engine)
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        anonymous = client.get("/health")
        viewer = client.get("/health", headers={"X-API-Key": keys["viewer"] or ""})
        admin = client.get("/health", headers={"X-API-Key": keys["admin"] or ""})
    assert anonymous.status_code == viewer.status_code == admin.status_code == 200
    assert anonymous.json() == viewer.json() == {"status": "ok"}, "versions help an attacker: admins only"
    body = admin.json()
    assert body["status"] == "ok" and body["postgis"].startswith("3") and body["version"]


def test_health_503_with_retry_after_when_database_is_unreachable() -> None:
    url = f"postgresql+psycopg://gis:x@127.0.0.1:{free_port()}/none?connect_timeout=2"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["status"] == "unavailable"
    assert "x@" not in response.text, "no connection details leak to the client"
