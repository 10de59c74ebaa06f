"""Reading the stored layers and figures back as (Geo)DataFrames.

These are the loaders the notebooks, the API, the maps and the CLI share, with the rule of
the boundary in force on a date (:mod:`~gis_service.store.boundaries`) and the park
lookup by id, code or name (:mod:`~gis_service.store.parks`).
"""

from gis_service.store.boundaries import boundary_date, in_force_sql
from gis_service.store.parks import find_park, read_park_refs
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

__all__ = [
    "boundary_date",
    "find_park",
    "in_force_sql",
    "read_district",
    "read_indicators",
    "read_parcels",
    "read_park_refs",
    "read_parks",
    "read_roads",
    "read_sizhi",
    "read_targets",
    "read_towns",
    "read_zones",
]
