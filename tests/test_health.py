"""The health endpoint reports the database's state honestly."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis_service.api.app import create_app
from gis_service.settings import Settings
from gis_service.testing import free_port


def test_health_ok_against_real_postgis(db_url: str) -> None:
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        response = client.get("/health")
    assert response.status_code == 200
    # the versions go to an admin key only (tests/security/test_headers.py)
    assert response.json() == {"status": "ok"}


def test_health_503_with_retry_after_when_database_is_unreachable() -> None:
    url = f"postgresql+psycopg://gis:x@127.0.0.1:{free_port()}/none?connect_timeout=2"
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json()["status"] == "unavailable"
    assert "x@" not in response.text, "no connection details leak to the client"
