"""What a database error during an import means, and what the importer is told.

The importers check a file before writing it, so an error the database raises while
writing is one of three things:

- the database became unreachable or dropped the connection (refused, shut down by the
  administrator, crashed, a statement or lock timeout, a serialization failure): a
  :class:`~gis_service.errors.DatabaseUnavailableError` (HTTP 503 with ``Retry-After``).
  The transaction did not complete; importing the same file again is safe (every import
  is idempotent);
- the database refused a value of the file (a constraint, a value too long or out of
  range, a NUL character, a row over a size limit): an
  :class:`~gis_service.errors.InputError` naming the file and the row (HTTP 422);
- anything else (an undefined table or column, an internal error...) is a fault of the
  service, not of the file: re-raised unchanged (HTTP 500 with a reference; the details
  go to the log, never to the client).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import exc as sa_exc

from gis_service.errors import DatabaseUnavailableError, InputError

#: SQLSTATE classes that psycopg raises as OperationalError but that the input causes
#: (54: program limit exceeded, e.g. an index row larger than a page)
_INPUT_SQLSTATE_CLASSES = frozenset({"54"})


def _sqlstate_class(exc: sa_exc.DBAPIError) -> str:
    return (getattr(exc.orig, "sqlstate", None) or "")[:2]


def is_outage(exc: sa_exc.DBAPIError) -> bool:
    """The database is unreachable or lost the connection: retry later."""
    if _sqlstate_class(exc) in _INPUT_SQLSTATE_CLASSES:
        return False
    return bool(exc.connection_invalidated) or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ) or isinstance(exc.orig, psycopg.OperationalError | psycopg.InterfaceError)


def is_rejected_input(exc: sa_exc.DBAPIError) -> bool:
    """The database refused a value it was given (a constraint, a value it cannot store)."""
    return isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError) or _sqlstate_class(exc) in _INPUT_SQLSTATE_CLASSES


def _reason(exc: sa_exc.DBAPIError) -> str:
    """PostgreSQL's one-line message (no statement, no parameters, no connection string)."""
    return getattr(getattr(exc.orig, "diag", None), "message_primary", None) or str(exc.orig)


@contextmanager
def database_errors(where: str) -> Iterator[None]:
    """Translate a database error raised in the block; ``where`` names the file (and row).

    Raises
    ------
    DatabaseUnavailableError
        The database became unavailable (:func:`is_outage`).
    InputError
        The database refused a value (:func:`is_rejected_input`): ``<where>: rejected by the database: <reason>``.
    sqlalchemy.exc.DBAPIError
        Anything else, unchanged: a fault of the service.
    """
    try:
        yield
    except sa_exc.DBAPIError as exc:
        if is_outage(exc):
            raise DatabaseUnavailableError(
                f"{where}: the database became unavailable during the import ({type(exc.orig).__name__}); "
                "the import did not complete, retry later"
            ) from exc
        if is_rejected_input(exc):
            raise InputError(f"{where}: rejected by the database: {_reason(exc)}") from exc
        raise
