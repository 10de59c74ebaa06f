"""The domain exception hierarchy. Faces (CLI, API) map these to exit codes / HTTP statuses."""

from __future__ import annotations


class GisServiceError(Exception):
    """Base class of every error the service raises on purpose."""


class ConfigurationError(GisServiceError):
    """Settings or the machine are not fit for the requested operation."""


class MissingSystemPackageError(ConfigurationError):
    """A system binary (PostgreSQL, PostGIS, Chromium...) is not installed.

    The message names the package and the command that installs it.
    """

    def __init__(self, what: str, package: str, install: str) -> None:
        self.what, self.package, self.install = what, package, install
        super().__init__(f"{what} not found: install the system package '{package}' ({install})")


class DatabaseError(GisServiceError):
    """The database could not be reached or rejected an operation."""


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached, or the connection was lost during an operation
    (refused, shut down, timed out): nothing to fix in the request, retry later (HTTP 503)."""


class ClusterError(DatabaseError):
    """The managed local PostgreSQL cluster failed to start/stop/initialise."""


class NotFoundError(GisServiceError):
    """A requested object (park, zone, year...) does not exist."""


class InputError(GisServiceError):
    """Bad input; the message names what is wrong and where (file, row, feature, character span)."""


class PayloadTooLargeError(InputError):
    """An upload exceeds a configured limit (file size, feature/row count, archive entries or
    uncompressed size, e.g. a zip bomb).  The API maps it to HTTP 413."""


class UnsafeArchiveError(InputError):
    """An archive entry would be written outside the extraction directory (``../``, an absolute
    path, a drive letter or a symbolic link).  The API maps it to HTTP 422."""
