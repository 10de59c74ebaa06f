"""Reading one answer's statements side by side, in one snapshot, without a Python object per row.

An answer at 1M records runs statements that each take a core for half a second.  On the
machine's two cores they run side by side on connections of their own, and PostgreSQL's
synchronized snapshots (``pg_export_snapshot`` / ``SET TRANSACTION SNAPSHOT``) make them read one
state of the data.  Their rows come in the binary protocol, and numbers packed into one bytea.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Engine, TextClause
from sqlalchemy.pool import QueuePool

from gis_service.metrics.postgis import _SESSION_SQL

T = TypeVar("T")
U = TypeVar("U")


@contextmanager
def snapshot_transaction(engine: Engine) -> Iterator[tuple[Connection, str]]:
    """A connection in a REPEATABLE READ transaction with the session settings, and the id of
    its snapshot for :func:`in_snapshot` (valid while the transaction lasts)."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(_SESSION_SQL)
        yield conn, str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())


def side_by_side(engine: Engine, conn: Connection, snapshot: str, connections: int,
                 main: Callable[[], T], side: Callable[[Connection], U]) -> tuple[T, U]:
    """``(main(), side(c))``: ``side`` on a thread, on a connection of its own that sees
    ``snapshot``, when the pool has ``connections`` to spare for both; else after ``main``, on
    ``conn`` (the connection ``main`` uses, in ``snapshot``'s transaction)."""
    if spare_connections(engine) < connections:
        first = main()
        return first, side(conn)
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(in_snapshot, engine, snapshot, side)
        return main(), job.result()


def spare_connections(engine: Engine) -> int:
    """How many more connections ``engine``'s pool hands out now without waiting.

    An answer that runs statements side by side holds one connection while asking for another:
    when every request of a busy service did that, all would wait for each other until the pool
    timeout.  So a second connection is only taken when the pool has one to spare; otherwise the
    statements run one after the other on the first.
    """
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return 1 << 16  # no bound (e.g. NullPool: a new connection each time)
    return pool.checkedin() + max(0, getattr(pool, "_max_overflow", 0) - pool.overflow())


#: what pg_export_snapshot() returns, e.g. 00000003-0000001B-1
SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")


def in_snapshot(engine: Engine, snapshot: str, work: Callable[[Connection], T]) -> T:
    """``work(conn)`` on a connection of its own that sees exactly the exported ``snapshot``
    (PostgreSQL's synchronized snapshots): the statements of one answer read one state of the
    data even when they run side by side on two cores."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        if not SNAPSHOT_ID.fullmatch(snapshot):  # a utility statement takes no parameter: checked, then quoted
            raise ValueError(f"unexpected snapshot id {snapshot!r}")
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        conn.execute(_SESSION_SQL)
        return work(conn)


def fetch_rows(conn: Connection, statement: TextClause, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows as plain tuples, in the binary protocol, on ``conn``'s transaction: for tens of
    thousands of rows, parsing text numbers and making a SQLAlchemy Row of each cost more
    than the query itself."""
    compiled = statement.compile(dialect=conn.dialect)
    with conn.connection.driver_connection.cursor(binary=True) as cursor:
        cursor.execute(str(compiled), compiled.construct_params(params))
        return cursor.fetchall()  # type: ignore[no-any-return]


def fetch_packed(conn: Connection, statement: TextClause, params: dict[str, Any], width: int) -> np.ndarray:
    """A statement's one value, a bytea of big-endian float8 (``width`` per row; NULL for no
    row), as a float64 array.  Rows of tuples would make ~10^5 Python objects at 1M records,
    and with them the cyclic collector's full passes (see :mod:`gis_service.metrics.gc_pause`)."""
    rows = fetch_rows(conn, statement, params)
    packed = rows[0][0] if rows else None
    if packed is None:
        return np.empty((0, width))
    return np.frombuffer(packed, dtype=">f8").reshape(-1, width).astype(np.float64)
