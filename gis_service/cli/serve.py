"""``gis-service serve``: run the FastAPI application with uvicorn."""

from __future__ import annotations

import typer

from gis_service.cli._common import load_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(None, help="Bind address (default GIS_HOST, 127.0.0.1)."),
        port: int = typer.Option(None, help="Port (default GIS_PORT, 8000)."),
    ) -> None:
        """Serve the web application (maps, REST and OGC API)."""
        import uvicorn

        from gis_service.api.app import create_app

        settings = load_settings()
        # keep-alive as long as common reverse proxies (75 s): uvicorn's 5 s default races with
        # pooled clients reusing a connection the server is closing; no Server banner
        uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                    timeout_keep_alive=75, server_header=False)
