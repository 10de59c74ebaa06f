"""Synthetic parcels for tests, benchmarks and the sample (flagged synthetic), and their bulk write.

Real land data comes in through :mod:`gis_service.ingest.land` (survey snapshots, supply
records, parcel registers).
"""

from gis_service.parcels.synthetic import generate_parcels, synthetic_boundaries
from gis_service.parcels.store import write_parcels

__all__ = [
    "generate_parcels",
    "synthetic_boundaries",
    "write_parcels",
]
