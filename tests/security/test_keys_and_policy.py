"""API keys are stored hashed, revocable, audited; the role policy decides writes."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.audit import read_audit_log
from gis_service.db.models import Park, ParkKind, Role
from gis_service.errors import InputError, NotFoundError
from gis_service.security import authenticate, can_write, create_key, revoke_key


@pytest.fixture
def parks(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        a = Park(code="a", name="甲园", kind=ParkKind.block)
        b = Park(code="b", name="乙园", kind=ParkKind.block)
        s.add_all([a, b])
        s.commit()
        return {"a": a.id, "b": b.id}


def test_key_is_stored_only_as_hash_and_authenticates(engine, parks) -> None:  # type: ignore[no-untyped-def]
    info, plaintext = create_key(engine, name="甲园管委会", role="park_manager", parks=["a"])
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT key_hash FROM api_key")).scalar_one()
        audit_text = conn.execute(text("SELECT after::text FROM audit_log")).scalar_one()
    assert plaintext not in stored and len(stored) == 64
    assert plaintext not in audit_text
    principal = authenticate(engine, plaintext)
    assert principal is not None and principal.role is Role.park_manager
    assert principal.park_ids == {parks["a"]}
    assert authenticate(engine, plaintext + "x") is None
    assert authenticate(engine, None) is None


def test_revoked_key_stops_working_and_is_audited(engine, parks) -> None:  # type: ignore[no-untyped-def]
    info, plaintext = create_key(engine, name="analyst", role="analyst")
    revoke_key(engine, info.key_id, actor="cli:test")
    assert authenticate(engine, plaintext) is None
    log = read_audit_log(engine, table_name="api_key")
    assert list(log.action) == ["revoke", "create"]
    assert log.iloc[0].actor == "cli:test"
    with pytest.raises(NotFoundError, match=str(info.key_id)):
        revoke_key(engine, info.key_id)


def test_key_creation_errors_name_the_problem(engine, parks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="needs at least one park"):
        create_key(engine, name="x", role="park_manager")
    with pytest.raises(InputError, match="only park_manager"):
        create_key(engine, name="x", role="viewer", parks=["a"])
    with pytest.raises(NotFoundError, match="unknown park.*nope"):
        create_key(engine, name="x", role="park_manager", parks=["nope"])
    with pytest.raises(ValueError):
        create_key(engine, name="x", role="superuser")


@pytest.mark.parametrize(
    ("role", "resource", "own", "allowed"),
    [
        ("viewer", "indicator", True, False),
        ("park_manager", "indicator", True, True),
        ("park_manager", "indicator", False, False),
        ("park_manager", "boundary", True, False),
        ("park_manager", "target", True, False),
        ("analyst", "indicator", False, True),
        ("analyst", "boundary", False, False),
        ("admin", "boundary", False, True),
        ("admin", "zone", False, True),
        ("admin", "target", False, True),
    ],
)
def test_write_policy(engine, parks, role, resource, own, allowed) -> None:  # type: ignore[no-untyped-def]
    refs = ["a"] if role == "park_manager" else []
    _, plaintext = create_key(engine, name=role, role=role, parks=refs)
    principal = authenticate(engine, plaintext)
    park_id = parks["a"] if own else parks["b"]
    assert can_write(principal, resource, park_id=park_id) is allowed
    assert can_write(None, resource, park_id=park_id) is False
