"""Every command that touches the database says in ONE line what is wrong and what to do, and
exits 2, when the database is not there: never a Python traceback.

The commands are read from the click command tree, so a new command is covered without
editing this file: it runs with no arguments, or with those of :data:`ARGS`, or is listed in
:data:`NO_DATABASE` with the reason it does not need one.  Each runs as a real ``gis-service``
process (``python -m gis_service``) against

(a) ``GIS_DATABASE_URL`` on a port where nothing listens,
(b) the suite's real PostGIS with a wrong password,
(c) a real managed cluster (``GIS_DATA_DIR``) that was created and then stopped, as after a reboot,

and, for a schema behind the code, a database whose migrations are not all applied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from gis_service.cli import app
from gis_service.db import migrate
from gis_service.db.cluster import LocalCluster
from gis_service.ingest import SAMPLE_DATA_DIR, load_sample
from gis_service.testing import free_port

#: commands that do not need the database, and why
NO_DATABASE: dict[str, str] = {
    "serve": "runs without the database: every request then answers 503 with Retry-After, /health says why",
    "db start": "starts the managed cluster (refused in one line when GIS_DATABASE_URL is set)",
    "db stop": "stops the managed cluster (refused in one line when GIS_DATABASE_URL is set)",
    "db url": "prints the URL without its password and where the password is: never connects",
    "sizhi parse": "parses a text",
    "sizhi format": "formats a text",
    "sizhi build": "builds a polygon from a text and a roads file",
}
#: commands that touch the database, but not in one of the situations, and why
NOT_IN: dict[str, dict[str, str]] = {
    "managed_stopped": {"db status": "reports the stopped cluster (running: False) and exits 1: that is its answer",
                        "notebook": "starts the managed cluster first, as db start does"},
}

_SQUARE = {"type": "Polygon", "coordinates": [[[121.20, 31.04], [121.21, 31.04], [121.21, 31.05], [121.20, 31.05],
                                               [121.20, 31.04]]]}
_LAND = {"DLBM": "0601", "DLMC": "工业用地", "电子监管号": "3101172020B00001", "土地用途": "工业用地",
         "合同签订日期": "2020-05-01", "GYZT": "已供应"}


def _files(root: Path) -> dict[str, str]:
    def geojson(name: str, properties: dict[str, object]) -> str:
        path = root / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": properties, "geometry": _SQUARE}]}, ensure_ascii=False), encoding="utf-8")
        return str(path)

    (root / "figures.csv").write_text("园区,年份,产值(万元)\nsj_west,2021,1700000\n", encoding="utf-8")
    (root / "old.dump").write_bytes(b"PGDMP")
    return {
        "blocks": geojson("blocks.geojson", {"code": "sj_west"}),
        "land": geojson("land.geojson", _LAND),
        "buildings": geojson("buildings.geojson", {"编号": "B1", "建筑面积": 1200, "层数": 3}),
        "figures": str(root / "figures.csv"),
        "dump": str(root / "old.dump"),
        "roads": str(SAMPLE_DATA_DIR / "layers" / "roads.geojson"),
        "out": str(root / "out"),
    }


#: arguments of the commands that need some (given the files of :func:`_files`)
ARGS: dict[str, Callable[[dict[str, str]], list[str]]] = {
    "backup": lambda f: [f["out"] + ".dump"],
    "restore": lambda f: [f["dump"], "--yes"],
    "whatif": lambda f: ["--change", "sj_west:output=+10%"],
    "db downgrade": lambda f: ["0003"],
    "sizhi verify": lambda f: ["sj_west"],
    "keys create": lambda f: ["someone", "--role", "viewer"],
    "keys revoke": lambda f: ["1"],
    "report park": lambda f: ["sj_west", "--out", f["out"]],
    "report district": lambda f: ["--out", f["out"]],
    "export gpkg": lambda f: [f["out"] + ".gpkg"],
    "export parquet": lambda f: [f["out"] + "-parquet"],
    "import boundaries": lambda f: [f["blocks"], "--valid-from", "2024-01-01", "--source", "批复"],
    "import layer": lambda f: ["roads", f["roads"]],
    "import indicators": lambda f: [f["figures"]],
    "import landuse": lambda f: [f["land"], "--year", "2020", "--source", "三调"],
    "import supply": lambda f: [f["land"], "--source", "供地"],
    "import parcels": lambda f: [f["land"], "--source", "台账"],
    "import buildings": lambda f: [f["buildings"], "--year", "2023", "--source", "建筑普查"],
    "import idle": lambda f: ["3101172020B00001", "--status", "idle", "--year", "2022"],
    "import idle-review": lambda f: ["--year", "2023", "--source", "闲置土地调查认定"],
    "intensity": lambda f: ["--year", "2023"],
    "demo land": lambda f: ["--directory", f["out"]],
    "demo buildings": lambda f: ["--directory", f["out"]],
}


def command_paths() -> list[str]:
    """Every leaf command of the ``gis-service`` tree, e.g. ``"import boundaries"``."""
    paths: list[str] = []

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            paths.append(" ".join(path))
            return
        for name, child in children.items():
            walk(child, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def database_commands() -> list[str]:
    return [path for path in command_paths() if path not in NO_DATABASE]


def test_every_command_is_either_run_here_or_said_not_to_need_the_database() -> None:
    paths = command_paths()
    assert len(paths) > 25 and "density" in paths and "import landuse" in paths
    assert set(NO_DATABASE) <= set(paths) and set(ARGS) <= set(paths), "a listed command no longer exists"
    tree = typer.main.get_command(app)
    for path in database_commands():
        command = tree
        for name in path.split():
            command = command.commands[name]  # type: ignore[attr-defined]
        required = [p.name for p in command.params if p.required]
        assert not required or path in ARGS, f"{path} needs {required}: give its arguments in ARGS"


def gis(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GIS_", "PG"))}
    full.update(env)
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "gis_service", *args], capture_output=True, text=True, env=full,
                          cwd=cwd, timeout=300, check=False)


def run_all(situation: str, env: dict[str, str], tmp_path: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run every database command (two at a time) in its own directory."""
    files = _files(tmp_path)
    skip = NOT_IN.get(situation, {})

    def one(path: str) -> subprocess.CompletedProcess[str]:
        cwd = tmp_path / path.replace(" ", "_")
        cwd.mkdir()
        return gis([*path.split(), *ARGS.get(path, lambda f: [])(files)], env, cwd)

    commands = [p for p in database_commands() if p not in skip]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(commands, pool.map(one, commands), strict=True))


def assert_one_line(results: dict[str, subprocess.CompletedProcess[str]], *advice: str) -> None:
    failures = []
    for path, out in results.items():
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        ok = (out.returncode == 2 and len(lines) == 1 and "Traceback" not in out.stderr
              and all(a in out.stderr for a in advice))
        if not ok:
            failures.append(f"{path}: exit {out.returncode}, stderr:\n{out.stderr[-1500:]}")
    assert not failures, f"{len(failures)} of {len(results)} commands:\n" + "\n".join(failures)


def test_nothing_listens_on_the_port(tmp_path: Path) -> None:
    port = free_port()
    results = run_all("refused", {"GIS_DATABASE_URL": f"postgresql://gis:secret@127.0.0.1:{port}/gis"}, tmp_path)
    assert_one_line(results, f"127.0.0.1:{port}", "connection refused", "GIS_DATABASE_URL")
    assert all("secret" not in out.stderr for out in results.values())


def test_wrong_password(db_url: str, tmp_path: Path) -> None:
    url = make_url(db_url).set(password="not-the-password")
    results = run_all("wrong_password", {"GIS_DATABASE_URL": url.render_as_string(hide_password=False)}, tmp_path)
    assert_one_line(results, f"authentication failed for user gis at 127.0.0.1:{url.port}", "GIS_DATABASE_URL")
    assert all("not-the-password" not in out.stderr for out in results.values())


@pytest.fixture(scope="module")
def stopped_cluster() -> Iterator[dict[str, str]]:
    """A managed cluster made by ``gis-service db start`` and stopped again, as after a reboot."""
    # Not under pytest's tmp_path: that is private to root, and the cluster runs as an unprivileged
    # account when the suite runs as root.
    root = Path(tempfile.mkdtemp(prefix="gis-stopped-"))
    root.chmod(0o755)
    env = {"GIS_DATA_DIR": str(root / "data"), "GIS_PG_PORT": str(free_port())}
    try:
        assert gis(["db", "start"], env, root).returncode == 0
        assert gis(["db", "stop"], env, root).returncode == 0
        yield env
    finally:
        LocalCluster(root / "data" / "pg").destroy()
        shutil.rmtree(root, ignore_errors=True)


def test_managed_cluster_stopped(stopped_cluster: dict[str, str], tmp_path: Path) -> None:
    results = run_all("managed_stopped", stopped_cluster, tmp_path)
    assert_one_line(results, "the local database is not running: gis-service db start")


def test_unknown_database(db_url: str, tmp_path: Path) -> None:
    url = make_url(db_url).set(database="no_such_db")
    out = gis(["qa"], {"GIS_DATABASE_URL": url.render_as_string(hide_password=False)}, tmp_path)
    assert_one_line({"qa": out}, 'database "no_such_db" does not exist', "GIS_DATABASE_URL")


def test_schema_behind_the_code(db_url: str, tmp_path: Path) -> None:
    load_sample(create_engine(db_url, poolclass=NullPool))
    migrate.downgrade(db_url, "0003")  # as if the code was updated and `db migrate` forgotten
    env = {"GIS_DATABASE_URL": db_url}
    head = migrate.head_revision()
    behind = {path: gis([path], env, tmp_path) for path in ("density", "qa")}
    behind["import landuse"] = gis(["import", "landuse", *ARGS["import landuse"](_files(tmp_path))], env, tmp_path)
    assert_one_line(behind, f"the database schema is at revision 0003, the code needs {head}: run gis-service db migrate")
    migrate.downgrade(db_url, "base")
    empty = gis(["qa"], env, tmp_path)
    assert_one_line({"qa": empty}, f"the code needs {head}: run gis-service db migrate")
