"""Report entry points: the district briefing and a park's briefing, as XLSX + PNG + PDF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from gis_service.errors import InputError
from gis_service.reports.mappage import render_map_page
from gis_service.reports.tables import ReportData, build_report_data
from gis_service.reports.xlsx import write_report_xlsx

FORMATS = ("xlsx", "png", "pdf")


@dataclass(frozen=True)
class ReportFiles:
    """The files written for one report (``None`` for a format not asked for) and its data."""

    xlsx: Path | None
    png: Path | None
    pdf: Path | None
    data: ReportData


def park_report(
    engine: Engine,
    park: int | str,
    out_dir: str | Path,
    *,
    year: int | None = None,
    formats: tuple[str, ...] = FORMATS,
    today: dt.date | None = None,
) -> ReportFiles:
    """Briefing of one park (id, code or name): tables (XLSX) and a map page (PNG, PDF).

    Files are named ``park_<code>_<year>.<ext>`` in ``out_dir``.  Units: 亿元, km²
    (EPSG:4549), 亿元/km²; the map is drawn in EPSG:4549.  Raises NotFoundError for an
    unknown park.
    """
    data = build_report_data(engine, park=park, year=year, today=today)
    return _write(engine, data, Path(out_dir), f"park_{data.scope}_{data.year}", formats)


def district_report(
    engine: Engine,
    out_dir: str | Path,
    *,
    year: int | None = None,
    formats: tuple[str, ...] = FORMATS,
    today: dt.date | None = None,
) -> ReportFiles:
    """Briefing of every park of the district: tables (XLSX) and a map page (PNG, PDF).

    Files are named ``district_<year>.<ext>`` in ``out_dir``.
    """
    data = build_report_data(engine, year=year, today=today)
    return _write(engine, data, Path(out_dir), f"district_{data.year}", formats)


def _write(engine: Engine, data: ReportData, out_dir: Path, stem: str, formats: tuple[str, ...]) -> ReportFiles:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InputError(f"unknown report format(s) {unknown or formats}; formats: {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx = write_report_xlsx(data, out_dir / f"{stem}.xlsx") if "xlsx" in formats else None
    images = [out_dir / f"{stem}.{ext}" for ext in ("png", "pdf") if ext in formats]
    if images:
        render_map_page(engine, data, images)
    png = out_dir / f"{stem}.png" if "png" in formats else None
    pdf = out_dir / f"{stem}.pdf" if "pdf" in formats else None
    return ReportFiles(xlsx=xlsx, png=png, pdf=pdf, data=data)
