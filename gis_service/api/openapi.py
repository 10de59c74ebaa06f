"""The service description as valid OpenAPI 3.0 (OGC API Features conformance class oas30).

FastAPI writes JSON Schema 2020-12 idioms (OpenAPI 3.1) even when ``openapi_version`` says
3.0.3: ``exclusiveMinimum: 0`` as a number, ``anyOf [.., {type: null}]`` for optional
values, ``const``, ``examples`` lists.  :func:`as_openapi_30` rewrites them into their 3.0
forms.  It also documents what the routes really send: error answers are always JSON
(:class:`~gis_service.api.errors.ErrorBody`), also on HTML and file routes, and file
downloads carry their own media type rather than the default JSON.  The page size of the
items routes (:func:`~gis_service.api.dependencies.paging`) is one shared parameter,
``components.parameters.limit``, with this server's default and maximum: clients such as
QGIS read their page size there (and fall back to 100 per request without it).

The documentation pages (/docs Swagger UI, /redoc ReDoc) load their scripts and styles from
this package (``api/static/docs``, vendored from the npm packages swagger-ui-dist 5.35.0 and
redoc 2.5.4, licences beside them), never from a CDN: administrators paste keys there.  The
one change to them: ReDoc's footer logo no longer loads from cdn.redoc.ly (``src:""``).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic.fields import FieldInfo

from gis_service.api.config import ApiSettings
from gis_service.api.dependencies import paging
from gis_service.api.errors import ErrorBody
from gis_service.api.headers import NONCE_SLOT

#: media type of a route answering a file, by the suffix of its path
FILE_MEDIA_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".gpkg": "application/geopackage+sqlite3",
    ".mvt": "application/vnd.mapbox-vector-tile",
}
ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"
LIMIT_REF = "#/components/parameters/limit"


def _schema_30(node: Any) -> Any:
    """One JSON Schema (recursively) in its OpenAPI 3.0 dialect."""
    if isinstance(node, list):
        return [_schema_30(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _schema_30(v) for k, v in node.items()}
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out.pop(bound)
            out[bound] = True
    if isinstance(out.get("prefixItems"), list):  # tuples (GeoJSON positions, bbox): 3.0 has only `items`
        items = out.pop("prefixItems")
        out["items"] = items[0] if items and all(i == items[0] for i in items) else {}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    for key in ("anyOf", "oneOf"):
        branches = out.get(key)
        if isinstance(branches, list) and any(b == {"type": "null"} for b in branches):
            rest = [b for b in branches if b != {"type": "null"}]
            out.pop(key)
            if len(rest) == 1 and "$ref" not in rest[0]:
                out.update(rest[0])
            elif len(rest) == 1:
                out["allOf"] = rest  # a $ref cannot carry siblings in 3.0
            else:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    return out


def _responses_as_sent(document: dict[str, Any]) -> None:
    for path, operations in document.get("paths", {}).items():
        suffix = next((s for s in FILE_MEDIA_TYPES if path.endswith(s)), None)
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] in ("4", "5") and "text/html" not in response.get("content", {}):
                    # the API's problem JSON; a page route documents its Chinese error page instead
                    response["content"] = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
                elif status == "200" and suffix and "application/json" in response.get("content", {}):
                    response["content"] = {FILE_MEDIA_TYPES[suffix]: {"schema": {"type": "string", "format": "binary"}}}


def as_openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every schema in the 3.0 dialect and the answers as the routes send them."""
    document = _schema_30(document)
    _responses_as_sent(document)
    return document  # type: ignore[no-any-return]


def _paging_limit_description() -> str:
    """The description of :func:`paging`'s ``limit``: what marks it among other ``limit`` parameters."""
    metadata = typing.get_type_hints(paging, include_extras=True)["limit"].__metadata__
    return next(str(m.description) for m in metadata if isinstance(m, FieldInfo))


def share_paging_limit(document: dict[str, Any], settings: ApiSettings) -> None:
    """Replace each operation's paging ``limit`` by a reference to ``components.parameters.limit``,
    which states the server's default and maximum page size."""
    description = _paging_limit_description()
    shared = {"name": "limit", "in": "query", "required": False, "description": description,
              "schema": {"type": "integer", "minimum": 1, "maximum": settings.max_limit,
                         "default": settings.default_limit}}
    document.setdefault("components", {}).setdefault("parameters", {})["limit"] = shared
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters")
            if not parameters:
                continue
            operation["parameters"] = [
                {"$ref": LIMIT_REF} if p.get("name") == "limit" and p.get("in") == "query"
                and p.get("description") == description else p
                for p in parameters
            ]


def install_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Make ``app.openapi()`` return (and cache) the 3.0 document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version,
                                   description=app.description, routes=app.routes, tags=app.openapi_tags,
                                   servers=app.servers)
            document.setdefault("components", {}).setdefault("schemas", {})
            document["components"]["schemas"].setdefault("ErrorBody", ErrorBody.model_json_schema())
            document = as_openapi_30(document)
            share_paging_limit(document, app.state.api_settings)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _install_docs(app)
    return openapi


DOCS_STATIC_DIR = Path(__file__).parent / "static" / "docs"
DOCS_STATIC_URL = "/static/docs"


def _install_docs(app: FastAPI) -> None:
    """/docs and /redoc from the packaged assets (the app is built with docs_url=None, redoc_url=None)."""
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=DOCS_STATIC_DIR), name="docs-static")
    ui = f"{DOCS_STATIC_URL}/swagger-ui"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - API 文档",
                                   swagger_js_url=f"{ui}/swagger-ui-bundle.js", swagger_css_url=f"{ui}/swagger-ui.css",
                                   swagger_favicon_url=f"{ui}/favicon-32x32.png")
        # the page's one inline script (FastAPI's, no stored text) gets the answer's nonce
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{NONCE_SLOT}">')
        return HTMLResponse(html)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc", with_google_fonts=False,
                              redoc_js_url=f"{DOCS_STATIC_URL}/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{ui}/favicon-32x32.png")
