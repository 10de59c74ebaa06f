"""Connections: the database URL from settings, SQLAlchemy engines, a health check, and
:func:`database_problem`, what a failure to reach a usable database means and what to do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import psycopg
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import SQLAlchemyError

from gis_service.db.cluster import cluster_from_settings
from gis_service.errors import DatabaseError
from gis_service.settings import Settings


def database_url(settings: Settings) -> str:
    """``GIS_DATABASE_URL`` when set, otherwise the managed local cluster's URL."""
    if settings.database_url:
        return _with_psycopg_driver(settings.database_url)
    return cluster_from_settings(settings).url()


def _with_psycopg_driver(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One pooled engine per URL (pre-ping so a restarted database is reconnected)."""
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(settings: Settings) -> Engine:
    return engine_for(database_url(settings))


def check_database(engine: Engine) -> dict[str, str]:
    """Connect and report the server and PostGIS versions; raises :class:`DatabaseError`."""
    try:
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar_one()
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database unreachable: {exc.__class__.__name__}") from exc
    return {"postgresql": str(pg), "postgis": str(postgis)}


# -- what a database failure means ---------------------------------------------------------
@dataclass(frozen=True)
class DatabaseProblem:
    """Why the database cannot be used (``cause``) and what to do about it (``advice``).

    Neither holds a password, an SQL statement or a driver traceback: the CLI prints
    ``"<cause>: <advice>"`` as its one line; the API may log it (its clients only hear 503).
    """

    cause: str
    advice: str

    def __str__(self) -> str:
        return f"{self.cause}: {self.advice}"


#: SQLSTATEs of an SQL error about a missing table, column, function, type or schema object:
#: on a database whose migrations are behind the code, this is what a query meets
_MISSING_OBJECT_SQLSTATES = frozenset({"42P01", "42703", "42883", "42704", "3F000"})


def database_problem(exc: BaseException, settings: Settings) -> DatabaseProblem | None:
    """What ``exc`` (or an exception it was raised from) says about the database, or ``None``.

    - a connection that could not be made (refused, no such socket, unknown host, timed out,
      authentication failed, unknown user or database, the server starting or shutting down),
      said with the address and user from the settings and the fix;
    - a connection lost during the command (an outage): retry once the database is back;
    - an SQL error about a missing table or column on a database whose schema revision is
      not the code's (:func:`schema_problem`): run the migrations.

    Anything else (a value the database refused, a fault of the service) is ``None``.
    """
    for error in _chain(exc):
        if isinstance(error, sa_exc.DBAPIError):
            problem = _driver_problem(error, settings)
            if problem is not None:
                return problem
        elif isinstance(error, psycopg.OperationalError):  # psycopg used directly (the managed cluster)
            return connection_problem(error, settings)
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from (``raise ... from``) or during."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _driver_problem(error: sa_exc.DBAPIError, settings: Settings) -> DatabaseProblem | None:
    if (getattr(error.orig, "sqlstate", None) or "") in _MISSING_OBJECT_SQLSTATES:
        return schema_problem(database_url(settings))
    if is_outage(error):
        return connection_problem(error, settings)
    return None


#: SQLSTATE classes that psycopg raises as OperationalError but that the input causes
#: (54: program limit exceeded, e.g. an index row larger than a page)
INPUT_SQLSTATE_CLASSES = frozenset({"54"})


def sqlstate_class(exc: sa_exc.DBAPIError) -> str:
    return (getattr(exc.orig, "sqlstate", None) or "")[:2]


def is_outage(exc: sa_exc.DBAPIError) -> bool:
    """The database is unreachable or lost the connection (retry later), not a value it refused
    nor an SQL error of the service.  The one test of it: imports, CLI."""
    if sqlstate_class(exc) in INPUT_SQLSTATE_CLASSES:
        return False
    return bool(exc.connection_invalidated) or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ) or isinstance(exc.orig, psycopg.OperationalError | psycopg.InterfaceError)


def connection_problem(error: BaseException, settings: Settings) -> DatabaseProblem:
    """Cause and advice of a failed or lost connection (a psycopg/SQLAlchemy OperationalError).

    Read from libpq's message (connection failures carry no SQLSTATE); the address, user and
    database named are those of the settings, never the password.
    """
    orig = getattr(error, "orig", None) or error
    message = " ".join(str(orig).split())
    lowered = message.lower()
    managed = settings.uses_managed_cluster
    url = make_url(database_url(settings))
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    fix_url = "the managed cluster's settings (GIS_PG_*)" if managed else "GIS_DATABASE_URL"
    if "connection refused" in lowered or ("no such file or directory" in lowered and "socket" in lowered):
        if managed:
            return DatabaseProblem("the local database is not running", "gis-service db start")
        return DatabaseProblem(f"no database server at {where} (connection refused)",
                               "start it, or fix the host and port in GIS_DATABASE_URL")
    if "authentication failed" in lowered or "no password supplied" in lowered:
        return DatabaseProblem(f"authentication failed for user {url.username} at {where}",
                               f"check the user and password in {fix_url}")
    if "role" in lowered and "does not exist" in lowered:
        return DatabaseProblem(f"user {url.username} does not exist at {where}", f"check the user in {fix_url}")
    if "database" in lowered and "does not exist" in lowered:
        advice = "gis-service db start (it creates the database)" if managed else \
            "create it, or fix the database name in GIS_DATABASE_URL"
        return DatabaseProblem(f'database "{url.database}" does not exist at {where}', advice)
    if "translate host name" in lowered or "name or service not known" in lowered:
        return DatabaseProblem(f"unknown database host {url.host}", f"fix the host in {fix_url}")
    if "timeout expired" in lowered or "timed out" in lowered:
        return DatabaseProblem(f"no answer from the database at {where} (timed out)",
                               "check that the server runs and that the network lets the port through")
    if "starting up" in lowered or "shutting down" in lowered or "recovery mode" in lowered:
        state = "starting up" if "starting up" in lowered else "shutting down"
        return DatabaseProblem(f"the database at {where} is {state}", "retry in a moment")
    if "too many" in lowered and "connections" in lowered:
        return DatabaseProblem(f"the database at {where} accepts no more connections",
                               "retry later, or raise max_connections")
    if getattr(error, "statement", None) is None:  # failed while connecting, for another reason
        return DatabaseProblem(f"cannot connect to the database at {where} ({type(orig).__name__})",
                               f"check that it runs and {fix_url}")
    return DatabaseProblem(f"the connection to the database at {where} was lost ({type(orig).__name__})",
                           "nothing was half-written (one transaction); retry once the database is back")


def schema_problem(url: str) -> DatabaseProblem | None:
    """The schema revision of the database at ``url`` when it is not the code's, else ``None``."""
    from gis_service.db import migrate

    try:
        current = migrate.current_revision(url)
    except SQLAlchemyError:
        return None
    head = migrate.head_revision()
    if current == head:
        return None
    if current is not None and not _known_revision(current):
        return DatabaseProblem(f"the database schema is at revision {current}, newer than this code ({head})",
                               "update gis-service")
    at = f"revision {current}" if current else "no revision (no migration applied)"
    return DatabaseProblem(f"the database schema is at {at}, the code needs {head}", "run gis-service db migrate")


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from gis_service.db import migrate

    try:
        return ScriptDirectory.from_config(migrate.alembic_config("postgresql://")).get_revision(revision) is not None
    except CommandError:
        return False
