"""``gis-service import landuse|supply|parcels``: land data in, from the files offices hold.

Thin: parse options, call :mod:`gis_service.ingest.land`, show a progress bar and print
what the import did (or ``--json``: the same report the HTTP routes return).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from gis_service.cli._common import console, echo_json, err_console

_FILE = typer.Argument(..., help="GeoPackage, zipped Shapefile or File Geodatabase (.zip), .shp, .gdb, GeoJSON or KML.")
_SOURCE = typer.Option(..., "--source", help="Source of the data (which survey or announcements, office, date).")
_LAYER = typer.Option(None, "--layer", help="Layer to read (e.g. DLTB in a File Geodatabase).")
_ENCODING = typer.Option(None, "--encoding", help="DBF encoding (default: .cpg, else UTF-8 if valid, else GB18030).")
_CRS = typer.Option(None, "--crs", help="CRS when the file declares none (EPSG:4490/4549/4528/4326), or gcj02.")
_REPAIR = typer.Option(False, "--repair", help="Repair invalid polygons (make_valid) instead of refusing them.")
_FIELD = typer.Option([], "--field", help="KEY=FIELD for a field with another name (e.g. code=YDDM); repeatable.")
_CODE_SYSTEM = typer.Option(None, "--code-system", help="sandiao (三调/GB/T 21010), guotu (国土空间) or gb50137.")
_ACTOR = typer.Option(None, "--actor", help="Who imports (audit log); default cli:<login name>.")
_JSON = typer.Option(False, "--json", help="Print the import report as JSON.")


def _file_options(layer: str | None, encoding: str | None, crs: str | None, repair: bool):  # type: ignore[no-untyped-def]
    from gis_service.ingest.land import LandFileOptions

    return LandFileOptions(layer=layer, encoding=encoding, crs=crs, repair=repair)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (none with --json), fed (done, total) by the importer."""
    if not enabled:
        yield lambda done, total: None
        return
    columns = (TextColumn("导入要素"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("import", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print(report, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        echo_json(report.to_dict())
        return
    console.print(report.summary_zh())
    console.print(f"坐标系 {report.crs}({report.crs_evidence});编码 {report.encoding or '—'}({report.encoding_evidence})")
    if report.code_system:
        console.print(f"分类体系 {report.code_system}({report.code_system_evidence})")
    for cls, km2 in report.area_by_class_km2.items():
        console.print(f"  {cls}: {km2:.4f} km²")
    if report.overlap_pairs:
        console.print(f"[yellow]图斑重叠 {report.overlap_pairs} 对(>1 m²),例:{report.overlaps[:3]}[/yellow]")
    if report.area_mismatch_count:
        console.print(f"[yellow]面积(公顷)与量算面积相差超过 5% 的记录 {report.area_mismatch_count} 条,"
                      f"例:{report.area_mismatches[:3]}[/yellow]")


def register(app: typer.Typer) -> None:
    """Add the land commands to the ``import`` group."""

    @app.command("landuse")
    def landuse_command(
        file: Path = _FILE,
        year: int = typer.Option(..., "--year", help="Year the survey snapshot describes (one snapshot per year)."),
        source: str = _SOURCE,
        code_system: str = _CODE_SYSTEM,
        strict: bool = typer.Option(False, "--strict", help="Refuse the snapshot if patches overlap by > 1 m²."),
        layer: str = _LAYER, encoding: str = _ENCODING, crs: str = _CRS, repair: bool = _REPAIR,
        field: list[str] = _FIELD, actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Import a land-use survey snapshot (三调 DLTB…); the same year again replaces it."""
        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.land import (
            SurveyOptions,
            import_landuse,
            parse_field_options,
        )

        options = SurveyOptions(year=year, source_document=source, code_system=code_system, strict=strict,
                                fields=parse_field_options(field), file=_file_options(layer, encoding, crs, repair))
        with _progress(not as_json) as progress:
            report = import_landuse(_engine(), file, options, actor=_actor(actor), progress=progress)
        _print(report, as_json)

    @app.command("supply")
    def supply_command(
        file: Path = _FILE, source: str = _SOURCE,
        layer: str = _LAYER, encoding: str = _ENCODING, crs: str = _CRS, repair: bool = _REPAIR,
        field: list[str] = _FIELD, actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Import land supply records (供地: 电子监管号, 土地用途, 合同签订日期…); a 电子监管号 again replaces its record."""
        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.land import (
            SupplyOptions,
            import_supply,
            parse_field_options,
        )

        options = SupplyOptions(source_document=source, fields=parse_field_options(field),
                                file=_file_options(layer, encoding, crs, repair))
        with _progress(not as_json) as progress:
            report = import_supply(_engine(), file, options, actor=_actor(actor), progress=progress)
        _print(report, as_json)

    @app.command("parcels")
    def parcels_command(
        file: Path = _FILE, source: str = _SOURCE, code_system: str = _CODE_SYSTEM,
        layer: str = _LAYER, encoding: str = _ENCODING, crs: str = _CRS, repair: bool = _REPAIR,
        field: list[str] = _FIELD, actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Import an office's parcel register (land-use code + supply flag); it replaces the stored register."""
        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.land import (
            RegisterOptions,
            import_register,
            parse_field_options,
        )

        options = RegisterOptions(source_document=source, code_system=code_system, fields=parse_field_options(field),
                                  file=_file_options(layer, encoding, crs, repair))
        with _progress(not as_json) as progress:
            report = import_register(_engine(), file, options, actor=_actor(actor), progress=progress)
        _print(report, as_json)

    @app.command("buildings")
    def buildings_command(
        file: Path = _FILE,
        year: int = typer.Option(..., "--year", help="Year the buildings describe (the same year again replaces them)."),
        source: str = _SOURCE,
        layer: str = _LAYER, encoding: str = _ENCODING, crs: str = _CRS, repair: bool = _REPAIR,
        actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Import building footprints with 建筑面积 or 层数 (floor area = 建筑面积, else footprint × 层数, flagged)."""
        from dataclasses import asdict

        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.buildings import import_buildings

        result = import_buildings(_engine(), file, year=year, source=source, actor=_actor(actor),
                                  options=_file_options(layer, encoding, crs, repair))
        if as_json:
            echo_json(asdict(result))
            return
        console.print(f"已导入 {result.year} 年建筑物 {result.feature_count} 栋({result.file});"
                      f"按基底×层数估算建筑面积 {result.estimated_count} 栋;替换原有 {result.replaced} 栋")

    @app.command("idle")
    def idle_command(
        supervision_no: str = typer.Argument(..., help="电子监管号 of the supply record."),
        status: str = typer.Option(..., "--status", help="idle (认定闲置), disposed (已处置) or none."),
        year: int = typer.Option(None, "--year", help="Year of the 闲置土地认定."),
        actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Flag a supply record as idle land (闲置土地认定) or disposed of (处置完毕)."""
        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.buildings import set_idle_status

        result = set_idle_status(_engine(), supervision_no, status=status, year=year, actor=_actor(actor))
        if as_json:
            echo_json(result)
            return
        console.print(f"电子监管号 {supervision_no}: 闲置状态 {result['idle_status'] or '无'} ({result['idle_year'] or '—'})")

    @app.command("idle-review")
    def idle_review_command(
        year: int = typer.Option(..., "--year", help="Year of the 闲置土地调查认定."),
        source: str = typer.Option(..., "--source", help="Source of the identification (document, office, date)."),
        section: str = typer.Option(None, "--section", help="Section of the source document."),
        park: str = typer.Option(None, "--park", help="Park code (its blocks included); default: the whole district (全区)."),
        actor: str = _ACTOR, as_json: bool = _JSON,
    ) -> None:
        """Record that a 闲置土地调查认定 was carried out for a year (and park), even if it found no idle land."""
        from gis_service.cli.imports import _actor, _engine
        from gis_service.ingest.idle_reviews import record_idle_review

        review = record_idle_review(_engine(), year=year, park_code=park, source_document=source, source_section=section,
                                    actor=_actor(actor))
        if as_json:
            echo_json(review)
            return
        verb = "已替换" if review["replaced"] else "已录入"
        console.print(f"{verb} {review['year']} 年闲置土地调查认定({escape(review['scope_zh'])}):{escape(review['source_document'])}",
                      highlight=False)

    @app.command("idle-reviews")
    def idle_reviews_command(
        year: int = typer.Option(None, "--year", help="Only the reviews of this year."), as_json: bool = _JSON,
    ) -> None:
        """List the recorded 闲置土地调查认定 (year, scope, source)."""
        from rich.table import Table

        from gis_service.cli.imports import _engine
        from gis_service.ingest.idle_reviews import idle_reviews

        reviews = idle_reviews(_engine(), year=year)
        if as_json:
            echo_json(reviews)
            return
        if not reviews:
            console.print("未录入闲置土地调查认定" + (f"({year} 年)" if year is not None else ""))
            return
        table = Table("年份", "范围", "来源", "章节", "录入人", "录入时间", title="闲置土地调查认定")
        for r in reviews:
            table.add_row(str(r["year"]), escape(r["scope_zh"]), escape(r["source_document"]),
                          escape(r["source_section"] or "—"), escape(r["recorded_by"] or "—"), r["recorded_at"])
        console.print(table)


def register_demo(app: typer.Typer) -> None:
    """Add ``gis-service demo land`` and ``gis-service demo buildings``."""
    demo = typer.Typer(help="演示数据 Demo data (synthetic, flagged 演示数据 everywhere; never loaded by default).",
                       no_args_is_help=True)

    @demo.command("land")
    def demo_land_command(
        directory: Path = typer.Option(None, "--directory", help="Keep the written files here (default: temporary)."),
        year: int = typer.Option(2020, "--year", help="Year of the demo survey snapshot."),
        as_json: bool = _JSON,
    ) -> None:
        """Write a synthetic DLTB (zipped Shapefile, GBK, EPSG:4528) and 供地 GeoPackage and import them."""
        from gis_service.cli.imports import _engine
        from gis_service.ingest.land import demo_land

        result = demo_land(_engine(), directory, year=year, actor="cli:demo")
        if as_json:
            echo_json({"survey": result.survey.to_dict(), "supply": result.supply.to_dict(),
                       "files": [str(result.survey_file), str(result.supply_file)]})
            return
        console.print("[yellow]演示数据(合成),非真实调查或供地记录[/yellow]")
        _print(result.survey, False)
        _print(result.supply, False)

    @demo.command("buildings")
    def demo_buildings_command(
        directory: Path = typer.Option(None, "--directory", help="Keep the written file here (default: temporary)."),
        year: int = typer.Option(2020, "--year", help="Year of the demo buildings."),
        as_json: bool = _JSON,
    ) -> None:
        """Write synthetic building footprints on the demo land (zipped Shapefile, GBK, EPSG:4528) and import them."""
        from dataclasses import asdict

        from gis_service.cli.imports import _engine
        from gis_service.ingest.demo_buildings import demo_buildings

        demo = demo_buildings(_engine(), directory, year=year, actor="cli:demo")
        if as_json:
            echo_json({"buildings": asdict(demo.result), "file": str(demo.file)})
            return
        console.print("[yellow]演示数据(合成),非真实建筑物普查[/yellow]")
        console.print(f"已导入 {demo.result.year} 年演示建筑物 {demo.result.feature_count} 栋;"
                      f"按基底×层数估算建筑面积 {demo.result.estimated_count} 栋")

    app.add_typer(demo, name="demo")
