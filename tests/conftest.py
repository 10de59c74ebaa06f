"""Test fixtures: a throwaway PostGIS cluster that the suite starts and stops itself.

The cluster is the project's own :class:`LocalCluster` (run under an unprivileged
account when the suite runs as root) in a temporary directory on a free port.  The
schema is created once by the Alembic migrations in a template database; tests that
need an empty schema get a copy of it (``CREATE DATABASE ... TEMPLATE``), which takes
a fraction of a second.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, create_engine

from gis_service.db.cluster import LocalCluster
from gis_service.testing import throwaway_postgis

TEMPLATE_DB = "gis_template"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    """A running PostgreSQL + PostGIS cluster private to this test session."""
    with throwaway_postgis(TEMPLATE_DB, prefix="gis-test-pg-") as cluster:
        yield cluster


_counter = itertools.count()


@pytest.fixture(scope="session")
def make_database(pg_cluster: LocalCluster) -> Callable[[], str]:
    """Factory: a new database with the migrated schema (and no data); returns its URL."""

    def _make() -> str:
        name = f"gis_test_{next(_counter)}"
        admin = psycopg.conninfo.make_conninfo(pg_cluster._dsn("postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
                )
            )
        return pg_cluster.url(name)

    return _make


@pytest.fixture
def db_url(make_database: Callable[[], str]) -> str:
    """URL of a fresh, migrated, empty database for one test."""
    return make_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_engine(db_url)
    yield eng
    eng.dispose()
