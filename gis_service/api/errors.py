"""One map from exceptions to HTTP statuses, and the JSON body every error has.

Body: ``{"code": "...", "description": "...", "status": 422}`` (the shape OGC API
exceptions use), plus ``"errors"`` with the offending parameters for validation
failures.  A 500 says only that something failed and gives a reference id; the
details go to the log, never to the client.

Database outages: any connection-level failure (refused, dropped, pool exhausted,
statement timeout) is a 503 with ``Retry-After``, never a 500 nor a 4xx; the engine's pre-ping
reconnects by itself once the database is back.  The importers raise
:class:`~gis_service.errors.DatabaseUnavailableError` for an outage during an import
(:mod:`gis_service.ingest.database_errors`), also a 503.  An SQL error of the service's own
query (an undefined table or column, an internal error) is a 500 with a reference: logged
with its traceback under that reference, never shown to the client.  A 412 (stale ``If-Match``) carries the
current representation in ``current`` and its ``ETag``.
"""

from __future__ import annotations

import logging
import math
import uuid
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.db.engine import database_problem
from gis_service.edits import VersionConflictError
from gis_service.errors import (
    ConfigurationError,
    DatabaseError,
    GisServiceError,
    InputError,
    NotFoundError,
    PayloadTooLargeError,
)

log = logging.getLogger(__name__)


class AuthenticationError(GisServiceError):
    """No API key, or an unknown or revoked one, where a key is required (HTTP 401)."""


class PermissionDeniedError(GisServiceError):
    """The key's role (or park scope) does not allow this operation (HTTP 403)."""


class PreconditionRequiredError(GisServiceError):
    """An update without ``If-Match`` (HTTP 428): blind overwrites are refused."""


#: domain exception -> (HTTP status, code); the first matching class (in MRO order) wins
STATUS_OF: dict[type[Exception], tuple[int, str]] = {
    NotFoundError: (404, "NotFound"),
    PayloadTooLargeError: (413, "PayloadTooLarge"),
    InputError: (422, "InvalidParameterValue"),
    AuthenticationError: (401, "Unauthorized"),
    PermissionDeniedError: (403, "Forbidden"),
    VersionConflictError: (412, "PreconditionFailed"),
    PreconditionRequiredError: (428, "PreconditionRequired"),
    DatabaseError: (503, "ServiceUnavailable"),
    ConfigurationError: (503, "ServiceUnavailable"),
}
#: driver/pool failures that mean "the database is not reachable now" (503, retry later)
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
DEFAULT_RETRY_AFTER_S = 5
#: the description of every 503: no driver message, SQL or connection string reaches the client
UNAVAILABLE = "数据库暂不可用,请稍后重试 (database unavailable, retry later)"


class ErrorBody(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(extra="allow")

    code: str
    description: str
    status: int


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses, all with the :class:`ErrorBody` schema."""
    return {status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]} for status in statuses}


ERROR_MEANINGS = {
    401: "No API key, or an unknown or revoked one",
    403: "The key's role (or park scope) may not do this",
    404: "No such object",
    412: "If-Match is stale: `current` holds the current value, header ETag its version",
    413: "Request body over the route's limit, or an upload over a size, feature, row or archive limit",
    414: "Query string over the limit",
    422: "Invalid input; the description names what and where",
    428: "If-Match missing (blind overwrites are refused)",
    503: "Database unavailable; retry after Retry-After seconds",
}


def etag_of(version: int) -> str:
    """The (strong) entity tag of a versioned resource."""
    return f'"v{version}"'

def status_for(exc: Exception) -> tuple[int, str]:
    """HTTP status and error code of a domain exception (500 for anything unmapped)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500, "ServerError"


def error_body(status: int, code: str, description: str, **extra: object) -> JSONResponse:
    body = {"code": code, "description": description, "status": status, **extra}
    return JSONResponse(json_safe(body), status_code=status)


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float as its text ("nan", "inf"): JSON has no such
    numbers, and an error answer echoing the client's input must never fail to encode."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _retry_after(request: Request) -> str:
    settings = getattr(request.app.state, "api_settings", None)
    return str(getattr(settings, "retry_after_s", DEFAULT_RETRY_AFTER_S))


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status, code = status_for(exc)
    if status >= 500 and not isinstance(exc, DatabaseError | ConfigurationError):
        return _unexpected(request, exc)
    # Database messages may carry SQL or connection strings: say only that it is unavailable.
    if isinstance(exc, DatabaseError):
        _log_database_problem(request, exc)
        description = UNAVAILABLE
    else:
        description = str(exc)
    if isinstance(exc, VersionConflictError):
        response = error_body(status, code, description, current=jsonable_state(exc.current))
        response.headers["ETag"] = etag_of(exc.current.version)
        return response
    response = error_body(status, code, description)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gis-service", ApiKey header="X-API-Key"'
    if status == 503:
        response.headers["Retry-After"] = _retry_after(request)
    return response


def _log_database_problem(request: Request, exc: Exception) -> None:
    """Log an outage in the CLI's words (cause and advice, never a password) for the operator;
    the client only hears 503."""
    settings = getattr(request.app.state, "settings", None)
    problem = database_problem(exc, settings) if settings is not None else None
    said = f"{problem.cause}: {problem.advice}" if problem is not None else exc.__class__.__name__
    log.warning("database unavailable on %s: %s", request.url.path, said)


def jsonable_state(state: object) -> dict[str, object]:
    """An indicator state as JSON (dates as ISO text)."""
    data = state.to_dict()  # type: ignore[attr-defined]
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


def _outage(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached (or timed out): 503, retry later; no driver message to the client."""
    _log_database_problem(request, exc)
    response = error_body(503, "ServiceUnavailable", UNAVAILABLE)
    response.headers["Retry-After"] = _retry_after(request)
    return response


def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value PostgreSQL cannot take (a NUL character, an out-of-range number): the client's input."""
    return error_body(422, "InvalidParameterValue", "a value in the request cannot be stored or compared "
                      "(e.g. a NUL character or a number out of range)")


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        problems.append({"parameter": where, "message": err.get("msg", "invalid"), "input": _short(err.get("input"))})
    description = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems) or "invalid request"
    return error_body(422, "InvalidParameterValue", description, errors=problems)


#: codes of the HTTP errors raised outside the domain exceptions (routing, request limits)
HTTP_CODES = {404: "NotFound", 413: "PayloadTooLarge", 414: "URITooLong"}


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's body parsing failed before JSON decoding (bytes that are not UTF-8): invalid input,
        # a 422 like every other, saying what is wrong with the body
        cause = exc.__cause__
        return error_body(422, "InvalidParameterValue", f"body: not a JSON document in UTF-8 "
                          f"({type(cause).__name__}: {str(cause)[:200]})")
    response = error_body(exc.status_code, HTTP_CODES.get(exc.status_code, "HTTPError"), str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    ref = uuid.uuid4().hex[:12]
    log.exception("unhandled error %s on %s", ref, request.url.path, exc_info=exc)
    return error_body(500, "ServerError", f"内部错误 (internal error), reference {ref}", reference=ref)


def _short(value: object) -> object:
    text = repr(value) if not isinstance(value, str | int | float | bool | type(None)) else value
    return text[:200] if isinstance(text, str) else text


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(GisServiceError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    for outage in OUTAGE_ERRORS:
        app.add_exception_handler(outage, _outage)
    app.add_exception_handler(sa_exc.DataError, _data_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)
