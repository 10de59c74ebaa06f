"""Helpers of the import tests: table snapshots and GeoJSON builders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

SNAPSHOT_TABLES = ("district", "town", "zone", "zone_town", "road", "park", "sizhi", "park_boundary", "indicator",
                   "target", "audit_log")


def table_snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every written table (geometries as EWKB hex), ordered, for exact comparison."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SNAPSHOT_TABLES:
            cols = conn.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
            ), {"t": table}).scalars().all()
            select = ", ".join(f"ST_AsEWKB({c})::text" if c in ("geom", "centerline") else f"{c}::text" for c in cols)
            out[table] = [tuple(r) for r in conn.execute(text(f"SELECT {select} FROM {table} ORDER BY 1, 2"))]
    return out


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygon(*ring: tuple[float, float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return polygon((lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1), (lon0, lat0))


