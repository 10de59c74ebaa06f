"""All runtime configuration, read from the environment (prefix ``GIS_``) in one place.

Nothing reads the environment at import time: call :func:`get_settings` (or build
``Settings(...)`` explicitly in tests) and pass the object down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings.

    Environment variables are the field names upper-cased with the ``GIS_`` prefix,
    e.g. ``GIS_DATABASE_URL``, ``GIS_DATA_DIR``, ``GIS_PORT``.
    """

    model_config = SettingsConfigDict(env_prefix="GIS_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of an existing PostGIS (postgresql+psycopg://...). "
        "When unset, the managed local cluster under data_dir is used.",
    )
    data_dir: Path = Field(
        default=Path(".gisdata"),
        description="Directory for the managed PostgreSQL cluster, caches and logs.",
    )
    sample_data_dir: Path | None = Field(
        default=None,
        description="Directory laid out like the repository's data/ for 'load-sample' "
        "(default: the repository's data/; set it when the package is installed elsewhere).",
    )
    # Managed local cluster (only used when database_url is unset).
    pg_bindir: Path | None = Field(
        default=None, description="Directory of initdb/pg_ctl/postgres; found automatically when unset."
    )
    pg_host: str = "127.0.0.1"
    pg_port: int = 54329
    pg_database: str = "songjiang"
    pg_user: str = "gis"
    pg_os_user: str = Field(
        default="postgres",
        description="Unprivileged system account that runs the cluster when the service runs as root "
        "(PostgreSQL refuses to run as root). Created if missing.",
    )
    # HTTP service.
    host: str = "127.0.0.1"
    port: int = 8000
    # Request limits (gis_service.api.request_limits), checked before authentication and before a
    # route reads anything; file uploads have theirs in ImportLimits (GIS_IMPORT_MAX_*UPLOAD_BYTES).
    max_body_bytes: int = Field(
        default=1024**2, gt=0, description="Largest request body of a route that is not a file upload (JSON), bytes."
    )
    max_query_bytes: int = Field(
        default=8192, gt=0, description="Longest query string (the part of the URL after '?'), bytes."
    )

    @property
    def cluster_dir(self) -> Path:
        """Directory of the managed cluster (``<data_dir>/pg``)."""
        return self.data_dir.resolve() / "pg"

    @property
    def uses_managed_cluster(self) -> bool:
        return self.database_url is None


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
