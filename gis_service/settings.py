"""All runtime configuration, read from the environment (prefix ``GIS_``) in one place.

Nothing reads the environment at import time: call :func:`get_settings` (or build
``Settings(...)`` explicitly in tests) and pass the object down.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path | None:
    """The checkout this package runs from (the directory holding its ``pyproject.toml``, as with
    the editable install in ``.venv``), or ``None`` when the package is installed elsewhere."""
    root = Path(__file__).resolve().parents[1]
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if 'name = "gis_service"' in pyproject else None


def data_anchor() -> Path:
    """The directory a relative ``GIS_DATA_DIR`` is taken from: the checkout, else the user's data
    directory (``$XDG_DATA_HOME/gis-service``, ``~/.local/share/gis-service``).  Never the working
    directory: a notebook kernel (cwd ``notebooks/``), the CLI and the service find one database."""
    root = project_root()
    if root is not None:
        return root
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "gis-service"


def default_data_dir() -> Path:
    """``<checkout>/.gisdata`` when running from a checkout, else the user's data directory."""
    root = project_root()
    return root / ".gisdata" if root is not None else data_anchor()


def _env_files() -> tuple[Path | str, ...]:
    """The checkout's ``.env`` whatever the working directory, then one in the working directory
    (later files win)."""
    root = project_root()
    return (root / ".env", ".env") if root is not None else (".env",)


class Settings(BaseSettings):
    """Service settings.

    Environment variables are the field names upper-cased with the ``GIS_`` prefix,
    e.g. ``GIS_DATABASE_URL``, ``GIS_DATA_DIR``, ``GIS_PORT``.
    """

    model_config = SettingsConfigDict(env_prefix="GIS_", env_file=_env_files(), extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of an existing PostGIS (postgresql+psycopg://...). "
        "When unset, the managed local cluster under data_dir is used.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the managed PostgreSQL cluster, caches and logs. Default: "
        "<checkout>/.gisdata, or $XDG_DATA_HOME/gis-service when installed; a relative value is "
        "taken from that checkout (or user data directory), never from the working directory.",
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
    public_base_url: str | None = Field(
        default=None,
        description="Base URL the service is reached at by its users (https://gis.example.cn or "
        "https://host/prefix behind a proxy): every absolute link (OGC API, TileJSON) starts with it "
        "and the request's Host header is not used.",
    )
    allowed_hosts: str = Field(
        default="localhost,127.0.0.1,::1",
        description="Comma-separated host names whose Host header the links may use when "
        "public_base_url is unset (any other Host is a 400); GIS_HOST is always allowed.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # Resolved once, here: everything after sees (and `db status` prints) the absolute path.
        return (data_anchor() / value.expanduser()).resolve()  # an absolute value replaces the anchor

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"GIS_PUBLIC_BASE_URL must be http(s)://host[:port][/path] without query, got {value!r}")
        return value.rstrip("/")

    @property
    def allowed_host_names(self) -> frozenset[str]:
        """Host names (lower case, IPv6 without brackets) accepted in a Host header."""
        names = {h.strip().strip("[]").lower() for h in self.allowed_hosts.split(",") if h.strip()}
        return frozenset(names | {self.host.strip("[]").lower()})

    @property
    def cluster_dir(self) -> Path:
        """Directory of the managed cluster (``<data_dir>/pg``)."""
        return self.data_dir / "pg"

    @property
    def uses_managed_cluster(self) -> bool:
        return self.database_url is None


def get_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
