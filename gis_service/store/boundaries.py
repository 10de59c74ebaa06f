"""Which park boundary is in force on a date: the one rule, in Python and in SQL.

A park's boundary is versioned (``park_boundary``): each version is valid over the
half-open interval ``[valid_from, valid_to)``, ``valid_to IS NULL`` meaning "until further
notice"; an exclusion constraint keeps the versions of a park from overlapping.

The rule
    The version in force on a date *D* is the one with ``valid_from <= D`` and
    (``valid_to IS NULL`` or ``valid_to > D``).  A park may have none (not yet drawn, or
    its last version closed): it then has no boundary on *D*, never an older or a later one.

Which date
    Figures of a data year *Y* are read with the boundaries in force on its last day,
    31 December *Y* (:func:`boundary_date`); "current" (no year: maps, tiles, OGC
    features, downloads, the QA checks of the present state) means today.

``valid_to IS NULL`` alone is *not* "the current boundary": a version that starts in the
future is open-ended too, and a closed last version is current until it closes.  The only
places that look at ``valid_to`` otherwise are the writers of the history
(:mod:`gis_service.ingest.boundaries`, :mod:`gis_service.ingest.loader`) and the table's
constraints.
"""

from __future__ import annotations

import datetime as dt
import re

#: table aliases and date expressions :func:`in_force_sql` accepts: code constants only
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r":[A-Za-z_][A-Za-z0-9_]*|%\([A-Za-z_][A-Za-z0-9_]*\)s|CURRENT_DATE")


def boundary_date(year: int | None) -> dt.date:
    """The date at which boundaries are taken for a data year: its last day.

    ``None`` means today, i.e. the boundaries in force now.
    """
    return dt.date.today() if year is None else dt.date(year, 12, 31)


def in_force_sql(alias: str, on: str = ":on") -> str:
    """The SQL condition "the boundary row ``alias`` is in force on ``on``".

    Parameters
    ----------
    alias
        Alias (or table name) of ``park_boundary`` in the query: a code constant, never
        user input (checked to be a plain identifier).
    on
        The date: a bound parameter (``":on"``, the default, bound to
        :func:`boundary_date`; ``"%(on)s"`` in driver-level SQL) or ``"CURRENT_DATE"``
        (today in the database's time zone, for fixed SQL that binds no date).

    Examples
    --------
    >>> in_force_sql("b")
    'b.valid_from <= :on AND (b.valid_to IS NULL OR b.valid_to > :on)'
    """
    if not _ALIAS.fullmatch(alias):
        raise ValueError(f"in_force_sql: {alias!r} is not a table alias")
    if not _DATE.fullmatch(on):
        raise ValueError(f"in_force_sql: {on!r} is not a bound parameter or CURRENT_DATE")
    return f"{alias}.valid_from <= {on} AND ({alias}.valid_to IS NULL OR {alias}.valid_to > {on})"
