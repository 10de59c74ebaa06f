"""Reading the stored layers and figures back as (Geo)DataFrames.

These are the loaders the notebooks, the API, the maps and the CLI share.
"""

from gis_service.store.readers import (
    boundary_date,
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
    "read_district",
    "read_indicators",
    "read_parcels",
    "read_parks",
    "read_roads",
    "read_sizhi",
    "read_targets",
    "read_towns",
    "read_zones",
]
