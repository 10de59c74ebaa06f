"""One map from exceptions to HTTP statuses, and the JSON body every error has.

Body: ``{"code": "...", "description": "...", "status": 422}`` (the shape OGC API
exceptions use), plus ``"errors"`` with the offending parameters for validation
failures.  A 500 says only that something failed and gives a reference id; the
details go to the log, never to the client.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.errors import ConfigurationError, DatabaseError, GisServiceError, InputError, NotFoundError

log = logging.getLogger(__name__)

#: domain exception -> (HTTP status, code); the first matching class (in MRO order) wins
STATUS_OF: dict[type[Exception], tuple[int, str]] = {
    NotFoundError: (404, "NotFound"),
    InputError: (422, "InvalidParameterValue"),
    DatabaseError: (503, "ServiceUnavailable"),
    ConfigurationError: (503, "ServiceUnavailable"),
}


def status_for(exc: Exception) -> tuple[int, str]:
    """HTTP status and error code of a domain exception (500 for anything unmapped)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500, "ServerError"


def error_body(status: int, code: str, description: str, **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "description": description, "status": status, **extra}, status_code=status)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    status, code = status_for(exc)
    if status >= 500 and not isinstance(exc, DatabaseError | ConfigurationError):
        return _unexpected(request, exc)
    # Database messages may carry SQL or connection strings: say only that it is unavailable.
    description = "数据库暂不可用 (database unavailable)" if isinstance(exc, DatabaseError) else str(exc)
    return error_body(status, code, description)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        problems.append({"parameter": where, "message": err.get("msg", "invalid"), "input": _short(err.get("input"))})
    description = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems) or "invalid request"
    return error_body(422, "InvalidParameterValue", description, errors=problems)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = "NotFound" if exc.status_code == 404 else "HTTPError"
    return error_body(exc.status_code, code, str(exc.detail))


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
    app.add_exception_handler(Exception, _unexpected)
