"""Typed errors of the metrics engine (subclasses of the service's domain errors)."""

from __future__ import annotations

from gis_service.errors import InputError, NotFoundError


class UnknownUnitError(InputError):
    """A unit string the engine cannot convert (names the unit and where it was found)."""


class NegativeValueError(InputError):
    """A figure that cannot be negative (output, area, tax...) is negative."""


class MissingColumnError(InputError):
    """An input frame lacks a column the engine needs."""


class NoDataForYearError(NotFoundError):
    """No figure exists for the requested year."""


class UnknownBasisError(InputError):
    """A denominator (basis) name the engine does not know."""


class DuplicateUnitError(InputError):
    """A unit (park, zone...) appears twice where one row per unit is required."""


class OverlappingZonesError(InputError):
    """Two zones of one kind overlap, so apportioning to them would count land twice."""


class UnitMismatchError(InputError):
    """A unit of another kind than the metric's (e.g. 公顷 given for an output in 亿元)."""
