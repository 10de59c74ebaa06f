"""API keys: created and revoked by an administrator, stored only as a SHA-256 hash.

A key is ``gsk_`` followed by 43 random URL-safe characters (256 bits); it is shown
once at creation and never stored or logged in clear.  Because keys are random and
long, a plain SHA-256 is a sufficient (and constant-cost) hash for lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from gis_service import audit
from gis_service.db.models import Role
from gis_service.errors import InputError, NotFoundError
from gis_service.store.parks import find_park, read_park_refs

KEY_PREFIX = "gsk_"


@dataclass(frozen=True)
class Principal:
    """The identity behind a request: a key's name, role and (for park managers) parks."""

    key_id: int | None
    name: str
    role: Role
    park_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """How the audit log names this principal (never the key itself)."""
        return f"key:{self.key_id}:{self.name}" if self.key_id is not None else self.name


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: int
    name: str
    role: Role
    park_ids: tuple[int, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _park_ids(engine: Engine, park_refs: list[str]) -> list[int]:
    """Park ids for park codes or names (or ids); :class:`NotFoundError` names an unknown one."""
    if not park_refs:
        return []
    parks = read_park_refs(engine)
    return sorted({int(find_park(parks, ref)["park_id"]) for ref in park_refs})


def create_key(
    engine: Engine, *, name: str, role: Role | str, parks: list[str] | None = None, actor: str = "cli"
) -> tuple[ApiKeyInfo, str]:
    """Create a key; returns its description and the plaintext key (shown once).

    ``parks`` (codes or names) is required for, and only allowed with, ``park_manager``.
    """
    role = Role(role)
    parks = parks or []
    if role is Role.park_manager and not parks:
        raise InputError("a park_manager key needs at least one park (--park CODE)")
    if role is not Role.park_manager and parks:
        raise InputError(f"only park_manager keys are scoped to parks, not {role.value}")
    if not name.strip():
        raise InputError("a key needs a non-empty name")
    park_ids = _park_ids(engine, parks)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "INSERT INTO api_key (name, key_hash, role, park_ids) VALUES (:name, :hash, :role, :parks) "
                "RETURNING id, created_at"
            ),
            {"name": name, "hash": hash_key(plaintext), "role": role.value, "parks": park_ids},
        ).one()
        audit.record(
            conn, actor=actor, action="create", table_name="api_key", row_id=row.id, before=None,
            after={"name": name, "role": role.value, "park_ids": park_ids},
        )
    return ApiKeyInfo(row.id, name, role, tuple(park_ids), row.created_at, None), plaintext


def revoke_key(engine: Engine, key_id: int, *, actor: str = "cli") -> None:
    """Revoke a key (kept for the audit trail, never deleted)."""
    with engine.begin() as conn:
        row = conn.execute(
            text("UPDATE api_key SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL RETURNING name"),
            {"id": key_id},
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no active API key with id {key_id}")
        audit.record(
            conn, actor=actor, action="revoke", table_name="api_key", row_id=key_id,
            before={"revoked": False}, after={"revoked": True},
        )


def list_keys(engine: Engine) -> list[ApiKeyInfo]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, name, role, park_ids, created_at, revoked_at FROM api_key ORDER BY id")
        ).all()
    return [ApiKeyInfo(r.id, r.name, Role(r.role), tuple(r.park_ids), r.created_at, r.revoked_at) for r in rows]


def authenticate(engine: Engine, plaintext: str | None) -> Principal | None:
    """The principal of an active key, or ``None`` for a missing, unknown or revoked key."""
    if not plaintext or not plaintext.startswith(KEY_PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, name, role, park_ids FROM api_key WHERE key_hash = :h AND revoked_at IS NULL"),
            {"h": hash_key(plaintext)},
        ).one_or_none()
    if row is None:
        return None
    return Principal(row.id, row.name, Role(row.role), frozenset(row.park_ids))
