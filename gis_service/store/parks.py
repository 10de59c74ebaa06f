"""Finding a park from what a person types: its id, its code or its name.

One lookup for the CLI (``report park``, ``sizhi verify``, ``admin create-key --park``),
the reports, the 四至 check and the maps, so that every face accepts the same references
and says the same thing about an unknown one.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine

from gis_service.errors import NotFoundError
from gis_service.store.readers import read_frame

#: the park table as :func:`find_park` reads it from a database
_PARKS_SQL = "SELECT id AS park_id, code, name, kind::text AS kind, parent_id FROM park ORDER BY id"


def read_park_refs(engine: Engine | Connection) -> pd.DataFrame:
    """Every park's ``park_id, code, name, kind, parent_id``, ordered by id."""
    return read_frame(engine, _PARKS_SQL)


def find_park(parks: Engine | Connection | pd.DataFrame, ref: int | str) -> pd.Series:
    """The row of the park ``ref`` names: an id (an int or digits), a code or an exact name.

    Parameters
    ----------
    parks
        A database (the ``park`` table is read, see :func:`read_park_refs`) or a frame of
        parks: ``park_id`` or ``unit_id`` for the id, ``code`` or ``unit_code``, ``name`` or ``unit_name``
        (the frames of :func:`~gis_service.store.read_parks` and of the metrics units).
    ref
        Tried as an id first (when it is digits), then as a code, then as a name.

    Raises
    ------
    NotFoundError
        naming ``ref`` and listing the known park codes.
    """
    frame = read_park_refs(parks) if isinstance(parks, (Engine, Connection)) else parks
    id_column = "park_id" if "park_id" in frame.columns else "unit_id"
    name_column = "name" if "name" in frame.columns else "unit_name"
    code_column = "code" if "code" in frame.columns else "unit_code"
    key = str(ref).strip()
    candidates = [(id_column, key)] if key.isdigit() else []
    for column, value in [*candidates, (code_column, key), (name_column, key)]:
        hit = frame[frame[column].astype(str) == value]
        if not hit.empty:
            return hit.iloc[0]
    known = ", ".join(frame[code_column].astype(str)) or "none loaded"
    raise NotFoundError(f"unknown park {ref!r} (an id, code or name); known codes: {known}")
