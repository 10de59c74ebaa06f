"""The ``gis-service`` command line: a thin face over the library.

Each command group lives in its own module and is registered here.  Commands print
with rich; domain errors (:class:`gis_service.errors.GisServiceError`) become a red
message and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from gis_service.cli import admin as admin_commands
from gis_service.cli import data as data_commands
from gis_service.cli import db as db_commands
from gis_service.cli import imports as imports_commands
from gis_service.cli import land as land_commands
from gis_service.cli import metrics as metrics_commands
from gis_service.cli import notebook as notebook_commands
from gis_service.cli import report as report_commands
from gis_service.cli import serve as serve_commands
from gis_service.cli import sizhi as sizhi_commands
from gis_service.cli._common import console, err_console, load_settings
from gis_service.db.engine import database_problem
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
metrics_commands.register_intensity(app)
report_commands.register(app)
imports_commands.register(app)
land_commands.register_demo(app)
notebook_commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gis-service`` console script.

    The one place where a failure becomes one line on stderr and exit status 2, never a
    traceback: a database that cannot be used (not running, refused, wrong password, unknown
    database, schema behind the code; :func:`~gis_service.db.engine.database_problem`) says
    what is wrong and what to do, whichever command met it; a domain error says its message.
    """
    try:
        app(args=argv, prog_name="gis-service", standalone_mode=True)
    except Exception as exc:
        line = one_line_error(exc)
        if line is None:
            raise  # a fault of the service: its traceback is what a bug report needs
        err_console.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True, highlight=False)
        sys.exit(2)


def one_line_error(exc: Exception) -> str | None:
    """The line to print for ``exc``, or ``None`` when it is not a failure the user can fix."""
    try:
        settings = load_settings()
    except Exception:  # noqa: BLE001 - the settings themselves are broken: say the original error
        settings = None
    problem = database_problem(exc, settings) if settings is not None else None
    if problem is not None:
        return str(problem)
    if isinstance(exc, GisServiceError):
        return str(exc)
    return None


__all__ = ["app", "main", "console"]
