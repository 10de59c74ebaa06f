"""The security tests use the web tests' fixtures and one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import playwright.sync_api as playwright_api
import pytest

from tests.api.conftest import client, sample  # noqa: F401  (pytest fixtures)

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        yield b
        b.close()
