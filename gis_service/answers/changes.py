"""What-if changes as users state them, before the parks they name are looked up.

On the command line a change is one text, ``PARK:FIELD=VALUE[UNIT]``:

- ``sj_west:output=+10%``  — output grows by 10 per cent;
- ``sj_west:supplied_industrial_land=-0.3km²`` — 0.3 km² of supplied land is released;
- ``sj_west:output=200亿元`` — output set to 200 亿元.

A leading ``+`` or ``-`` adds, a trailing ``%`` scales, a plain number sets.  The API takes
the same fields as JSON (:class:`ChangeRequest`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis_service.errors import InputError

#: at most this many changes in one what-if (a bound on request size)
MAX_CHANGES = 50

_CHANGE = re.compile(r"^(?P<park>[^:]+):(?P<field>[a-z_]+)=(?P<sign>[+-]?)(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>\S*)$")


@dataclass(frozen=True)
class ChangeRequest:
    """A what-if change: the park by id, code or name (``unit``), the field (a numerator or a
    basis), the value in ``unit_of_value``, and ``mode`` (``set``, ``add`` or ``scale``)."""

    unit: int | str
    field: str
    value: float
    unit_of_value: str
    mode: str = "set"


def parse_change(text: str) -> ChangeRequest:
    """``sj_west:output=+10%`` → a :class:`ChangeRequest` (InputError naming the text)."""
    match = _CHANGE.match(text.strip())
    if match is None:
        raise InputError(
            f"change {text!r}: expected PARK:FIELD=VALUE[UNIT], e.g. sj_west:output=+10% "
            "or sj_west:supplied_industrial_land=-0.3km²"
        )
    sign, number, unit = match["sign"], float(match["number"]), match["unit"]
    if unit == "%":
        if not sign:
            raise InputError(f"change {text!r}: a percentage is a change, write +10% or -5%")
        return ChangeRequest(match["park"], match["field"], number if sign == "+" else -number, "%", "scale")
    if not unit:
        raise InputError(f"change {text!r}: give the unit of {number:g} (亿元, 万元, km², 公顷, 亩, 人 …)")
    if sign:
        return ChangeRequest(match["park"], match["field"], number if sign == "+" else -number, unit, "add")
    return ChangeRequest(match["park"], match["field"], number, unit, "set")


def check_changes(changes: tuple[ChangeRequest, ...]) -> tuple[ChangeRequest, ...]:
    if len(changes) > MAX_CHANGES:
        raise InputError(f"changes: at most {MAX_CHANGES} changes in one what-if, got {len(changes)}")
    return changes
