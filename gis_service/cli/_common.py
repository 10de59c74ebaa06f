"""Shared CLI helpers: consoles, settings loading and strict JSON output."""

from __future__ import annotations

import typer
from rich.console import Console

from gis_service.answers.records import strict_json
from gis_service.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    return get_settings()


def echo_json(obj: object) -> None:
    """Print ``obj`` as strict JSON (UTF-8, indented): missing values are ``null``, never
    ``NaN`` or ``Infinity``, which jq and strict parsers refuse.  Every ``--json`` prints
    through here."""
    typer.echo(strict_json(obj))
