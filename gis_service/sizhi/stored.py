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


#: side keys of the parsed 四至 -> Chinese label
SIDE_LABELS = {"east": "东至", "south": "南至", "west": "西至", "north": "北至"}


def sizhi_sides(parsed: object) -> dict[str, str]:
    """Per-side text of a stored parsed 四至 (``{"东至": "人民北路", ...}``).

    ``parsed`` is the JSON of :meth:`gis_service.sizhi.Sizhi.to_dict`
    (``{"parts": [{"label": ..., "east": [{"name": ..., "as_written": ...}, ...]}]}``);
    each feature is shown as written in the source.  An area made of several parts gets
    the part label before each side's text.  Anything unreadable gives {}.
    """
    if not isinstance(parsed, dict) or not isinstance(parsed.get("parts"), list):
        return {}
    out: dict[str, list[str]] = {}
    for part in parsed["parts"]:
        if not isinstance(part, dict):
            continue
        for side, label in SIDE_LABELS.items():
            segments = [seg for seg in part.get(side) or [] if isinstance(seg, dict)]
            if segments:
                text = "—".join(str(seg.get("as_written") or seg.get("name", "")) for seg in segments)
                out.setdefault(label, []).append(f"{part['label']}:{text}" if part.get("label") else text)
    return {label: ";".join(texts) for label, texts in out.items()}
