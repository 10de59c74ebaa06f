"""``gis-service db …``: the managed local PostGIS and the schema migrations."""

from __future__ import annotations

import typer

from sqlalchemy.engine import URL, make_url

from gis_service.cli._common import console, echo_json, err_console, load_settings
from gis_service.db import migrate as migrations
from gis_service.db.cluster import cluster_from_settings
from gis_service.db.engine import check_database, database_url, engine_for
from gis_service.errors import ConfigurationError

app = typer.Typer(help="Local PostGIS cluster and schema migrations.", no_args_is_help=True)


def _managed_cluster():  # type: ignore[no-untyped-def]
    settings = load_settings()
    if not settings.uses_managed_cluster:
        raise ConfigurationError(
            "GIS_DATABASE_URL is set, so the managed local cluster is not used; "
            "unset it to manage a local PostGIS"
        )
    return cluster_from_settings(settings)


@app.command()
def start() -> None:
    """Create (once) and start the private PostgreSQL + PostGIS cluster under GIS_DATA_DIR."""
    cluster = _managed_cluster()
    started = cluster.start()
    verb = "started" if started else "already running"
    console.print(f"PostGIS cluster {verb}: {cluster.host}:{cluster.port}/{cluster.database} ({cluster.pgdata})")


@app.command()
def stop() -> None:
    """Stop the managed cluster (its data is kept)."""
    cluster = _managed_cluster()
    stopped = cluster.stop()
    console.print("PostGIS cluster stopped" if stopped else "PostGIS cluster was not running")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show whether the managed cluster exists and runs, or check GIS_DATABASE_URL."""
    settings = load_settings()
    if settings.uses_managed_cluster:
        cluster = cluster_from_settings(settings)
        st = cluster.status()
        info: dict[str, object] = {
            "managed": True,
            "initialised": st.initialised,
            "running": st.running,
            "address": f"{st.host}:{st.port}",
            "database": st.database,
            "data_dir": str(st.data_dir),
            "pid": st.pid,
            "url": cluster.public_url(),
            "password_file": str(cluster.password_file),
        }
    else:
        info = {"managed": False, **check_database(engine_for(database_url(settings)))}
    if as_json:
        echo_json(info)
        return
    for key, value in info.items():
        console.print(f"[bold]{key}[/]: {value}")
    if info.get("managed") and not info.get("running"):
        raise typer.Exit(code=1)


@app.command()
def url(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print the database URL without its password, for other tools (psql, QGIS); say where the password is."""
    settings = load_settings()
    if settings.uses_managed_cluster:
        cluster = cluster_from_settings(settings)
        info: dict[str, object] = {
            "managed": True, "url": cluster.public_url(), "password_file": str(cluster.password_file),
        }
        where = f"password: in {cluster.password_file} (readable by its owner only)"
        if not cluster.initialised:
            where += "; the cluster is not created yet: run 'gis-service db start'"
    else:
        given = make_url(str(settings.database_url))
        bare = URL.create("postgresql", given.username, None, given.host, given.port, given.database, given.query)
        info = {"managed": False, "url": bare.render_as_string(hide_password=False), "password_file": None}
        where = "password: the one in GIS_DATABASE_URL (not printed)"
    if as_json:
        echo_json(info)
        return
    typer.echo(info["url"])  # stdout holds the URL alone, for $(gis-service db url)
    err_console.print(where, highlight=False, soft_wrap=True)


@app.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the schema to REVISION (default: head) with the Alembic migrations."""
    url = database_url(load_settings())
    migrations.upgrade(url, revision)
    console.print(f"schema at revision {migrations.current_revision(url)}")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, 'base' drops everything.")) -> None:
    """Downgrade the schema to REVISION."""
    url = database_url(load_settings())
    migrations.downgrade(url, revision)
    console.print(f"schema at revision {migrations.current_revision(url)}")
