"""Administration over HTTP: the audit log (admin keys only)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from gis_service.api.auth import PrincipalDep, authorize_audit
from gis_service.api.writes import ERROR_RESPONSES
from gis_service.audit import read_audit_log

router = APIRouter(prefix="/admin", tags=["admin"])


class AuditEntry(BaseModel):
    """One write: who (the key's actor name, never the key), when, what, before and after."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    table_name: str
    row_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _none_if_nan(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@router.get("/audit", response_model=list[AuditEntry], summary="审计日志(管理员)", responses=ERROR_RESPONSES)
def audit_log(
    request: Request,
    principal: PrincipalDep,
    table: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$", description="only this table")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    since: Annotated[dt.datetime | None, Query(description="ISO 8601 time; only entries at or after it")] = None,
) -> list[AuditEntry]:
    """The newest entries first."""
    authorize_audit(principal)
    frame = read_audit_log(request.app.state.engine, table_name=table, limit=limit, since=since)
    return [AuditEntry(id=int(r.id), at=r.at.to_pydatetime(), actor=r.actor, action=r.action, table_name=r.table_name,
                       row_id=_none_if_nan(r.row_id), before=_none_if_nan(r.before), after=_none_if_nan(r.after))
            for r in frame.itertuples()]
