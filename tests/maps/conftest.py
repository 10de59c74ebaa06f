"""The map tests use the web tests' fixtures (sample data on a fresh PostGIS, an app on it),
and one headless Chromium per module (Debian's chromium driven by Playwright)."""

import shutil
from collections.abc import Iterator

import pytest

from tests.api.conftest import client, sample  # noqa: F401  (pytest fixtures)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROME_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    import playwright.sync_api as playwright_api

    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
        yield b
        b.close()
