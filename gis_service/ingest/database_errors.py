"""What a database error during an import means, and what the importer is told.

The importers check a file before writing it, so an error the database raises while
writing is one of three things:

- the database became unreachable or dropped the connection (refused, shut down by the
  administrator, crashed, a statement or lock timeout, a serialization failure): a
  :class:`~gis_service.errors.DatabaseUnavailableError` (HTTP 503 with ``Retry-After``;
  :func:`gis_service.db.engine.is_outage`, the same test the CLI's one-line report uses).
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

from sqlalchemy import exc as sa_exc

from gis_service.db.engine import INPUT_SQLSTATE_CLASSES, is_outage, sqlstate_class
from gis_service.errors import DatabaseUnavailableError, InputError

__all__ = ["database_errors", "is_outage", "is_rejected_input"]


def is_rejected_input(exc: sa_exc.DBAPIError) -> bool:
    """The database refused a value it was given (a constraint, a value it cannot store)."""
    return isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError) or sqlstate_class(exc) in INPUT_SQLSTATE_CLASSES


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
