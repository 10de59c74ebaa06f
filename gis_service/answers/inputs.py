"""Read what a density answer needs from the database, while PostGIS measures the parcels.

The parcel-by-boundary areas (:func:`~gis_service.metrics.postgis.parcel_piece_areas`) are
most of an answer's time, so that query runs on a worker thread with its own connection
while this thread reads the parks, the figures and the zones or towns.  Only the parcel
bases the question needs are asked for: the supplied-industrial filter matches the partial
GiST index of migration 0002, and asking for every basis at once would not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.vocabulary import PARK, TOWN
from gis_service.errors import InputError
from gis_service.metrics.area_bases import measured_area_base, published_area_base
from gis_service.metrics.bases import PARCEL_BASES, SUPPLIED_INDUSTRIAL_LAND
from gis_service.metrics.postgis import parcel_piece_areas
from gis_service.store.land import LandInForce, land_in_force
from gis_service.store.readers import read_indicators, read_parks, read_towns, read_zones


@dataclass(frozen=True)
class Inputs:
    """Everything an answer divides and apportions, read once."""

    units: gpd.GeoDataFrame  # parks as engine units (unit_id, unit_name, unit_code, boundary_version…)
    indicators: pd.DataFrame  # park figures up to the year (the year rule picks), engine columns
    areas: gpd.GeoDataFrame | None  # the zones or towns of an area level (zone_id, zone_name…)
    pieces_basis: str | None  # the parcel basis measured by the parcel query
    published: pd.DataFrame  # the parks' published 管辖面积 (bases frame), prepared while querying
    measured: pd.DataFrame  # the parks' measured boundary areas (bases frame), prepared while querying
    pending: Future[pd.DataFrame] | None  # the parcel query, still running when these are handed out
    land: LandInForce  # which land records count for the year (survey snapshot, supply, register)
    step: ParcelStep | None = None  # where the parcel areas were measured (None: PostGIS)
    covered: Callable[[list[object]], set[object]] | None = None  # coverage check on the same parcels

    def pieces(self) -> pd.DataFrame:
        """Parcel areas per park (and per park piece in each area), from PostGIS: waits for
        the query; its error is raised here, as if it had run on this thread."""
        return self.pending.result() if self.pending is not None else pd.DataFrame()


@dataclass(frozen=True)
class ParcelStep:
    """Where the parcel step of an answer runs: ``engine`` ``postgis`` (in the database, the
    default), ``geopandas`` (here, in memory) or ``dask`` (on the cluster at ``scheduler``, or a
    local one when ``None``), the last two over the GeoParquet export at ``parquet``
    (:func:`gis_service.export.export_parquet`).  Everything else is read from the database."""

    engine: str = "postgis"
    scheduler: str | None = None
    parquet: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in PARCEL_ENGINES:
            raise InputError(f"engine: {self.engine!r} is not a parcel engine; engines: {', '.join(PARCEL_ENGINES)}")
        if self.engine == "postgis" and (self.scheduler or self.parquet):
            raise InputError("scheduler/parquet: only the dask and geopandas engines read a GeoParquet export")
        if self.engine != "dask" and self.scheduler:
            raise InputError("scheduler: only the dask engine runs on a scheduler")
        if self.engine != "postgis" and not self.parquet:
            raise InputError(f"parquet: the {self.engine} engine reads the parcels from a GeoParquet export; "
                             "give its directory (`gis-service export parquet DIR`, then `--parquet DIR`)")


#: parcel engines (kept here so the answers import no dask until it is asked for)
PARCEL_ENGINES: tuple[str, ...] = ("postgis", "geopandas", "dask")


def read_park_figures(engine: Engine) -> pd.DataFrame:
    """Every park figure of every year (projections left out), keyed ``unit_id``."""
    return indicators_for_parks(read_indicators(engine))


def units_from_parks(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """:func:`~gis_service.store.readers.read_parks` output as engine units."""
    return parks.rename(
        columns={"park_id": "unit_id", "name": "unit_name", "code": "unit_code", "boundary_id": "boundary_version"}
    )


def indicators_for_parks(indicators: pd.DataFrame) -> pd.DataFrame:
    """Park rows of :func:`~gis_service.store.readers.read_indicators` keyed by ``unit_id``.

    Projections (e.g. 004 表2's 2025 figures) are left out: they are not what a park
    achieved in a year.
    """
    projected = indicators["is_projection"].astype(bool) if "is_projection" in indicators else False
    rows = indicators[indicators["park_id"].notna() & ~projected].copy()
    rows["unit_id"] = rows["park_id"].astype(int)
    return rows


def leaf_parks(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parks that are not the parent of other parks, with a boundary.

    A parent park (张江高新区松江园) is the union of its blocks: counting it with them in
    a zone or town would count the same land and output twice.
    """
    parents = set(units["parent_id"].dropna().astype(int)) if "parent_id" in units else set()
    has_geom = units.geometry.notna() & ~units.geometry.is_empty
    return units[has_geom & ~units["unit_id"].isin(parents)]


def pieces_basis_for(level: str, basis: str) -> str | None:
    """The one parcel basis to measure: the basis shown when it is made of parcels; else, for
    an area level, supplied industrial land (the parks are apportioned by it); else none."""
    if basis in PARCEL_BASES:
        return basis
    return SUPPLIED_INDUSTRIAL_LAND if level != PARK else None


def read_inputs(
    engine: Engine, *, year: int, level: str, basis: str, figures: pd.DataFrame, step: ParcelStep | None = None
) -> Inputs:
    """Start the parcel query on its own connection and read and prepare the rest meanwhile;
    the query's result is :meth:`Inputs.pieces` (the caller prepares more before asking).
    ``figures`` is :func:`read_park_figures` (read once by the caller).  With a ``step`` other
    than PostGIS, the parcel areas are measured there instead (:func:`_frame_step`)."""
    if step is not None and step.engine != "postgis":
        return _frame_step(engine, year=year, level=level, basis=basis, figures=figures, step=step)
    measured = pieces_basis_for(level, basis)
    area_kind = None if level == PARK else level
    land = land_in_force(engine, year)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parcel-areas")
    try:
        query = (
            pool.submit(parcel_piece_areas, engine, year=year, bases=[measured], zone_kind=area_kind, land=land)
            if measured is not None
            else None
        )
        units = units_from_parks(read_parks(engine, year=year))
        indicators = figures[figures["year"] <= year]
        return Inputs(
            units=units,
            indicators=indicators,
            areas=_read_areas(engine, level),
            published=published_area_base(indicators, year=year),
            measured=measured_area_base(units),
            pending=query,
            pieces_basis=measured,
            land=land,
        )
    finally:
        # not joined: the query goes on after shutdown and its future still answers; waiting
        # for the finished worker thread to exit cost ~5-10 ms (a GIL hand-over); after an
        # error here a running query finishes on its own and its connection goes back to the pool
        pool.shutdown(wait=False)


def _frame_step(engine: Engine, *, year: int, level: str, basis: str, figures: pd.DataFrame, step: ParcelStep) -> Inputs:
    """:func:`read_inputs` with the parcel areas measured on GeoParquet parcels, in memory or on
    Dask (:func:`gis_service.metrics.dask_path.piece_areas_on_frames`): the same rows as the
    PostGIS query, so everything after is the same."""
    from gis_service.export import read_parquet
    from gis_service.metrics.dask_path import open_parcels, piece_areas_on_frames
    from gis_service.metrics.postgis import check_zones_do_not_overlap

    measured = pieces_basis_for(level, basis)
    land = land_in_force(engine, year)
    units = units_from_parks(read_parks(engine, year=year))
    areas = _read_areas(engine, level)
    indicators = figures[figures["year"] <= year]
    pending: Future[pd.DataFrame] = Future()
    covered = None
    if measured is not None:
        if level != PARK:
            with engine.connect() as conn:
                check_zones_do_not_overlap(conn, level)
        assert step.parquet is not None  # ParcelStep checks it
        parks = units.rename(columns={"unit_id": "park_id", "boundary_version": "boundary_id"})
        with _scheduler(step):
            frame = read_parquet(step.parquet) if step.engine == "geopandas" else open_parcels(step.parquet)
            raw, covered = piece_areas_on_frames(frame, parks, areas, year=year, bases=[measured], land=land)
        pending.set_result(raw)
    return Inputs(
        units=units, indicators=indicators, areas=areas, published=published_area_base(indicators, year=year),
        measured=measured_area_base(units), pending=pending if measured is not None else None,
        pieces_basis=measured, land=land, step=step, covered=covered,
    )


@contextmanager
def _scheduler(step: ParcelStep) -> Iterator[None]:
    """A dask client on ``step.scheduler`` (a local cluster when ``None``) for the dask engine."""
    if step.engine != "dask":
        yield
        return
    from distributed import Client, LocalCluster

    if step.scheduler:
        with Client(step.scheduler):
            yield
        return
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, Client(cluster):
        yield


def _read_areas(engine: Engine, level: str) -> gpd.GeoDataFrame | None:
    """The zones or towns of an area level, keyed ``zone_id``/``zone_name``/``zone_code``."""
    if level == PARK:
        return None
    if level == TOWN:
        towns = read_towns(engine)
        return towns.rename(columns={"town_id": "zone_id", "name": "zone_name"}).assign(zone_code=towns["name"])
    return read_zones(engine, level).rename(columns={"name": "zone_name", "code": "zone_code"})
