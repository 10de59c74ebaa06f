"""Land parcels: land-use code mapping, import of real parcel files, synthetic parcels, bulk writes."""

from gis_service.parcels.landuse import LAND_USE_CLASSES, land_use_class
from gis_service.parcels.synthetic import generate_parcels, synthetic_boundaries
from gis_service.parcels.store import write_parcels
from gis_service.parcels.importer import ImportReport, import_parcels

__all__ = [
    "LAND_USE_CLASSES",
    "ImportReport",
    "generate_parcels",
    "import_parcels",
    "land_use_class",
    "synthetic_boundaries",
    "write_parcels",
]
