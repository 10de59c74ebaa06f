"""Write endpoints: one indicator's figure (ETag / If-Match), targets, and file imports.

Who may do what is :mod:`gis_service.security.policy`; every write is one transaction with
its audit rows (:mod:`gis_service.edits`, :mod:`gis_service.ingest`).

Concurrency choice: updating an indicator **requires** ``If-Match`` with the ETag of the
version the client read (``GET /indicators/{id}``).  Without it the answer is 428
(Precondition Required, RFC 6585): a form that forgot the header must not silently
overwrite a park manager's figure.  A stale ETag gets 412 with the current value in the
body (``current``) and its ETag, so the client can show it and retry.  ``If-Match: *``
(any version, RFC 9110) is accepted for scripts that mean to overwrite.

Uploads are the raw file as the request body (``curl --data-binary @file.csv
'…/imports/indicators?filename=file.csv'``), streamed to a temporary file; the size limit
(``GIS_IMPORT_MAX_UPLOAD_BYTES``) is checked against ``Content-Length`` before reading and
again while streaming, so an oversized upload is refused (413) without being stored.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path as PathParam, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gis_service.api.auth import PrincipalDep, authorize_write, read_access
from gis_service.api.errors import (
    PermissionDeniedError,
    PreconditionRequiredError,
    error_responses,
    etag_of,
    jsonable_state,
)
from gis_service.edits import IndicatorChange, IndicatorState, TargetFields, put_target, read_indicator, update_indicator
from gis_service.errors import InputError, PayloadTooLargeError
from gis_service.ingest import ImportLimits, import_boundaries, import_indicators, import_layer
from gis_service.ingest.boundaries import LAYER_TABLES
from gis_service.ingest.indicator_records import IndicatorRecord
from gis_service.ingest.tables import TABLE_SUFFIXES
from gis_service.ingest.vector import VECTOR_SUFFIXES
from gis_service.security import Principal
from gis_service.security.policy import can_write

router = APIRouter(tags=["writes"])

ERROR_RESPONSES = error_responses(401, 403, 404, 422, 503)
UPLOAD_RESPONSES = error_responses(401, 403, 404, 413, 422, 503)


def _upload_body(*media_types: str) -> dict[str, Any]:
    """OpenAPI request body of a raw file upload."""
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}}


# ----------------------------------------------------------------------------- indicators
#: the response document of an indicator is the core's own record (FastAPI documents a
#: dataclass like a model), so the two cannot drift apart
IndicatorResource = IndicatorState


class IndicatorPut(BaseModel):
    """Full replacement of an indicator's figure and provenance (scope, year and metric are fixed)."""

    value: float = Field(description="the figure in `unit`; converted to the metric's catalogue unit")
    unit: str = Field(min_length=1, max_length=32, description="e.g. 亿元, 万元, km², 公顷, 亩")
    source_document: str = Field(min_length=1, max_length=500, description="where the figure comes from")
    source_section: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


class IndicatorPatch(BaseModel):
    """Partial change; fields left out keep their value (a value without unit is in the stored unit)."""

    value: float | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=32)
    source_document: str | None = Field(default=None, min_length=1, max_length=500)
    source_section: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


def _indicator_response(state: IndicatorState, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_state(state), status_code=status_code,
                        headers={"ETag": etag_of(state.version), "Cache-Control": "no-cache"})


_ETAG = re.compile(r'^"v(\d{1,9})"$')


def parse_if_match(header: str | None) -> list[int] | None:
    """Versions named by ``If-Match``; ``None`` for ``*``.  428 when the header is missing.

    Weak tags (``W/"…"``) never match (RFC 9110 strong comparison) and tags this service
    did not issue name no version: both end in 412 with the current value.
    """
    if header is None or not header.strip():
        raise PreconditionRequiredError(
            "If-Match is required to change an indicator: send the ETag of GET /indicators/{id} "
            "(需要 If-Match 以免覆盖他人的修改)"
        )
    if header.strip() == "*":
        return None
    versions = []
    for tag in header.split(","):
        match = _ETAG.match(tag.strip())
        if match:
            versions.append(int(match.group(1)))
    return versions


IndicatorId = Annotated[int, PathParam(ge=1, le=2**63 - 1, description="indicator id")]
IfMatch = Annotated[str | None, Header(alias="If-Match", description='ETag from GET, e.g. "v3"; or *')]


@router.get("/indicators/{indicator_id}", response_model=IndicatorResource, summary="单个指标(含版本 ETag)",
            responses=ERROR_RESPONSES, dependencies=[Depends(read_access)])
def get_indicator(request: Request, indicator_id: IndicatorId) -> JSONResponse:
    """The figure and its version; the ``ETag`` header is what ``If-Match`` of an update needs."""
    return _indicator_response(read_indicator(request.app.state.engine, indicator_id))


def _update(request: Request, principal: Principal, indicator_id: int, change: IndicatorChange,
            if_match: str | None) -> JSONResponse:
    expected = parse_if_match(if_match)

    def authorize(current: IndicatorState) -> None:
        authorize_write(principal, "indicator", park_id=current.park_id)

    state = update_indicator(request.app.state.engine, indicator_id, change, expected_versions=expected,
                             actor=principal.actor, authorize=authorize)
    return _indicator_response(state)


UPDATE_RESPONSES = error_responses(401, 403, 404, 412, 422, 428, 503)


@router.put("/indicators/{indicator_id}", response_model=IndicatorResource, summary="修改指标(需 If-Match)",
            responses=UPDATE_RESPONSES)
def put_indicator(request: Request, indicator_id: IndicatorId, body: IndicatorPut, principal: PrincipalDep,
                  if_match: IfMatch = None) -> JSONResponse:
    """Replace the figure; park managers only for their own parks, analysts and admins for any."""
    change = IndicatorChange(value=body.value, unit=body.unit, note=body.note or "",
                             source_document=body.source_document, source_section=body.source_section or "")
    return _update(request, principal, indicator_id, change, if_match)


@router.patch("/indicators/{indicator_id}", response_model=IndicatorResource, summary="部分修改指标(需 If-Match)",
              responses=UPDATE_RESPONSES)
def patch_indicator(request: Request, indicator_id: IndicatorId, body: IndicatorPatch, principal: PrincipalDep,
                    if_match: IfMatch = None) -> JSONResponse:
    """Change only the fields given."""
    if not body.model_fields_set:
        raise InputError("PATCH body: give at least one of value, unit, note, source_document, source_section")
    if body.unit is not None and body.value is None:
        raise InputError("PATCH body: unit given without value (the unit says what the new value is in)")
    change = IndicatorChange(value=body.value, unit=body.unit, note=body.note, source_document=body.source_document,
                             source_section=body.source_section)
    return _update(request, principal, indicator_id, change, if_match)


# ----------------------------------------------------------------------------- targets
class TargetIn(BaseModel):
    """A plan target (e.g. 001 表1 #9: 工业园区单位土地产值 80 亿元/km² by 2025, 预期性)."""

    scope: str = Field(min_length=1, max_length=64, description="songjiang, shanghai or a park code")
    name: str = Field(min_length=1, max_length=500)
    metric_code: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=1949, le=2100)
    unit: str = Field(min_length=1, max_length=32)
    source_document: str = Field(min_length=1, max_length=500)
    value: float | None = None
    value_text: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    basis: str | None = Field(default=None, max_length=64)
    base_year: int | None = Field(default=None, ge=1949, le=2100)
    base_value: float | None = None
    nature: Literal["预期性", "约束性"] | None = Field(default=None, description="预期性 (expected) or 约束性 (binding)")
    source_section: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


class TargetStored(TargetIn):
    """A stored target: the fields as given, with its id and code."""

    id: int
    code: str


@router.put("/targets/{code}", summary="设定规划目标(管理员)", response_model=TargetStored,
            responses={201: {"model": TargetStored, "description": "created"}, **ERROR_RESPONSES})
def put_target_route(request: Request, code: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")],
                     body: TargetIn, principal: PrincipalDep) -> JSONResponse:
    """Create (201) or replace (200) the target ``code``; admin only."""
    authorize_write(principal, "target")
    row, created = put_target(request.app.state.engine, code, TargetFields(**body.model_dump()), actor=principal.actor)
    return JSONResponse({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()},
                        status_code=201 if created else 200)


# ----------------------------------------------------------------------------- uploads
_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\-() ]")
_CHUNK_LIMIT_HINT = "GIS_IMPORT_MAX_UPLOAD_BYTES"


def safe_filename(filename: str, suffixes: tuple[str, ...]) -> str:
    """The base name of ``filename`` with any character outside letters, digits and ``.-_() `` replaced.

    The suffix decides the reader, so it must be one of ``suffixes``.
    """
    base = re.split(r"[/\\]", filename)[-1].strip()
    base = _UNSAFE_NAME_CHARS.sub("_", base)[:200]
    suffix = Path(base).suffix.lower()
    if not base or base.startswith(".") or suffix not in suffixes:
        raise InputError(f"filename {filename[:100]!r}: expected a name ending in one of {', '.join(suffixes)}")
    return base


async def receive_upload(
    request: Request, directory: Path, name: str, limits: ImportLimits, *, limit: int | None = None
) -> Path:
    """Stream the request body into ``directory/name``; 413 as soon as it exceeds the limit
    (``limit`` bytes, by default ``limits.max_upload_bytes``)."""
    limit = limit or limits.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"{name}: upload of {int(declared)} bytes is over the limit of {limit} bytes "
                                   f"({_CHUNK_LIMIT_HINT})")
    path = directory / name
    received = 0
    with path.open("wb") as out:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise PayloadTooLargeError(f"{name}: upload is over the limit of {limit} bytes ({_CHUNK_LIMIT_HINT}); "
                                           f"refused after {received} bytes")
            out.write(chunk)
    if received == 0:
        raise InputError(f"{name}: the upload is empty (send the file as the request body)")
    return path


def _limits(request: Request) -> ImportLimits:
    return request.app.state.import_limits  # type: ignore[no-any-return]


def _indicator_scope_check(principal: Principal):  # type: ignore[no-untyped-def]
    """The check :func:`import_indicators` runs on the validated figures before writing."""

    def check(records: list[IndicatorRecord]) -> None:
        for record in records:
            park_id = record.scope_id if record.scope_type == "park" else None
            if not can_write(principal, "indicator", park_id=park_id):
                raise PermissionDeniedError(
                    f"{record.where}: key {principal.name!r} ({principal.role.value}) may not write indicators of "
                    f"{record.scope_type} {record.scope_code!r}; nothing was imported"
                )

    return check


Filename = Annotated[str, Query(min_length=1, max_length=200, description="the file's name; its suffix sets the format")]


@router.post("/imports/indicators", summary="导入指标(CSV/XLSX)", responses=UPLOAD_RESPONSES,
             openapi_extra=_upload_body("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                        "application/octet-stream"))
async def import_indicators_route(
    request: Request,
    principal: PrincipalDep,
    filename: Filename,
    source_document: Annotated[str | None, Query(max_length=500, description="source of rows without 来源")] = None,
    source_section: Annotated[str | None, Query(max_length=500)] = None,
    sheet: Annotated[str | None, Query(max_length=100, description="XLSX sheet (default: the first)")] = None,
) -> dict[str, Any]:
    """Validate and import yearly figures in one transaction (park managers: own parks only)."""
    if not can_write(principal, "indicator", park_id=None) and not principal.park_ids:
        authorize_write(principal, "indicator")
    name = safe_filename(filename, TABLE_SUFFIXES)
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        path = await receive_upload(request, Path(tmp), name, _limits(request))
        result = await run_in_threadpool(partial(
            import_indicators, request.app.state.engine, path, actor=principal.actor, source_document=source_document,
            source_section=source_section, limits=_limits(request), sheet=sheet,
            authorize=_indicator_scope_check(principal),
        ))
    return result.to_dict()


@router.post("/imports/boundaries", summary="导入园区边界(新版本,管理员)", responses=UPLOAD_RESPONSES,
             openapi_extra=_upload_body("application/geo+json", "application/zip", "application/geopackage+sqlite3",
                                        "application/vnd.google-earth.kml+xml", "application/octet-stream"))
async def import_boundaries_route(
    request: Request,
    principal: PrincipalDep,
    filename: Filename,
    valid_from: Annotated[dt.date, Query(description="date from which the boundaries are in force")],
    source_document: Annotated[str, Query(min_length=1, max_length=500)],
    source_section: Annotated[str | None, Query(max_length=500)] = None,
    park_field: Annotated[str, Query(min_length=1, max_length=64)] = "code",
    source_crs: Annotated[str | None, Query(max_length=32, description="EPSG:4326, 4490 or 4549 if undeclared")] = None,
    gcj02: bool = False,
    repair: bool = False,
    geometry_quality: Literal["surveyed", "approximate", "synthetic"] = "approximate",
    method: Annotated[str | None, Query(max_length=500)] = None,
    layer: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """New boundary versions from GeoJSON, zipped Shapefile, GeoPackage or KML; history is kept."""
    authorize_write(principal, "boundary")
    name = safe_filename(filename, VECTOR_SUFFIXES)
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        path = await receive_upload(request, Path(tmp), name, _limits(request))
        result = await run_in_threadpool(partial(
            import_boundaries, request.app.state.engine, path, park_field=park_field, valid_from=valid_from,
            source_document=source_document, source_section=source_section, actor=principal.actor,
            source_crs=source_crs, gcj02=gcj02, repair=repair, geometry_quality=geometry_quality, method=method,
            layer=layer, limits=_limits(request),
        ))
    return {**result.to_dict(), "boundary_ids": result.boundary_ids}


@router.post("/imports/layers/{layer}", summary="导入参考图层(管理员)", responses=UPLOAD_RESPONSES,
             openapi_extra=_upload_body("application/geo+json", "application/zip", "text/csv", "application/octet-stream"))
async def import_layer_route(
    request: Request,
    principal: PrincipalDep,
    layer: Literal[tuple(LAYER_TABLES)],  # type: ignore[valid-type]
    filename: Filename,
    source_crs: Annotated[str | None, Query(max_length=32)] = None,
    gcj02: bool = False,
    repair: bool = False,
    replace: bool = Query(False, description="delete the layer's rows that the file does not contain; for "
                          "indicators only the figures of the cells the file leaves empty (no other figure is touched)"),
) -> dict[str, Any]:
    """Update (or with ``replace`` replace) a reference layer: district, towns, zones, roads...

    Every stored row changed gets its audit row.  ``indicators`` go through the same validation,
    unit conversion and per-figure audit as ``/imports/indicators``.
    """
    authorize_write(principal, "layer")
    name = safe_filename(filename, (*VECTOR_SUFFIXES, ".csv"))
    with tempfile.TemporaryDirectory(prefix="gis-upload-") as tmp:
        path = await receive_upload(request, Path(tmp), name, _limits(request))
        result = await run_in_threadpool(partial(
            import_layer, request.app.state.engine, layer, path, actor=principal.actor, source_crs=source_crs,
            gcj02=gcj02, repair=repair, replace=replace, limits=_limits(request),
        ))
    return {"layer": result.layer, "file": result.file, "inserted": result.inserted, "updated": result.updated,
            "unchanged": result.unchanged, "deleted": result.deleted}
