"""``gis-service report park|district`` and ``gis-service export gpkg|parquet``: briefings and exports.

Thin face over :mod:`gis_service.reports` and :mod:`gis_service.export`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from gis_service.cli._common import console, load_settings

report_app = typer.Typer(help="简报:XLSX 表格与地图页(PNG/PDF)。Briefing reports.", no_args_is_help=True)
export_app = typer.Typer(help="导出:GeoPackage 或 GeoParquet 图层。Exports.", no_args_is_help=True)

_OUT_HELP = "Directory for the report files (created if missing)."
_YEAR_HELP = "Data year (default: the latest year with park output figures)."
_FORMAT_HELP = "Formats to write: xlsx, png, pdf (repeat the option)."


def _engine():  # type: ignore[no-untyped-def]
    from gis_service.db.engine import get_engine

    return get_engine(load_settings())


def _print_files(files) -> None:  # type: ignore[no-untyped-def]
    for path in (files.xlsx, files.png, files.pdf):
        if path is not None:
            console.print(f"written: {path}")


@report_app.command("park")
def park_command(
    park: str = typer.Argument(..., help="Park id, code (e.g. sj_lingang) or name."),
    out: Path = typer.Option(Path("reports"), "--out", file_okay=False, help=_OUT_HELP),
    year: int | None = typer.Option(None, "--year", help=_YEAR_HELP),
    formats: list[str] = typer.Option(["xlsx", "png", "pdf"], "--format", help=_FORMAT_HELP),
) -> None:
    """Briefing of one park: targets, values, gaps, classes, sources (XLSX) and a map page."""
    from gis_service.reports import park_report

    _print_files(park_report(_engine(), park, out, year=year, formats=tuple(formats)))


@report_app.command("district")
def district_command(
    out: Path = typer.Option(Path("reports"), "--out", file_okay=False, help=_OUT_HELP),
    year: int | None = typer.Option(None, "--year", help=_YEAR_HELP),
    formats: list[str] = typer.Option(["xlsx", "png", "pdf"], "--format", help=_FORMAT_HELP),
) -> None:
    """Briefing of all parks of the district (XLSX tables and a map page)."""
    from gis_service.reports import district_report

    _print_files(district_report(_engine(), out, year=year, formats=tuple(formats)))


@export_app.command("gpkg")
def gpkg_command(
    path: Path = typer.Argument(..., dir_okay=False, help="Output GeoPackage (.gpkg), replaced if it exists."),
    year: int | None = typer.Option(None, "--year", help="Park boundaries valid at the end of this year (default: today)."),
    layers: list[str] | None = typer.Option(None, "--layer", help="Only these layers (repeat the option)."),
) -> None:
    """All layers to one GeoPackage (EPSG:4326, one layer per table), readable in QGIS."""
    from gis_service.export import export_gpkg

    counts = export_gpkg(_engine(), path, year=year, layers=layers or None)
    for name, count in counts.items():
        console.print(f"{name}: {count}")
    console.print(f"written: {path}")


@export_app.command("parquet")
def parquet_command(
    directory: Path = typer.Argument(..., file_okay=False, help="Output directory, replaced if it exists."),
    year: int | None = typer.Option(None, "--year", help="Park boundaries valid at the end of this year (default: today)."),
) -> None:
    """Every layer as GeoParquet (parcels Hilbert-sorted, one file per land layer and run), for pandas, DuckDB, Dask."""
    from gis_service.export import export_parquet

    counts = export_parquet(_engine(), directory, year=year)
    for name, count in counts.items():
        console.print(f"{name}: {count}")
    console.print(f"written: {directory}")


def register(app: typer.Typer) -> None:
    """Add the ``report`` and ``export`` groups to the main app."""
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")
