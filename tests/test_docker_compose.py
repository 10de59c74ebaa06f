"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here):
the compose file parses, its services are wired as documented, and the app command
uses commands that the CLI really has."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from typer.main import get_command

from gis_service.cli import app
from gis_service.db.engine import _with_psycopg_driver

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _cli_paths() -> set[tuple[str, ...]]:
    """Every command path of the CLI, e.g. ('db', 'migrate'), ('serve',)."""
    root = get_command(app)
    paths: set[tuple[str, ...]] = set()
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        paths.add((name,))
        for sub in getattr(cmd, "commands", {}):
            paths.add((name, sub))
    return paths


def test_services_image_volume_and_healthcheck() -> None:
    compose = _compose()
    db = compose["services"]["db"]
    assert db["image"].startswith("postgis/postgis:")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert set(compose["volumes"]) >= {v.split(":")[0] for v in db["volumes"]}


def test_app_waits_for_healthy_database_and_points_at_it() -> None:
    services = _compose()["services"]
    app_service = services["app"]
    assert app_service["build"] == "."
    assert app_service["depends_on"]["db"]["condition"] == "service_healthy"
    url = app_service["environment"]["GIS_DATABASE_URL"]
    assert _with_psycopg_driver(url).startswith("postgresql+psycopg://")
    assert "@db:5432/" + services["db"]["environment"]["POSTGRES_DB"] in url


def test_app_command_uses_real_cli_commands() -> None:
    command = _compose()["services"]["app"]["command"]
    script = command[-1]
    steps = [shlex.split(step) for step in script.split("&&")]
    known = _cli_paths()
    for argv in steps:
        assert argv[0] == "gis-service"
        words = tuple(a for a in argv[1:] if not a.startswith("-"))
        assert words[:2] in known or words[:1] in known, f"unknown CLI command in compose: {argv}"
    assert steps[-1][1] == "serve" and "0.0.0.0" in steps[-1]


def test_dockerfile_builds_the_package_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in text
    assert "USER gis" in text
    assert "gis-service serve" in text


def test_dockerfile_points_load_sample_at_the_copied_data() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "COPY data ./data" in text and "GIS_SAMPLE_DATA_DIR=/app/data" in text
