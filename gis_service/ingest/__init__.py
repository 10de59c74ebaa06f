"""Loading reference layers and figures into PostGIS (the sample dataset or an office's own files)."""

from gis_service.ingest.catalog import SAMPLE_DATA_DIR, Metric, read_metric_catalogue
from gis_service.ingest.loader import (
    SAMPLE_FILES,
    LayerResult,
    LoadReport,
    load_layer,
    load_sample,
)

__all__ = [
    "SAMPLE_DATA_DIR",
    "SAMPLE_FILES",
    "LayerResult",
    "LoadReport",
    "Metric",
    "load_layer",
    "load_sample",
    "read_metric_catalogue",
]
