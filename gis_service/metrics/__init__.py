"""The density and target engine.

Plain (Geo)DataFrames in, plain DataFrames out, so notebooks, the API and the maps call the
same functions:

- :mod:`~gis_service.metrics.units`: 亿元/万元/元 and km²/公顷/亩 conversions;
- :mod:`~gis_service.metrics.bases`: the vocabulary of the denominators (basis names, labels,
  bases-frame columns); :mod:`~gis_service.metrics.area_bases` computes the published and
  measured areas, :mod:`~gis_service.metrics.parcel_land` the parcel-made bases;
- :mod:`~gis_service.metrics.density`: :func:`density_table` (its halves ``unit_figures`` and
  ``divide_by_bases`` can be called apart);
- :mod:`~gis_service.metrics.targets`: :class:`TargetSpec`, :func:`against_target`;
- :mod:`~gis_service.metrics.classify`: 亩均论英雄-style scores and classes;
- :mod:`~gis_service.metrics.apportion`: zone shares and aggregation;
- :mod:`~gis_service.metrics.whatif`: scenarios;
- :mod:`~gis_service.metrics.postgis`, :mod:`~gis_service.metrics.dask_path`: the same parcel
  areas in PostGIS and with dask-geopandas.  Database → answer is :mod:`gis_service.answers`.
"""

from gis_service.metrics.apportion import aggregate_to_zones, zone_shares
from gis_service.metrics.area_bases import bases_from_areas, measured_area_base, published_area_base
from gis_service.metrics.bases import (
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    MEASURED_AREA,
    PUBLISHED_AREA,
    SUPPLIED_INDUSTRIAL_LAND,
)
from gis_service.metrics.classify import ClassBand, ScoreIndicator, benchmark_from_mean, mu_jun_classes, mu_jun_frame
from gis_service.metrics.density import NUMERATORS, density_table, recompute_densities
from gis_service.metrics.parcel_land import parcel_bases
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec, Thresholds, against_target
from gis_service.metrics.whatif import Change, what_if

__all__ = [
    "BUILT_UP_LAND",
    "DEFAULT_TARGET",
    "INDUSTRIAL_LAND",
    "MEASURED_AREA",
    "NUMERATORS",
    "PUBLISHED_AREA",
    "SUPPLIED_INDUSTRIAL_LAND",
    "Change",
    "ClassBand",
    "ScoreIndicator",
    "TargetSpec",
    "Thresholds",
    "against_target",
    "aggregate_to_zones",
    "bases_from_areas",
    "benchmark_from_mean",
    "density_table",
    "measured_area_base",
    "mu_jun_classes",
    "mu_jun_frame",
    "parcel_bases",
    "published_area_base",
    "recompute_densities",
    "what_if",
    "zone_shares",
]
