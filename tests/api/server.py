"""Run the app under a real uvicorn server, in its own process, on a free loopback port.

A separate process (not a thread) because clients such as GDAL hold the GIL while they
wait for the network, which would stall a server thread in the same interpreter.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(db_url: str, **api: object) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) of a live server; stop it afterwards.

    ``api`` are :class:`~gis_service.api.config.ApiSettings` fields, passed as GIS_API_* variables.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = db_url
    env.update({f"GIS_API_{k.upper()}": str(v) for k, v in api.items()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "gis_service.api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
