"""Request limits, enforced before anything reads the request: the body by route, the query string.

One pure ASGI middleware in front of every route (hence of authentication and of FastAPI's body
parsing):

- a body whose ``Content-Length`` is over its route's limit is refused with 413 before a byte of
  it is read; a body without a declared length (chunked) is counted as it streams and refused
  with 413 as soon as it passes the limit, so no route ever holds more than its limit;
- a query string over ``GIS_MAX_QUERY_BYTES`` is refused with 414.

The limit of a route depends on its class, read from the request body it declares in the service
description (:func:`route_classes`): a raw file upload has ``GIS_IMPORT_MAX_UPLOAD_BYTES``, or
``GIS_IMPORT_MAX_LAND_UPLOAD_BYTES`` when it says ``x-body-limit: land_upload``
(:func:`land_upload_body`); every other route (JSON bodies, and none) has ``GIS_MAX_BODY_BYTES``.
Each refusal closes the connection: the unread rest of the body is not waited for.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_service.api.errors import error_body

#: the extension of a route's OpenAPI ``requestBody`` naming its limit class
BODY_LIMIT_KEY = "x-body-limit"
JSON, UPLOAD, LAND_UPLOAD = "json", "upload", "land_upload"
#: the setting (environment variable) that holds each class's limit
LIMIT_SETTINGS = {JSON: "GIS_MAX_BODY_BYTES", UPLOAD: "GIS_IMPORT_MAX_UPLOAD_BYTES",
                  LAND_UPLOAD: "GIS_IMPORT_MAX_LAND_UPLOAD_BYTES"}


class BodyTooLargeError(HTTPException):
    """A streamed body passed its route's limit (413); raised from ``receive``, answered by the
    error handlers like any HTTP error (FastAPI lets an HTTPException through its body parsing)."""

    def __init__(self, description: str) -> None:
        super().__init__(413, description, headers={"Connection": "close"})


def land_upload_body(extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` (an upload route's ``openapi_extra``) with its body in the land upload class."""
    return {**extra, "requestBody": {**extra["requestBody"], BODY_LIMIT_KEY: LAND_UPLOAD}}


def limit_class(request_body: dict[str, Any] | None) -> str:
    """The limit class of an operation's OpenAPI ``requestBody``: its ``x-body-limit`` if it says one,
    an upload for a raw (binary) file body, JSON otherwise."""
    if not request_body:
        return JSON
    if BODY_LIMIT_KEY in request_body:
        return str(request_body[BODY_LIMIT_KEY])
    media = request_body.get("content", {}).values()
    return UPLOAD if any(m.get("schema", {}).get("format") == "binary" for m in media) else JSON


RouteClasses = list[tuple[re.Pattern[str], str, str]]


def route_classes(document: dict[str, Any]) -> RouteClasses:
    """(path pattern, method, limit class) of every operation of the service description.

    The description is where a route declares its body, whatever the FastAPI version's router
    internals (included routers are nested differently across versions)."""
    table = []
    for path, operations in document.get("paths", {}).items():
        pattern = compile_path(path)[0]
        for method, operation in operations.items():
            table.append((pattern, method.upper(), limit_class(operation.get("requestBody"))))
    return table


def body_limit(scope: Scope, table: RouteClasses) -> tuple[int, str]:
    """The body limit (bytes) of the request ``scope`` and the setting it comes from."""
    path, method = scope["path"], scope["method"]
    cls = next((c for pattern, m, c in table if m == method and pattern.match(path)), JSON)
    state = scope["app"].state
    value = {JSON: state.settings.max_body_bytes, UPLOAD: state.import_limits.max_upload_bytes,
             LAND_UPLOAD: state.import_limits.max_land_upload_bytes}[cls]
    return int(value), LIMIT_SETTINGS[cls]


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _over(scope: Scope, limit: int, setting: str, size: str) -> str:
    return (f"请求体过大 (request body too large): the body of {scope['method']} {scope['path']} {size} is over "
            f"the limit of {limit} bytes ({setting})")


class RequestLimits:
    """The middleware (see the module docstring); ``app.add_middleware(RequestLimits)``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._classes: RouteClasses | None = None  # read from the service description on first use

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_query = scope["app"].state.settings.max_query_bytes
        query = scope.get("query_string", b"")
        if len(query) > max_query:
            description = (f"查询字符串过长 (query string too long): {len(query)} bytes is over the limit of "
                           f"{max_query} bytes (GIS_MAX_QUERY_BYTES)")
            await _refuse(scope, receive, send, 414, "URITooLong", description)
            return
        if self._classes is None:
            self._classes = route_classes(scope["app"].openapi())
        limit, setting = body_limit(scope, self._classes)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, 413, "PayloadTooLarge", _over(scope, limit, setting, f"({declared} bytes)"))
            return
        await self._bounded(scope, receive, send, limit, setting)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int, setting: str) -> None:
        """Run the app with ``receive`` counting the body; 413 once it passes ``limit``."""
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(_over(scope, limit, setting, f"(refused after {received} bytes)"))
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLargeError as exc:  # raised where no handler answered it (e.g. before routing)
            if started:
                raise
            await _refuse(scope, receive, send, 413, "PayloadTooLarge", str(exc.detail))


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, description: str) -> None:
    response = error_body(status, code, description)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
