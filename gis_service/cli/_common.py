"""Shared CLI helpers: consoles and settings loading."""

from __future__ import annotations

from rich.console import Console

from gis_service.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    return get_settings()
