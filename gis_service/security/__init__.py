"""Who may do what: API keys (stored hashed) and the role policy."""

from gis_service.security.keys import (
    ApiKeyInfo,
    Principal,
    authenticate,
    create_key,
    list_keys,
    revoke_key,
)
from gis_service.security.policy import can_write

__all__ = ["ApiKeyInfo", "Principal", "authenticate", "can_write", "create_key", "list_keys", "revoke_key"]
