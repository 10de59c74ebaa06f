"""Checking a stored park: its boundary in force against its stored 四至, over the roads layer.

The one function the CLI (``gis-service sizhi verify PARK``), the API
(``GET /parks/{id}/sizhi/verify``) and the notebooks share.
"""

from __future__ import annotations

from sqlalchemy import Engine

from gis_service.errors import NotFoundError
from gis_service.sizhi.model import Sizhi
from gis_service.sizhi.parser import parse
from gis_service.sizhi.verify import VerifyReport, verify
from gis_service.store import find_park, read_parks, read_roads, read_sizhi


def verify_stored_park(
    engine: Engine, park: int | str, *, year: int | None = None, tolerance_m: float = 150.0
) -> tuple[int, VerifyReport]:
    """Verify the boundary valid in ``year`` (today when ``None``) of ``park`` (id, code or
    name) against its stored 四至 and the stored roads; returns ``(park_id, report)``."""
    park_id = int(find_park(engine, park)["park_id"])
    stored = read_sizhi(engine)
    rows = stored[stored["park_id"] == park_id]
    if rows.empty:
        raise NotFoundError(f"no 四至 stored for park {park!r}")
    parks = read_parks(engine, year=year)
    geom = parks.loc[parks["park_id"] == park_id, "geometry"].iloc[0]
    if geom is None or geom.is_empty:
        raise NotFoundError(f"park {park!r} has no boundary valid {'today' if year is None else f'in {year}'}")
    parsed = rows.iloc[0]["parsed"]
    sizhi = Sizhi.from_dict(parsed) if parsed else parse(rows.iloc[0]["raw_text"])
    return park_id, verify(geom, sizhi, read_roads(engine), tolerance_m=tolerance_m)
