"""Downloads: density and land-intensity metrics as CSV/XLSX, layers as a GeoPackage.

CSV is UTF-8 with a byte-order mark so that Excel shows the Chinese names; text cells that a
spreadsheet would run as a formula are quoted (:mod:`gis_service.spreadsheet_safety`); the
GeoPackage is written by :func:`gis_service.export.export_gpkg`, the writer of
``gis-service export gpkg`` (GeoPackage 1.2, typed columns, layer descriptions, EPSG:4326).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gis_service.api.dependencies import BBoxDep
from gis_service.answers.vocabulary import LEVELS
from gis_service.export import LAYERS, export_gpkg, metrics_table
from gis_service.lists import parse_list
from gis_service.spreadsheet_safety import csv_bytes, xlsx_bytes

router = APIRouter(prefix="/downloads", tags=["downloads"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG = "application/geopackage+sqlite3"
#: the spatial layers of the export; ``bbox`` cuts those that can be cut (the parcels)
SPATIAL_LAYERS = [name for name, spec in LAYERS.items() if spec.geometry_type is not None]


def _disposition(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


YearQ = Annotated[int | None, Query(ge=1949, le=2100)]
LevelQ = Annotated[str, Query(pattern=f"^({'|'.join(LEVELS)})$")]
NameQ = Annotated[str, Query(max_length=64)]
OptNameQ = Annotated[str | None, Query(max_length=64)]


@router.get("/metrics.csv", summary="密度指标 CSV")
def metrics_csv(request: Request, year: YearQ = None, numerator: NameQ = "output", basis: OptNameQ = None,
                level: LevelQ = "park", target: OptNameQ = None) -> Response:
    """The rows of ``/metrics/density`` for the same question, one column per row key."""
    table = metrics_table(request.app.state.engine, year=year, numerator=numerator, basis=basis, level=level, target=target)
    return Response(csv_bytes(table), media_type="text/csv; charset=utf-8", headers=_disposition(f"density_{level}.csv"))


@router.get("/metrics.xlsx", summary="密度指标 XLSX")
def metrics_xlsx(request: Request, year: YearQ = None, numerator: NameQ = "output", basis: OptNameQ = None,
                 level: LevelQ = "park", target: OptNameQ = None) -> Response:
    """The rows of ``/metrics/density`` for the same question, one column per row key."""
    table = metrics_table(request.app.state.engine, year=year, numerator=numerator, basis=basis, level=level, target=target)
    return Response(xlsx_bytes({"地均指标": table}), media_type=XLSX, headers=_disposition(f"density_{level}.xlsx"))


IntensityYearQ = Annotated[int, Query(ge=1949, le=2100, description="data year")]
IntensityLevelQ = Annotated[str, Query(pattern="^(park|zone)$")]


def _intensity(request: Request, year: int, level: str):  # type: ignore[no-untyped-def]
    from gis_service.answers.intensity import IntensityQuestion, answer_intensity

    return answer_intensity(request.app.state.engine, IntensityQuestion(year=year, level=level))


@router.get("/intensity.csv", summary="土地集约利用评价指标 CSV")
def intensity_csv(request: Request, year: IntensityYearQ, level: IntensityLevelQ = "park") -> Response:
    """The rows of ``/metrics/intensity`` for the same question, one column per row key."""
    from gis_service.reports.intensity_sheet import intensity_download_table

    table = intensity_download_table(_intensity(request, year, level))
    return Response(csv_bytes(table), media_type="text/csv; charset=utf-8", headers=_disposition(f"intensity_{level}.csv"))


@router.get("/intensity.xlsx", summary="土地集约利用评价指标 XLSX")
def intensity_xlsx(request: Request, year: IntensityYearQ, level: IntensityLevelQ = "park") -> Response:
    """Two sheets: the rows of ``/metrics/intensity`` and the 集约利用 sheet (numerators, denominators, sources)."""
    from gis_service.reports.intensity_sheet import SHEET_NAME, intensity_download_table, intensity_sheet_of

    answer = _intensity(request, year, level)
    sheets = {"集约利用指标": intensity_download_table(answer), SHEET_NAME: intensity_sheet_of(answer)}
    return Response(xlsx_bytes(sheets), media_type=XLSX, headers=_disposition(f"intensity_{level}.xlsx"))


@router.get("/layers.gpkg", summary="图层 GeoPackage")
def layers_gpkg(
    request: Request,
    bbox: BBoxDep,
    layers: Annotated[str, Query(description=f"comma-separated: {', '.join(SPATIAL_LAYERS)}")] = "district,towns,zones,parks,roads",
) -> Response:
    names = parse_list("layers", layers, max_items=len(SPATIAL_LAYERS), allowed=SPATIAL_LAYERS, min_items=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layers.gpkg"
        export_gpkg(request.app.state.engine, path, layers=names, bbox=bbox)
        data = path.read_bytes()
    return Response(data, media_type=GPKG, headers=_disposition("songjiang_layers.gpkg"))
