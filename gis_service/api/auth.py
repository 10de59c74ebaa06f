"""Who is calling: the API key of a request, and the role checks of the routes.

A key comes in the ``X-API-Key`` header or as ``Authorization: Bearer <key>``; it is looked
up by its SHA-256 hash (:func:`gis_service.security.authenticate`) and never logged, echoed
or stored in clear.  Rules:

- a request that presents a key must present a valid one: an unknown or revoked key is a
  401 on every route, also on open reads (a typo should not silently turn into anonymous use);
- reads are open unless ``GIS_API_REQUIRE_KEY_FOR_READ`` is set (then 401 without a key);
- writes always need a key (401 without), and a role that may not write gets 403
  (:func:`gis_service.security.policy.can_write` is the one policy).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gis_service.api.errors import AuthenticationError, PermissionDeniedError
from gis_service.security import Principal, authenticate
from gis_service.security.policy import Resource, can_read_audit, can_write

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKey",
    description="API key created with `gis-service keys create` (gsk_...).",
)
bearer = HTTPBearer(auto_error=False, scheme_name="Bearer", description="The same API key as a bearer token.")


def presented_key(api_key: str | None, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The key a request carries (header first), or ``None``."""
    if api_key:
        return api_key
    if credentials is not None and credentials.credentials:
        return credentials.credentials
    return None


def optional_principal(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal | None:
    """The caller, ``None`` when no key was presented; 401 for an invalid or revoked key."""
    key = presented_key(api_key, credentials)
    if key is None:
        return None
    principal = authenticate(request.app.state.engine, key)
    if principal is None:
        raise AuthenticationError("API key unknown or revoked (密钥无效或已吊销)")
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_principal(principal: OptionalPrincipal) -> Principal:
    """The caller; 401 when no key was presented."""
    if principal is None:
        raise AuthenticationError("an API key is required: send X-API-Key or Authorization: Bearer (需要 API 密钥)")
    return principal


PrincipalDep = Annotated[Principal, Depends(require_principal)]


def read_access(request: Request, principal: OptionalPrincipal) -> None:
    """Router dependency of the read routes: a key is needed only when the settings say so."""
    if principal is None and request.app.state.api_settings.require_key_for_read:
        require_principal(principal)


def authorize_write(principal: Principal, resource: Resource, *, park_id: int | None = None) -> None:
    """403 unless ``principal`` may write ``resource`` (indicators: of park ``park_id``)."""
    if can_write(principal, resource, park_id=park_id):
        return
    if resource == "indicator" and principal.role.value == "park_manager":
        scope = f"park {park_id}" if park_id is not None else "a scope other than a park"
        raise PermissionDeniedError(f"key {principal.name!r} (park_manager) may not write indicators of {scope}; "
                                    "park managers write only their own parks")
    raise PermissionDeniedError(f"role {principal.role.value} may not write {resource}")


def authorize_audit(principal: Principal) -> None:
    if not can_read_audit(principal):
        raise PermissionDeniedError(f"role {principal.role.value} may not read the audit log (admin only)")
