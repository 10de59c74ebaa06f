"""What the service trusts of a request's headers and the security headers of every answer.

- :class:`SecurityHeaders`, one ASGI middleware: every answer gets ``X-Content-Type-Options:
  nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy`` (only the origin leaves: tile
  servers such as OpenStreetMap's want it) and a Content-Security-Policy (no ``Server`` banner); an HTML page's policy allows scripts from this service and the inline
  scripts the page's own templates marked with :data:`NONCE_SLOT`, which becomes a fresh
  nonce per answer.  The slot is a secret of this process, so stored text that escaped its
  escaping still could not name it.  Other answers get ``default-src 'none'``.
- :func:`public_base_url`, the base of the absolute links (OGC API, TileJSON): the
  configured ``GIS_PUBLIC_BASE_URL``, else the request's own host when ``GIS_ALLOWED_HOSTS``
  lists it (a forged ``Host`` is refused like any invalid parameter, never reflected).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis_service.api.config import ApiSettings
from gis_service.api.dependencies import ApiInputError
from gis_service.maps.assets import cdn_origins, tile_origins
from gis_service.settings import Settings

#: put as ``nonce="<NONCE_SLOT>"`` on the service's own inline scripts; replaced per answer by a
#: nonce of the same length (so the answer's Content-Length stands)
NONCE_SLOT = secrets.token_urlsafe(18)
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"strict-origin-when-cross-origin")]
#: JSON, tiles, files: nothing on them may run or be framed
_NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'"


def page_policy(nonce: str, api_settings: ApiSettings) -> str:
    """The Content-Security-Policy of an HTML page answering with ``nonce``.

    Styles stay ``'unsafe-inline'``: Leaflet, the map panels and ReDoc set style attributes and
    elements; nothing in CSS runs code.  Images: this service, ``data:``/``blob:`` (icons,
    exports) and the basemaps' tile servers.  ``blob:`` workers are ReDoc's search.
    """
    cdn = "" if api_settings.offline or api_settings.local_assets else " " + " ".join(cdn_origins())
    tiles = " ".join(tile_origins(offline=api_settings.offline, tianditu_key=api_settings.tianditu_key,
                                  local_tile_url=api_settings.local_tile_url))
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'{cdn}",
        f"style-src 'self' 'unsafe-inline'{cdn}",
        f"img-src 'self' data: blob: {tiles}".rstrip(),
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """The one place the answers' security headers are set (see the module docstring)."""

    def __init__(self, app: ASGIApp, api_settings: ApiSettings) -> None:
        self.app = app
        self.api_settings = api_settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                start = {**message, "headers": headers + _ALWAYS}
                if not _is_html(headers):
                    start["headers"].append((b"content-security-policy", _NOT_A_PAGE.encode()))
                    await send(start)
                    start = None
                return
            if start is None:  # not a page: streamed through untouched
                await send(message)
                return
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_page(start, b"".join(body), send)

        await self.app(scope, receive, wrapped)

    async def _send_page(self, start: Message, body: bytes, send: Send) -> None:
        nonce = secrets.token_urlsafe(18)
        body = body.replace(NONCE_SLOT.encode(), nonce.encode())
        headers = [*start["headers"], (b"content-security-policy", page_policy(nonce, self.api_settings).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _is_html(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.lower().startswith(b"text/html") for k, v in headers)


def install_security_headers(app: FastAPI, api_settings: ApiSettings) -> None:
    app.add_middleware(SecurityHeaders, api_settings=api_settings)


# ----------------------------------------------------------------------------- links
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


def public_base_url(request: Request) -> str:
    """The base (scheme://host[:port][/prefix], no trailing slash) of the absolute links.

    ``GIS_PUBLIC_BASE_URL`` when set.  Otherwise the request's Host, accepted only when its
    host name is in ``GIS_ALLOWED_HOSTS``: a forged Host header is refused (422 naming the
    header), so no link, TileJSON or cache ever carries a name the operator did not allow.
    """
    settings: Settings = request.app.state.settings
    if settings.public_base_url:
        return settings.public_base_url
    host = request.headers.get("host", "")
    match = _HOST.match(host)
    name = match.group(1).strip("[]").lower() if match else None
    if name is None or name not in settings.allowed_host_names:
        raise ApiInputError("Host", f"host {host!r} is not served here (allowed: {', '.join(sorted(settings.allowed_host_names))}; "
                                    "set GIS_PUBLIC_BASE_URL or GIS_ALLOWED_HOSTS)")
    return str(request.base_url).rstrip("/")
