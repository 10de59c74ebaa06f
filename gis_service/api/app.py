"""The FastAPI application factory.  Nothing here reads the environment at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, create_engine

from gis_service import __version__
from gis_service.api import admin, downloads, land_imports, maps, ogc, rest, tiles, writes
from gis_service.api.auth import OptionalPrincipal, read_access
from gis_service.api.headers import install_security_headers
from gis_service.api.openapi import install_openapi
from gis_service.api.config import ApiSettings, get_api_settings
from gis_service.api.errors import error_responses, install_error_handlers
from gis_service.api.request_limits import RequestLimits
from gis_service.db.engine import check_database, database_url
from gis_service.db.models import Role
from gis_service.errors import DatabaseError
from gis_service.ingest import ImportLimits
from gis_service.settings import Settings, get_settings
from gis_service.tiles.render import TILE_SESSION_SETTINGS


def service_engine(url: str, api_settings: ApiSettings, *, session_settings: Mapping[str, str] | None = None,
                   autocommit: bool = False) -> Engine:
    """The service's pool: bounded waits everywhere, so a database outage is a quick 503, never a hang.

    ``connect_timeout`` bounds a connection attempt (a host that drops packets), the session's
    ``statement_timeout`` a query, ``pool_timeout`` the wait for a free connection; ``pool_pre_ping``
    replaces connections that died with a restarted server, so the service recovers by itself.
    ``session_settings`` are set on every connection when it is opened.  An ``autocommit`` pool
    (the tiles': one statement per request) has no pre-ping round trip: its caller reads again
    once on a fresh connection when the first had died.
    """
    options = {"statement_timeout": str(int(api_settings.db_statement_timeout_ms)), **(session_settings or {})}
    return create_engine(
        url,
        pool_pre_ping=not autocommit,
        pool_size=api_settings.db_pool_size,
        max_overflow=api_settings.db_pool_size,
        pool_timeout=api_settings.db_pool_timeout_s,
        connect_args={
            "connect_timeout": api_settings.db_connect_timeout_s,
            "options": " ".join(f"-c {name}={value}" for name, value in options.items()),
        },
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )


def create_app(
    settings: Settings | None = None,
    api_settings: ApiSettings | None = None,
    import_limits: ImportLimits | None = None,
) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted).

    ``import_limits`` bounds uploads (default: ``GIS_IMPORT_*`` from the environment).
    """
    settings = settings or get_settings()
    api_settings = api_settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        app.state.engine = service_engine(url, api_settings)
        close_tiles = tiles.open_tiles(app, service_engine(url, api_settings, session_settings=TILE_SESSION_SETTINGS,
                                                           autocommit=True))
        yield
        close_tiles()
        app.state.engine.dispose()

    app = FastAPI(
        title="松江区产业园区空间规划平台",
        description="Songjiang industrial-park planning platform: parks, zones, density metrics.",
        version=__version__,
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from the package by install_openapi (no CDN)
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    app.state.import_limits = import_limits or ImportLimits()
    # OGC API Features conformance class oas30: the service description is OpenAPI 3.0.
    app.openapi_version = "3.0.3"
    install_error_handlers(app)
    app.add_middleware(RequestLimits)  # bodies and query strings bounded before auth or any read
    install_openapi(app)
    install_security_headers(app, api_settings)
    # Reads: open, or key-required when GIS_API_REQUIRE_KEY_FOR_READ is set.  Writes and the
    # audit log check the key and role themselves (401/403).
    for module in (maps, ogc, rest, tiles, downloads):
        app.include_router(module.router, dependencies=[Depends(read_access)],
                           responses=error_responses(401, 404, 422, 503))
    app.include_router(writes.router)
    app.include_router(land_imports.router)
    app.include_router(admin.router)
    maps.mount_static(app)

    @app.get("/health", tags=["service"])
    def health(principal: OptionalPrincipal) -> JSONResponse:
        """200 when the database answers (with the versions for an admin key), else 503."""
        try:
            versions = check_database(app.state.engine)
        except DatabaseError as exc:
            return JSONResponse(
                {"status": "unavailable", "database": str(exc)}, status_code=503,
                headers={"Retry-After": str(api_settings.retry_after_s)}
            )
        admin = principal is not None and principal.role is Role.admin
        return JSONResponse({"status": "ok", **({"version": __version__, **versions} if admin else {})})

    return app
