"""Loaders: PostGIS tables -> GeoDataFrames (EPSG:4326) and DataFrames.

Every frame keeps the provenance columns of its rows (``source_document``,
``source_section``) and the geometry quality, so that what is approximate stays
labelled approximate wherever the frame goes.  Values are bound parameters; no SQL
is built from user input.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from gis_service.coords.crs import STORED_CRS
from gis_service.db.models import ZoneKind
from gis_service.store.boundaries import boundary_date, in_force_sql


@contextmanager
def _database_errors_as_raised() -> Iterator[None]:
    """Let SQLAlchemy's own errors through.

    pandas wraps any failure of a query in ``pandas.errors.DatabaseError``; callers (the
    API's 503 on a database outage among them) must see the driver's error type instead.
    """
    try:
        yield
    except pd.errors.DatabaseError as exc:
        if isinstance(exc.__cause__, SQLAlchemyError):
            raise exc.__cause__ from None
        raise


def _read_geo(bind: Engine | Connection, sql: str, params: dict[str, object] | None = None,
              geom: str = "geometry") -> gpd.GeoDataFrame:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _read_geo(conn, sql, params, geom)
    with _database_errors_as_raised():
        return gpd.read_postgis(text(sql), bind, geom_col=geom, params=params or {}, crs=STORED_CRS)


def read_frame(conn: Engine | Connection, sql: str, params: dict[str, object] | None = None) -> pd.DataFrame:
    """The rows of a parameterised query as a DataFrame (values bound, never formatted in)."""
    if isinstance(conn, Engine):
        with conn.connect() as connection:
            return read_frame(connection, sql, params)
    with _database_errors_as_raised():
        return pd.read_sql_query(text(sql), conn, params=params or {})




def read_parks(bind: Engine | Connection, *, year: int | None = None, kind: str | None = None) -> gpd.GeoDataFrame:
    """Parks with the boundary version valid at the end of ``year`` (today when ``None``).

    Parks without a boundary valid at that date are included with an empty geometry,
    so a park never silently disappears from a table.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, with columns ``park_id, code, name, kind, parent_id,
        parent_name, boundary_id, valid_from, valid_to, geometry_quality, method,
        source_document, source_section, geometry``.
    """
    sql = f"""
        SELECT p.id AS park_id, p.code, p.name, p.kind::text AS kind, p.parent_id,
               parent.name AS parent_name, b.id AS boundary_id, b.valid_from, b.valid_to,
               b.geometry_quality::text AS geometry_quality, b.method,
               b.source_document, b.source_section, b.geom AS geometry
        FROM park p
        LEFT JOIN park parent ON parent.id = p.parent_id
        LEFT JOIN park_boundary b
               ON b.park_id = p.id AND {in_force_sql('b')}
        WHERE (CAST(:kind AS text) IS NULL OR p.kind::text = :kind)
        ORDER BY p.id
    """
    return _read_geo(bind, sql, {"on": boundary_date(year), "kind": kind})


def read_zones(bind: Engine | Connection, kind: ZoneKind | str | None = None) -> gpd.GeoDataFrame:
    """Zones (``corridor``, ``corridor_area`` of 一廊九区, ``pian`` of 三片), with member towns.

    ``member_towns`` lists the towns of a 片 (empty for zones not defined by towns).
    """
    kind_value = kind.value if isinstance(kind, ZoneKind) else kind
    sql = """
        SELECT z.id AS zone_id, z.code, z.name, z.kind::text AS kind, z.parent_id,
               z.geometry_quality::text AS geometry_quality, z.note,
               z.source_document, z.source_section,
               COALESCE(ARRAY(SELECT t.name FROM zone_town zt JOIN town t ON t.id = zt.town_id
                              WHERE zt.zone_id = z.id ORDER BY t.name), '{}') AS member_towns,
               z.geom AS geometry
        FROM zone z
        WHERE (CAST(:kind AS text) IS NULL OR z.kind::text = :kind)
        ORDER BY z.kind, z.id
    """
    return _read_geo(bind, sql, {"kind": kind_value})


def read_towns(engine: Engine) -> gpd.GeoDataFrame:
    """The towns (镇) and sub-districts (街道), with the 片 of 三片 each belongs to (if any)."""
    sql = """
        SELECT t.id AS town_id, t.name, t.kind, t.geometry_quality::text AS geometry_quality,
               (SELECT z.name FROM zone_town zt JOIN zone z ON z.id = zt.zone_id
                 WHERE zt.town_id = t.id AND z.kind = 'pian' LIMIT 1) AS pian,
               t.note, t.source_document, t.source_section, t.geom AS geometry
        FROM town t ORDER BY t.id
    """
    return _read_geo(engine, sql)


def read_district(engine: Engine) -> gpd.GeoDataFrame:
    sql = """
        SELECT id AS district_id, adcode, name, geometry_quality::text AS geometry_quality, note,
               source_document, source_section, geom AS geometry
        FROM district ORDER BY id
    """
    return _read_geo(engine, sql)


def read_roads(engine: Engine) -> gpd.GeoDataFrame:
    """Roads, expressways, rivers and boundary lines (``name``, ``kind``, geometry)."""
    sql = """
        SELECT id AS road_id, name, kind, geometry_quality::text AS geometry_quality,
               source_document, note, geom AS geometry
        FROM road ORDER BY id
    """
    return _read_geo(engine, sql)


def read_parcels(
    engine: Engine,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    land_use_class: str | None = None,
    year: int | None = None,
    ids: Sequence[int] | None = None,
) -> gpd.GeoDataFrame:
    """Land records (survey patches, supplied parcels, register parcels; ``layer`` says which).

    Optionally within a lon/lat ``bbox`` (minx, miny, maxx, maxy) or of one class.  With
    ``year``, only the land in force for it: the survey patches of the snapshot in force
    (:mod:`gis_service.store.land`), the supply records and the register.  With ``ids``, only
    those parcels (the streamed GeoParquet export reads a file's parcels so).
    """
    from gis_service.store.land import (
        land_in_force,  # the store's one rule of the snapshot in force
    )

    survey_import = land_in_force(engine, year).survey_import_id if year is not None else None
    sql = """
        SELECT id AS parcel_id, layer, import_id, external_id, land_use_code, code_system, land_use_name,
               land_use_class, is_supplied, supply_year, is_built, supervision_no, project_name,
               supply_method, contract_date, recovery_date, stated_area_ha, is_synthetic, source_document,
               area_m2, geom AS geometry
        FROM land_parcel
        WHERE (CAST(:cls AS text) IS NULL OR land_use_class = :cls)
          AND (CAST(:minx AS float8) IS NULL
               OR geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))
          AND (NOT CAST(:by_year AS boolean) OR layer <> 'survey' OR import_id = CAST(:survey_import AS int))
          AND (CAST(:ids AS bigint[]) IS NULL OR id = ANY(CAST(:ids AS bigint[])))
        ORDER BY id
    """
    minx, miny, maxx, maxy = bbox if bbox is not None else (None, None, None, None)
    params = {"cls": land_use_class, "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
              "by_year": year is not None, "survey_import": survey_import,
              "ids": None if ids is None else list(ids)}
    return _read_geo(engine, sql, params)


def read_indicators(
    engine: Engine, *, year: int | None = None, metric_codes: list[str] | None = None
) -> pd.DataFrame:
    """Yearly figures with their scope named (``scope_kind``, ``scope_id``, ``scope_name``).

    ``value`` is a float as published in ``unit``; missing figures are simply absent.
    """
    sql = """
        SELECT i.id AS indicator_id,
               CASE WHEN i.park_id IS NOT NULL THEN 'park'
                    WHEN i.zone_id IS NOT NULL THEN 'zone'
                    WHEN i.town_id IS NOT NULL THEN 'town' ELSE 'district' END AS scope_kind,
               COALESCE(i.park_id, i.zone_id, i.town_id, i.district_id) AS scope_id,
               COALESCE(p.name, z.name, t.name, d.name) AS scope_name,
               i.park_id, i.year, i.metric_code, i.value::float8 AS value, i.unit,
               i.is_projection, i.note, i.version, i.source_document, i.source_section
        FROM indicator i
        LEFT JOIN park p ON p.id = i.park_id
        LEFT JOIN zone z ON z.id = i.zone_id
        LEFT JOIN town t ON t.id = i.town_id
        LEFT JOIN district d ON d.id = i.district_id
        WHERE (CAST(:year AS int) IS NULL OR i.year = :year)
          AND (CAST(:codes AS text[]) IS NULL OR i.metric_code = ANY(CAST(:codes AS text[])))
        ORDER BY i.id
    """
    return read_frame(engine, sql, {"year": year, "codes": metric_codes})


def read_targets(engine: Engine) -> pd.DataFrame:
    """Plan targets and reference baselines (``value`` float, ``nature`` 预期性/约束性)."""
    sql = """
        SELECT id AS target_id, code, scope, category, name, metric_code, basis, base_year,
               base_value::float8 AS base_value, year, value::float8 AS value, value_text, unit,
               nature::text AS nature, note, source_document, source_section
        FROM target ORDER BY id
    """
    return read_frame(engine, sql)


def read_sizhi(engine: Engine) -> pd.DataFrame:
    """The 四至 of every park: raw text as published and its parsed structure."""
    sql = """
        SELECT s.park_id, p.name AS park_name, s.raw_text, s.parsed, s.source_document, s.source_section
        FROM sizhi s JOIN park p ON p.id = s.park_id ORDER BY s.park_id
    """
    return read_frame(engine, sql)
