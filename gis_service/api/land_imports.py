"""Land data in over HTTP: ``POST /imports/landuse``, ``/imports/supply``, ``/imports/parcels``.

The file is the raw request body (``curl --data-binary @dltb.zip
'…/imports/landuse?filename=dltb.zip&year=2023&source_document=…'``), streamed to a
temporary file under the land upload limit (``GIS_IMPORT_MAX_LAND_UPLOAD_BYTES``).  Admins
and analysts may import land.  The routes call the same importers as ``gis-service import``
and return the same report.  ``PUT /land/supply/{no}/idle`` records a 闲置土地认定 finding on a
supply record, ``POST /land/idle-reviews`` that an identification was carried out (even one that
found nothing idle), ``GET /land/idle-reviews`` lists those.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as Path_
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gis_service.api.auth import PrincipalDep, authorize_write
from gis_service.api.request_limits import land_upload_body
from gis_service.api.writes import (
    ERROR_RESPONSES,
    UPLOAD_RESPONSES,
    Filename,
    _limits,
    _upload_body,
    receive_upload,
    safe_filename,
)
from gis_service.ingest.idle_reviews import MAX_SOURCE_LENGTH, MAX_YEAR, MIN_YEAR
from gis_service.ingest.land import (
    LandFileOptions,
    LandImportReport,
    RegisterOptions,
    SupplyOptions,
    SurveyOptions,
    import_landuse,
    import_register,
    import_supply,
    parse_field_options,
)
from gis_service.lists import parse_list
from gis_service.security import Principal

router = APIRouter(tags=["writes"])

#: what can arrive as one request body: a single-file format, or a zip (Shapefile with its
#: sidecars, File Geodatabase directory)
UPLOAD_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".kml")

_MEDIA = ("application/zip", "application/geopackage+sqlite3", "application/geo+json",
          "application/vnd.google-earth.kml+xml", "application/octet-stream")
#: the raw file body, in the land class of the request limits (GIS_IMPORT_MAX_LAND_UPLOAD_BYTES)
LAND_BODY = land_upload_body(_upload_body(*_MEDIA))
Source = Annotated[str, Query(min_length=1, max_length=500, description="source of the data")]
Layer = Annotated[str | None, Query(max_length=100, description="layer to read (e.g. DLTB)")]
Encoding = Annotated[str | None, Query(max_length=32, description="DBF encoding override (e.g. GBK)")]
Crs = Annotated[str | None, Query(max_length=32, description="CRS if the file declares none, or gcj02")]
#: at most this many distinct KEY=FIELD options (more than any file format has keys)
MAX_FIELDS = 20
Fields = Annotated[list[str], Query(description=f"KEY=FIELD for fields with other names (at most {MAX_FIELDS})")]
CodeSystem = Annotated[str | None, Query(max_length=32, description="sandiao, guotu or gb50137")]


async def _import(request: Request, principal: Principal, filename: str, importer: Callable[..., LandImportReport],
                  options: object) -> dict[str, Any]:
    """Receive the body under the land upload limit and run ``importer`` on it (off the event loop);
    the route has authorized the caller first."""
    limits = _limits(request)
    name = safe_filename(filename, UPLOAD_SUFFIXES)
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        path = await receive_upload(request, Path(tmp), name, limits, limit=limits.max_land_upload_bytes)
        report = await run_in_threadpool(partial(importer, request.app.state.engine, path, options,
                                                 actor=principal.actor))
    return report.to_dict()


def _fields(field: list[str]) -> dict[str, str]:
    return parse_field_options(parse_list("field", field, max_items=MAX_FIELDS))


def _file_options(request: Request, layer: str | None, encoding: str | None, crs: str | None, repair: bool) -> LandFileOptions:
    return LandFileOptions(layer=layer, encoding=encoding, crs=crs, repair=repair, limits=_limits(request))


@router.post("/imports/landuse", summary="导入土地利用现状调查(每年一期,同年重导即替换)", responses=UPLOAD_RESPONSES,
             openapi_extra=LAND_BODY)
async def import_landuse_route(
    request: Request, principal: PrincipalDep, filename: Filename,
    year: Annotated[int, Query(ge=2000, le=2100, description="year the snapshot describes")],
    source_document: Source, code_system: CodeSystem = None, strict: bool = False,
    layer: Layer = None, encoding: Encoding = None, crs: Crs = None, repair: bool = False, field: Fields = [],  # noqa: B006
) -> dict[str, Any]:
    """A land-use survey snapshot (三调 DLTB…): one per year, checked, in one transaction."""
    authorize_write(principal, "land")
    options = SurveyOptions(year=year, source_document=source_document, code_system=code_system, strict=strict,
                            fields=_fields(field), file=_file_options(request, layer, encoding, crs, repair))
    return await _import(request, principal, filename, import_landuse, options)


@router.post("/imports/supply", summary="导入供地记录(电子监管号重导即替换)", responses=UPLOAD_RESPONSES,
             openapi_extra=LAND_BODY)
async def import_supply_route(
    request: Request, principal: PrincipalDep, filename: Filename, source_document: Source,
    layer: Layer = None, encoding: Encoding = None, crs: Crs = None, repair: bool = False, field: Fields = [],  # noqa: B006
) -> dict[str, Any]:
    """Land supply records (供地结果公告 fields), checked, in one transaction."""
    authorize_write(principal, "land")
    options = SupplyOptions(source_document=source_document, fields=_fields(field),
                            file=_file_options(request, layer, encoding, crs, repair))
    return await _import(request, principal, filename, import_supply, options)


@router.post("/imports/parcels", summary="导入地块登记(替换现有登记)", responses=UPLOAD_RESPONSES,
             openapi_extra=LAND_BODY)
async def import_parcels_route(
    request: Request, principal: PrincipalDep, filename: Filename, source_document: Source,
    code_system: CodeSystem = None, layer: Layer = None, encoding: Encoding = None, crs: Crs = None,
    repair: bool = False, field: Fields = [],  # noqa: B006
) -> dict[str, Any]:
    """An office's parcel register (land-use code + supply flag), replacing the stored register."""
    authorize_write(principal, "land")
    options = RegisterOptions(source_document=source_document, code_system=code_system,
                              fields=_fields(field), file=_file_options(request, layer, encoding, crs, repair))
    return await _import(request, principal, filename, import_register, options)


@router.post("/imports/buildings", summary="导入建筑物(建筑面积或层数;同年重导即替换)", responses=UPLOAD_RESPONSES,
             openapi_extra=LAND_BODY)
async def import_buildings_route(
    request: Request, principal: PrincipalDep, filename: Filename,
    year: Annotated[int, Query(ge=1900, le=2100, description="year the buildings describe")],
    source_document: Source, layer: Layer = None, encoding: Encoding = None, crs: Crs = None, repair: bool = False,
) -> dict[str, Any]:
    """Building footprints with 建筑面积 or 层数, checked, in one transaction (the same importer as the CLI)."""
    from dataclasses import asdict

    from gis_service.ingest.buildings import import_buildings

    authorize_write(principal, "land")
    limits = _limits(request)
    name = safe_filename(filename, UPLOAD_SUFFIXES)
    options = _file_options(request, layer, encoding, crs, repair)
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        path = await receive_upload(request, Path(tmp), name, limits, limit=limits.max_land_upload_bytes)
        result = await run_in_threadpool(partial(import_buildings, request.app.state.engine, path, year=year,
                                                 source=source_document, actor=principal.actor, options=options,
                                                 file_name=name))
    return asdict(result)


@router.put("/land/supply/{supervision_no}/idle", summary="标记供地记录为闲置土地(认定/已处置/无)",
            responses=ERROR_RESPONSES)
def set_idle_route(
    request: Request, principal: PrincipalDep, supervision_no: Annotated[str, Path_(max_length=64)],
    status: Annotated[str, Query(pattern="^(idle|disposed|none)$", description="idle, disposed or none")],
    year: Annotated[int | None, Query(ge=1990, le=2100, description="year of the 闲置土地认定")] = None,
) -> dict[str, Any]:
    """闲置土地认定 on a supply record (by 电子监管号): idle, disposed (处置完毕) or none."""
    from gis_service.ingest.buildings import set_idle_status

    authorize_write(principal, "land")
    return set_idle_status(request.app.state.engine, supervision_no, status=status, year=year, actor=principal.actor)


class IdleReviewIn(BaseModel):
    """A 闲置土地调查认定 carried out (``park_code`` omitted: the whole district, 全区); the body is
    bounded here, the values checked by :func:`~gis_service.ingest.idle_reviews.record_idle_review`."""

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="year of the 闲置土地调查认定")
    park_code: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="park code (its blocks included); omitted: the whole district")
    source_document: str = Field(min_length=1, max_length=MAX_SOURCE_LENGTH, description="source of the identification")
    source_section: str | None = Field(default=None, max_length=MAX_SOURCE_LENGTH)


@router.post("/land/idle-reviews", summary="录入闲置土地调查认定(年份、范围、来源;同年同范围即替换)",
             responses=ERROR_RESPONSES)
def record_idle_review_route(request: Request, principal: PrincipalDep, body: IdleReviewIn) -> dict[str, Any]:
    """That a 闲置土地调查认定 was carried out for a year over a park or the district, even one that
    found no idle land (the same function as ``gis-service import idle-review``)."""
    from gis_service.ingest.idle_reviews import record_idle_review

    authorize_write(principal, "land")
    return record_idle_review(request.app.state.engine, year=body.year, park_code=body.park_code,
                              source_document=body.source_document, source_section=body.source_section,
                              actor=principal.actor)


@router.get("/land/idle-reviews", summary="闲置土地调查认定记录", responses=ERROR_RESPONSES)
def idle_reviews_route(
    request: Request, year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="only this year")] = None,
) -> list[dict[str, Any]]:
    """The recorded 闲置土地调查认定 (the same rows as ``gis-service import idle-reviews --json``)."""
    from gis_service.ingest.idle_reviews import idle_reviews

    return idle_reviews(request.app.state.engine, year=year)
