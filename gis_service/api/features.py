"""Reading feature collections as GeoJSON text, built in PostGIS.

GeoJSON is assembled by PostGIS (``ST_AsGeoJSON`` + ``json_build_object``) and
passed through as text: the Python side never decodes and re-encodes features,
which is what makes large pages cheap.

numberMatched policy: it is exact or absent, never estimated.  When the page is
not full, the count is known without a query (offset + returned).  Otherwise the
matches are counted with a cap (``count_limit``): below the cap the count is exact;
at or above it numberMatched is omitted, as OGC API Features Part 1 allows, and
clients follow the ``next`` links.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Engine, text

from gis_service.api.catalog import Collection, Property
from gis_service.api.dependencies import ApiInputError, BBox

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class ItemsPage:
    """One page of features as a GeoJSON text fragment (features joined by commas)."""

    features: str
    returned: int
    matched: int | None


@lru_cache(maxsize=None)
def _feature_expression(collection: Collection) -> str:
    pairs = ", ".join(f"'{p.name}', s.{p.name}" for p in collection.properties)
    return (
        "'{\"type\":\"Feature\",\"id\":' || s.id || ',\"geometry\":' || COALESCE(ST_AsGeoJSON(s.geom, 7), 'null')"
        f" || ',\"properties\":' || json_build_object({pairs})::text || '}}'"
    )


def coerce_filter(prop: Property, raw: str) -> object:
    """Turn a query-string value into the property's type (422 when it does not fit)."""
    if prop.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ApiInputError(prop.name, f"expected an integer, got {raw!r}") from None
    if prop.type == "number":
        try:
            return float(raw)
        except ValueError:
            raise ApiInputError(prop.name, f"expected a number, got {raw!r}") from None
    if prop.type == "boolean":
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ApiInputError(prop.name, f"expected true or false, got {raw!r}")
    return raw


def property_filters(collection: Collection, params: dict[str, str]) -> dict[str, object]:
    """Validate ``name=value`` filters against the collection's queryable properties."""
    filters: dict[str, object] = {}
    for name, raw in params.items():
        prop = collection.property(name)
        if prop is None or not prop.queryable:
            allowed = ", ".join(p.name for p in collection.properties if p.queryable)
            raise ApiInputError(name, f"unknown parameter for collection '{collection.id}' (filters: {allowed})")
        filters[name] = coerce_filter(prop, raw)
    return filters


def _where(bbox: BBox | None, filters: dict[str, object]) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    if bbox is not None:
        clauses.append("s.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    for i, (name, value) in enumerate(filters.items()):
        # ``name`` was checked against the catalog by property_filters: never user text.
        clauses.append(f"s.{name} = %(f{i})s")
        params[f"f{i}"] = value
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def read_items(
    engine: Engine,
    collection: Collection,
    *,
    bbox: BBox | None = None,
    filters: dict[str, object] | None = None,
    limit: int = 10,
    offset: int = 0,
    count_limit: int = 50_000,
) -> ItemsPage:
    """A page of ``collection`` ordered by id, filtered by ``bbox`` (CRS84) and property equality."""
    where, params = _where(bbox, filters or {})
    # With a bbox, order by an expression so the planner cannot walk the primary key in id
    # order while filtering (slow when the box lies far along the ids): it reads the box
    # through the spatial index and sorts only the matches (a top-N sort).
    order = "s.id + 0" if bbox is not None else "s.id"
    page_sql = (
        f"SELECT string_agg(f, ',' ORDER BY id), count(*) FROM ("
        f"SELECT s.id, {_feature_expression(collection)} AS f FROM ({collection.source}) s{where}"
        f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) q"
    )
    with engine.connect() as conn:
        body, returned = conn.exec_driver_sql(page_sql, {**params, "limit": limit, "offset": offset}).one()
        matched: int | None
        if returned < limit and (returned > 0 or offset == 0):
            matched = offset + returned
        else:
            count_sql = f"SELECT count(*) FROM (SELECT 1 FROM ({collection.source}) s{where} LIMIT %(cap)s) c"
            counted = conn.exec_driver_sql(count_sql, {**params, "cap": count_limit}).scalar_one()
            matched = counted if counted < count_limit else None
    return ItemsPage(features=body or "", returned=int(returned), matched=matched)


def read_feature(engine: Engine, collection: Collection, feature_id: int) -> str | None:
    """One feature as GeoJSON text, or None when there is no such id."""
    sql = f"SELECT {_feature_expression(collection)} FROM ({collection.source}) s WHERE s.id = %(id)s"
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql, {"id": feature_id}).scalar_one_or_none()


def collection_extent(engine: Engine, collection: Collection) -> tuple[float, float, float, float] | None:
    """Bounding box (lon/lat) of the collection's geometries, None when it has none.

    Uses the planner's estimate for the parcel table (a full scan of millions of rows
    per metadata request would be too slow) and the exact extent elsewhere; either way
    it is an envelope, not a statistic.
    """
    exact = f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(s.geom) AS e FROM ({collection.source}) s) x"
    with engine.connect() as conn:
        row = None
        if collection.table == "land_parcel":
            row = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_EstimatedExtent('public', 'land_parcel', 'geom') AS e) x"
                )
            ).one()
        if row is None or row[0] is None:
            row = conn.execute(text(exact)).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
