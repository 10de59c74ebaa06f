"""Vector tiles rendered by PostGIS (``ST_AsMVT``): full detail, or generalised the tippecanoe way.

**Full detail** (every zoom of a layer without generalisation; parcels from ``detail_zoom``,
default 14): every feature meeting the tile widened by its buffer, no cap, nothing dropped.

**Generalised** (parcels below ``detail_zoom``): a parcel covering at least ``min_area_px``
pixels of the tile (a 256-pixel tile) is kept as itself in layer ``parcels``, simplified by half
a pixel; the smaller ones are merged into a square grid of ``cell_px``-pixel cells in layer
``parcel_cells``, one feature per cell and land layer (survey / supply / register) holding the
dominant land-use class by area, the supplied share by area (``is_supplied`` when at least half),
the parcel count and the covered share of the cell (``coverage``).  Every feature of a
generalised tile carries ``generalised = true``.  A tile is tried at the levels of
:data:`LEVELS` in order until it fits ``max_bytes``; the last level has no individual parcels
and at most 3 x 32² cells, so every generalised tile is bounded in features and bytes.

**Projection.** ``ST_Transform`` to EPSG:3857 costs about half of a dense tile.  Within a
tile the Web Mercator y of a latitude is replaced by its chord between the tile's north and
south edges (x is linear in longitude anyway): exact on the edges, off by at most
``R·sinφ/cos²φ·h²/8`` inside, which at Songjiang's z14 is 0.06 m against a 0.6 m tile unit.
It is used only where that bound is under :data:`LINEAR_MAX_ERROR_UNITS` of a tile unit
(after snapping, a vertex near a half unit may round to the neighbouring unit); elsewhere
``ST_Transform`` is used.  Generalised tiles always use ``ST_Transform``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection

from gis_service.store.version_watch import VERSIONS_SQL

EXTENT = 4096
BUFFER = 64
TILE_PX = 256  # the pixel of the generalisation rules: 1/256 of the tile side
EARTH_R = 6378137.0
LINEAR_MAX_ERROR_UNITS = 0.25


@dataclass(frozen=True)
class Level:
    """One generalisation level: parcels of at least ``min_area_px`` kept (None: none kept)."""

    min_area_px: float | None
    cell_px: int

    def describe(self) -> str:
        kept = f"parcels >= {self.min_area_px:g} sq px kept" if self.min_area_px is not None else "no parcel kept"
        return f"{kept}; smaller merged into {self.cell_px} px cells"


#: tried in order until the tile fits ``max_bytes``; the last one always fits (bounded cells only)
LEVELS: tuple[Level, ...] = (Level(4.0, 4), Level(16.0, 8), Level(None, 8))


@dataclass(frozen=True)
class TileLayerSql:
    """What the renderer needs of a tiled layer: its name, source query, properties, and the
    tables whose data versions (``data_change``) are read in the same statement as the tile."""

    name: str
    source: str
    properties: tuple[str, ...]
    tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    """A tile's bytes and the data versions of its tables, both read in one statement's snapshot."""

    data: bytes
    versions: dict[str, int]


@dataclass(frozen=True)
class TileBox:
    """Geometry of a tile address: degrees, Web Mercator metres and the projection chord."""

    z: int
    x: int
    y: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        n = 2**self.z

        def lat(row: int) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

        return self.x / n * 360 - 180, lat(self.y + 1), (self.x + 1) / n * 360 - 180, lat(self.y)

    @property
    def side_m(self) -> float:
        """Side of the tile in Web Mercator metres."""
        return 2 * math.pi * EARTH_R / 2**self.z

    def search_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the tile widened by its buffer, clamped to the grid."""
        n = 2**self.z
        m = BUFFER / EXTENT

        def lat(row: float) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * min(max(row, 0), n) / n))))

        return (max(-180.0, (self.x - m) / n * 360 - 180), lat(self.y + 1 + m),
                min(180.0, (self.x + 1 + m) / n * 360 - 180), lat(self.y - m))

    def chord(self) -> tuple[float, float]:
        """(slope, offset) of the Web Mercator y as a linear function of latitude (degrees)."""
        _, south, _, north = self.bounds
        ys, yn = _merc_y(south), _merc_y(north)
        slope = (yn - ys) / (north - south)
        return slope, ys - slope * south

    def chord_error_units(self) -> float:
        """Upper bound of the chord's error inside the tile (with its buffer), in tile units."""
        _, south, _, north = self.bounds
        phi = math.radians(max(abs(south), abs(north)))
        h = math.radians(north - south) * (1 + 2 * BUFFER / EXTENT)
        err_m = EARTH_R * math.sin(phi) / math.cos(phi) ** 2 * h * h / 8
        return err_m / (self.side_m / EXTENT)


def _merc_y(lat: float) -> float:
    return EARTH_R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _merc_unit(lat: float) -> float:
    """ln(tan(pi/4 + phi/2)): Web Mercator y over the earth radius (the unit of the cell rows)."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


# The search box is made in degrees here rather than by ST_Transform of ST_TileEnvelope(margin):
# at the grid's edge the widened envelope crosses the antimeridian and comes back inside out.
_ENVELOPES = """
    WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
                      ST_MakeEnvelope(%(bw)s, %(bs)s, %(be)s, %(bn)s, 4326) AS env4326)
"""
_LINEAR = "ST_SetSRID(ST_Affine(s.geom, %(ax)s, 0, 0, %(ay)s, 0, %(y0)s), 3857)"
_EXACT = "ST_Transform(s.geom, 3857)"


@cache
def detail_sql(layer: TileLayerSql, linear: bool) -> str:
    """Every feature of the tile; ST_AsMVT skips the NULL geometries ST_AsMVTGeom gives for misses."""
    props = ", ".join(f"s.{p}" for p in layer.properties)
    projected = _LINEAR if linear else _EXACT
    # the bbox test is done in EPSG:4326 so the GiST index on the stored geometry is used
    return _with_versions(_ENVELOPES + f"""
        SELECT ST_AsMVT(f, %(name)s, {EXTENT}, 'geom', 'id')
        FROM (SELECT s.id, {props}, ST_AsMVTGeom({projected}, b.env, {EXTENT}, {BUFFER}, true) AS geom
              FROM ({layer.source}) s, b WHERE s.geom && b.env4326) f
    """)


@cache
def generalised_sql(layer: TileLayerSql, keep_parcels: bool) -> str:
    """Parcels of at least ``min_area`` (deg²) as themselves, the rest merged into grid cells.

    Two scans rather than one shared CTE: a CTE used twice is materialised, geometries and all.
    """
    props = ", ".join(f"s.{p}" for p in layer.properties)
    parcels = f"""
        (SELECT ST_AsMVT(p, %(name)s, {EXTENT}, 'geom', 'id')
         FROM (SELECT s.id, {props}, true AS generalised,
                      ST_AsMVTGeom(ST_Transform(ST_Simplify(s.geom, %(tolerance)s, true), 3857), b.env,
                                   {EXTENT}, {BUFFER}, true) AS geom
               FROM ({layer.source}) s, b
               WHERE s.geom && b.env4326 AND ST_Area(s.geom) >= %(min_area)s) p)
    """ if keep_parcels else "NULL::bytea"
    # a small parcel falls in the cell of its bounding box's centre (rows on the Mercator y);
    # centres outside the tile belong to the neighbouring tile's cells
    return _with_versions(_ENVELOPES + f""",
        k AS (SELECT s.layer, s.land_use_class, s.is_supplied, s.is_synthetic, ST_Area(s.geom) AS a,
                     floor(((ST_XMin(s.geom) + ST_XMax(s.geom)) / 2 - %(west)s) * %(cells_per_deg)s)::int AS cx,
                     floor((%(north_unit)s - ln(tan(pi() / 4 + radians((ST_YMin(s.geom) + ST_YMax(s.geom)) / 2) / 2)))
                           * %(cells_per_unit)s)::int AS cy
              FROM ({layer.source}) s, b
              WHERE s.geom && b.env4326 AND ST_Area(s.geom) < %(min_area)s),
        g AS MATERIALIZED (  -- materialised (a few thousand groups): the cell range test stays out of the scan
              SELECT layer, cx, cy, land_use_class, sum(a) AS a, coalesce(sum(a) FILTER (WHERE is_supplied), 0) AS sa,
                     count(*) AS n, bool_or(is_synthetic) AS syn
              FROM k GROUP BY layer, cx, cy, land_use_class),
        c AS (SELECT layer, (array_agg(land_use_class ORDER BY a DESC))[1] AS land_use_class,
                     sum(sa) / sum(a) >= 0.5 AS is_supplied,
                     round((sum(sa) / sum(a))::numeric, 2)::float8 AS supplied_share,
                     sum(n)::int AS parcel_count,
                     round(least(1, sum(a) / %(cell_area)s)::numeric, 1)::float8 AS coverage,
                     bool_or(syn) AS is_synthetic, true AS generalised,
                     ST_AsMVTGeom(ST_MakeEnvelope(%(x0)s + cx * %(cell_m)s, %(y1)s - (cy + 1) * %(cell_m)s,
                                                  %(x0)s + (cx + 1) * %(cell_m)s, %(y1)s - cy * %(cell_m)s, 3857),
                                  ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, 0, false) AS geom
              FROM g WHERE cx >= 0 AND cx < %(cells)s AND cy >= 0 AND cy < %(cells)s GROUP BY layer, cx, cy)
        SELECT coalesce({parcels}, ''::bytea)
               || coalesce((SELECT ST_AsMVT(c, 'parcel_cells', {EXTENT}, 'geom') FROM c), ''::bytea)
    """)


def _params(layer: TileLayerSql, box: TileBox) -> dict[str, object]:
    bw, bs, be, bn = box.search_bounds()
    return {"z": box.z, "x": box.x, "y": box.y, "bw": bw, "bs": bs, "be": be, "bn": bn, "name": layer.name,
            "version_tables": list(layer.tables)}


def _with_versions(tile_sql: str) -> str:
    """The tile and its tables' data versions in one statement: one snapshot (the statement's,
    the connection being in autocommit), so the versions are exactly those of the content."""
    return f"SELECT ({tile_sql}) AS tile, {VERSIONS_SQL} AS versions"


def _run(conn: Connection, sql: str, params: dict[str, object]) -> Rendered:
    tile, versions = conn.exec_driver_sql(sql, params).one()
    return Rendered(bytes(tile or b""), {str(t): int(v) for t, v in versions.items()})


def render_detail(conn: Connection, layer: TileLayerSql, box: TileBox) -> Rendered:
    """Every feature meeting the tile (and its buffer), at full precision of the tile grid."""
    linear = box.chord_error_units() <= LINEAR_MAX_ERROR_UNITS
    params = _params(layer, box)
    if linear:
        slope, offset = box.chord()
        params |= {"ax": EARTH_R * math.pi / 180, "ay": slope, "y0": offset}
    return _run(conn, detail_sql(layer, linear), params)


def render_generalised(conn: Connection, layer: TileLayerSql, box: TileBox, level: Level) -> Rendered:
    """The tile at one generalisation ``level`` (see the module's docstring)."""
    west, south, east, north = box.bounds
    px_lon = (east - west) / TILE_PX
    px_lat = (north - south) / TILE_PX  # the pixel's height in degrees at the tile's mean latitude
    cells = TILE_PX // level.cell_px
    min_area = level.min_area_px * px_lon * px_lat if level.min_area_px is not None else math.inf
    cell_m = box.side_m / cells
    params = _params(layer, box) | {
        "min_area": min_area, "tolerance": px_lat / 2, "west": west, "cells_per_deg": cells / (east - west),
        "north_unit": _merc_unit(north), "cells_per_unit": cells / (_merc_unit(north) - _merc_unit(south)),
        "cells": cells, "cell_area": (px_lon * level.cell_px) * (px_lat * level.cell_px),
        "x0": -math.pi * EARTH_R + box.x * box.side_m, "y1": math.pi * EARTH_R - box.y * box.side_m, "cell_m": cell_m,
    }
    sql = generalised_sql(layer, level.min_area_px is not None)
    return _run(conn, sql, params)


#: Planner settings of every connection of the tile engine (set at connect time, not per tile).
#: Many tile queries run at once and each is short: parallel workers only add start-up time
#: (the issue measured 11 ms per tile with a parallel plan, 5 without) and so does JIT
#: compilation (seconds on a generalised 1M-parcel tile).  The cell grouping of a generalised
#: tile has a few thousand groups, but the planner cannot know it and sorts a million rows on
#: disk under the default work_mem; a larger budget lets it hash them (the table stays small).
TILE_SESSION_SETTINGS = {"max_parallel_workers_per_gather": "0", "jit": "off", "work_mem": "32MB"}
