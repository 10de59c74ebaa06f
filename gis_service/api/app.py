"""The FastAPI application factory.  Nothing here reads the environment at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from gis_service import __version__
from gis_service.api import downloads, maps, ogc, rest, tiles
from gis_service.api.config import ApiSettings, get_api_settings
from gis_service.api.errors import install_error_handlers
from gis_service.db.engine import check_database, database_url, engine_for
from gis_service.errors import DatabaseError
from gis_service.settings import Settings, get_settings


def create_app(settings: Settings | None = None, api_settings: ApiSettings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when omitted)."""
    settings = settings or get_settings()
    api_settings = api_settings or get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine_for(database_url(settings))
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="松江区产业园区空间规划平台",
        description="Songjiang industrial-park planning platform: parks, zones, density metrics.",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    # OGC API Features conformance class oas30: the service description is OpenAPI 3.0.
    app.openapi_version = "3.0.3"
    install_error_handlers(app)
    for module in (maps, ogc, rest, tiles, downloads):
        app.include_router(module.router)
    maps.mount_static(app)

    @app.get("/health", tags=["service"])
    def health() -> JSONResponse:
        """200 with the PostgreSQL and PostGIS versions when the database answers, else 503."""
        try:
            versions = check_database(app.state.engine)
        except DatabaseError as exc:
            return JSONResponse(
                {"status": "unavailable", "database": str(exc)}, status_code=503, headers={"Retry-After": "5"}
            )
        return JSONResponse({"status": "ok", "version": __version__, **versions})

    return app
