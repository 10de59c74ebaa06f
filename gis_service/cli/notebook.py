"""``gis-service notebook``: JupyterLab on the analyst notebooks, with a kernel on this environment.

The database comes first: the managed cluster is started (``GIS_DATABASE_URL`` unset) or the
configured database is checked, so the notebooks' first cell (``gs.connect()``) meets a running,
migrated database.  JupyterLab then replaces this process, bound to 127.0.0.1, with a token
(``--token``, ``JUPYTER_TOKEN``, or a new random one printed in the URL it shows): never without.
The token is handed over in the environment, not on the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path

import typer

from gis_service.cli._common import console, load_settings
from gis_service.db.cluster import cluster_from_settings
from gis_service.db.engine import check_database, database_url, engine_for, schema_problem
from gis_service.errors import ConfigurationError, InputError
from gis_service.settings import Settings, project_root

INSTALL_HINT = "bash scripts/bootstrap.sh --extras notebook"


def register(app: typer.Typer) -> None:
    app.command()(notebook)


def notebook(
    port: int = typer.Option(8888, "--port", help="Port of JupyterLab on 127.0.0.1."),
    token: str | None = typer.Option(
        None, "--token", envvar="JUPYTER_TOKEN", show_envvar=True,
        help="Token the browser must present (default: a new random one, shown in the URL). Never empty.",
    ),
    directory: Path | None = typer.Option(None, "--directory", help="Directory to open (default: notebooks/)."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open a web browser."),
) -> None:
    """Start JupyterLab on notebooks/ (127.0.0.1, token required), after making sure the database is up."""
    if token is not None and not token.strip():
        raise InputError("--token (JUPYTER_TOKEN) is empty: JupyterLab would run code for anyone on this machine")
    root = (directory or _notebooks_dir()).resolve()
    if not root.is_dir():
        raise InputError(f"--directory {root} is not a directory")
    database_ready(load_settings())
    if importlib.util.find_spec("jupyterlab") is None:
        raise ConfigurationError(f"JupyterLab is not installed in {sys.prefix}: run '{INSTALL_HINT}'")
    given = token is not None
    token = token or secrets.token_urlsafe(24)
    env = {**os.environ, "JUPYTER_TOKEN": token}
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--ServerApp.open_browser={browser}",
        # JupyterLab refuses root unless told; as root it runs with the rights the user already has
        *(["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []),
    ]
    # JupyterLab masks a token it did not make itself: say the one made here (yours you know)
    url = f"http://127.0.0.1:{port}/lab" + ("" if given else f"?token={token}")
    console.print(f"JupyterLab on {root}: {url}", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    os.execve(sys.executable, command, env)  # JupyterLab is this process from here: Ctrl-C stops it


def database_ready(settings: Settings) -> None:
    """Start the managed cluster (or reach ``GIS_DATABASE_URL``) and check its schema is the code's.

    Raises :class:`~gis_service.errors.DatabaseError` or :class:`ConfigurationError` naming what to do.
    """
    if settings.uses_managed_cluster:
        cluster = cluster_from_settings(settings)
        verb = "started" if cluster.start() else "running"
        console.print(f"PostGIS cluster {verb}: {cluster.public_url()} ({cluster.pgdata})", highlight=False, soft_wrap=True)
    url = database_url(settings)
    check_database(engine_for(url))
    problem = schema_problem(url)
    if problem is not None:
        raise ConfigurationError(str(problem))


def _notebooks_dir() -> Path:
    root = project_root()
    if root is None:
        raise InputError("the notebooks come with the repository checkout: give --directory DIR")
    return root / "notebooks"
