"""The ``gis-service`` command as a user runs it: help, errors, and the managed-cluster path
from ``db start`` to a served health check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gis_service.db.migrate import head_revision

from gis_service.testing import free_port


def gis(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gis_service", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout,
    )


def test_help_lists_command_groups() -> None:
    out = gis("--help")
    assert out.returncode == 0
    for command in ("db", "serve"):
        assert command in out.stdout
    db_help = gis("db", "--help").stdout
    for command in ("start", "stop", "status", "migrate"):
        assert command in db_help


def test_db_start_without_binaries_names_the_package(tmp_path: Path) -> None:
    out = gis("db", "start", env={"GIS_DATA_DIR": str(tmp_path), "GIS_PG_BINDIR": str(tmp_path / "none")})
    assert out.returncode == 2
    assert "postgresql" in out.stderr and "apt-get install" in out.stderr
    assert "Traceback" not in out.stderr


def test_db_start_refused_when_external_database_configured(tmp_path: Path) -> None:
    out = gis("db", "start", env={"GIS_DATABASE_URL": "postgresql://x@127.0.0.1:1/db"})
    assert out.returncode == 2
    assert "GIS_DATABASE_URL is set" in out.stderr


def test_unknown_command_is_a_usage_error() -> None:
    out = gis("frobnicate")
    assert out.returncode == 2
    assert "No such command" in out.stderr


@pytest.fixture
def managed_env() -> Iterator[dict[str, str]]:
    # Not under pytest's tmp_path: that is private to root, and the cluster runs as an
    # unprivileged account when the suite runs as root.
    root = Path(tempfile.mkdtemp(prefix="gis-cli-"))
    root.chmod(0o755)
    env = {"GIS_DATA_DIR": str(root / "data"), "GIS_PG_PORT": str(free_port())}
    yield env
    gis("db", "stop", env=env)
    shutil.rmtree(root, ignore_errors=True)


def test_managed_cluster_to_served_health_check(managed_env: dict[str, str]) -> None:
    first = gis("db", "start", env=managed_env)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    again = gis("db", "start", env=managed_env)
    assert again.returncode == 0 and "already running" in again.stdout

    status = gis("db", "status", "--json", env=managed_env)
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert info["running"] is True and info["initialised"] is True

    migrated = gis("db", "migrate", env=managed_env)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip().endswith(f"revision {head_revision()}")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gis_service", "serve", "--port", str(port)],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("GIS_")}, **managed_env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_serving(server)
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
        assert response.status_code == 200, response.text
        # 200 only when the database answers; the versions are for admin keys (tests/security)
        assert response.json() == {"status": "ok"}
    finally:
        server.terminate()
        server.wait(timeout=10)

    stopped = gis("db", "stop", env=managed_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    down = gis("db", "status", env=managed_env)
    assert down.returncode == 1, "status exits non-zero when the managed cluster is not running"


def _wait_until_serving(server: subprocess.Popen[bytes]) -> None:
    """Read the server's log until uvicorn says it is listening (after the app's startup), or the
    process ends: an event, not a deadline."""
    assert server.stdout is not None
    log = []
    for raw in server.stdout:
        line = raw.decode(errors="replace")
        log.append(line)
        if "Uvicorn running on" in line:
            return
    raise AssertionError(f"gis-service serve exited ({server.wait()}) before serving:\n{''.join(log)}")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to another account")
def test_unreachable_data_dir_is_named(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    out = gis("db", "start", env={"GIS_DATA_DIR": str(private / "data"), "GIS_PG_PORT": str(free_port())})
    assert out.returncode == 2
    assert "cannot reach" in out.stderr and "GIS_DATA_DIR" in out.stderr


# -- where the data lives: the same answer from any working directory ---------------------------
ROOT = Path(__file__).resolve().parents[2]


def gis_in(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``gis-service ARGS`` run from ``cwd``, with this checkout's package (as an editable install)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gis_service", *args], capture_output=True, text=True, env=full_env, cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("data_dir", [None, "relative/data"], ids=["default", "relative"])
def test_data_dir_is_the_same_from_any_directory(data_dir: str | None, tmp_path: Path) -> None:
    env = {"GIS_PG_PORT": str(free_port())}
    if data_dir is not None:
        env["GIS_DATA_DIR"] = data_dir
    answers = []
    for cwd in (ROOT, ROOT / "notebooks", tmp_path):
        status = gis_in(cwd, "db", "status", "--json", env=env)
        url = gis_in(cwd, "db", "url", env=env)
        assert url.returncode == 0, url.stderr
        answers.append((json.loads(status.stdout)["data_dir"], url.stdout, url.stderr))
    assert answers[0] == answers[1] == answers[2]
    # a checkout keeps its data in the checkout; a relative GIS_DATA_DIR is taken from there too
    expected = ROOT / (data_dir or ".gisdata") / "pg"
    assert answers[0][0] == str(expected / "data")
    assert str(expected / "password") in answers[0][2]


def test_db_url_names_the_password_file_and_never_prints_the_password(managed_env: dict[str, str]) -> None:
    assert gis("db", "start", env=managed_env).returncode == 0
    out = gis("db", "url", env=managed_env)
    assert out.returncode == 0, out.stderr
    password_file = Path(managed_env["GIS_DATA_DIR"]) / "pg" / "password"
    password = password_file.read_text().strip()
    url = out.stdout.strip()
    assert url == f"postgresql://gis@127.0.0.1:{managed_env['GIS_PG_PORT']}/songjiang"
    assert password not in out.stdout + out.stderr
    assert str(password_file) in out.stderr
    as_json = json.loads(gis("db", "url", "--json", env=managed_env).stdout)
    assert as_json == {"managed": True, "url": url, "password_file": str(password_file)}
    # what it prints is usable as is by another client, with the password from the file
    import psycopg

    with psycopg.connect(url, password=password) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()


def test_db_url_of_an_external_database_hides_its_password() -> None:
    out = gis("db", "url", env={"GIS_DATABASE_URL": "postgresql://ana:s3cret@dbhost:5432/songjiang"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "postgresql://ana@dbhost:5432/songjiang"
    assert "s3cret" not in out.stdout + out.stderr and "GIS_DATABASE_URL" in out.stderr


def test_installed_package_keeps_its_data_in_the_user_data_directory(tmp_path: Path) -> None:
    """Outside a checkout (no pyproject.toml beside the package) the data goes to
    $XDG_DATA_HOME/gis-service, and a relative GIS_DATA_DIR is taken from there, not from the cwd."""
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "gis_service", site / "gis_service", ignore=shutil.ignore_patterns("__pycache__"))
    xdg = tmp_path / "xdg"
    show = "from gis_service.settings import get_settings; print(get_settings().data_dir)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env.update(PYTHONPATH=str(site), XDG_DATA_HOME=str(xdg))

    def data_dir(**extra: str) -> str:
        out = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True,
                             env={**env, **extra}, cwd=tmp_path, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert data_dir() == str(xdg / "gis-service")
    assert data_dir(GIS_DATA_DIR="clusters/a") == str(xdg / "gis-service" / "clusters" / "a")
    assert data_dir(GIS_DATA_DIR=str(tmp_path / "abs")) == str(tmp_path / "abs")
