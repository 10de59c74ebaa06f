"""Helpers of the write tests: one API key per role, indicator lookup, header builders."""

from __future__ import annotations

from sqlalchemy import Engine, text

from gis_service.security import create_key

#: callers of the authorization matrix: no key, and one key per role (park managers own test-west)
CALLERS = ("none", "viewer", "pm_own", "pm_other", "analyst", "admin")


def make_keys(engine: Engine) -> dict[str, str | None]:
    """Plaintext keys by caller (``none`` has none); the sample data must be loaded."""
    keys: dict[str, str | None] = {"none": None}
    for caller, role, parks in (("viewer", "viewer", None), ("pm_own", "park_manager", ["test-west"]),
                                ("pm_other", "park_manager", ["test-east"]), ("analyst", "analyst", None),
                                ("admin", "admin", None)):
        _, keys[caller] = create_key(engine, name=caller, role=role, parks=parks, actor="test")
    return keys


def auth(key: str | None, **extra: str) -> dict[str, str]:
    return ({"X-API-Key": key} if key else {}) | extra


def indicator_id(engine: Engine, park_id: int, metric: str = "output", year: int = 2020) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM indicator WHERE park_id = :p AND metric_code = :m AND year = :y"),
                                {"p": park_id, "m": metric, "y": year}).scalar_one())


def audit_rows(engine: Engine, table: str) -> list[dict]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            text("SELECT actor, action, row_id, before, after FROM audit_log WHERE table_name = :t ORDER BY id"),
            {"t": table}).mappings()]


def table_fingerprint(engine: Engine) -> dict[str, object]:
    """Row counts and an md5 of every writable table: equal fingerprints mean nothing changed."""
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for table in ("indicator", "target", "park_boundary", "road", "zone", "town", "park", "audit_log", "api_key"):
            # table names are the constants of the tuple above
            out[table] = conn.execute(text(f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t")).one()
    return out
