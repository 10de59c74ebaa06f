"""Loading reference layers and figures into PostGIS (the sample dataset or an office's own files).

- :func:`load_sample` / :func:`load_layer`: the sample dataset, layer by layer;
- :func:`import_boundaries`: park boundaries as new versions (history kept);
- :func:`import_layer`: an office's file replacing a reference layer;
- :func:`import_indicators`: yearly figures from CSV/XLSX with unit conversion.

Every import is one transaction with audit rows; errors are the typed
:class:`~gis_service.errors.InputError` subclasses of :mod:`gis_service.ingest.errors`
(and :class:`~gis_service.errors.PayloadTooLargeError` for the limits of :class:`ImportLimits`).
"""

from gis_service.ingest.boundaries import BoundaryImportResult, import_boundaries, import_layer
from gis_service.ingest.catalog import SAMPLE_DATA_DIR, Metric, read_metric_catalogue
from gis_service.ingest.indicator_records import IndicatorImportResult
from gis_service.ingest.indicators import import_indicators
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.loader import SAMPLE_FILES, LoadReport, load_layer, load_sample
from gis_service.ingest.upserts import LayerResult

__all__ = [
    "BoundaryImportResult",
    "ImportLimits",
    "IndicatorImportResult",
    "import_boundaries",
    "import_indicators",
    "import_layer",
    "SAMPLE_DATA_DIR",
    "SAMPLE_FILES",
    "LayerResult",
    "LoadReport",
    "Metric",
    "load_layer",
    "load_sample",
    "read_metric_catalogue",
]
