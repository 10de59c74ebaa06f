"""The role policy, in one place.

- viewer: reads.
- park_manager: reads; writes indicators of its own parks only.
- analyst: reads; writes indicators of any park (scenario and correction work) and land data
  (survey snapshots, supply records, parcel registers).
- admin: everything, including boundaries, targets, zones, keys and the audit log.
"""

from __future__ import annotations

from typing import Literal

from gis_service.db.models import Role
from gis_service.security.keys import Principal

Resource = Literal["indicator", "land", "boundary", "target", "zone", "layer", "api_key", "audit_log"]

#: what an analyst may write besides admins: figures of any park and land data
_ANALYST_RESOURCES = frozenset({"indicator", "land"})


def can_write(principal: Principal | None, resource: Resource, *, park_id: int | None = None) -> bool:
    """Whether ``principal`` may write ``resource`` (for indicators: of ``park_id``)."""
    if principal is None:
        return False
    if principal.role is Role.admin:
        return True
    if principal.role is Role.analyst:
        return resource in _ANALYST_RESOURCES
    if resource != "indicator":
        return False
    if principal.role is Role.park_manager:
        return park_id is not None and park_id in principal.park_ids
    return False


def can_read_audit(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.admin
