"""``gis-service notebook`` as a user runs it from any directory: the managed database is made
ready, then JupyterLab serves notebooks/ on 127.0.0.1 and answers only with the token."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gis_service.testing import free_port

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def jupyterlab(managed_kernel_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(base URL, token, log lines) of ``gis-service notebook`` started from ``tmp_path``."""
    with _serve(managed_kernel_env, tmp_path) as served:
        yield served


@contextmanager
def _serve(env: dict[str, str], cwd: Path, *args: str) -> Iterator[tuple[str, str, list[str]]]:
    port, token = free_port(), secrets.token_urlsafe(16)
    env = {**env, "JUPYTER_TOKEN": token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gis_service", "notebook", "--port", str(port), "--no-browser", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    log: list[str] = []
    try:
        _wait_for_line(proc, f"ServerApp] {base}/lab", log)  # JupyterLab's own line...
        _wait_for_listener(proc, port, log)  # ...logged before its io loop binds the port
        yield base, token, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for_listener(proc: subprocess.Popen[str], port: int, log: list[str]) -> None:
    """Until the port accepts a connection: JupyterLab binds it in a callback of the io loop,
    after it has logged its URL.  Ends when it listens or when the process exits."""
    while proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gis-service notebook exited ({proc.returncode}) before listening:\n{''.join(log)}")


def _wait_for_line(proc: subprocess.Popen[str], needle: str, log: list[str]) -> None:
    """Read the log until JupyterLab says it serves at ``needle`` (an event, not a deadline), then
    keep draining it in the background so the server never blocks on a full pipe."""
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line)
        if needle in line:
            threading.Thread(target=lambda: log.extend(proc.stdout or []), daemon=True).start()
            return
    raise AssertionError(f"gis-service notebook exited ({proc.wait()}) before serving:\n{''.join(log)}")


@pytest.mark.slow
def test_gis_service_notebook_serves_jupyterlab_with_a_token(jupyterlab: tuple[str, str, list[str]]) -> None:
    base, token, log = jupyterlab
    assert "PostGIS cluster running" in "".join(log), "the database is made ready first"
    # without the token (and without the cookie a token login leaves): refused, or sent to the login form
    for anonymous in ({}, {"token": "wrong"}):
        assert httpx.get(f"{base}/api/status", params=anonymous, timeout=30).status_code == 403
    lab = httpx.get(f"{base}/lab", timeout=30, follow_redirects=False)
    assert lab.status_code in (302, 403)
    if lab.status_code == 302:
        assert "/login" in lab.headers["location"]
    with httpx.Client(base_url=base, params={"token": token}, timeout=30) as client:
        assert client.get("/api/status").status_code == 200
        # notebooks/ is what it opens, whatever directory it was started from
        listing = client.get("/api/contents").json()
        assert sorted(item["name"] for item in listing["content"] if item["type"] == "notebook") == sorted(
            p.name for p in NOTEBOOKS.glob("*.ipynb")
        )
        assert client.get("/api/kernelspecs").json()["default"] == "python3"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_token_is_refused(how: str) -> None:
    args, env = (["--token", ""], {}) if how == "option" else ([], {"JUPYTER_TOKEN": " "})
    out = subprocess.run(
        [sys.executable, "-m", "gis_service", "notebook", "--no-browser", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
    )
    assert out.returncode == 2
    assert "--token (JUPYTER_TOKEN) is empty" in out.stderr


#: WebGL without a GPU (SwiftShader): lonboard draws with deck.gl
_WEBGL_CHROME_ARGS = ["--no-sandbox", "--headless", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                      "--disable-background-networking", "--disable-component-update", "--no-first-run"]


@pytest.mark.slow
def test_notebook_06_draws_every_map_in_jupyterlab_with_no_internet(managed_kernel_env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    """As an analyst on the intranet: notebook 06 run in JupyterLab in Chromium, every request
    that leaves 127.0.0.1 refused.  Its folium maps (scripts inside the page) and its lonboard
    parcel map (200k parcels on the GPU, decoder vendored) all draw; nothing is fetched outside."""
    from playwright.sync_api import sync_playwright

    from tests.maps.conftest import CHROMIUM

    name = "06_whatif_and_classes.ipynb"
    (tmp_path / name).write_bytes((NOTEBOOKS / name).read_bytes())  # the run's outputs stay out of the checkout
    env = {**managed_kernel_env, "GIS_API_OFFLINE": "1"}  # no basemap: nothing may leave the machine
    outside: list[str] = []
    with _serve(env, tmp_path, "--directory", str(tmp_path)) as (base, token, _log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=_WEBGL_CHROME_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.route(lambda url: not url.startswith((base, "data:", "blob:", "about:")),
                   lambda route: (outside.append(route.request.url), route.abort()))
        page.goto(f"{base}/lab/tree/{name}?token={token}")
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        dialog = page.locator(".jp-Dialog")
        try:  # JupyterLab may ask for the kernel: its default is the project's python3
            dialog.wait_for(timeout=15_000)
            page.keyboard.press("Enter")
        except Exception:  # noqa: BLE001 - no dialog: the kernel starts by itself
            pass
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        page.wait_for_function("document.querySelectorAll('.jp-OutputArea .lonboard canvas').length > 0",
                               timeout=300_000)
        page.wait_for_function(  # every code cell has run: each prompt shows its execution count
            "() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];"
            " return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }", timeout=300_000)
        drawn = [f.locator("path.leaflet-interactive").count() for f in page.frames[1:]
                 if f.url.startswith("about:srcdoc")]
        errors = page.locator(".jupyter-widgets-error-widget").count()  # a widget that failed to load
        browser.close()
    assert len(drawn) == 4 and all(n > 0 for n in drawn), drawn  # density, what-if, classes, 片
    assert errors == 0
    assert outside == []
