"""The role policy, in one place.

- viewer: reads.
- park_manager: reads; writes indicators of its own parks only.
- analyst: reads; writes indicators of any park (scenario and correction work).
- admin: everything, including boundaries, targets, zones, keys and the audit log.
"""

from __future__ import annotations

from typing import Literal

from gis_service.db.models import Role
from gis_service.security.keys import Principal

Resource = Literal["indicator", "boundary", "target", "zone", "layer", "api_key", "audit_log"]


def can_write(principal: Principal | None, resource: Resource, *, park_id: int | None = None) -> bool:
    """Whether ``principal`` may write ``resource`` (for indicators: of ``park_id``)."""
    if principal is None:
        return False
    if principal.role is Role.admin:
        return True
    if resource != "indicator":
        return False
    if principal.role is Role.analyst:
        return True
    if principal.role is Role.park_manager:
        return park_id is not None and park_id in principal.park_ids
    return False


def can_read_audit(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.admin
