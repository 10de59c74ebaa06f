"""``gis-service sizhi …``: parse, build and verify 四至 (four-sided limits) texts.

Thin face over :mod:`gis_service.sizhi`.  TEXT may be ``-`` to read standard input.
JSON is printed as UTF-8, not ASCII-escaped.  Unreadable input exits with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import typer

from gis_service import sizhi as engine
from gis_service.coords.crs import STORED_CRS
from gis_service.cli._common import echo_json
from gis_service.errors import InputError
from gis_service.ingest.gdal_safety import gdal_source
from gis_service.sizhi.lexicon import CHAR_OF_SIDE
from gis_service.sizhi.model import SIDES

app = typer.Typer(help="四至 (four-sided limits): parse, build and verify park boundaries.", no_args_is_help=True)

_TEXT_HELP = "四至 text, or '-' to read it from standard input."


def _read_text(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _parse_or_exit(text: str) -> engine.Sizhi:
    """Parse, or print the error with a caret under the offending span and exit 2."""
    try:
        return engine.parse(text)
    except engine.SizhiParseError as exc:
        typer.echo(f"error: {exc}", err=True)
        line_start = text.rfind("\n", 0, exc.start) + 1
        line_end = text.find("\n", exc.start)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if line.strip():
            typer.echo(line, err=True)
            # Chinese characters take two columns in a terminal.
            pad = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text[line_start : exc.start])
            width = max(1, sum(2 if ord(ch) > 0x2E80 else 1 for ch in text[exc.start : exc.end]))
            typer.echo(" " * pad + "^" * width, err=True)
        raise typer.Exit(code=2) from exc


def _read_layer(path: Path, what: str) -> gpd.GeoDataFrame:
    source = gdal_source(path, f"{what} file {str(path)!r}").text  # one driver per type, no network
    try:
        frame = gpd.read_file(source, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read {what} file {str(path)!r}: {exc}") from exc
    if frame.crs is None:
        frame = frame.set_crs(STORED_CRS)
    return frame.to_crs(STORED_CRS)


def _offset_text(offset: dict[str, Any] | None) -> str:
    if not offset:
        return ""
    char = CHAR_OF_SIDE[offset["direction"]]
    if offset["meters"] is None:
        return f" (以{char})"
    return f" ({char}{'约' if offset['approx'] else ''}{offset['meters']}米)"


@app.command("parse")
def parse_command(text: str = typer.Argument(..., help=_TEXT_HELP)) -> None:
    """Parse a 四至 text and print its structure as JSON."""
    echo_json(_parse_or_exit(_read_text(text)).to_dict())


@app.command("format")
def format_command(text: str = typer.Argument(..., help=_TEXT_HELP)) -> None:
    """Print the canonical text of a 四至."""
    typer.echo(engine.format_sizhi(_parse_or_exit(_read_text(text))))


@app.command("build")
def build_command(
    text: str = typer.Argument(..., help=_TEXT_HELP),
    roads: Path = typer.Option(..., "--roads", exists=True, dir_okay=False, help="Roads layer (GeoJSON lines with name, kind)."),
    out: Path | None = typer.Option(None, "--out", dir_okay=False, help="Write the boundary as GeoJSON here."),
    extend: float = typer.Option(500.0, "--extend", help="Metres by which feature lines are prolonged to meet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Build a boundary from a 四至 over a roads layer; print its area and sides."""
    sizhi = _parse_or_exit(_read_text(text))
    result = engine.build(sizhi, _read_layer(roads, "roads"), extend_m=extend)
    if out is not None:
        out.write_text(json.dumps(result.to_geojson(), ensure_ascii=False), encoding="utf-8")
    if as_json:
        echo_json(result.to_dict(with_geometry=False))
        return
    typer.echo(f"面积 area: {result.area_km2:.4f} km² (EPSG:4549, 近似 approximate)")
    for part in result.parts:
        if part.label or len(result.parts) > 1:
            typer.echo(f"[{part.label or '—'}] {part.area_km2:.4f} km²")
        for side in SIDES:
            bounds = part.sides[side]
            if bounds:
                names = " — ".join(f"{b.name}{_offset_text(b.offset)} {b.length_m:.0f} m" for b in bounds)
                typer.echo(f"  {CHAR_OF_SIDE[side]}至: {names}")
    for note in result.notes:
        typer.echo(f"注 note: {note}")
    if out is not None:
        typer.echo(f"written: {out}")


@app.command("verify")
def verify_command(
    target: str = typer.Argument(..., help="A stored park (id, code or name), or with --boundary/--roads a 四至 text."),
    boundary: Path = typer.Option(None, "--boundary", exists=True, dir_okay=False, help="Park boundary (GeoJSON polygon)."),
    roads: Path = typer.Option(None, "--roads", exists=True, dir_okay=False, help="Roads layer (GeoJSON lines with name, kind)."),
    year: int = typer.Option(None, "--year", help="Stored park: the boundary valid in this year (default: today)."),
    tolerance: float = typer.Option(150.0, "--tolerance", help="Tolerance in metres."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check a boundary against its 四至: a stored park's (from the database), or a text
    against files; exit 1 when a side fails."""
    if boundary is None and roads is None:
        from gis_service.cli._common import load_settings
        from gis_service.db.engine import database_url, engine_for

        _, report = engine.verify_stored_park(
            engine_for(database_url(load_settings())), target, year=year, tolerance_m=tolerance
        )
    elif boundary is None or roads is None:
        raise InputError("give both --boundary and --roads to check a text, or neither to check a stored park")
    else:
        sizhi = _parse_or_exit(_read_text(target))
        frame = _read_layer(boundary, "boundary")
        if frame.empty:
            raise InputError(f"boundary file {str(boundary)!r} has no features")
        report = engine.verify(frame.geometry.union_all(), sizhi, _read_layer(roads, "roads"), tolerance_m=tolerance)
    data = report.to_dict()
    if as_json:
        echo_json(data)
    else:
        typer.echo(f"核验结果 result: {data['status_label']} ({data['status']}), 容差 tolerance {tolerance:g} m")
        for part in data["parts"]:
            if part["label"] or len(data["parts"]) > 1:
                typer.echo(f"[{part['label'] or '—'}] {part['status_label']}")
            for side, rep in part["sides"].items():
                cov = "—" if rep["coverage_pct"] is None else f"{rep['coverage_pct']:.1f}%"
                dist = "—" if rep["max_distance_m"] is None else f"{rep['max_distance_m']:.0f} m"
                missing = f"; 缺失 missing: {', '.join(rep['missing'])}" if rep["missing"] else ""
                unnamed = f"; 无法核验 unverifiable: {', '.join(rep['unverifiable'])}" if rep["unverifiable"] else ""
                typer.echo(f"  {rep['side_label']} {rep['status_label']:<4} 覆盖 {cov:>6}  最大偏离 {dist:>7}{missing}{unnamed}")
        for note in data["notes"]:
            typer.echo(f"注 note: {note}")
    if report.status == "fail":
        raise typer.Exit(code=1)
