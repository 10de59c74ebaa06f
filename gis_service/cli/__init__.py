"""The ``gis-service`` command line: a thin face over the library.

Each command group lives in its own module and is registered here.  Commands print
with rich; domain errors (:class:`gis_service.errors.GisServiceError`) become a red
message and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from gis_service.cli import admin as admin_commands
from gis_service.cli import data as data_commands
from gis_service.cli import db as db_commands
from gis_service.cli import imports as imports_commands
from gis_service.cli import land as land_commands
from gis_service.cli import metrics as metrics_commands
from gis_service.cli import report as report_commands
from gis_service.cli import serve as serve_commands
from gis_service.cli import sizhi as sizhi_commands
from gis_service.cli._common import console, err_console
from gis_service.errors import GisServiceError

app = typer.Typer(
    name="gis-service",
    help="松江区产业园区空间规划平台 — Songjiang industrial-park planning platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_commands.app, name="db")
app.add_typer(sizhi_commands.app, name="sizhi")
serve_commands.register(app)
admin_commands.register(app)
data_commands.register(app)
metrics_commands.register(app)
report_commands.register(app)
imports_commands.register(app)
land_commands.register_demo(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gis-service`` console script."""
    try:
        app(args=argv, prog_name="gis-service", standalone_mode=True)
    except GisServiceError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        sys.exit(2)


__all__ = ["app", "main", "console"]
