"""Import limits and the accepted extent/period: every bound of an import in one place.

Read from the environment with the prefix ``GIS_IMPORT_`` (e.g. ``GIS_IMPORT_MAX_UPLOAD_BYTES``)
when an :class:`ImportLimits` is built, never at import time; tests and the API pass an explicit
object.  Exceeding a size or count raises :class:`~gis_service.errors.PayloadTooLargeError`
(HTTP 413), everything else a subclass of :class:`~gis_service.errors.InputError` (HTTP 422).
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Shanghai's administrative area in EPSG:4326 (lon_min, lat_min, lon_max, lat_max), degrees,
#: with a margin of about 5 km: the mainland spans lon 120.85-122.12, lat 30.68-31.87, the
#: outlying islands (佘山岛) reach lon 122.24.
SHANGHAI_EXTENT = (120.80, 30.60, 122.30, 31.95)
#: Songjiang District in EPSG:4326 (lon_min, lat_min, lon_max, lat_max), degrees, with a margin
#: of about 5 km: the district spans about lon 121.02-121.40, lat 30.90-31.13.  Land data
#: (land-use survey, supply records, parcel registers) of the district must fall inside it.
SONGJIANG_EXTENT = (120.95, 30.85, 121.50, 31.20)


class ImportLimits(BaseSettings):
    """Bounds applied to every uploaded file (boundaries, layers, indicators)."""

    model_config = SettingsConfigDict(env_prefix="GIS_IMPORT_", extra="ignore")

    max_upload_bytes: int = Field(50 * 1024**2, gt=0, description="Largest file accepted, bytes.")
    max_features: int = Field(50_000, gt=0, description="Most features in one vector file.")
    max_rows: int = Field(100_000, gt=0, description="Most data rows in one CSV/XLSX file.")
    max_zip_entries: int = Field(64, gt=0, description="Most entries in a zip (zipped Shapefile, XLSX).")
    max_uncompressed_bytes: int = Field(
        256 * 1024**2, gt=0, description="Largest total uncompressed size of a zip's entries, bytes."
    )
    max_compression_ratio: float = Field(
        200.0, gt=1, description="Largest uncompressed/compressed ratio of one zip entry (zip bombs)."
    )
    max_land_features: int = Field(
        5_000_000, gt=0, description="Most features in one land file (a survey's DLTB layer has ~10^6 patches)."
    )
    max_land_upload_bytes: int = Field(
        4 * 1024**3, gt=0, description="Largest land file (Shapefile, File Geodatabase, zip...) accepted, bytes."
    )
    max_land_uncompressed_bytes: int = Field(
        8 * 1024**3, gt=0, description="Largest total uncompressed size of a zipped land file's entries, bytes."
    )
    max_land_zip_entries: int = Field(
        2_000, gt=0, description="Most entries in a zipped land file (a File Geodatabase has ~5 files per layer)."
    )
    plan_year_min: int = Field(2016, description="First year of the plan period an indicator may have.")
    plan_year_max: int = Field(2030, description="Last year of the plan period an indicator may have.")
    extent: tuple[float, float, float, float] = Field(
        SHANGHAI_EXTENT, description="Accepted lon/lat box (EPSG:4326): Shanghai with a margin."
    )
    land_extent: tuple[float, float, float, float] = Field(
        SONGJIANG_EXTENT, description="Accepted lon/lat box (EPSG:4326) of land data: Songjiang with a margin."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ImportLimits:
        if self.plan_year_min > self.plan_year_max:
            raise ValueError("plan_year_min must not be after plan_year_max")
        for name in ("extent", "land_extent"):
            lon_min, lat_min, lon_max, lat_max = getattr(self, name)
            if not (lon_min < lon_max and lat_min < lat_max):
                raise ValueError(f"{name} must be (lon_min, lat_min, lon_max, lat_max)")
        return self
