"""``gis-service import boundaries|layer|indicators`` (and ``landuse|supply|parcels``, :mod:`gis_service.cli.land`): validated imports of an office's files.

Thin: parse options, call :mod:`gis_service.ingest`, print what changed.  Errors are the
domain's typed errors; the entry point prints them and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import typer

from gis_service.cli._common import console, echo_json, load_settings
from gis_service.db.engine import database_url, engine_for

app = typer.Typer(help="导入 Import an office's files (validated, one transaction, audited).", no_args_is_help=True)

_ACTOR = typer.Option(None, "--actor", help="Who imports (audit log); default cli:<login name>.")


def _engine():  # type: ignore[no-untyped-def]
    return engine_for(database_url(load_settings()))


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _limits():  # type: ignore[no-untyped-def]
    from gis_service.ingest import ImportLimits

    return ImportLimits()


@app.command("boundaries")
def boundaries_command(
    file: Path = typer.Argument(..., help="GeoJSON, zipped Shapefile (.zip), GeoPackage or KML."),
    park_field: str = typer.Option("code", "--park-field", help="Property holding the park code or name."),
    valid_from: str = typer.Option(..., "--valid-from", help="Date the boundaries take effect (YYYY-MM-DD)."),
    source: str = typer.Option(..., "--source", help="Source document of the boundaries."),
    section: str = typer.Option(None, "--section", help="Section of the source document."),
    crs: str = typer.Option(None, "--crs", help="CRS of a file that declares none: EPSG:4326, EPSG:4490 or EPSG:4549."),
    gcj02: bool = typer.Option(False, "--gcj02", help="Coordinates are GCJ-02 (Amap); convert to WGS84."),
    repair: bool = typer.Option(False, "--repair", help="Repair invalid geometries (make_valid) instead of refusing."),
    quality: str = typer.Option("approximate", "--quality", help="surveyed, approximate or synthetic."),
    layer: str = typer.Option(None, "--layer", help="Layer of a multi-layer GeoPackage/KML."),
    actor: str = _ACTOR,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import park boundaries as new versions (the previous version is closed, never overwritten)."""
    from gis_service.errors import InputError
    from gis_service.ingest import import_boundaries

    try:
        start = dt.date.fromisoformat(valid_from)
    except ValueError as exc:
        raise InputError(f"--valid-from {valid_from!r} is not a date (YYYY-MM-DD)") from exc
    result = import_boundaries(
        _engine(), file, park_field=park_field, valid_from=start, source_document=source, source_section=section,
        actor=_actor(actor), source_crs=crs, gcj02=gcj02, repair=repair, geometry_quality=quality, layer=layer,
        limits=_limits(),
    )
    if as_json:
        echo_json(result.to_dict())
        return
    console.print(
        f"边界导入 {result.file} ({result.crs}): 新版本 {result.inserted}, 关闭旧版本 {result.closed}, "
        f"未变 {result.unchanged}, 修复 {result.repaired}"
    )


@app.command("layer")
def layer_command(
    layer: str = typer.Argument(..., help="district, towns, zones, zone_town, roads, parks, indicators or targets."),
    file: Path = typer.Argument(..., help="The office's file, with the properties of the sample layer."),
    crs: str = typer.Option(None, "--crs", help="CRS of a file that declares none: EPSG:4326, EPSG:4490 or EPSG:4549."),
    gcj02: bool = typer.Option(False, "--gcj02", help="Coordinates are GCJ-02 (Amap); convert to WGS84."),
    repair: bool = typer.Option(False, "--repair", help="Repair invalid geometries (make_valid) instead of refusing."),
    replace: bool = typer.Option(False, "--replace", help="Also delete the rows of the layer that the file lacks; "
                                 "for indicators only the figures of the cells the file leaves empty."),
    actor: str = _ACTOR,
) -> None:
    """Replace or update a reference layer with an office's own file (indicators: validated as ``import indicators``)."""
    from gis_service.ingest import import_layer

    r = import_layer(_engine(), layer, file, actor=_actor(actor), source_crs=crs, gcj02=gcj02, repair=repair,
                     replace=replace, limits=_limits())
    console.print(f"图层 {r.layer} ({r.file}): 新增 {r.inserted}, 更新 {r.updated}, 未变 {r.unchanged}, 删除 {r.deleted}")


@app.command("indicators")
def indicators_command(
    file: Path = typer.Argument(..., help="CSV or XLSX; units in the header (产值(亿元)) or a 单位 column."),
    source: str = typer.Option(None, "--source", help="Source document for rows without a 来源 value."),
    section: str = typer.Option(None, "--section", help="Section of the source document."),
    sheet: str = typer.Option(None, "--sheet", help="Sheet of an XLSX workbook (default: the first)."),
    actor: str = _ACTOR,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import yearly figures, converted to the metric catalogue's units (the value as given is kept in the note)."""
    from gis_service.ingest import import_indicators

    r = import_indicators(_engine(), file, actor=_actor(actor), source_document=source, source_section=section,
                          sheet=sheet, limits=_limits())
    if as_json:
        echo_json(r.to_dict())
        return
    console.print(
        f"指标导入 {r.file}: 新增 {r.inserted}, 更新 {r.updated}, 未变 {r.unchanged}, "
        f"空缺跳过 {r.skipped_empty}, 单位换算 {r.converted}"
    )


def register(parent: typer.Typer) -> None:
    """Add the ``import`` command group to the main app."""
    from gis_service.cli import land

    land.register(app)
    parent.add_typer(app, name="import")
