"""Land data in: land-use survey snapshots (三调), land supply records (供地) and parcel registers.

- :func:`import_landuse`: a survey snapshot (DLTB 地类图斑) for one year; the year again replaces it;
- :func:`import_supply`: supply records (供地结果公告 fields); a 电子监管号 again replaces its record;
- :func:`import_register`: an office's parcel register (code + supply flag), replacing the register;
- :func:`demo_land`: synthetic files written as offices hold them, imported through the above.

Files are opened by :mod:`~gis_service.ingest.land.files` (formats, encodings, CRS, chunks),
codes read by :mod:`~gis_service.ingest.land.codes` (the one crosswalk), rows written by
:mod:`~gis_service.ingest.land.write` (one transaction, COPY, audited).
"""

from gis_service.ingest.land.demo import DemoLand, demo_land
from gis_service.ingest.land.fields import parse_field_options
from gis_service.ingest.land.files import LandFileOptions
from gis_service.ingest.land.register import RegisterOptions, import_register
from gis_service.ingest.land.report import LandImportReport
from gis_service.ingest.land.supply import SupplyOptions, import_supply
from gis_service.ingest.land.survey import SurveyOptions, import_landuse

__all__ = [
    "DemoLand",
    "LandFileOptions",
    "LandImportReport",
    "RegisterOptions",
    "SupplyOptions",
    "SurveyOptions",
    "demo_land",
    "import_landuse",
    "import_register",
    "import_supply",
    "parse_field_options",
]
