"""Settings of the web face (maps, OGC API, tiles), prefix ``GIS_API_``.

One settings object per concern: the database settings live in
:mod:`gis_service.settings`; these only shape what the HTTP service serves.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Web settings, e.g. ``GIS_API_OFFLINE=1``, ``GIS_API_TIANDITU_KEY=...``."""

    model_config = SettingsConfigDict(env_prefix="GIS_API_", env_file=".env", extra="ignore")

    offline: bool = Field(
        default=False,
        description="Serve every script, style and icon of the maps from this service (intranet use). "
        "Basemap tiles then come from local_tile_url only.",
    )
    local_assets: bool = Field(
        default=True,
        description="Serve the maps' scripts and styles from this service even when not offline "
        "(no dependency on a CDN); basemap tiles still come from the internet unless offline.",
    )
    local_tile_url: str | None = Field(
        default=None,
        description="XYZ tile URL template of an intranet tile server ({z}/{x}/{y}); used in offline mode.",
    )
    local_tile_attribution: str = "本地底图"
    tianditu_key: str | None = Field(default=None, description="天地图 key (tk); the basemap is hidden without it.")
    amap: bool = Field(default=True, description="Offer the 高德 (Amap, GCJ-02) basemap variant.")
    max_limit: int = Field(default=10_000, ge=1, description="Largest `limit` accepted by the items endpoints.")
    default_limit: int = Field(default=10, ge=1)
    count_limit: int = Field(
        default=50_000,
        ge=0,
        description="numberMatched is counted exactly up to this many matches; above it the member is "
        "omitted (allowed by OGC API Features Part 1), never estimated.",
    )
    parcel_tile_minzoom: int = Field(
        default=0, ge=0, le=22,
        description="Parcel vector tiles below this zoom are refused (422).  Every zoom is served by default: "
        "below parcel_tile_detail_zoom tiles are generalised and bounded by parcel_tile_max_bytes.",
    )
    parcel_tile_detail_zoom: int = Field(
        default=14, ge=0, le=24,
        description="From this zoom parcel tiles hold every parcel as it is; below it they are generalised "
        "(small parcels merged into grid cells, the rest simplified).",
    )
    parcel_tile_max_bytes: int = Field(
        default=500_000, ge=50_000, description="Largest generalised parcel tile, bytes (coarser levels until it fits)."
    )
    tile_cache_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0,
        description="Bytes of rendered tiles kept in memory per process, per data version (0: none kept).",
    )
    cache_dir: Path | None = Field(default=None, description="Directory of the rendered-map cache (memory only when unset).")
    overview_tolerance_m: float = Field(default=20.0, gt=0, description="Display simplification of the overview, metres in EPSG:4549.")
    park_tolerance_m: float = Field(default=2.0, gt=0, description="Display simplification of a park page, metres in EPSG:4549.")
    require_key_for_read: bool = Field(
        default=False,
        description="Require an API key (X-API-Key or Authorization: Bearer) for reads too, so that every "
        "access is identified (intranets).  Writes always need a key.  /health and static map assets stay open.",
    )
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After (seconds) of a 503 while the database is unavailable.")
    db_connect_timeout_s: int = Field(
        default=3, ge=1, description="Give up connecting to PostgreSQL after this many seconds (503, never a hang)."
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=100, description="PostgreSQL statement_timeout of the service's sessions, milliseconds."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Connections kept open by the service.")
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, description="Wait at most this long for a free pooled connection, then 503."
    )


def get_api_settings(**overrides: object) -> ApiSettings:
    """Read the web settings from the environment, explicit overrides first."""
    return ApiSettings(**overrides)  # type: ignore[arg-type]
