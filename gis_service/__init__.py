"""gis_service: spatial planning platform for the industrial parks of Songjiang, Shanghai.

Data flow: ingest -> store (PostGIS) -> metrics (GeoPandas) -> serve (API, maps, notebooks).

The analyst's Python API
------------------------
Everything a notebook needs is importable from the package itself; the web API, the maps
and the command line call the very same functions::

    import gis_service as gs

    engine = gs.connect()                      # GIS_DATABASE_URL, or the managed cluster
    parks = gs.read_parks(engine, year=2020)   # GeoDataFrame, EPSG:4326
    answer = gs.answer_density(engine, gs.DensityQuestion(year=2020, level="pian"))
    answer.rows[["unit_name", "density_yi_per_km2", "status"]]   # the rows /metrics/density returns
    answer.meta["target"]                                         # the target and its source

Conventions of every function re-exported here:

- geometry is stored and returned in EPSG:4326 (WGS84 lon/lat); areas and distances are
  computed in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E) or geodesically, never
  in degrees;
- money is in 亿元 (10^8 yuan), areas in km², densities in 亿元/km² (亩均 figures in
  万元/亩, 1 km² = 1,500 亩), unless a column name says otherwise;
- a missing figure stays missing (NaN with a ``missing_reason``), never 0;
- every figure carries its source (``source_document`` and ``source_section``, or
  ``numerator_source`` / ``basis_source`` in density tables), and frames say when they hold
  approximate geometry (``geometry_quality``, ``is_approximate``) or synthetic data
  (``is_synthetic``, ``uses_synthetic_data``).

Chinese terms used in names: 四至 (*sizhi*, the four-sided limits describing an area by
what bounds it on each side), 管辖面积 (jurisdiction area), 已供应工业用地 (supplied
industrial land, the basis of the 80 亿元/km² target), 亩均 (per mu), 一廊九区 (the G60
corridor and its nine function areas), 三片 (the three sub-areas made of towns).

The names below are imported lazily (PEP 562), so ``import gis_service`` stays cheap for
the command line; ``dir(gis_service)`` and ``__all__`` list them all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    # connection (``connect`` is defined below)
    "Settings": "gis_service.settings",
    "get_settings": "gis_service.settings",
    # loaders (PostGIS -> GeoDataFrames in EPSG:4326 / DataFrames)
    "read_parks": "gis_service.store.readers",
    "read_zones": "gis_service.store.readers",
    "read_towns": "gis_service.store.readers",
    "read_district": "gis_service.store.readers",
    "read_roads": "gis_service.store.readers",
    "read_parcels": "gis_service.store.readers",
    "read_indicators": "gis_service.store.readers",
    "read_targets": "gis_service.store.readers",
    "read_sizhi": "gis_service.store.readers",
    # density and target engine (frames in, frames out)
    "density_table": "gis_service.metrics",
    "recompute_densities": "gis_service.metrics",
    "published_area_base": "gis_service.metrics",
    "measured_area_base": "gis_service.metrics",
    "parcel_bases": "gis_service.metrics",
    "bases_from_areas": "gis_service.metrics",
    "against_target": "gis_service.metrics",
    "TargetSpec": "gis_service.metrics",
    "Thresholds": "gis_service.metrics",
    "DEFAULT_TARGET": "gis_service.metrics",
    "PUBLISHED_AREA": "gis_service.metrics",
    "MEASURED_AREA": "gis_service.metrics",
    "INDUSTRIAL_LAND": "gis_service.metrics",
    "SUPPLIED_INDUSTRIAL_LAND": "gis_service.metrics",
    "BUILT_UP_LAND": "gis_service.metrics",
    "BASIS_LABELS_ZH": "gis_service.metrics.bases",
    "NUMERATORS": "gis_service.metrics",
    "zone_shares": "gis_service.metrics",
    "aggregate_to_zones": "gis_service.metrics",
    "what_if": "gis_service.metrics",
    "Change": "gis_service.metrics",
    "mu_jun_classes": "gis_service.metrics",
    "mu_jun_frame": "gis_service.metrics",
    "ScoreIndicator": "gis_service.metrics",
    "ClassBand": "gis_service.metrics",
    "benchmark_from_mean": "gis_service.metrics",
    # answers: the questions users ask, answered once for the CLI, the API, maps and reports
    "DensityQuestion": "gis_service.answers",
    "DensityAnswer": "gis_service.answers",
    "ChangeRequest": "gis_service.answers",
    "answer_density": "gis_service.answers",
    "answer_whatif": "gis_service.answers",
    "answer_classes": "gis_service.answers",
    # land-intensity evaluation (开发区土地集约利用评价, TD/T 1029)
    "IntensityQuestion": "gis_service.answers.intensity",
    "IntensityAnswer": "gis_service.answers.intensity",
    "answer_intensity": "gis_service.answers.intensity",
    "measure_intensity": "gis_service.metrics.intensity",
    "import_buildings": "gis_service.ingest.buildings",
    "ClassScheme": "gis_service.answers",
    "parse_change": "gis_service.answers",
    "resolve_target": "gis_service.answers",
    "latest_year": "gis_service.answers",
    "units_from_parks": "gis_service.answers.inputs",
    "indicators_for_parks": "gis_service.answers.inputs",
    # 四至
    "parse_sizhi": "gis_service.sizhi",
    "format_sizhi": "gis_service.sizhi",
    "verify_sizhi": "gis_service.sizhi",
    "build_sizhi": "gis_service.sizhi",
    "Sizhi": "gis_service.sizhi",
    "SizhiParseError": "gis_service.sizhi",
    # data check, sample data, synthetic parcels
    "run_qa": "gis_service.qa",
    "load_sample": "gis_service.ingest",
    # land data in: survey snapshots (三调), supply records (供地), parcel registers
    "import_landuse": "gis_service.ingest.land",
    "import_supply": "gis_service.ingest.land",
    "import_register": "gis_service.ingest.land",
    "SurveyOptions": "gis_service.ingest.land",
    "SupplyOptions": "gis_service.ingest.land",
    "RegisterOptions": "gis_service.ingest.land",
    "LandFileOptions": "gis_service.ingest.land",
    "demo_land": "gis_service.ingest.land",
    "read_land_imports": "gis_service.store.land",
    "land_in_force": "gis_service.store.land",
    "generate_parcels": "gis_service.parcels",
    # exports and reports
    "export_gpkg": "gis_service.export",
    "export_parquet": "gis_service.export",
    "read_parquet": "gis_service.export",
    "metrics_table": "gis_service.export",
    "write_csv": "gis_service.export",
    "write_xlsx": "gis_service.export",
    "park_report": "gis_service.reports",
    "district_report": "gis_service.reports",
    "against_target_on_every_basis": "gis_service.reports.tables",
    "chinese_rc": "gis_service.reports.mappage",
    # maps in a notebook, styled as the service's maps
    "explore": "gis_service.notebook_maps",  # not gis_service.explore: the submodule would shadow the function
}

#: public names that differ from the defining module's own name
_RENAMED: dict[str, str] = {
    "parse_sizhi": "parse",
    "verify_sizhi": "verify",
    "build_sizhi": "build",
}

__all__ = ["__version__", "connect", *sorted(_EXPORTS)]


if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gis_service.settings import Settings as _Settings


def connect(url: str | _Settings | None = None, *, check: bool = True) -> Engine:
    """A pooled SQLAlchemy engine on the project's PostGIS database.

    Parameters
    ----------
    url
        ``None`` (default): read the settings from the environment, i.e.
        ``GIS_DATABASE_URL`` when set, else the managed local cluster
        (``gis-service db start``).  A string: a SQLAlchemy or libpq URL
        (``postgresql://user:pw@host:5432/db`` is given the psycopg 3 driver).
        A :class:`~gis_service.settings.Settings` object: its database.
    check
        Connect once now and raise :class:`~gis_service.errors.DatabaseError` (naming the
        failure, without the password) if the database is unreachable, rather than at the
        first query.

    Returns
    -------
    sqlalchemy.Engine
        One engine per URL is kept (repeated calls return the same pool).  Geometry read
        through it is EPSG:4326.
    """
    from gis_service.db.engine import check_database, database_problem, database_url, engine_for
    from gis_service.errors import DatabaseError, InputError
    from gis_service.settings import Settings, get_settings

    if url is None:
        settings = get_settings()
    elif isinstance(url, Settings):
        settings = url
    elif isinstance(url, str):
        if not url.strip():
            raise InputError("connect: the database URL is empty")
        settings = get_settings(database_url=url.strip())
    else:
        raise InputError(f"connect: expected a URL, Settings or None, got {type(url).__name__}")
    engine = engine_for(database_url(settings))
    if check:
        try:
            check_database(engine)
        except DatabaseError as exc:  # said as the CLI says it: cause and what to do
            problem = database_problem(exc, settings)
            if problem is None:
                raise
            raise DatabaseError(f"{problem.cause}: {problem.advice}") from None
    return engine


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'gis_service' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), _RENAMED.get(name, name))
    globals()[name] = value  # cache: the next access does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from gis_service.notebook_maps import explore
    from gis_service.export import export_gpkg, metrics_table, write_csv, write_xlsx
    from gis_service.ingest import load_sample
    from gis_service.answers import (
        ChangeRequest,
        ClassScheme,
        DensityAnswer,
        DensityQuestion,
        answer_classes,
        answer_density,
        answer_whatif,
        latest_year,
        parse_change,
        resolve_target,
    )
    from gis_service.answers.inputs import indicators_for_parks, units_from_parks
    from gis_service.answers.intensity import IntensityAnswer, IntensityQuestion, answer_intensity
    from gis_service.ingest.buildings import import_buildings
    from gis_service.metrics.intensity import measure_intensity
    from gis_service.metrics import (
        BUILT_UP_LAND,
        DEFAULT_TARGET,
        INDUSTRIAL_LAND,
        MEASURED_AREA,
        NUMERATORS,
        PUBLISHED_AREA,
        SUPPLIED_INDUSTRIAL_LAND,
        Change,
        ClassBand,
        ScoreIndicator,
        TargetSpec,
        Thresholds,
        against_target,
        aggregate_to_zones,
        bases_from_areas,
        benchmark_from_mean,
        density_table,
        measured_area_base,
        mu_jun_classes,
        mu_jun_frame,
        parcel_bases,
        published_area_base,
        recompute_densities,
        what_if,
        zone_shares,
    )
    from gis_service.ingest.land import (
        LandFileOptions,
        RegisterOptions,
        SupplyOptions,
        SurveyOptions,
        demo_land,
        import_landuse,
        import_register,
        import_supply,
    )
    from gis_service.metrics.bases import BASIS_LABELS_ZH
    from gis_service.parcels import generate_parcels
    from gis_service.store.land import land_in_force, read_land_imports
    from gis_service.qa import run_qa
    from gis_service.reports import district_report, park_report
    from gis_service.reports.mappage import chinese_rc
    from gis_service.reports.tables import against_target_on_every_basis
    from gis_service.settings import Settings, get_settings
    from gis_service.sizhi import Sizhi, SizhiParseError, format_sizhi
    from gis_service.sizhi import build as build_sizhi
    from gis_service.sizhi import parse as parse_sizhi
    from gis_service.sizhi import verify as verify_sizhi
    from gis_service.store.readers import (
        read_district,
        read_indicators,
        read_parcels,
        read_parks,
        read_roads,
        read_sizhi,
        read_targets,
        read_towns,
        read_zones,
    )
