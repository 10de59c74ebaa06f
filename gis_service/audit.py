"""The audit log: every write records who, when, what, before and after.

:func:`record` writes in the caller's transaction, so an audit row exists exactly when
the change it describes is committed.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from gis_service.store.readers import read_frame


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    table_name: str,
    row_id: object | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Append one audit row inside the caller's open transaction."""
    conn.execute(
        text(
            "INSERT INTO audit_log (actor, action, table_name, row_id, before, after) "
            "VALUES (:actor, :action, :table_name, :row_id, CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "actor": actor,
            "action": action,
            "table_name": table_name,
            "row_id": None if row_id is None else str(row_id),
            "before": None if before is None else json.dumps(_jsonable(before), ensure_ascii=False),
            "after": None if after is None else json.dumps(_jsonable(after), ensure_ascii=False),
        },
    )


def read_audit_log(
    engine: Engine, *, table_name: str | None = None, limit: int = 100, since: dt.datetime | None = None
) -> pd.DataFrame:
    """The newest audit rows first (``limit`` at most)."""
    sql = """
        SELECT id, at, actor, action, table_name, row_id, before, after
        FROM audit_log
        WHERE (CAST(:table_name AS text) IS NULL OR table_name = :table_name)
          AND (CAST(:since AS timestamptz) IS NULL OR at >= :since)
        ORDER BY id DESC LIMIT :limit
    """
    return read_frame(engine, sql, {"table_name": table_name, "since": since, "limit": limit})


# ----------------------------------------------------------------------------- row changes of a bulk write
#: Geometry columns of the audited tables: audited by a hash of their WKB, not their coordinates.
_GEOMETRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "district": ("geom",), "town": ("geom",), "zone": ("geom", "centerline"), "road": ("geom",),
}
#: Tables whose rows a layer import may change (constants: never user input).
AUDITABLE_TABLES = frozenset({"district", "town", "zone", "zone_town", "road", "park", "sizhi", "target", "indicator"})
_PRIMARY_KEY_SQL = """
    SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
    WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary ORDER BY a.attname
"""

Snapshot = dict[str, dict[str, Any]]


def snapshot(conn: Connection, table: str) -> Snapshot:
    """Every row of ``table`` as JSON (geometries as the MD5 of their WKB), by primary key.

    Taken before and after a bulk write (a layer import) so that :func:`record_changes` can audit
    each row it inserted, changed or deleted, whatever statement changed it.  Meant for the small
    reference tables of :data:`AUDITABLE_TABLES`.  The table is locked against concurrent writes
    (reads go on) until the transaction ends, so no other writer's change is attributed to it.
    """
    if table not in AUDITABLE_TABLES:
        raise ValueError(f"{table!r} is not an auditable reference table")
    conn.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    keys = conn.execute(text(_PRIMARY_KEY_SQL), {"t": table}).scalars().all()
    geoms = _GEOMETRY_COLUMNS.get(table, ())
    row = "to_jsonb(t)" + "".join(f" - '{g}'" for g in geoms) + "".join(
        f" || jsonb_build_object('{g}_wkb_md5', md5(ST_AsBinary(t.{g})))" for g in geoms)
    found: Snapshot = {}
    for (values,) in conn.execute(text(f"SELECT {row} FROM {table} t")):
        found[":".join(str(values[k]) for k in keys)] = values
    return found


def record_changes(conn: Connection, before: Snapshot, *, actor: str, table_name: str) -> int:
    """One audit row per row of ``table_name`` inserted, updated or deleted since ``before``; returns the count."""
    after = snapshot(conn, table_name)  # already locked by the snapshot before: same lock, no wait
    changed = 0
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        action = "insert" if old is None else "delete" if new is None else "update"
        record(conn, actor=actor, action=action, table_name=table_name, row_id=key, before=old, after=new)
        changed += 1
    return changed
