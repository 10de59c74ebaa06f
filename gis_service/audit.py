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
