"""The per-table data versions kept in process, pushed by the database instead of polled.

Every write bumps a counter in ``data_change`` (statement triggers, migration 0003) and, from
migration 0006, the same trigger sends ``NOTIFY gis_data_change, '<table> <version>'``.
:class:`VersionWatch` holds a copy of the counters kept current by a thread that LISTENs on
its own psycopg connection: reading a version costs no database round trip.

- **Connected**: after (re)connecting the thread LISTENs first, then reads the whole table,
  so no write is missed across a reconnect; notifications arriving meanwhile are merged (the
  highest counter per table wins, so their order does not matter).  Every ``heartbeat_s``
  without a notification it reads the table again: a connection that died silently is found
  and a lost notification is repaired.
- **Not connected** (starting, database restarted, backend terminated): :meth:`VersionWatch.current`
  returns ``None`` and callers query ``data_change`` themselves (:func:`read_versions`), as
  before.  A stale version is never served silently because of a lost listener.

**Remaining window.**  NOTIFY is delivered at commit, the app's own writes included, but it
reaches this process a little after the writer sees its commit: the time for the listening
backend to send it and for the thread to apply it (milliseconds; longer only when the process
is starved of CPU).  A read in that window sees the previous version, exactly as a read that
started just before the commit would.  A connection that died without a word (a network cut,
no RST) is noticed within the TCP keepalive / user timeout set below (about 10 s) or the next
heartbeat's failure; until then the copy may lag by that long.  LISTEN needs a session of its
own: behind a transaction-pooling PgBouncer notifications may never arrive, and only the
heartbeat's full read (every ``heartbeat_s``) would keep the copy current; connect the service
to PostgreSQL directly or through session pooling.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import pq
from sqlalchemy import Connection, make_url

CHANNEL = "gis_data_change"  # the trigger function of migration 0006 notifies it
#: the counters of some tables as a JSON object; ``%(version_tables)s`` is a list of table names
VERSIONS_SQL = ("(SELECT coalesce(json_object_agg(table_name, version), '{}'::json) FROM data_change "
                "WHERE table_name = ANY(%(version_tables)s))")
#: a dead peer is noticed within about this long even without traffic (libpq keepalives)
_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
              "tcp_user_timeout": 10_000}

log = logging.getLogger(__name__)


def read_versions(conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    """The counters of ``tables`` read from the database (what callers do when not connected)."""
    row = conn.exec_driver_sql(f"SELECT {VERSIONS_SQL}", {"version_tables": list(tables)}).scalar_one()
    return {str(t): int(v) for t, v in row.items()}


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The libpq URI of a SQLAlchemy ``postgresql+psycopg://`` URL."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class VersionWatch:
    """Per-table data versions kept current by LISTEN on a thread of its own (see the module)."""

    def __init__(self, conninfo: str, *, heartbeat_s: float = 5.0, retry_s: float = 1.0,
                 connect_timeout_s: float = 5.0) -> None:
        self.conninfo = conninfo
        self.heartbeat_s = heartbeat_s
        self.retry_s = retry_s
        self.connect_timeout_s = connect_timeout_s
        # replaced, never mutated: readers take no lock; ``None`` while not connected
        self._versions: dict[str, int] | None = None
        self._pending: dict[str, int] = {}  # notifications heard before the first full read
        self._apply_lock = threading.Lock()
        self._live = threading.Event()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self.backend_pid: int | None = None

    # -- readers ------------------------------------------------------------------------
    def current(self, tables: Sequence[str]) -> dict[str, int] | None:
        """The counters of ``tables`` (those that have one), or ``None`` while not connected."""
        versions = self._versions
        if versions is None:
            return None
        return {t: versions[t] for t in tables if t in versions}

    @property
    def live(self) -> bool:
        return self._versions is not None

    def wait_live(self, timeout: float) -> bool:
        """Wait until connected (or ``timeout`` seconds); whether it is."""
        return self._live.wait(timeout)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold back the notifications for the duration (they are applied after): the window
        between a commit and its notification's arrival, made as long as a test needs."""
        with self._apply_lock:
            yield

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="version-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._stop.is_set():
            return  # stopped already
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        os.close(self._wake_r)
        os.close(self._wake_w)

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        down_logged = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=int(self.connect_timeout_s),
                                     application_name="gis-version-watch", **_KEEPALIVE) as conn:
                    conn.add_notify_handler(lambda n: self._apply(n.payload))
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self._resync(conn)
                    log.info("data versions: listening on %s", CHANNEL)
                    down_logged = False
                    self._listen(conn)
            except (psycopg.Error, OSError) as exc:
                if not self._stop.is_set() and not down_logged:  # once per outage, not once per retry
                    log.warning("data versions: listener down (%s); tile routes query data_change until it is back",
                                exc.__class__.__name__)
                    down_logged = True
            finally:
                self._go_offline()
            self._stop.wait(self.retry_s)

    def _listen(self, conn: psycopg.Connection) -> None:
        """Apply notifications as they arrive until stopped or the connection fails."""
        while not self._stop.is_set():
            ready, _, _ = select.select([conn.fileno(), self._wake_r], [], [], self.heartbeat_s)
            if self._wake_r in ready:
                return
            if not ready:
                self._resync(conn)
                continue
            conn.pgconn.consume_input()  # raises OperationalError when the server closed the connection
            while (notify := conn.pgconn.notifies()) is not None:
                self._apply(notify.extra.decode())
            if conn.pgconn.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError("the listening connection is closed")

    def _resync(self, conn: psycopg.Connection) -> None:
        rows = conn.execute("SELECT table_name, version FROM data_change").fetchall()
        with self._apply_lock:
            merged = dict(self._versions if self._versions is not None else self._pending)
            for table, version in rows:
                merged[table] = max(merged.get(table, version), int(version))
            self._versions, self._pending = merged, {}
        self._live.set()

    def _apply(self, payload: str) -> None:
        table, _, version = payload.rpartition(" ")
        if not table or not version.isdigit():
            log.warning("data versions: ignored a notification %r", payload)
            return
        with self._apply_lock:
            base = self._versions if self._versions is not None else self._pending
            if base.get(table, -1) >= int(version):
                return
            updated = {**base, table: int(version)}
            if self._versions is not None:
                self._versions = updated
            else:
                self._pending = updated

    def _go_offline(self) -> None:
        with self._apply_lock:
            self._versions, self._pending = None, {}
        self._live.clear()
        self.backend_pid = None


def watched(versions: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """A canonical, hashable form of some counters (same for the pushed copy and a query)."""
    return tuple(sorted(versions.items()))
