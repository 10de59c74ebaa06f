"""Connections: the database URL from settings, SQLAlchemy engines, a health check."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, text
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
