"""Run the app under a real uvicorn server on a free loopback port (for OWSLib and the browser)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from gis_service.api.app import create_app
from gis_service.api.config import ApiSettings
from gis_service.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(db_url: str, **api: object) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of a live server; stop it afterwards."""
    port = free_port()
    app = create_app(Settings(database_url=db_url), ApiSettings(_env_file=None, **api))  # type: ignore[call-arg]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        server.should_exit = True
        raise RuntimeError(f"server on port {port} did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
