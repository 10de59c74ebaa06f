"""Versions of the stored data, and results kept until the data they come from changes.

Statement triggers bump a per-table counter in ``data_change`` on every write (migration
0003), so one small query tells whether anything changed, whatever the size of the tables.
:func:`overlapping_boundary_version` finds the stored version of a park's boundary that a
version to be written would overlap (the ``boundary_no_overlap`` constraint, migration 0001).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection, Engine, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

T = TypeVar("T")


def data_version(engine: Engine, tables: Sequence[str] | None = None) -> str:
    """A short token that changes whenever a stored layer or figure changes — any of them,
    or only those of ``tables`` (e.g. ``("district", "town")`` for what changes a basemap).

    Read from the per-table counters that statement triggers bump on every write
    (``data_change``, migration 0003): one small query, whatever the size of the tables.
    """
    with engine.connect() as conn:
        return connection_data_version(conn, tables)


def connection_data_version(conn: Connection, tables: Sequence[str] | None = None) -> str:
    """:func:`data_version` read on an open connection (for a caller that goes on using it)."""
    if tables is None:
        rows = conn.execute(text("SELECT table_name, version FROM data_change ORDER BY table_name")).all()
    else:
        rows = conn.execute(_SOME_TABLES_SQL, {"tables": list(tables)}).all()
    return hashlib.sha1(repr(rows).encode()).hexdigest()[:16]


_SOME_TABLES_SQL = text(
    "SELECT table_name, version FROM data_change WHERE table_name = ANY(:tables) ORDER BY table_name"
).bindparams(bindparam("tables", type_=ARRAY(String)))


def overlapping_boundary_version(
    conn: Connection, park_id: int, valid_from: dt.date, valid_to: dt.date | None
) -> tuple[dt.date, dt.date | None] | None:
    """(valid_from, valid_to) of a stored boundary version of ``park_id`` that the span
    ``[valid_from, valid_to)`` would overlap, other than the version starting on ``valid_from``
    itself (the one a writer updates in place); ``None`` when there is none.  The newest such
    version first, so that a caller can tell "a newer version exists" from "an older one is open".
    """
    if valid_to is not None and valid_to < valid_from:
        return None  # not a span: the table's own check (boundary_validity_order) refuses it
    row = conn.execute(_OVERLAPPING_SQL, {"park": park_id, "vf": valid_from, "vt": valid_to}).first()
    return None if row is None else (row.valid_from, row.valid_to)


_OVERLAPPING_SQL = text(
    "SELECT valid_from, valid_to FROM park_boundary WHERE park_id = :park AND valid_from <> :vf "
    "AND daterange(valid_from, valid_to) && daterange(CAST(:vf AS date), CAST(:vt AS date)) "
    "ORDER BY valid_from DESC LIMIT 1"
)


class DataMemo:
    """Results computed from the stored data, kept until that data changes.

    Keyed by the database, :func:`data_version` (of every table, or of ``tables`` only, when
    the results depend on those alone) and the caller's key; a thread-safe LRU of
    ``max_entries``.  Frames are handed out as copies, so a caller that adds a column does
    not change what the next caller gets.
    """

    def __init__(self, max_entries: int = 32, *, tables: Sequence[str] | None = None) -> None:
        self.max_entries = max_entries
        self.tables = tuple(tables) if tables is not None else None
        self._items: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, engine: Engine, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        full_key = (engine.url.render_as_string(hide_password=True), data_version(engine, self.tables), *key)
        with self._lock:
            if full_key in self._items:
                self._items.move_to_end(full_key)
                return _copy(self._items[full_key])  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._items[full_key] = value
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return _copy(value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _copy(value: T) -> T:
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) else value  # type: ignore[no-any-return]
