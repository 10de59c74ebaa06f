"""Typed errors of the importers; all are :class:`~gis_service.errors.InputError` (HTTP 422).

Size limits raise :class:`~gis_service.errors.PayloadTooLargeError` (HTTP 413) and unsafe
archive entries :class:`~gis_service.errors.UnsafeArchiveError`; both live in
:mod:`gis_service.errors` because the API maps them.  Every message names the file, the
feature or line, and the reason.
"""

from __future__ import annotations

from gis_service.errors import InputError
from gis_service.metrics.errors import NegativeValueError, UnitMismatchError, UnknownUnitError


class UnreadableFileError(InputError):
    """The file is not in a supported format or cannot be parsed."""


class CrsError(InputError):
    """The file declares no CRS, or one the platform does not accept (named in the message)."""


class OutsideExtentError(InputError):
    """A feature's coordinates lie outside Shanghai (the message gives its bbox)."""


class SwappedAxesError(OutsideExtentError):
    """Latitude and longitude are swapped (the feature lands in Shanghai once swapped back)."""


class InvalidGeometryError(InputError):
    """Empty geometry, or an invalid one (self-intersection...; the message gives the location)."""


class GeometryTypeError(InputError):
    """A geometry of the wrong type (e.g. a line where a polygon is expected)."""


class DuplicateIdError(InputError):
    """The same id (park, road name, indicator key) appears twice in one file."""


class UnknownReferenceError(InputError):
    """A park (or other scope) name/code, metric or column that the platform does not know."""


class NotANumberError(InputError):
    """A cell that should hold a number holds text."""


class ImplausibleValueError(InputError):
    """A value outside the plausibility bounds of its metric (:mod:`gis_service.ingest.plausibility`)."""


class YearOutOfRangeError(InputError):
    """A year outside the plan period (``ImportLimits.plan_year_min`` .. ``plan_year_max``)."""


class BoundaryVersionConflictError(InputError):
    """A different boundary version of the park already starts on the same date."""


__all__ = [
    "BoundaryVersionConflictError",
    "CrsError",
    "DuplicateIdError",
    "GeometryTypeError",
    "ImplausibleValueError",
    "InvalidGeometryError",
    "NegativeValueError",
    "NotANumberError",
    "OutsideExtentError",
    "SwappedAxesError",
    "UnitMismatchError",
    "UnknownReferenceError",
    "UnknownUnitError",
    "UnreadableFileError",
    "YearOutOfRangeError",
]
