"""``gis-service load-sample`` and ``gis-service qa``: the reference data and its check."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gis_service.cli._common import console, echo_json, load_settings
from gis_service.db.engine import database_url, engine_for

_STATUS_STYLE = {"ok": "green", "info": "cyan", "warning": "yellow", "error": "bold red"}


def _engine():  # type: ignore[no-untyped-def]
    return engine_for(database_url(load_settings()))


def register(app: typer.Typer) -> None:
    @app.command("load-sample")
    def load_sample_command(
        data_dir: Path = typer.Option(None, "--data-dir", help="Directory laid out like data/ (default: the sample data)."),
    ) -> None:
        """Load the sample reference layers and figures (one transaction; rerunning changes nothing)."""
        from gis_service.ingest import load_sample

        report = load_sample(_engine(), data_dir=data_dir or load_settings().sample_data_dir)
        table = Table(title="load-sample")
        for column in ("图层 layer", "文件 file", "新增", "更新", "未变", "删除"):
            table.add_column(column)
        for r in report.layers:
            table.add_row(r.layer, r.file, str(r.inserted), str(r.updated), str(r.unchanged), str(r.deleted))
        console.print(table)
        for skipped in report.skipped:
            console.print(f"[yellow]skipped 未载入[/] {escape(skipped)}")
        console.print(f"{report.changed} rows changed")

    @app.command("qa")
    def qa_command(
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        year: int = typer.Option(2020, "--year", help="Data year of the figures checked."),
    ) -> None:
        """Data check report: area sums, missing figures, measured vs published areas, sources."""
        from gis_service.qa import run_qa

        report = run_qa(_engine(), year=year)
        if as_json:
            echo_json(report.to_dict())
            return
        table = Table(title=f"数据检查 QA ({year})", show_lines=True)
        table.add_column("检查")
        table.add_column("状态")
        table.add_column("结果")
        for check in report.checks:
            style = _STATUS_STYLE[check.status]
            table.add_row(check.title, f"[{style}]{check.status}[/]", check.message)
        console.print(table)
